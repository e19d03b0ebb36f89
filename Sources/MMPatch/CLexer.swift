// Lexical masking of C source lines, enough for brace tracking and token scans: comments, string
// and character literals are blanked, preprocessor lines (with their `\` continuations) marked.
// Public because the extraction stage uses it for its token-level call scan.

/// One masked line: `code` has the same UTF-8 length as the source line, with comment and literal
/// contents replaced by blanks (byte columns stay valid). Preprocessor lines are blank here.
public struct CCodeLine: Sendable, Hashable {
    public var code: String
    public var isPreprocessor: Bool

    public init(code: String, isPreprocessor: Bool) {
        self.code = code
        self.isPreprocessor = isPreprocessor
    }
}

public enum CLexer {
    /// Masks consecutive source lines. A diff shows pieces of a file, so the caller may say that
    /// the first line starts inside a block comment or a preprocessor continuation.
    public static func mask(_ lines: [String], startsInComment: Bool = false,
                            startsInPreprocessor: Bool = false) -> [CCodeLine] {
        var inComment = startsInComment
        var inPreprocessor = startsInPreprocessor
        var result: [CCodeLine] = []
        result.reserveCapacity(lines.count)
        for line in lines {
            let bytes = Array(line.utf8)
            var out = [UInt8](repeating: 0x20, count: bytes.count)
            var isPreprocessor = inPreprocessor
            var sawCode = false
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                let next: UInt8 = index + 1 < bytes.count ? bytes[index + 1] : 0
                if inComment {
                    if byte == UInt8(ascii: "*") && next == UInt8(ascii: "/") {
                        inComment = false
                        index += 2
                    } else {
                        index += 1
                    }
                    continue
                }
                if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                    inComment = true
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "/") && next == UInt8(ascii: "/") { break }
                if byte == UInt8(ascii: "#") && !sawCode { isPreprocessor = true }
                if byte != 0x20 && byte != 0x09 { sawCode = true }
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    // A literal ends at its closing quote or, if broken, at the end of the line.
                    out[index] = byte
                    index += 1
                    while index < bytes.count && bytes[index] != byte {
                        index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    if index < bytes.count {
                        out[index] = byte
                        index += 1
                    }
                    continue
                }
                out[index] = byte
                index += 1
            }
            let lastNonBlank = bytes.lastIndex { $0 != 0x20 && $0 != 0x09 }
            let continues = lastNonBlank.map { bytes[$0] == UInt8(ascii: "\\") } ?? false
            inPreprocessor = isPreprocessor && continues
            if isPreprocessor { out = [UInt8](repeating: 0x20, count: bytes.count) }
            result.append(CCodeLine(code: String(decoding: out, as: UTF8.self), isPreprocessor: isPreprocessor))
        }
        return result
    }

    /// Does a piece of a file start inside a block comment? True when a `*/` comes before any
    /// `/*`, or when the first non-blank line looks like a comment body (` * text`).
    static func startsInComment(_ lines: [String]) -> Bool {
        if let first = lines.first(where: { !$0.trimmed.isEmpty }) {
            let text = first.trimmed
            if text == "*" || text.hasPrefix("* ") || text.hasPrefix("*/") || text.hasPrefix("*\t") { return true }
        }
        for line in lines {
            let bytes = Array(line.utf8)
            var index = 0
            while index + 1 < bytes.count {
                if bytes[index] == UInt8(ascii: "/") && bytes[index + 1] == UInt8(ascii: "*") { return false }
                if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") { return true }
                index += 1
            }
        }
        return false
    }

    /// Kernel attribute macros that take arguments and stand before a function's name
    /// (include/linux/compiler_attributes.h, compiler_types.h).
    static let attributeMacros: Set<String> = [
        "__printf", "__scanf", "__attribute__", "__attribute", "__section", "__aligned", "__alloc_size",
        "__diagnose_as", "__realloc_size",
    ]

    /// Index of the `)` that closes the `(` at `open`, or nil when the text ends first.
    static func matchingParenthesis(_ bytes: [UInt8], open: Int) -> Int? {
        var depth = 0
        for index in open..<bytes.count {
            if bytes[index] == UInt8(ascii: "(") { depth += 1 }
            if bytes[index] == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }

    static let keywords: Set<String> = [
        "if", "for", "while", "switch", "return", "do", "else", "case", "default", "goto", "break",
        "continue", "sizeof", "typeof", "__typeof__", "defined",
    ]

    /// The function a definition header declares, or nil when the text is not a function header:
    /// the identifier right before the first `(`, preceded by a return type (only identifiers,
    /// blanks and `*`). `SYSCALL_DEFINEn(name, …)` gives `sys_name`.
    public static func definedFunctionName(_ header: String) -> String? {
        let text = header.trimmed
        guard !text.isEmpty, !text.hasPrefix("#"), !text.contains("=") else { return nil }
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")) else { return nil }
        var end = open
        while end > 0 && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        var start = end
        while start > 0 && isIdentifierByte(bytes[start - 1]) { start -= 1 }
        guard start < end, !(bytes[start] >= 0x30 && bytes[start] <= 0x39) else { return nil }
        let name = String(decoding: bytes[start..<end], as: UTF8.self)
        guard !keywords.contains(name) else { return nil }
        if attributeMacros.contains(name) {
            // `static __printf(2, 0) int cn_vprintf(…)`: the attribute's parentheses come first; the
            // function is named after them, on this line or (when nothing follows) on the next one.
            guard let close = matchingParenthesis(bytes, open: open) else { return nil }
            let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self)
            guard rest.contains("(") else { return nil }
            return definedFunctionName(String(decoding: bytes[..<start], as: UTF8.self) + " " + rest)
        }
        if name.hasPrefix("SYSCALL_DEFINE") || name.hasPrefix("COMPAT_SYSCALL_DEFINE") {
            let arguments = bytes[(open + 1)...].prefix { $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: ")") }
            let argument = String(decoding: arguments, as: UTF8.self).trimmed
            guard !argument.isEmpty else { return nil }
            return (name.hasPrefix("COMPAT") ? "compat_sys_" : "sys_") + argument
        }
        let prefix = bytes[..<start]
        guard prefix.contains(where: isIdentifierByte),
              prefix.allSatisfy({ isIdentifierByte($0) || $0 == 0x20 || $0 == 0x09 || $0 == UInt8(ascii: "*") })
        else { return nil }
        // The return type must not end in a keyword such as `return foo(` or `else if (`.
        let words = String(decoding: prefix, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "*" })
        if let last = words.last, keywords.contains(String(last)) { return nil }
        return name
    }
}

extension CLexer {
    /// The function a hunk header's section text names. git copies the nearest line above the
    /// hunk that starts in column 0 with an identifier; besides a full definition header, that is
    /// the name line of a definition whose return type sits on the line before
    /// (`static int` / `smb2_reconnect(__le16 smb2_command, ...`), which has no type before the
    /// name. Column 0 rules out statements; a `;` (a declaration, `EXPORT_SYMBOL(f);`) or an
    /// all-capitals name (a macro invocation such as `DEFINE_MUTEX(`) is not a definition.
    public static func sectionFunctionName(_ section: String) -> String? {
        if let name = definedFunctionName(section) { return name }
        guard let first = section.utf8.first, isIdentifierByte(first), !(first >= 0x30 && first <= 0x39),
              !section.contains(";"), !section.contains("=") else { return nil }
        let name = String(decoding: section.utf8.prefix(while: isIdentifierByte), as: UTF8.self)
        let rest = section.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard rest.first == "(", !keywords.contains(name),
              name.contains(where: { $0.isLowercase }) else { return nil }
        return name
    }
}

func isIdentifierByte(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        || byte == UInt8(ascii: "_")
}
