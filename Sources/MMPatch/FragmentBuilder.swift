import MMCore

/// Splits each side of a patch's C hunks into the functions they show.
///
/// Each hunk side (pre-image: context and removed lines; post-image: context and added lines) is
/// scanned line by line with lexical brace tracking. A function starts at a definition at brace
/// depth 0 (header with `(`…`)` and no `;`, then `{`) and ends at its matching `}`. A hunk that
/// begins inside a function (its first code lines are statements or close braces, or the hunk's
/// section names a function) belongs to the function the section names, or to the named function
/// the previous hunk of the file ended in, or to an `<unknown>` one; it ends at a closing brace in
/// column 0 that goes below the hunk's starting depth.
public struct FragmentBuilder: Sendable {
    public init() {}

    /// Each function the patch touches (has at least one added or removed line), with its before
    /// and after images (MMCore.TouchedFunction). Only C files (.c, .h).
    public func touchedFunctions(in patch: Patch) -> [TouchedFunction] {
        patch.files.flatMap(touchedFunctions(in:))
    }

    static func isCFile(_ file: FileDiff) -> Bool {
        guard !file.isBinary else { return false }
        return [file.newPath, file.oldPath].contains { path in
            guard let path else { return false }
            return path.hasSuffix(".c") || path.hasSuffix(".h")
        }
    }

    func touchedFunctions(in file: FileDiff) -> [TouchedFunction] {
        guard Self.isCFile(file) else { return [] }
        let before = scan(file, side: .before)
        let after = scan(file, side: .after)

        // A function renamed in its header (unuse_process → unuse_mm) has different names on the
        // two sides but shares the unchanged lines; pair the names through those lines.
        let beforeKeys = Set(before.occurrences.map(\.key))
        let afterKeys = Set(after.occurrences.map(\.key))
        var renamed: [String: String] = [:]
        for (hunkIndex, hunk) in file.hunks.enumerated() {
            for (lineIndex, line) in hunk.lines.enumerated() where line.kind == .context {
                guard let oldKey = before.owners[hunkIndex][lineIndex],
                      let newKey = after.owners[hunkIndex][lineIndex], oldKey != newKey,
                      renamed[oldKey] == nil, !afterKeys.contains(oldKey), !beforeKeys.contains(newKey)
                else { continue }
                renamed[oldKey] = newKey
            }
        }

        // Functions are listed in the order they first appear in the diff.
        var tagged: [(occurrence: Occurrence, key: String, isBefore: Bool)] = []
        for occurrence in before.occurrences {
            tagged.append((occurrence, renamed[occurrence.key] ?? occurrence.key, true))
        }
        for occurrence in after.occurrences { tagged.append((occurrence, occurrence.key, false)) }
        tagged.sort { ($0.occurrence.hunk, $0.occurrence.firstHunkLine) < ($1.occurrence.hunk, $1.occurrence.firstHunkLine) }
        var order: [String] = []
        var groups: [String: (before: [Occurrence], after: [Occurrence])] = [:]
        for item in tagged {
            if groups[item.key] == nil {
                order.append(item.key)
                groups[item.key] = ([], [])
            }
            if item.isBefore {
                groups[item.key]?.before.append(item.occurrence)
            } else {
                groups[item.key]?.after.append(item.occurrence)
            }
        }

        let path = file.displayPath
        let oldPath = file.isNew ? nil : file.oldPath
        var result: [TouchedFunction] = []
        for key in order {
            guard let group = groups[key] else { continue }
            let beforeImage = Self.image(group.before)
            let afterImage = Self.image(group.after)
            let touched = (beforeImage?.allLines ?? []).contains(where: \.changed)
                || (afterImage?.allLines ?? []).contains(where: \.changed)
            guard touched else { continue }
            let name = group.after.first?.name ?? group.before.first?.name ?? FragmentScanner.unknownName
            result.append(TouchedFunction(name: name, file: path, oldFile: oldPath,
                                          before: beforeImage, after: afterImage))
        }
        return result
    }

    /// Segments sorted by line; occurrences that continue each other without a gap are joined.
    static func image(_ occurrences: [Occurrence]) -> FunctionImage? {
        let sorted = occurrences.filter { !$0.lines.isEmpty }
            .sorted { ($0.lines.first?.number ?? 0) < ($1.lines.first?.number ?? 0) }
        guard let first = sorted.first, let last = sorted.last else { return nil }
        var segments: [Segment] = []
        for occurrence in sorted {
            if let previous = segments.last, let next = occurrence.lines.first,
               previous.lastLine + 1 == next.number {
                segments[segments.count - 1].lines += occurrence.lines
            } else {
                segments.append(Segment(lines: occurrence.lines))
            }
        }
        return FunctionImage(segments: segments, startsAtDefinition: first.startsAtHeader,
                             endsAtClosingBrace: last.endsAtBrace)
    }

    struct SideScan {
        var occurrences: [Occurrence] = []
        /// Per hunk: index of the hunk line → key of the function it belongs to on this side.
        var owners: [[Int: String]] = []
    }

    func scan(_ file: FileDiff, side: Side) -> SideScan {
        var result = SideScan()
        var openFunction: String?
        for (hunkIndex, hunk) in file.hunks.enumerated() {
            var entries: [SideLine] = []
            for (lineIndex, line) in hunk.lines.enumerated() {
                switch (side, line.kind) {
                case (.before, .added), (.after, .removed):
                    continue
                default:
                    let number = (side == .before ? line.oldLine : line.newLine) ?? 0
                    entries.append(SideLine(hunkLine: lineIndex,
                                            line: SourceLine(number: number, text: line.text,
                                                             changed: line.kind != .context)))
                }
            }
            var scanner = FragmentScanner(entries: entries, hunkIndex: hunkIndex, section: hunk.section,
                                          continuing: openFunction)
            scanner.run()
            result.occurrences += scanner.occurrences
            result.owners.append(scanner.owners)
            openFunction = scanner.openAtEnd
        }
        return result
    }
}

struct SideLine: Sendable {
    /// Index of the line in its hunk (shared by both sides for context lines).
    var hunkLine: Int
    var line: SourceLine
}

/// What one hunk side shows of one function.
struct Occurrence: Sendable {
    var key: String
    var name: String
    var hunk: Int
    /// Index in the hunk of the occurrence's first line (orders functions as the diff shows them).
    var firstHunkLine: Int
    var lines: [SourceLine]
    var startsAtHeader: Bool
    var endsAtBrace: Bool
}

/// Scans one hunk side and cuts it into function occurrences.
struct FragmentScanner {
    static let unknownName = "<unknown>"

    let entries: [SideLine]
    let masked: [CCodeLine]
    let hunkIndex: Int
    /// The function the hunk's section text names, if it names one.
    let sectionFunction: String?
    /// The named function the previous hunk of the file ended in (on this side).
    let continuing: String?
    /// Some code line is indented: column 0 then tells a function's closing brace from a block's.
    let indentationKnown: Bool
    let firstCodeLine: Int?

    private(set) var occurrences: [Occurrence] = []
    private(set) var owners: [Int: String] = [:]
    private(set) var openAtEnd: String?

    // The function being scanned.
    private var currentKey: String?
    private var currentName = ""
    private var currentStart = 0
    private var currentStartsAtHeader = false
    private var currentFromDefinition = false
    private var depth = 0
    // Outside functions.
    private var aggregateDepth = 0
    private var candidate: [UInt8] = []
    private var candidateStart: Int?
    private var candidateParens = 0
    private var unknownCount = 0

    init(entries: [SideLine], hunkIndex: Int, section: String, continuing: String?) {
        self.entries = entries
        let texts = entries.map(\.line.text)
        let startsInPreprocessor = texts.first.map { $0.trimmed.hasSuffix("\\") } ?? false
        self.masked = CLexer.mask(texts, startsInComment: CLexer.startsInComment(texts),
                                  startsInPreprocessor: startsInPreprocessor)
        self.hunkIndex = hunkIndex
        self.sectionFunction = CLexer.sectionFunctionName(section)
        self.continuing = continuing
        var indented = false
        var first: Int?
        for (index, line) in masked.enumerated() where !line.isPreprocessor && !line.code.trimmed.isEmpty {
            if first == nil { first = index }
            // A tab or two blanks of indentation: one blank alone is what mail leaves of lost
            // indentation (or a space-stuffed column 0), not a nesting level.
            let lead = line.code.utf8.prefix { $0 == 0x20 || $0 == 0x09 }
            if lead.contains(0x09) || lead.count >= 2 { indented = true }
        }
        self.indentationKnown = indented
        self.firstCodeLine = first
    }

    mutating func run() {
        if startsInsideFunction() {
            if let name = sectionFunction ?? continuing {
                begin(key: name, name: name, at: 0, atHeader: false, fromDefinition: false)
            } else {
                begin(key: newUnknownKey(), name: Self.unknownName, at: 0, atHeader: false, fromDefinition: false)
            }
            depth = 0
        }
        for index in entries.indices {
            if let key = currentKey { owners[entries[index].hunkLine] = key }
            for byte in masked[index].code.utf8 {
                if currentKey != nil {
                    // Inside a function only braces matter (most bytes of a hunk are read here).
                    if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") { scanInFunction(byte, line: index) }
                } else {
                    scanOutside(byte, line: index)
                }
            }
            if currentKey == nil && !candidate.isEmpty { candidate.append(0x20) }
        }
        guard let key = currentKey else {
            pendingHeaderAtEnd()
            return
        }
        finish(at: entries.count - 1, endsAtBrace: false)
        openAtEnd = currentName == Self.unknownName ? nil : key
        currentKey = nil
    }

    private mutating func newUnknownKey() -> String {
        unknownCount += 1
        return "\(Self.unknownName)#\(hunkIndex).\(unknownCount)"
    }

    private mutating func begin(key: String, name: String, at start: Int, atHeader: Bool, fromDefinition: Bool) {
        currentKey = key
        currentName = name
        currentStart = start
        currentStartsAtHeader = atHeader
        currentFromDefinition = fromDefinition
        depth = 1
    }

    private mutating func finish(at end: Int, endsAtBrace: Bool) {
        guard let key = currentKey, currentStart <= end, end < entries.count else { return }
        occurrences.append(Occurrence(key: key, name: currentName, hunk: hunkIndex,
                                      firstHunkLine: entries[currentStart].hunkLine,
                                      lines: entries[currentStart...end].map(\.line),
                                      startsAtHeader: currentStartsAtHeader, endsAtBrace: endsAtBrace))
        currentKey = nil
    }

    private mutating func resetCandidate() {
        candidate.removeAll(keepingCapacity: true)
        candidateStart = nil
        candidateParens = 0
    }

    private mutating func scanInFunction(_ byte: UInt8, line: Int) {
        if byte == UInt8(ascii: "{") {
            depth += 1
        } else if byte == UInt8(ascii: "}") {
            depth -= 1
            let ends: Bool
            if currentFromDefinition {
                ends = depth == 0
            } else {
                // Entered mid-function at relative depth 0: a brace below that in column 0 is the
                // function's own (kernel style); without indentation any brace below the start is.
                // One blank before the brace is mail space-stuffing (format=flowed quoting adds
                // one to every line that starts with a blank), not kernel indentation.
                let text = entries[line].line.text.utf8
                let columnZero = text.first == UInt8(ascii: "}")
                    || (text.first == 0x20 && text.dropFirst().first == UInt8(ascii: "}"))
                // Without indentation a brace below the start is the function's own unless
                // statements follow it, which only a function body holds.
                ends = depth < 0 && (indentationKnown ? columnZero : !statementFollows(line))
                if depth < 0 && !ends { depth = 0 }
            }
            if ends {
                finish(at: line, endsAtBrace: true)
                resetCandidate()
                aggregateDepth = 0
            }
        }
    }

    /// The next code line after `line` is a statement (`if (…)`, `x = …;`, `return …;`).
    private func statementFollows(_ line: Int) -> Bool {
        for index in (line + 1)..<masked.count where !masked[index].isPreprocessor {
            let code = masked[index].code.trimmed
            if code.isEmpty { continue }
            return Self.isDefinitelyStatement(code)
        }
        return false
    }

    private mutating func scanOutside(_ byte: UInt8, line: Int) {
        if aggregateDepth > 0 {
            if byte == UInt8(ascii: "{") { aggregateDepth += 1 }
            if byte == UInt8(ascii: "}") {
                aggregateDepth -= 1
                if aggregateDepth == 0 { resetCandidate() }
            }
            return
        }
        switch byte {
        case UInt8(ascii: ";"):
            if candidateParens <= 0 { resetCandidate() } else { candidate.append(byte) }
        case UInt8(ascii: "}"):
            resetCandidate()  // closes something that began before the hunk
        case UInt8(ascii: "{"):
            openBrace(line: line)
        default:
            if byte == UInt8(ascii: "(") { candidateParens += 1 }
            if byte == UInt8(ascii: ")") { candidateParens -= 1 }
            if byte != 0x20 && byte != 0x09 && candidateStart == nil { candidateStart = line }
            if byte != 0x09 { candidate.append(byte) } else { candidate.append(0x20) }
        }
    }

    /// A `{` at depth 0: a function body when the text before it is a definition header.
    private mutating func openBrace(line: Int) {
        let text = String(decoding: candidate, as: UTF8.self).trimmed
        let start = candidateStart ?? line
        // The section text names the function whose header lies just before the hunk: it only
        // applies to a body that opens before any other code of the hunk.
        let sectionName = start == firstCodeLine ? sectionFunction : nil
        if text.isEmpty {
            // A bare `{` whose header is not shown.
            if let name = sectionName {
                begin(key: name, name: name, at: line, atHeader: false, fromDefinition: true)
            } else {
                begin(key: newUnknownKey(), name: Self.unknownName, at: line, atHeader: false, fromDefinition: true)
            }
        } else if candidateParens > 0 || text.contains("=") {
            aggregateDepth = 1
        } else if Self.parenMinimum(text) < 0 {
            // The hunk starts inside a multi-line header: its beginning is not shown.
            if let name = sectionName {
                begin(key: name, name: name, at: start, atHeader: false, fromDefinition: true)
            } else {
                begin(key: newUnknownKey(), name: Self.unknownName, at: start, atHeader: false, fromDefinition: true)
            }
        } else if text.contains("("), let name = CLexer.definedFunctionName(text) {
            begin(key: name, name: name, at: start, atHeader: true, fromDefinition: true)
        } else {
            aggregateDepth = 1  // struct, union, enum, initialiser
        }
        if currentKey != nil {
            for index in start...line { owners[entries[index].hunkLine] = currentKey }
        }
        resetCandidate()
    }

    private static func parenMinimum(_ text: String) -> Int {
        var balance = 0
        var minimum = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "(") { balance += 1 }
            if byte == UInt8(ascii: ")") { balance -= 1; minimum = min(minimum, balance) }
        }
        return minimum
    }

    /// A definition header still open at the end of the hunk (`void swap_in(struct task_struct *tsk,`):
    /// the next hunk, if it starts inside a function, continues it.
    private mutating func pendingHeaderAtEnd() {
        guard let start = candidateStart, candidateParens >= 0 else { return }
        let text = String(decoding: candidate, as: UTF8.self).trimmed
        guard text.contains("("), let name = CLexer.definedFunctionName(text) else { return }
        occurrences.append(Occurrence(key: name, name: name, hunk: hunkIndex,
                                      firstHunkLine: entries[start].hunkLine,
                                      lines: entries[start...].map(\.line), startsAtHeader: true,
                                      endsAtBrace: false))
        for index in start..<entries.count { owners[entries[index].hunkLine] = name }
        openAtEnd = name
    }

    // MARK: Does the hunk start inside a function?

    private func startsInsideFunction() -> Bool {
        // Code lines are found as the scan reaches them: it usually decides within a few lines,
        // and trimming every line of a long hunk first cost more than the decision.
        func codeLine(after index: Int) -> Int? {
            var next = index + 1
            while next < masked.count {
                if !masked[next].isPreprocessor && !masked[next].code.trimmed.isEmpty { return next }
                next += 1
            }
            return nil
        }
        var nextCodeLine = codeLine(after: -1)
        while let index = nextCodeLine {
            nextCodeLine = codeLine(after: index)
            let code = masked[index].code.trimmed
            let raw = entries[index].line.text
            let indented = raw.utf8.first == 0x20 || raw.utf8.first == 0x09
            if code.hasPrefix("}") {
                let rest = String(code.dropFirst()).trimmed
                // `};` or `} name;` closes a struct or an initialiser; `} while (…);` a loop. Indented
                // under a hunk header that names a function, it closes a local initialiser
                // (`struct mm_walk walk = { … };`).
                if rest.hasPrefix(";") || (rest.hasSuffix(";") && !rest.hasPrefix("while")) {
                    return indented && sectionFunction != nil
                }
                return true
            }
            if code == "{" { return false }
            let opens = code.utf8.filter { $0 == UInt8(ascii: "(") }.count
            let closes = code.utf8.filter { $0 == UInt8(ascii: ")") }.count
            if closes > opens && !code.hasSuffix(";") && !code.hasSuffix("{"),
               let following = nextCodeLine, masked[following].code.trimmed == "{" {
                return false  // the tail of a multi-line definition header
            }
            if indented {
                if Self.isStatementLike(code) { return true }
                continue
            }
            if Self.isLabel(code) || Self.isDefinitelyStatement(code) { return true }
            // The tail of a statement or list begun before the hunk (`i, name);` after
            // `pr_info(…,`) says nothing by itself: read on.
            if code.hasSuffix(",") || closes > opens { continue }
            // A hunk that lost all its indentation (a flattened page rebuilt): a declaration such as
            // `struct anon_vma_chain *vmac;` may be a block's as well as the file's; read on.
            if !indentationKnown, code.hasSuffix(";"), !code.contains("(") { continue }
            return false
        }
        return sectionFunction != nil
    }

    private static func firstWord(_ code: String) -> String {
        String(code.utf8.prefix(while: isIdentifierByte).map { Character(Unicode.Scalar($0)) })
    }

    private static let statementKeywords: Set<String> = [
        "if", "for", "while", "return", "goto", "break", "continue", "switch", "do", "else", "case", "default",
    ]

    /// An indented line that can only be a statement inside a function body.
    static func isStatementLike(_ code: String) -> Bool {
        let word = firstWord(code)
        if statementKeywords.contains(word) { return true }
        if isLabel(code) { return true }
        if ["struct", "union", "enum", "typedef"].contains(word) && !code.contains("=") { return false }
        if code.hasSuffix("{") { return true }
        if code.hasPrefix("++") || code.hasPrefix("--") { return true }
        if code.hasSuffix(";") {
            if code.contains("(*") && !code.contains("=") { return false }  // function pointer member
            return code.contains("=") || code.contains("->") || code.contains("++") || code.contains("--")
                || code.contains("(")
        }
        if code.hasSuffix(",") || code.hasSuffix(")") {
            return hasCall(code)
        }
        return false
    }

    /// `name(` with a name that is not a keyword.
    private static func hasCall(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        for index in bytes.indices where bytes[index] == UInt8(ascii: "(") && index > 0 {
            var start = index
            while start > 0 && isIdentifierByte(bytes[start - 1]) { start -= 1 }
            if start < index && !CLexer.keywords.contains(String(decoding: bytes[start..<index], as: UTF8.self)) {
                return true
            }
        }
        return false
    }

    /// `out:` (but not `default:`).
    static func isLabel(_ code: String) -> Bool {
        let word = firstWord(code)
        guard !word.isEmpty, word != "default" else { return false }
        return String(code.dropFirst(word.count)).trimmed == ":"
    }

    /// An unindented line that cannot appear at file scope: a statement keyword, `x = …` with a
    /// bare lvalue on the left, or `++x`. Used when a quoted hunk lost its indentation.
    static func isDefinitelyStatement(_ code: String) -> Bool {
        if statementKeywords.contains(firstWord(code)) { return true }
        if code.hasPrefix("++") || code.hasPrefix("--") { return true }
        let bytes = Array(code.utf8)
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")),
              equals + 1 >= bytes.count || bytes[equals + 1] != UInt8(ascii: "=") else { return false }
        var left = Array(bytes[..<equals])
        while let last = left.last, "+-*/%&|^<> \t".utf8.contains(last) { left.removeLast() }
        guard let first = left.first, isIdentifierByte(first) || first == UInt8(ascii: "*") else { return false }
        var bracket = 0
        for byte in left {
            if byte == UInt8(ascii: "[") { bracket += 1 } else if byte == UInt8(ascii: "]") { bracket -= 1 }
            if bracket == 0 && (byte == 0x20 || byte == 0x09) { return false }  // `int x = …` is a declaration
        }
        return true
    }
}
