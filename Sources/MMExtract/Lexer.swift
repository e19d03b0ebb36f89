// A small C lexer for hunk text: enough to track braces, find calls, collect stub names and slice
// expression text. It skips comments, string and character literals, treats each preprocessor
// directive (with its continuation lines) as one token, and marks tokens in inactive conditional
// branches (the first branch of every #if/#ifdef/#ifndef is active, #elif/#else branches are not),
// the same rule the extractor applies when it rewrites directives for libclang.

struct CToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case identifier, number, string, character, punct, directive }
    var kind: Kind
    var text: String
    /// 0-based index of the line in the lexed line array.
    var line: Int
    /// 1-based byte column in that line.
    var column: Int
    /// Whitespace, a comment or a line break precedes the token.
    var spaceBefore: Bool
    /// False inside an inactive #elif/#else branch.
    var active: Bool

    func isPunct(_ p: String) -> Bool { kind == .punct && text == p }
    var isIdentifier: Bool { kind == .identifier }
}

/// The state a lexer leaves behind at the end of its input (to detect unterminated comments).
struct LexResult {
    var tokens: [CToken]
    var endsInsideComment: Bool
    /// Depth of open #if groups at the end.
    var openConditionals: Int
}

enum CLexer {
    private static let punctuators3: Set<String> = ["<<=", ">>=", "..."]
    private static let punctuators2: Set<String> = [
        "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
        "%=", "&=", "|=", "^=", "##",
    ]
    /// The same punctuators as byte sequences, compared without building a String per
    /// punctuation mark (the lexer runs over every hunk and the prelude).
    private static let punctuators3Bytes: [[UInt8]] = punctuators3.map { Array($0.utf8) }
    private static let punctuators2Bytes: [[UInt8]] = punctuators2.map { Array($0.utf8) }

    /// Length of the punctuator starting at `i`: 3, 2 or 1.
    @inline(__always) private static func punctuatorLength(_ bytes: [UInt8], _ i: Int) -> Int {
        let n = bytes.count
        if i + 3 <= n {
            for p in punctuators3Bytes where p[0] == bytes[i] && p[1] == bytes[i + 1] && p[2] == bytes[i + 2] {
                return 3
            }
        }
        if i + 2 <= n {
            for p in punctuators2Bytes where p[0] == bytes[i] && p[1] == bytes[i + 1] { return 2 }
        }
        return 1
    }

    @inline(__always) private static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || b == 36
    }
    @inline(__always) private static func isIdentChar(_ b: UInt8) -> Bool {
        isIdentStart(b) || (b >= 48 && b <= 57)
    }
    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    @inline(__always) private static func isSpace(_ b: UInt8) -> Bool {
        b == 32 || b == 9 || b == 11 || b == 12 || b == 13
    }

    /// The directive keyword of a directive token's text (`if`, `ifdef`, `define`, …).
    static func directiveKeyword(_ text: String) -> String {
        var s = Substring(text)
        s = s.drop(while: { $0 == " " || $0 == "\t" })
        guard s.first == "#" else { return "" }
        s = s.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
        return String(s.prefix(while: { $0.isLetter || $0 == "_" }))
    }

    static func lex(_ lines: [String]) -> LexResult {
        var tokens: [CToken] = []
        tokens.reserveCapacity(lines.count * 8)
        var inComment = false
        // Conditional stack: each entry is true while the current branch of that group is active.
        var conditionals: [Bool] = []
        var active = true
        var directiveContinues = false
        var space = true

        func recomputeActive() { active = conditionals.allSatisfy { $0 } }

        for (lineIndex, lineText) in lines.enumerated() {
            let bytes = Array(lineText.utf8)
            let n = bytes.count
            var i = 0
            space = true
            if directiveContinues {
                // Continuation of a directive: already part of the directive token.
                directiveContinues = n > 0 && bytes[n - 1] == 92
                if let last = tokens.indices.last, tokens[last].kind == .directive {
                    tokens[last].text += "\n" + lineText
                }
                continue
            }
            // Directive line?
            if !inComment {
                var j = 0
                while j < n, isSpace(bytes[j]) { j += 1 }
                if j < n, bytes[j] == 35 {
                    let tok = CToken(kind: .directive, text: lineText, line: lineIndex, column: j + 1,
                                     spaceBefore: true, active: active)
                    let keyword = directiveKeyword(lineText)
                    switch keyword {
                    case "if", "ifdef", "ifndef":
                        conditionals.append(true)
                    case "elif", "else":
                        if !conditionals.isEmpty { conditionals[conditionals.count - 1] = false }
                    case "endif":
                        if !conditionals.isEmpty { conditionals.removeLast() }
                    default: break
                    }
                    var t = tok
                    t.active = active
                    recomputeActive()
                    tokens.append(t)
                    directiveContinues = n > 0 && bytes[n - 1] == 92
                    continue
                }
            }
            while i < n {
                let b = bytes[i]
                if inComment {
                    if b == 42, i + 1 < n, bytes[i + 1] == 47 { inComment = false; i += 2 } else { i += 1 }
                    space = true
                    continue
                }
                if isSpace(b) { i += 1; space = true; continue }
                if b == 47, i + 1 < n, bytes[i + 1] == 47 { break }  // line comment
                if b == 47, i + 1 < n, bytes[i + 1] == 42 { inComment = true; i += 2; space = true; continue }
                let start = i
                var kind: CToken.Kind
                if isIdentStart(b) {
                    while i < n, isIdentChar(bytes[i]) { i += 1 }
                    // String prefixes such as L"..." are rare in kernel code; treat as identifier + string.
                    kind = .identifier
                } else if isDigit(b) || (b == 46 && i + 1 < n && isDigit(bytes[i + 1])) {
                    i += 1
                    while i < n {
                        let c = bytes[i]
                        if isIdentChar(c) || c == 46 {
                            i += 1
                        } else if (c == 43 || c == 45), i > start,
                                  [UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "p"), UInt8(ascii: "P")]
                                    .contains(bytes[i - 1]) {
                            i += 1
                        } else {
                            break
                        }
                    }
                    kind = .number
                } else if b == 34 || b == 39 {
                    i += 1
                    while i < n, bytes[i] != b {
                        if bytes[i] == 92 { i += 1 }
                        i += 1
                    }
                    i = min(i + 1, n)
                    kind = b == 34 ? .string : .character
                } else {
                    kind = .punct
                    i += punctuatorLength(bytes, i)
                }
                let text = String(decoding: bytes[start..<i], as: UTF8.self)
                tokens.append(CToken(kind: kind, text: text, line: lineIndex, column: start + 1,
                                     spaceBefore: space, active: active))
                space = false
            }
        }
        return LexResult(tokens: tokens, endsInsideComment: inComment, openConditionals: conditionals.count)
    }

    /// Tokens joined with single spaces where the source had whitespace or a line break.
    static func join(_ tokens: ArraySlice<CToken>) -> String {
        var out = ""
        var first = true
        for t in tokens where t.kind != .directive {
            if !first && t.spaceBefore { out += " " }
            out += t.text
            first = false
        }
        return out
    }

    static func join(_ tokens: [CToken]) -> String { join(tokens[...]) }
}
