// Text whose line breaks were turned into spaces (some archive pages, copied mail) keeps the
// markers that began each line: the reply's `> ` quote markers and, inside hunks, the `+`/`-`
// diff markers. The hunk headers' line counts say how many lines each hunk has, which tells a
// rebuilt hunk that is right from one that is not. Only a patch whose hunks all add up is used.

enum FlattenedText {
    enum Outcome: Equatable {
        /// The body with the flattened line replaced by its rebuilt lines, and what the user is told.
        case rebuilt(lines: [String], note: String)
        case failed(String)
    }

    /// Rebuilds the flattened lines of a body (those that `InputReader.looksFlattened` finds).
    static func recover(_ lines: [String]) -> Outcome {
        var out: [String] = []
        var notes: [String] = []
        var rebuiltAny = false
        for line in lines {
            guard line.utf8.count >= 400, line.contains("@@ -") else {
                out.append(line)
                continue
            }
            switch rebuild(line) {
            case .success(let rebuilt):
                out += rebuilt.lines
                notes.append(rebuilt.note)
                rebuiltAny = true
            case .failure(let reason):
                return .failed(reason.message)
            }
        }
        guard rebuiltAny else { return .failed("no flattened hunk found") }
        return .rebuilt(lines: out, note: distinctNotes(notes).joined(separator: "; "))
    }

    /// Each distinct note once, in order, with how many flattened lines it stands for when more
    /// than one: a page of repeated copies gets one sentence, not one per copy.
    static func distinctNotes(_ notes: [String]) -> [String] {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for note in notes {
            if counts[note] == nil { order.append(note) }
            counts[note, default: 0] += 1
        }
        return order.map { note in
            let count = counts[note] ?? 1
            return count == 1 ? note : "\(note) (\(count - 1) more flattened line\(count == 2 ? " was" : "s were") rebuilt the same way)"
        }
    }

    struct Failure: Error {
        var message: String
    }

    struct Rebuilt {
        var lines: [String]
        var note: String
    }

    /// Splits the line at its quote markers (a `>` with a blank or the line's edge on both sides),
    /// then walks the hunks by their counts.
    static func rebuild(_ line: String) -> Result<Rebuilt, Failure> {
        var segments = quoteSegments(line)
        guard segments.count > 2 else {
            return .failure(Failure(message: "no `> ` quote markers to rebuild the lines from"))
        }
        var out: [String] = [segments[0]]  // the reply's text before the first quote marker
        var index = 1
        var hunks = 0
        var truncated = false
        while index < segments.count {
            guard let header = HunkHeader(segments[index]) else {
                out.append(quoted(segments[index]))
                index += 1
                continue
            }
            guard let body = walkHunk(&segments, header: header, from: index + 1) else {
                return .failure(Failure(message: "the lines of hunk '@@ -\(header.oldStart),\(header.oldCount) "
                                        + "+\(header.newStart),\(header.newCount) @@' do not add up to its line "
                                        + "counts, so its line breaks cannot be told apart from ' > ' in the code"))
            }
            hunks += 1
            out.append(quoted(segments[index]))
            out += body.lines
            if let reply = body.reply {
                out.append(reply)
                truncated = true
            }
            index = body.next
        }
        guard hunks > 0 else { return .failure(Failure(message: "no hunk header between the quote markers")) }
        var note = "the message's line breaks were lost; its patch (\(hunks) hunk\(hunks == 1 ? "" : "s")) was "
            + "rebuilt from the '> ' quote and diff markers, each hunk checked against its line counts"
        if truncated { note += " (the last hunk, cut short by the reply, ends where its code line does)" }
        return .success(Rebuilt(lines: out, note: note))
    }

    private struct HunkBody {
        var lines: [String]
        var next: Int
        /// The reply's text cut off the end of the last quoted line of a truncated hunk.
        var reply: String?
    }

    /// The hunk's lines from `start`, as quoted diff lines. Segments that are parts of one code
    /// line (split at a ` > ` comparison) are rejoined where that is the only way the counts add up.
    private static func walkHunk(_ segments: inout [String], header: HunkHeader, from start: Int) -> HunkBody? {
        if let body = walk(segments, header: header, from: start) { return body }
        // Candidate joins: a segment with parentheses left open, followed by one that is not an
        // added or removed line. The header segment itself is a candidate: its section is the
        // function line git adds, as in `@@ … @@ again: remove_next = 1 + (end > next->vm_end);`.
        let limit = min(segments.count - 1, start + header.oldCount + header.newCount + 4)
        var candidates: [Int] = []
        for position in (start - 1)..<max(start - 1, limit) where openParentheses(segments[position]) > 0 {
            let next = segments[position + 1]
            if !next.hasPrefix("+") && !next.hasPrefix("-") { candidates.append(position) }
        }
        for (n, first) in candidates.enumerated() {
            var once = segments
            join(&once, at: first)
            if let body = walk(once, header: header, from: start) {
                segments = once
                return body
            }
            for second in candidates[(n + 1)...] {
                var twice = once
                join(&twice, at: second - 1)
                if let body = walk(twice, header: header, from: start) {
                    segments = twice
                    return body
                }
            }
        }
        return nil
    }

    private static func join(_ segments: inout [String], at position: Int) {
        segments[position] += " > " + segments[position + 1]
        segments.remove(at: position + 1)
    }

    /// Walks the hunk's lines by its counts. A complete hunk must be followed by the end of the
    /// text or by something that can follow a hunk (another hunk, a file header, a blank quoted
    /// line, a signature). A hunk that runs out of text is a reply that stopped quoting: its last
    /// segment holds the end of a code line and then the reply, cut after the code.
    private static func walk(_ segments: [String], header: HunkHeader, from start: Int) -> HunkBody? {
        var old = 0
        var new = 0
        var lines: [String] = []
        var index = start
        while old < header.oldCount || new < header.newCount {
            guard index < segments.count else { return nil }
            let segment = segments[index]
            let isLast = index == segments.count - 1
            var text = segment
            var reply: String?
            if isLast {
                if let cut = cutCode(segment) {
                    text = cut.code
                    reply = cut.reply
                } else if !(segment.last.map { ";{}),".contains($0) } ?? true) {
                    return nil  // cannot tell the end of the code from the reply's text
                }
            }
            if text.hasPrefix("+") {
                new += 1
                lines.append("> +" + dropOneBlank(text.dropFirst()))
            } else if text.hasPrefix("-") {
                old += 1
                lines.append("> -" + dropOneBlank(text.dropFirst()))
            } else {
                old += 1
                new += 1
                lines.append(">  " + text)
            }
            guard old <= header.oldCount, new <= header.newCount else { return nil }
            index += 1
            if let reply {
                // Only the last hunk may stop short, and only because the text ended there.
                return HunkBody(lines: lines, next: index, reply: reply)
            }
        }
        if index < segments.count {
            let next = segments[index]
            let followsHunk = next.isEmpty || next.hasPrefix("@@ -") || next.hasPrefix("diff ")
                || next.hasPrefix("--") || next.hasPrefix("Index: ") || next.hasPrefix("index ")
            guard followsHunk else { return nil }
        }
        return HunkBody(lines: lines, next: index, reply: nil)
    }

    /// Splits the last quoted segment into the code line and the reply glued after it: the code
    /// ends at its first `;`, `{` or `}` followed by a blank.
    private static func cutCode(_ segment: String) -> (code: String, reply: String)? {
        let characters = Array(segment)
        for index in characters.indices.dropLast() where ";{}".contains(characters[index])
            && characters[index + 1] == " " {
            return (String(characters[...index]), String(characters[(index + 2)...]))
        }
        return nil
    }

    private static func dropOneBlank(_ text: Substring) -> String {
        String(text.first == " " ? text.dropFirst() : text)
    }

    private static func quoted(_ segment: String) -> String {
        segment.isEmpty ? ">" : "> " + segment
    }

    private static func openParentheses(_ text: String) -> Int {
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
        }
        return depth
    }

    /// The text between quote markers: a `>` preceded by a blank (or the start) and followed by a
    /// blank (or the end). Each marker takes one blank on each side with it.
    static func quoteSegments(_ line: String) -> [String] {
        let bytes = Array(line.utf8)
        var segments: [String] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let isMarker = bytes[index] == 0x3E  // '>'
                && (index == 0 || bytes[index - 1] == 0x20)
                && (index + 1 == bytes.count || bytes[index + 1] == 0x20)
            if isMarker {
                let end = index > 0 ? index - 1 : 0
                segments.append(String(decoding: bytes[start..<max(start, end)], as: UTF8.self))
                start = min(bytes.count, index + 2)
                index = start
                continue
            }
            index += 1
        }
        segments.append(String(decoding: bytes[min(start, bytes.count)...], as: UTF8.self))
        return segments
    }
}
