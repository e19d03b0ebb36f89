import MMCore

/// A plain-text reply to each patch that a person could send to the list as is: mail headers, a
/// line for each problem the patch fixes, the relevant hunk lines quoted with `> ` (snipped with
/// `[ ... ]`) with the comment under the flagged line, and a signature.
///
/// Fixed findings appear only in the opening acknowledgement; pre-existing (unchanged) findings
/// only when `ReportInput.includeUnchanged` is set, otherwise they are counted at the end.
public struct EmailReporter: Reporter {
    /// Comments are wrapped at this column; quoted code is never wrapped.
    public var width: Int
    /// Hunk lines quoted before each flagged line, at most.
    public var contextLines: Int

    public init(width: Int = 72, contextLines: Int = 3) {
        self.width = width
        self.contextLines = contextLines
    }

    public func render(_ input: ReportInput) -> String {
        let errorLines = input.errors.map {
            "mmreview could not read \($0.input): \(TextStyle.singleLine($0.message))"
        }
        let shown = input.findings.filter { input.includeUnchanged || $0.status != .unchanged }
        let hidden = input.findings.count - shown.count
        let hiddenLine = hidden == 0 ? nil
            : hidden == 1 ? "1 pre-existing issue is not shown."
            : "\(hidden) pre-existing issues are not shown."

        if shown.isEmpty {
            var lines = errorLines
            if !(input.patches.isEmpty && !input.errors.isEmpty) {
                lines.append("mmreview found nothing to comment on in "
                             + TextStyle.count(input.patches.count, "patch", "patches") + ".")
            }
            if let hiddenLine { lines.append(hiddenLine) }
            return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        }

        // One reply per patch, in the findings' (patch) order.
        var order: [Int] = []
        var byPatch: [Int: [Finding]] = [:]
        for finding in shown {
            if byPatch[finding.patch.index] == nil { order.append(finding.patch.index) }
            byPatch[finding.patch.index, default: []].append(finding)
        }
        var patches: [Int: Patch] = [:]
        for patch in input.patches where patches[patch.origin.index] == nil {
            patches[patch.origin.index] = patch
        }

        var replies: [String] = []
        for (n, index) in order.enumerated() {
            let findings = byPatch[index] ?? []
            let patch = patches[index]
            let origin = patch?.origin ?? findings.first?.patch ?? PatchOrigin(input: "", index: index)
            let isLast = n + 1 == order.count
            let blocks = reply(origin: origin, patch: patch, findings: findings,
                               footer: isLast ? hiddenLine : nil, input: input)
            replies.append(blocks.map { $0.joined(separator: "\n") }.joined(separator: "\n\n"))
        }
        let separator = "\n\n" + String(repeating: "-", count: width) + "\n\n"
        let head = errorLines.isEmpty ? "" : errorLines.joined(separator: "\n") + "\n\n"
        let text = head + replies.joined(separator: separator)
        return (input.colour ? coloured(text) : text) + "\n"
    }

    /// On a terminal, quoted added lines in green and removed lines in red, as `git diff` shows
    /// them; the comments stay plain.
    private func coloured(_ text: String) -> String {
        let ansi = ANSI(enabled: true)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("> +") { return ansi.green(String(line)) }
            if line.hasPrefix("> -") { return ansi.removedRed(String(line)) }
            return String(line)
        }.joined(separator: "\n")
    }

    // MARK: - One reply

    /// The reply's paragraphs; they are printed with one blank line between them.
    private func reply(origin: PatchOrigin, patch: Patch?, findings: [Finding], footer: String?,
                       input: ReportInput) -> [[String]] {
        var blocks: [[String]] = []

        var headers: [String] = []
        let subject = TextStyle.trimmed(TextStyle.singleLine(origin.subject))
        if !subject.isEmpty {
            let isReply = subject.lowercased().hasPrefix("re:")
            headers.append("Subject: " + (isReply ? subject : "Re: " + subject))
        }
        if let id = origin.messageID.map({ TextStyle.trimmed($0) }), !id.isEmpty {
            let bracketed = id.hasPrefix("<") ? id : "<\(id)>"
            headers.append("In-Reply-To: \(bracketed)")
            headers.append("References: \(bracketed)")
        }
        if !headers.isEmpty { blocks.append(headers) }

        let fixed = findings.filter { $0.status == .fixed }
        if !fixed.isEmpty { blocks.append(TextStyle.wrap(acknowledgement(fixed), width: width)) }

        let commented = findings.filter { $0.status != .fixed }
        var files: [String] = []
        for finding in commented where !files.contains(finding.file) { files.append(finding.file) }
        for file in files {
            let inFile = commented.filter { $0.file == file }
            blocks += quotedComments(inFile, patch: patch, nameFile: files.count > 1)
        }

        if let footer { blocks.append([footer]) }
        blocks.append(["-- ", signature(input)])
        return blocks
    }

    /// One short line for everything the patch fixes, grouped by function and rule: "This fixes
    /// two lock leaks and a resource leak in do_checkpoint_mm()." The details are what the patch
    /// author already knows; the reply is about what is still wrong.
    private func acknowledgement(_ fixed: [Finding]) -> String {
        var functions: [String] = []
        var rulesByFunction: [String: [String]] = [:]
        var counts: [String: Int] = [:]
        for finding in fixed {
            let function = TextStyle.trimmed(finding.function)
            if rulesByFunction[function] == nil { functions.append(function) }
            if !(rulesByFunction[function] ?? []).contains(finding.rule) {
                rulesByFunction[function, default: []].append(finding.rule)
            }
            counts[function + "\u{0}" + finding.rule, default: 0] += 1
        }
        let parts = functions.map { function -> String in
            let phrases = (rulesByFunction[function] ?? []).map { rule in
                TextStyle.problemPhrase(rule: rule, count: counts[function + "\u{0}" + rule] ?? 1)
            }
            let place = function.isEmpty ? "" : " in " + (function.hasSuffix(")") ? function : function + "()")
            return TextStyle.list(phrases) + place
        }
        return "This fixes " + TextStyle.list(parts) + "."
    }

    /// The quoted hunk lines of one file with a comment under each flagged line. Each quote opens
    /// with the function's own header line when the hunk shows it, else with git's `@@ … @@
    /// section` line (which usually names the function), so the reader knows where they are.
    private func quotedComments(_ findings: [Finding], patch: Patch?, nameFile: Bool) -> [[String]] {
        var blocks: [[String]] = []
        var pending: [String] = []
        if nameFile, let first = findings.first {
            let diff = HunkQuote.fileDiff(for: first, in: patch)
            let old = diff?.oldPath ?? diff?.newPath ?? first.file
            let new = diff?.newPath ?? diff?.oldPath ?? first.file
            pending.append("> diff --git a/\(old) b/\(new)")
        }
        var currentHunk: Int?
        var currentFunction = ""
        var lastQuoted = -1
        var commentedBefore = false
        // A reviewer says the same thing once and then "Same here."
        var said: Set<String> = []

        var locators: [String: HunkLocator] = [:]
        for finding in findings {
            let diff = HunkQuote.fileDiff(for: finding, in: patch)
            var position: HunkPosition?
            if let diff {
                let side = HunkQuote.side(of: finding)
                let key = "\(diff.oldPath ?? "")|\(diff.newPath ?? "")|\(side)"
                let locator = locators[key] ?? HunkLocator(diff, side: side)
                locators[key] = locator
                position = locator.locate(finding)
            }
            if let diff, let position {
                let hunk = diff.hunks[position.hunk]
                let sameQuote = currentHunk == position.hunk && currentFunction == finding.function
                if sameQuote && position.line <= lastQuoted {
                    // Same line as the comment before: this comment simply follows it.
                } else {
                    var start: Int
                    if sameQuote {
                        start = max(lastQuoted + 1, position.line - contextLines)
                        if start > lastQuoted + 1 { blocks.append(["[ ... ]"]) }
                    } else {
                        if commentedBefore { blocks.append(["[ ... ]"]) }
                        start = max(0, position.line - contextLines)
                        if let header = HunkQuote.functionHeader(finding.function, in: hunk, before: position.line) {
                            if header < start {
                                pending.append(HunkQuote.quoted(hunk.lines[header]))
                                if header + 1 < start { pending.append("[ ... ]") }
                            } else {
                                start = header
                            }
                        } else {
                            pending.append("> " + HunkQuote.header(hunk))
                        }
                    }
                    pending += hunk.lines[start...position.line].map(HunkQuote.quoted)
                    currentHunk = position.hunk
                    currentFunction = finding.function
                    lastQuoted = position.line
                }
            } else {
                // Not in the hunks (a line outside what the patch shows, or a quote without a
                // hunk header): quote the code, after the lines its notes point at just above it
                // (the start of a statement that spans lines).
                if commentedBefore { blocks.append(["[ ... ]"]) }
                let above = finding.notes
                    .filter { $0.file == finding.file && $0.line < finding.line && finding.line - $0.line <= contextLines }
                    .sorted { $0.line < $1.line }
                for note in above where !TextStyle.trimmed(note.code).isEmpty {
                    pending.append("> " + TextStyle.trimmed(note.code))
                }
                let code = TextStyle.trimmed(finding.code)
                if !code.isEmpty { pending.append("> " + code) }
                currentHunk = nil
                lastQuoted = -1
            }
            // Code the reader has just read in the quote is not repeated in the notes.
            let justQuoted = Set(pending.map { TextStyle.trimmed($0.drop { $0 == ">" || $0 == " " || $0 == "+" || $0 == "-" }) })
            if !pending.isEmpty {
                blocks.append(pending)
                pending = []
            }
            let key = finding.rule + "\u{0}" + finding.message
            blocks.append(said.contains(key) ? ["Same here."] : comment(finding, justQuoted: justQuoted))
            said.insert(key)
            commentedBefore = true
        }
        return blocks
    }

    /// The finding's message as a sentence, wrapped, then one sentence per note naming the code it
    /// points at.
    private func comment(_ finding: Finding, justQuoted: Set<String> = []) -> [String] {
        let message = TextStyle.trimmed(finding.message)
        var text = message.isEmpty
            ? "This looks like \(TextStyle.problemPhrase(rule: finding.rule))."
            : TextStyle.withFullStop(TextStyle.capitalized(message))
        if finding.status == .unchanged {
            text += " This was already the case before this patch."
        }
        var lines = TextStyle.wrap(text, width: width)
        for note in finding.notes {
            lines += noteLines(note, finding: finding, justQuoted: justQuoted)
        }
        return lines
    }

    /// "'mm->mmap_lock' is taken: mmap_read_lock(mm);" — the code says which line, as a reviewer
    /// would point at it, instead of a line number; a note's "here" is dropped for it, and a note
    /// in another file names that file. The code moves to its own indented line when the sentence
    /// would not fit.
    private func noteLines(_ note: FindingNote, finding: Finding, justQuoted: Set<String>) -> [String] {
        var message = TextStyle.trimmed(TextStyle.singleLine(note.message))
        if message.hasSuffix(".") { message.removeLast() }
        if message == "here" {
            message = "See"
        } else if let range = message.firstRange(of: " here") {
            message = String(message[..<range.lowerBound] + message[range.upperBound...])
        }
        if note.file != finding.file { message += " in \(note.file)" }
        let lead = TextStyle.capitalized(message)
        let code = TextStyle.trimmed(TextStyle.singleLine(note.code))
        if code.isEmpty { return TextStyle.wrap(lead + ".", width: width) }
        if note.file == finding.file && note.line < finding.line && justQuoted.contains(code) {
            return TextStyle.wrap(lead + " above.", width: width)
        }
        let oneLine = lead + ": " + code
        if oneLine.count <= width { return [oneLine] }
        return TextStyle.wrap(lead + ":", width: width) + ["    " + code]
    }

    /// "mmreview 0.1.0 (libclang 14.0.6)".
    private func signature(_ input: ReportInput) -> String {
        var libclang = TextStyle.trimmed(input.libclangVersion)
        if let range = libclang.firstRange(of: "clang version ") {
            libclang = String(libclang[range.upperBound...].prefix { $0 != " " })
        }
        let tool = "mmreview \(TextStyle.trimmed(input.toolVersion))"
        return libclang.isEmpty ? tool : tool + " (libclang \(libclang))"
    }
}
