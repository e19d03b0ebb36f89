import MMCore

/// Where a finding's line sits in a patch: indices into `FileDiff.hunks` and `Hunk.lines`.
struct HunkPosition: Sendable, Hashable {
    var hunk: Int
    var line: Int
}

/// Finding the lines of a patch a comment is about, and quoting them as a mail reply does.
enum HunkQuote {
    /// Fixed findings are numbered in the old file, all others in the new one.
    static func side(of finding: Finding) -> Side {
        finding.status == .fixed ? .before : .after
    }

    /// The file of `patch` the finding is reported against.
    static func fileDiff(for finding: Finding, in patch: Patch?) -> FileDiff? {
        guard let patch else { return nil }
        let path = finding.file
        let before = side(of: finding) == .before
        let onSide = patch.files.first { file in
            let primary = before ? file.oldPath : file.newPath
            let other = before ? file.newPath : file.oldPath
            return primary == path || (primary == nil && other == path)
        }
        return onSide ?? patch.files.first { $0.displayPath == path }
    }

    /// The hunk line numbered `finding.line` on the finding's side. When that line's text is not
    /// the finding's code and the hunk's numbers are only approximate (a repaired quoted hunk), the
    /// nearest line with the finding's code is taken instead.
    static func locate(_ finding: Finding, in file: FileDiff) -> HunkPosition? {
        HunkLocator(file, side: side(of: finding)).locate(finding)
    }

    /// The hunk line that opens `function`'s definition ("static int f(…)" at the start of a line),
    /// searched before `line`; nil when the hunk starts inside the function.
    static func functionHeader(_ function: String, in hunk: Hunk, before line: Int) -> Int? {
        let name = TextStyle.trimmed(function)
        // "<unknown>" and the like name no function the hunk could show.
        guard !name.isEmpty, !name.hasPrefix("<"), line > 0 else { return nil }
        for index in stride(from: min(line, hunk.lines.count) - 1, through: 0, by: -1) {
            let text = hunk.lines[index].text
            guard let first = text.first, !first.isWhitespace, first != "}", first != "#" else { continue }
            if let range = text.firstRange(of: name + "("), range.lowerBound == text.startIndex
                || !(text[text.index(before: range.lowerBound)].isLetter
                     || text[text.index(before: range.lowerBound)].isNumber
                     || text[text.index(before: range.lowerBound)] == "_") {
                return index
            }
        }
        return nil
    }

    /// `@@ -674,14 +743,23 @@ section`, counts of 1 left out as git does.
    static func header(_ hunk: Hunk) -> String {
        func range(_ start: Int, _ count: Int) -> String { count == 1 ? "\(start)" : "\(start),\(count)" }
        let ranges = "@@ -\(range(hunk.oldStart, hunk.oldCount)) +\(range(hunk.newStart, hunk.newCount)) @@"
        return hunk.section.isEmpty ? ranges : ranges + " " + hunk.section
    }

    /// A hunk line as quoted in a reply: `> ` and the diff marker; trailing blanks dropped.
    static func quoted(_ line: DiffLine) -> String {
        let marker: String
        switch line.kind {
        case .added: marker = "+"
        case .removed: marker = "-"
        case .context: marker = " "
        }
        return TextStyle.withoutTrailingBlanks("> " + marker + line.text)
    }
}

/// The lines of one file's hunks on one side, indexed once by line number and (for repaired quoted
/// hunks) by trimmed text, so placing many findings does not rescan every hunk for each one (a
/// reply with thousands of findings in one long function took quadratic time).
struct HunkLocator {
    private var firstByNumber: [Int: HunkPosition] = [:]
    private var repairedByText: [String: [(position: HunkPosition, number: Int)]] = [:]
    private let file: FileDiff

    init(_ file: FileDiff, side: Side) {
        self.file = file
        let before = side == .before
        for (h, hunk) in file.hunks.enumerated() {
            for (i, line) in hunk.lines.enumerated() {
                let number = before
                    ? (line.kind == .added ? nil : line.oldLine)
                    : (line.kind == .removed ? nil : line.newLine)
                guard let number else { continue }
                let position = HunkPosition(hunk: h, line: i)
                if firstByNumber[number] == nil { firstByNumber[number] = position }
                if hunk.repaired {
                    repairedByText[TextStyle.trimmed(line.text), default: []].append((position, number))
                }
            }
        }
    }

    func locate(_ finding: Finding) -> HunkPosition? {
        let code = TextStyle.trimmed(finding.code)
        let numbered = firstByNumber[finding.line]
        if let numbered {
            let hunk = file.hunks[numbered.hunk]
            let matches = code.isEmpty || TextStyle.trimmed(hunk.lines[numbered.line].text) == code
            if matches || !hunk.repaired { return numbered }
        }
        guard !code.isEmpty, let candidates = repairedByText[code] else { return numbered }
        // min(by:) keeps the first of equal distances: the earlier line wins.
        return candidates.min { abs($0.number - finding.line) < abs($1.number - finding.line) }?.position ?? numbered
    }
}
