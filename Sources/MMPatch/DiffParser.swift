import MMCore

// Unified diff parsing over the lines of a message body, plain or quoted with `> `.
//
// Every body line is first split into its quote depth and its content. A diff found at depth d
// takes its lines from depth d only; lines at other depths (the reviewer's text, a deeper or
// shallower quote) interrupt a hunk without ending it, and the hunk goes on when depth-d lines
// resume. A snip marker ("[...]", "<snip>" …) at any depth, the next header, or the end of the
// input ends a hunk early; such hunks are kept as far as they go and marked `repaired`.
// All scanning moves forward over an array of lines, so the cost is linear in the input.

/// One body line: how deeply it is quoted and its text without the quote prefix.
struct QuotedLine: Sendable {
    var depth: Int
    var text: String

    /// Splits `> > text` into depth 2 and "text". One blank after each `>` belongs to the prefix,
    /// so a quoted context line `>  foo` keeps its own leading blank.
    init(_ line: String) {
        let utf8 = line.utf8
        var index = utf8.startIndex
        var depth = 0
        while index < utf8.endIndex && utf8[index] == UInt8(ascii: ">") {
            depth += 1
            index = utf8.index(after: index)
            if index < utf8.endIndex && utf8[index] == UInt8(ascii: " ") { index = utf8.index(after: index) }
        }
        self.depth = depth
        self.text = depth == 0 ? line : String(line[index...])
    }

    var first: UInt8? { text.utf8.first }
}

struct HunkHeader: Sendable, Equatable {
    var oldStart: Int
    var oldCount: Int
    var newStart: Int
    var newCount: Int
    var section: String
    /// A number was absurdly large and was capped: the hunk is marked repaired.
    var capped: Bool

    /// Line numbers and counts above this are not real; capping keeps arithmetic from overflowing.
    static let limit = 1_000_000_000

    init(oldStart: Int, oldCount: Int, newStart: Int, newCount: Int, section: String, capped: Bool) {
        self.oldStart = oldStart
        self.oldCount = oldCount
        self.newStart = newStart
        self.newCount = newCount
        self.section = section
        self.capped = capped
    }

    /// Parses `@@ -a[,b] +c[,d] @@[ section]`; a missing count means 1.
    init?(_ text: String) {
        // Cheap test first: this runs on every line of the input.
        guard text.utf8.starts(with: "@@ -".utf8) else { return nil }
        let bytes = Array(text.utf8)
        guard bytes.count >= 9 else { return nil }
        var index = 4
        var capped = false
        func number() -> Int? {
            var value = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if value <= HunkHeader.limit { value = value * 10 + Int(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if value > HunkHeader.limit { value = HunkHeader.limit; capped = true }
            return value
        }
        func range() -> (Int, Int)? {
            guard let start = number() else { return nil }
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return (start, 1) }
            index += 1
            guard let count = number() else { return nil }
            return (start, count)
        }
        guard let (oldStart, oldCount) = range() else { return nil }
        while index < bytes.count && bytes[index] == 0x20 { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "+") else { return nil }
        index += 1
        guard let (newStart, newCount) = range() else { return nil }
        while index < bytes.count && bytes[index] == 0x20 { index += 1 }
        guard index + 1 < bytes.count, bytes[index] == 0x40, bytes[index + 1] == 0x40 else { return nil }
        index += 2
        // "@@@" is a combined (merge) diff, which this reader does not handle.
        if index < bytes.count && bytes[index] == 0x40 { return nil }
        self.oldStart = oldStart
        self.oldCount = oldCount
        self.newStart = newStart
        self.newCount = newCount
        self.section = String(decoding: bytes[index...], as: UTF8.self).trimmed
        self.capped = capped
    }
}

/// True for a reviewer's snip marker: "[...]", "[ ... ]", "...", "<snip>", "[snip]" and the like.
func isSnipMarker(_ text: String) -> Bool {
    // Asked for nearly every line a hunk reads: decided on bytes, stopping at the 15th that is not
    // blank. The blanks are ASCII, so dropping their bytes drops exactly the blank scalars.
    func isKept(_ byte: UInt8) -> Bool { !isBlankByte(byte) && byte != 0x0A }
    var kept = 0
    for byte in text.utf8 where isKept(byte) {
        kept += 1
        if kept > 14 { return false }
    }
    guard kept > 0 else { return false }
    let lower = String(decoding: text.utf8.filter(isKept).map(lowerASCII), as: UTF8.self)
    return snipMarkers.contains(lower)
}

/// The snip markers, lowercased and without blanks (a constant, built once rather than per line).
private let snipMarkers: Set<String> = ["[...]", "...", "<snip>", "[snip]", "<...>", "[..]", "..", "…", "[…]",
                                        "snip", "<snipped>", "[snipped]", "[....]", "....", "<snip/>", "[--snip--]",
                                        "--snip--", "8<", "---8<---", "-->8--", ">8", "[...snip...]"]

/// A run of quoted diff lines found in a message: the files of one patch at one quote depth.
struct FoundDiff: Sendable {
    var depth: Int
    /// Index of the first line of the diff (its first header) in the body.
    var firstLine: Int
    /// Index of the last line that belongs to it.
    var lastLine: Int
    var files: [FileDiff]
}

struct DiffParser {
    let lines: [QuotedLine]
    /// Per quote depth: for each line, how many context/added/removed lines of that depth follow
    /// before the next boundary (header, snip marker). Built once per depth, on demand.
    private var lookahead: [Int: [LineCounts]] = [:]

    struct LineCounts: Sendable {
        var context = 0
        var added = 0
        var removed = 0
    }

    init(lines: [QuotedLine]) {
        self.lines = lines
    }

    init(text lines: [String]) {
        self.lines = lines.map(QuotedLine.init)
    }

    mutating func parse() -> [FoundDiff] {
        var found: [FoundDiff] = []
        var index = 0
        while index < lines.count {
            guard startsFile(index) else {
                index += 1
                continue
            }
            let depth = lines[index].depth
            let (files, next) = parseFile(at: index)
            if !files.isEmpty {
                if let last = found.indices.last, found[last].depth == depth {
                    // In place: a copy of the last diff would copy its files on every append.
                    found[last].files += files
                    found[last].lastLine = next - 1
                } else {
                    found.append(FoundDiff(depth: depth, firstLine: index, lastLine: next - 1, files: files))
                }
            }
            index = max(next, index + 1)
        }
        return found.map(Self.withoutRepeatedFiles)
    }

    /// The diff with every file section that repeats an earlier one byte for byte left out. A
    /// section shown twice (a diff concatenated with itself, a reply quoting the patch twice, a
    /// flattened page whose copies are all rebuilt) says nothing new, and each copy would be
    /// checked against all the others: the work grows with the square of the copies.
    private static func withoutRepeatedFiles(_ diff: FoundDiff) -> FoundDiff {
        guard diff.files.count > 1 else { return diff }
        var seen = Set<FileDiff>()
        var kept = diff
        kept.files = diff.files.filter { seen.insert($0).inserted }
        return kept
    }

    // MARK: Line classification

    private func text(_ index: Int) -> String { lines[index].text }

    private func hasPrefix(_ index: Int, _ prefix: String) -> Bool {
        lines[index].text.utf8.starts(with: prefix.utf8)
    }

    /// `--- x` directly followed by `+++ y` at the same depth.
    private func isPlainFileHeader(_ index: Int) -> Bool {
        hasPrefix(index, "--- ") && index + 1 < lines.count && lines[index + 1].depth == lines[index].depth
            && hasPrefix(index + 1, "+++ ")
    }

    /// A line that starts a new file or hunk: never read past it.
    private func isHeaderLike(_ index: Int) -> Bool {
        let first = lines[index].first
        if first == UInt8(ascii: "@") { return HunkHeader(text(index)) != nil }
        if first == UInt8(ascii: "d") { return hasPrefix(index, "diff --git ") }
        if first == UInt8(ascii: "-") { return isPlainFileHeader(index) }
        return false
    }

    private func startsFile(_ index: Int) -> Bool {
        hasPrefix(index, "diff --git ") || isPlainFileHeader(index) || HunkHeader(text(index)) != nil
    }

    /// The mail signature separator ends a patch (git format-patch puts it after the last hunk).
    private func isSignature(_ index: Int) -> Bool {
        let value = text(index)
        return value == "-- " || value == "--"
    }

    private func isSnip(_ index: Int) -> Bool {
        let first = lines[index].first
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { return false }
        return isSnipMarker(text(index))
    }

    // MARK: Files

    private mutating func parseFile(at start: Int) -> ([FileDiff], Int) {
        let depth = lines[start].depth
        var index = start
        var oldPath: String?
        var newPath: String?
        var isGit = false
        var isNew = false
        var isDeleted = false
        var isRename = false
        var isBinary = false

        if hasPrefix(index, "diff --git ") {
            isGit = true
            let paths = Self.gitHeaderPaths(String(text(index).dropFirst("diff --git ".count)))
            oldPath = paths.old
            newPath = paths.new
            index += 1
            headers: while index < lines.count && lines[index].depth == depth {
                let value = text(index)
                if value.hasPrefix("new file mode") {
                    isNew = true
                } else if value.hasPrefix("deleted file mode") {
                    isDeleted = true
                } else if value.hasPrefix("rename from ") || value.hasPrefix("copy from ") {
                    isRename = isRename || value.hasPrefix("rename")
                    oldPath = Self.cleanPath(String(value.drop { $0 != " " }.dropFirst().drop { $0 != " " }.dropFirst()))
                } else if value.hasPrefix("rename to ") || value.hasPrefix("copy to ") {
                    isRename = isRename || value.hasPrefix("rename")
                    newPath = Self.cleanPath(String(value.drop { $0 != " " }.dropFirst().drop { $0 != " " }.dropFirst()))
                } else if value.hasPrefix("old mode") || value.hasPrefix("new mode")
                            || value.hasPrefix("similarity index") || value.hasPrefix("dissimilarity index")
                            || value.hasPrefix("index ") {
                    // Nothing to keep.
                } else if value.hasPrefix("Binary files ") {
                    isBinary = true
                    index += 1
                    break headers
                } else if value.hasPrefix("GIT binary patch") {
                    isBinary = true
                    index += 1
                    // Skip the base85 data up to the next header or the signature.
                    while index < lines.count && !(lines[index].depth == depth
                                                   && (isHeaderLike(index) || isSignature(index))) {
                        index += 1
                    }
                    break headers
                } else {
                    break headers
                }
                index += 1
            }
        }
        if index < lines.count && lines[index].depth == depth && isPlainFileHeader(index) {
            let old = Self.pathField(String(text(index).dropFirst(4)))
            let new = Self.pathField(String(text(index + 1).dropFirst(4)))
            oldPath = old == "/dev/null" ? nil : old
            newPath = new == "/dev/null" ? nil : new
            if old == "/dev/null" { isNew = true }
            if new == "/dev/null" { isDeleted = true }
            index += 2
        } else if isGit {
            if isNew { oldPath = nil }
            if isDeleted { newPath = nil }
        }
        // git always writes a/ and b/; plain diffs only get them stripped when both sides agree.
        if isGit {
            oldPath = oldPath.map { Self.stripPrefix($0, "a/") }
            newPath = newPath.map { Self.stripPrefix($0, "b/") }
        } else if (oldPath?.hasPrefix("a/") ?? true) && (newPath?.hasPrefix("b/") ?? true)
                    && (oldPath != nil || newPath != nil) {
            oldPath = oldPath.map { Self.stripPrefix($0, "a/") }
            newPath = newPath.map { Self.stripPrefix($0, "b/") }
        }
        // Patches applied with -p1 but made from two trees (`linux-2.6.orig/mm/x.c`,
        // `v2.6.35-rc3/mm/hugetlb.c`): drop the tree's own directory.
        oldPath = oldPath.map(Self.stripTreeDirectory)
        newPath = newPath.map(Self.stripTreeDirectory)
        // A backup copy as the old side (`mm/memory.c~fix-name`, `mm/memory.c.orig`) is the same file.
        if let old = oldPath, let new = newPath, old != new, old.hasPrefix(new),
           old.dropFirst(new.count).hasPrefix("~") || old.dropFirst(new.count) == ".orig" {
            oldPath = new
        }

        var hunks: [Hunk] = []
        var orphans: [Hunk] = []
        var nextOrphanStart = 1
        var consumedUpTo = index  // first line not consumed
        var cursor = index
        while cursor < lines.count {
            var probe = cursor
            if depth > 0 {
                // Between quoted hunks: skip the reviewer's text and snip markers.
                while probe < lines.count && (lines[probe].depth != depth || isSnip(probe)) { probe += 1 }
            }
            guard probe < lines.count, lines[probe].depth == depth else { break }
            if let header = HunkHeader(text(probe)) {
                let (hunk, next) = readHunk(at: probe, header: header)
                hunks.append(hunk)
                consumedUpTo = next
                cursor = next
                continue
            }
            // Headerless quoted lines after an earlier hunk of this patch (the reviewer skipped the
            // file and hunk headers): keep them as an extra hunk at an unknown position.
            let first = lines[probe].first
            if depth > 0, !hunks.isEmpty, first == UInt8(ascii: "+") || first == UInt8(ascii: "-"),
               !isHeaderLike(probe), !isSignature(probe) {
                let (hunk, next) = readOrphan(at: probe, start: nextOrphanStart)
                if !hunk.lines.isEmpty {
                    orphans.append(hunk)
                    nextOrphanStart += max(hunk.oldCount, hunk.newCount) + 1
                }
                consumedUpTo = next
                cursor = next
                continue
            }
            break
        }

        var files: [FileDiff] = []
        let keep = !hunks.isEmpty || isBinary || (isGit && (isRename || isNew || isDeleted || oldPath != nil))
        if keep {
            files.append(FileDiff(oldPath: oldPath, newPath: newPath, isNew: isNew, isDeleted: isDeleted,
                                  isRename: isRename, isBinary: isBinary, hunks: hunks))
        }
        if !orphans.isEmpty {
            // The quoted lines give no file name of their own. The previous file header is the only
            // name we have, so the extra hunks keep its paths (they may well belong to another file
            // of the same patch); their line numbers start at 1 and are marked repaired.
            files.append(FileDiff(oldPath: oldPath ?? newPath, newPath: newPath ?? oldPath, hunks: orphans))
        }
        return (files, max(consumedUpTo, start + 1))
    }

    /// Top-level directories of the kernel tree: a path whose second component is one of them
    /// starts with the name of a tree, not of a kernel directory.
    private static let kernelTopDirectories: Set<Substring> = [
        "arch", "block", "certs", "crypto", "Documentation", "drivers", "fs", "include", "init", "io_uring",
        "ipc", "kernel", "lib", "mm", "net", "rust", "samples", "scripts", "security", "sound", "tools",
        "usr", "virt",
    ]

    static func stripTreeDirectory(_ path: String) -> String {
        let parts = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !kernelTopDirectories.contains(parts[0]),
              kernelTopDirectories.contains(parts[1])
        else { return path }
        return String(parts[1]) + "/" + String(parts[2])
    }

    private static func stripPrefix(_ path: String, _ prefix: String) -> String {
        path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    private static func cleanPath(_ path: String) -> String {
        var value = path.trimmed
        if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        return value
    }

    /// The path of a `---`/`+++` line: up to a tab (timestamps follow it), or up to a word that
    /// starts a timestamp when the tab became spaces.
    static func pathField(_ field: String) -> String {
        if let tab = field.firstIndex(of: "\t") { return cleanPath(String(field[..<tab])) }
        let words = field.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count > 1 else { return cleanPath(field) }
        let weekdays: Set<Substring> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        for n in 1..<words.count {
            let word = words[n]
            let looksLikeDate = weekdays.contains(word)
                || (word.count >= 5 && word.prefix(4).allSatisfy(\.isNumber) && word.dropFirst(4).first == "-")
            if looksLikeDate { return cleanPath(words[..<n].joined(separator: " ")) }
        }
        return cleanPath(field)
    }

    /// Splits `a/x b/y` of a `diff --git` line. Paths with blanks are ambiguous; prefer the split
    /// where both sides name the same file.
    static func gitHeaderPaths(_ rest: String) -> (old: String?, new: String?) {
        let value = rest.trimmed
        if value.hasPrefix("\"") {
            let parts = value.split(separator: "\"", omittingEmptySubsequences: true)
                .filter { !$0.trimmed.isEmpty }
            if parts.count >= 2 { return (String(parts[0]), String(parts[1])) }
        }
        // Positions of " b/" in the text.
        let bytes = Array(value.utf8)
        var candidates: [Int] = []
        var search = 0
        while let at = firstRange(of: Array(" b/".utf8), in: bytes, from: search) {
            candidates.append(at)
            search = at + 1
        }
        for split in candidates {
            let old = String(decoding: bytes[..<split], as: UTF8.self)
            let new = String(decoding: bytes[(split + 1)...], as: UTF8.self)
            if stripPrefix(old, "a/") == stripPrefix(new, "b/") { return (old, new) }
        }
        if let split = candidates.first {
            return (String(decoding: bytes[..<split], as: UTF8.self),
                    String(decoding: bytes[(split + 1)...], as: UTF8.self))
        }
        let words = value.split(separator: " ")
        if words.count == 2 { return (String(words[0]), String(words[1])) }
        return (value.isEmpty ? nil : value, value.isEmpty ? nil : value)
    }

    // MARK: Hunks

    private mutating func readHunk(at headerIndex: Int, header: HunkHeader) -> (Hunk, Int) {
        let depth = lines[headerIndex].depth
        var result: [DiffLine] = []
        var remainingOld = header.oldCount
        var remainingNew = header.newCount
        // A count of 0 means "after line start": numbering would begin at start + 1.
        var oldNumber = header.oldCount == 0 ? header.oldStart + 1 : header.oldStart
        var newNumber = header.newCount == 0 ? header.newStart + 1 : header.newStart
        var repaired = header.capped
        var interrupted = false
        var index = headerIndex + 1
        var next = index

        scan: while index < lines.count {
            let line = lines[index]
            if line.depth != depth {
                // In a plain patch any quoted line is foreign text; in a quoted one it is the
                // reviewer's interruption, unless it is a snip marker.
                if depth == 0 || isSnip(index) { break }
                interrupted = true
                index += 1
                continue
            }
            if isHeaderLike(index) || isSignature(index) { break }
            let first = line.first
            if remainingOld <= 0 && remainingNew <= 0 {
                if first == UInt8(ascii: "\\") {
                    index += 1
                    next = index
                    continue
                }
                // The counts are met but more diff lines follow directly: the header's counts
                // lie, so believe the lines.
                guard !interrupted, first == UInt8(ascii: " ") || first == UInt8(ascii: "+")
                        || first == UInt8(ascii: "-") else { break }
                repaired = true
            } else if interrupted && overflows(from: index, depth: depth, old: remainingOld, new: remainingNew) {
                // The quote resumes with more lines than this hunk has left: the reviewer skipped
                // the rest of it, and the lines belong to some later hunk.
                break
            }
            interrupted = false
            if isSnip(index) { break }
            let kind: DiffLineKind
            var content = line.text
            switch first {
            case UInt8(ascii: " "):
                kind = .context
                content = String(content.dropFirst())
            case UInt8(ascii: "+"):
                kind = .added
                content = String(content.dropFirst())
            case UInt8(ascii: "-"):
                kind = .removed
                content = String(content.dropFirst())
            case UInt8(ascii: "\\"):
                index += 1
                next = index
                continue
            case nil:
                // An empty line is an empty context line whose blank was stripped in transit.
                kind = .context
            default:
                // Only a quoted hunk may have lost its markers (archives collapse the leading
                // blank of context lines); in a plain patch the hunk ends here.
                guard depth > 0 else { break scan }
                kind = .context
                repaired = true
            }
            switch kind {
            case .context:
                result.append(DiffLine(kind: .context, text: content, oldLine: oldNumber, newLine: newNumber))
                oldNumber += 1
                newNumber += 1
                if remainingOld <= 0 || remainingNew <= 0 { repaired = true }
                remainingOld -= 1
                remainingNew -= 1
            case .removed:
                result.append(DiffLine(kind: .removed, text: content, oldLine: oldNumber, newLine: nil))
                oldNumber += 1
                if remainingOld <= 0 { repaired = true }
                remainingOld -= 1
            case .added:
                result.append(DiffLine(kind: .added, text: content, oldLine: nil, newLine: newNumber))
                newNumber += 1
                if remainingNew <= 0 { repaired = true }
                remainingNew -= 1
            }
            index += 1
            next = index
        }
        if remainingOld > 0 || remainingNew > 0 { repaired = true }
        let hunk = Hunk(oldStart: header.oldStart, oldCount: header.oldCount, newStart: header.newStart,
                        newCount: header.newCount, section: header.section, lines: result, repaired: repaired)
        return (hunk, next)
    }

    /// Headerless quoted diff lines: a run of `+`/`-`/context lines, interrupted or not, up to a
    /// snip marker, a header, or a line that is not a diff line.
    private func readOrphan(at start: Int, start number: Int) -> (Hunk, Int) {
        let depth = lines[start].depth
        var collected: [(DiffLineKind, String)] = []
        var index = start
        var next = start + 1
        while index < lines.count {
            let line = lines[index]
            if line.depth != depth {
                if isSnip(index) { break }
                index += 1
                continue
            }
            if isHeaderLike(index) || isSignature(index) || isSnip(index) { break }
            switch line.first {
            case UInt8(ascii: "+"): collected.append((.added, String(line.text.dropFirst())))
            case UInt8(ascii: "-"): collected.append((.removed, String(line.text.dropFirst())))
            case UInt8(ascii: " "): collected.append((.context, String(line.text.dropFirst())))
            case nil: collected.append((.context, ""))
            case UInt8(ascii: "\\"): break
            default: return (makeOrphan(collected, number), next)
            }
            index += 1
            next = index
        }
        return (makeOrphan(collected, number), next)
    }

    private func makeOrphan(_ collected: [(DiffLineKind, String)], _ start: Int) -> Hunk {
        var items = collected
        while let last = items.last, last.0 == .context, last.1.isEmpty { items.removeLast() }
        var result: [DiffLine] = []
        var oldNumber = start
        var newNumber = start
        for (kind, text) in items {
            switch kind {
            case .context:
                result.append(DiffLine(kind: .context, text: text, oldLine: oldNumber, newLine: newNumber))
                oldNumber += 1
                newNumber += 1
            case .removed:
                result.append(DiffLine(kind: .removed, text: text, oldLine: oldNumber, newLine: nil))
                oldNumber += 1
            case .added:
                result.append(DiffLine(kind: .added, text: text, oldLine: nil, newLine: newNumber))
                newNumber += 1
            }
        }
        return Hunk(oldStart: start, oldCount: oldNumber - start, newStart: start, newCount: newNumber - start,
                    section: "", lines: result, repaired: true)
    }

    /// Would the depth-d diff lines from `index` to the next boundary exceed what the hunk has left?
    private mutating func overflows(from index: Int, depth: Int, old: Int, new: Int) -> Bool {
        if lookahead[depth] == nil { lookahead[depth] = buildLookahead(depth: depth) }
        guard let counts = lookahead[depth]?[index] else { return false }
        return counts.context + counts.removed > max(old, 0) || counts.context + counts.added > max(new, 0)
    }

    private func buildLookahead(depth: Int) -> [LineCounts] {
        var table = [LineCounts](repeating: LineCounts(), count: lines.count + 1)
        var index = lines.count - 1
        while index >= 0 {
            let line = lines[index]
            if isSnip(index) || (line.depth == depth && (isHeaderLike(index) || isSignature(index))) {
                table[index] = LineCounts()
            } else if line.depth != depth {
                table[index] = table[index + 1]
            } else {
                var counts = table[index + 1]
                switch line.first {
                case UInt8(ascii: "+"): counts.added += 1
                case UInt8(ascii: "-"): counts.removed += 1
                case UInt8(ascii: "\\"): break
                default: counts.context += 1
                }
                table[index] = counts
            }
            index -= 1
        }
        return table
    }
}
