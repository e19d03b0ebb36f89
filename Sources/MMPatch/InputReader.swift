import MMCore

/// Reads patches from what the user gave: a plain or git diff, a `git format-patch` mail or
/// series, an mbox, a reply quoting a patch with `> `, or a saved list-archive page.
public struct InputReader: Sendable {
    public init() {}

    /// Every patch found in the input. `name` is how the user named it ("seed.txt", "-" for stdin);
    /// `firstIndex` numbers the patches (PatchOrigin.index) continuing across inputs.
    /// Throws InputError (from MMCore) with a clear message when nothing usable is there.
    public func read(bytes: [UInt8], name: String, firstIndex: Int) throws(InputError) -> [Patch] {
        let shown = name == "-" ? "standard input" : name
        guard bytes.contains(where: { !isBlankByte($0) && $0 != 0x0A }) else {
            throw InputError(input: name, message: "\(shown) is empty")
        }
        if looksBinary(bytes) {
            throw InputError(input: name, message: "\(shown) is binary data, not a patch or a mail")
        }
        let messages = Mail.splitMbox(splitByteLines(bytes[...]))
        var patches: [Patch] = []
        var allLines: [String] = []
        var failure: String?
        for message in messages {
            let read = Self.patches(in: message, name: name, firstIndex: firstIndex + patches.count)
            allLines += read.bodyLines
            patches += read.patches
            failure = failure ?? read.failure
        }
        if patches.isEmpty {
            if let failure { throw InputError(input: name, message: failure) }
            // A `@@` line that is not a hunk header is the likeliest reason: say which.
            if let broken = allLines.first(where: { $0.hasPrefix("@@ ") && HunkHeader($0) == nil }) {
                throw InputError(input: name, message: "no patch found: the hunk header '\(broken.prefix(60))' is "
                                 + "malformed (expected '@@ -start,count +start,count @@')")
            }
            throw InputError(input: name, message: "no patch found: expected a unified diff, "
                             + "a git format-patch mail, or a mail quoting one")
        }
        return patches
    }

    /// One message's metadata, decoded body and the patches in it (posted or quoted).
    static func patches(in message: [ByteLine], name: String, firstIndex: Int) -> MessageContent {
        let mail = Mail.read(message)
        var info = MessageInfo()
        var body = mail.bodyLines
        if let headers = mail.headers {
            info.subject = headers.value("Subject")
            info.author = headers.value("From")
            info.date = headers.value("Date")
            info.messageID = headers.value("Message-ID").map(Self.stripAngles)
            info.inReplyTo = headers.value("In-Reply-To").flatMap(Self.messageIDs).flatMap(\.first)
            info.references = headers.value("References").map(Self.messageIDs) ?? []
            info.list = headers.value("List-Id").map(Self.stripAngles)
        } else {
            let page = ArchivePage.read(body)
            info.subject = page.subject
            info.author = page.author
            info.date = page.date
            body = page.bodyLines
        }
        var patches = patchesInBody(body, info: info, name: name, firstIndex: firstIndex, note: nil)
        var failure: String?
        if patches.isEmpty && looksFlattened(body) {
            switch FlattenedText.recover(body) {
            case .rebuilt(let lines, let note):
                body = lines
                patches = patchesInBody(lines, info: info, name: name, firstIndex: firstIndex, note: note)
                if patches.isEmpty { failure = flattenedFailure("no diff in the rebuilt lines") }
            case .failed(let reason):
                failure = flattenedFailure(reason)
            }
        }
        return MessageContent(info: info, bodyLines: body, patches: patches, failure: failure)
    }

    static func flattenedFailure(_ reason: String) -> String {
        "the message's line breaks were lost (a diff appears flattened onto one line) and mmreview cannot "
            + "rebuild the patch reliably: \(reason)"
    }

    private static func patchesInBody(_ body: [String], info: MessageInfo, name: String, firstIndex: Int,
                                      note: String?) -> [Patch] {
        // Most list mail holds no diff: a diff starts at a line holding `diff --git `, `+++ ` or
        // `@@ -` (DiffParser.startsFile), so without one the per-line parsing is skipped.
        guard body.contains(where: mayStartDiff) else { return [] }
        let quoted = body.map(QuotedLine.init)
        var parser = DiffParser(lines: quoted)
        var previousEnd = 0
        var patches: [Patch] = []
        for diff in parser.parse() {
            let description = Self.description(quoted, from: previousEnd, to: diff.firstLine, depth: diff.depth)
            previousEnd = diff.lastLine + 1
            let title = info.subject.map(Self.cleanSubject)
                ?? description.split(separator: "\n").first.map { String($0).trimmed } ?? ""
            let notes = [note, diff.depth == 0 ? shortHunkNote(diff.files) : nil].compactMap { $0 }
            let origin = PatchOrigin(input: name, index: firstIndex + patches.count, subject: title,
                                     messageID: info.messageID, author: info.author, date: info.date,
                                     quoted: diff.depth > 0, note: notes.isEmpty ? nil : notes.joined(separator: "; "))
            patches.append(Patch(origin: origin, description: description, files: diff.files))
        }
        return patches
    }

    /// A posted hunk that ends before its header's line counts are met: the file or mail was cut
    /// short, or the header was edited by hand. The review goes as far as the lines go, and the
    /// user must hear that the rest was not seen. Quoted hunks are left alone: reviewers trim them.
    static func shortHunkNote(_ files: [FileDiff]) -> String? {
        var short: [(path: String, hunk: Hunk, carried: Int)] = []
        for file in files {
            for hunk in file.hunks {
                let oldLines = hunk.lines.count(where: { $0.kind != .added })
                let newLines = hunk.lines.count(where: { $0.kind != .removed })
                if oldLines < hunk.oldCount || newLines < hunk.newCount {
                    short.append((file.displayPath, hunk, max(oldLines, newLines)))
                }
            }
        }
        guard let first = short.first else { return nil }
        let hunk = first.hunk
        let header = "@@ -\(hunk.oldStart),\(hunk.oldCount) +\(hunk.newStart),\(hunk.newCount) @@"
        let others = short.count > 1 ? " (and \(short.count - 1) more hunk\(short.count > 2 ? "s" : ""))" : ""
        return "the hunk '\(header)' of \(first.path) ends after \(first.carried) of its "
            + "\(max(hunk.oldCount, hunk.newCount)) lines\(others): the patch looks truncated or its hunk "
            + "header is wrong; only the lines present were reviewed"
    }

    /// `<a@b> <c@d>` (or separated by commas and folding) as ["a@b", "c@d"].
    static func messageIDs(_ value: String) -> [String] {
        // On bytes: `<` and `>` are ASCII, and a References header can hold dozens of ids.
        var ids: [String] = []
        let bytes = Array(value.utf8)
        var index = 0
        while let open = bytes[index...].firstIndex(of: 0x3C),
              let close = bytes[(open + 1)...].firstIndex(of: 0x3E) {
            let id = asciiString(bytes[(open + 1)..<close]).trimmed
            if !id.isEmpty { ids.append(id) }
            index = close + 1
        }
        return ids
    }

    /// False only when the line holds none of the texts a diff's first line starts with (at any
    /// quote depth): `diff --git `, `+++ ` (after `--- `) and `@@ -`.
    static func mayStartDiff(_ line: String) -> Bool {
        var line = line  // withUTF8 may make a bridged string's storage contiguous
        return line.withUTF8(containsDiffStart)
    }

    private static let gitHeader = Array("diff --git ".utf8)

    private static func containsDiffStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case 0x40:  // "@@ -"
                if index + 3 < bytes.count, bytes[index + 1] == 0x40, bytes[index + 2] == 0x20,
                   bytes[index + 3] == 0x2D { return true }
            case 0x2B:  // "+++ "
                if index + 3 < bytes.count, bytes[index + 1] == 0x2B, bytes[index + 2] == 0x2B,
                   bytes[index + 3] == 0x20 { return true }
            case 0x64:  // "diff --git "
                if index + gitHeader.count <= bytes.count,
                   UnsafeBufferPointer(rebasing: bytes[index..<(index + gitHeader.count)]).elementsEqual(gitHeader) {
                    return true
                }
            default:
                break
            }
            index += 1
        }
        return false
    }

    /// The text before the diff, quote markers removed. For a quoted patch only the lines quoted
    /// at the patch's depth count (the quoted commit message, not the reply around it).
    private static func description(_ lines: [QuotedLine], from start: Int, to end: Int, depth: Int) -> String {
        guard start < end else { return "" }
        var kept: [String] = []
        for line in lines[start..<end] where depth == 0 || line.depth == depth {
            kept.append(line.text)
        }
        while let first = kept.first, first.trimmed.isEmpty { kept.removeFirst() }
        while let last = kept.last, last.trimmed.isEmpty { kept.removeLast() }
        return kept.joined(separator: "\n")
    }

    static func stripAngles(_ value: String) -> String {
        var text = value.trimmed
        if text.hasPrefix("<") { text.removeFirst() }
        if text.hasSuffix(">") { text.removeLast() }
        return text.trimmed
    }

    /// Drops reply prefixes (`Re:`, `Fwd:` …) and list tags (`[Devel]`) from the front of a
    /// subject; tags that name a patch (`[PATCH 06/10]`, `[RFC]`) stay.
    static func cleanSubject(_ subject: String) -> String {
        var text = subject.trimmed
        let prefixes = ["re:", "fwd:", "fw:", "aw:", "sv:", "antw:"]
        var changed = true
        while changed {
            changed = false
            if let prefix = prefixes.first(where: { hasPrefixIgnoringCase(text, $0) }) {
                text = String(text.dropFirst(prefix.count)).trimmed
                changed = true
            } else if hasPrefixIgnoringCase(text, "re["), let close = text.firstIndex(of: "]"),
                      text[text.index(after: close)...].hasPrefix(":") {
                text = String(text[text.index(close, offsetBy: 2)...]).trimmed  // "Re[2]:"
                changed = true
            } else if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                let tag = lowercasedASCII(String(text[text.index(after: text.startIndex)..<close]))
                let patchTag = tag.contains("patch") || tag.contains("rfc") || tag.contains("rft")
                if !patchTag {
                    text = String(text[text.index(after: close)...]).trimmed
                    changed = true
                }
            }
        }
        return text
    }

    /// A line that holds a whole diff: a hunk header or `diff --git` in the middle of a very long
    /// line. Archive pages that lost their line breaks look like this.
    static func looksFlattened(_ lines: [String]) -> Bool {
        for line in lines where line.utf8.count >= 400 {
            let bytes = Array(line.utf8)
            var from = 1
            while let at = firstRange(of: Array("@@ -".utf8), in: bytes, from: from) {
                let tail = String(decoding: bytes[at..<min(bytes.count, at + 60)], as: UTF8.self)
                if HunkHeader(tail) != nil { return true }
                from = at + 1
            }
            if firstRange(of: Array("diff --git ".utf8), in: bytes, from: 1) != nil { return true }
        }
        return false
    }
}
