import Foundation
import MMCore
import MMPatch

/// Everything a worker learned about one message, ready for the writer to store in one go.
struct MessageRecord: Sendable {
    var key: String
    var info: MessageInfo
    var thread: String
    var month: String?
    var source: String
    /// Why the message could not be analysed (nil when it was).
    var failure: String?
    var patches: [PatchRecord]
    /// Reviewer comments written under a quoted diff line (replies only).
    var comments: [ReplyComment]
}

struct PatchRecord: Sendable {
    var hash: String
    var subject: String
    var files: String
    var json: String
    var quoted: Bool
    /// Findings when this worker reviewed the patch; nil when it was reviewed elsewhere
    /// (an earlier run, or another message of this run).
    var findings: [Finding]?
}

struct ReplyComment: Sendable, Hashable {
    /// The quoted line commented on, without quote and diff markers, trimmed (as Finding.code).
    var code: String
    /// The first lines of the comment.
    var comment: String
}

enum MessageFacts {
    /// The thread a message belongs to: the first Message-ID of References, else In-Reply-To, else
    /// its own Message-ID; pages without ids fall back on the subject without `Re:`.
    static func thread(_ info: MessageInfo, key: String) -> String {
        if let root = info.references.first ?? info.inReplyTo ?? info.messageID { return root }
        if let subject = info.subject, !subject.isEmpty {
            return "subject:" + MessageReader().threadSubject(subject)
        }
        return key
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                 "nov", "dec"]

    /// "YYYY-MM" from an RFC 2822 date ("Tue, 5 Mar 2019 10:00:00 +0100") or an archive page's
    /// date ("Mon Oct 26 13:52:36 PDT 2009"): the month name and the four-digit year.
    static func month(_ date: String?) -> String? {
        guard let date else { return nil }
        var month: Int?
        var year: Int?
        for word in date.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x2C }) {
            if month == nil, word.count >= 3 {
                let name = String(decoding: word.prefix(3).map { $0 | 0x20 }, as: UTF8.self)  // ASCII lower case
                if let index = months.firstIndex(of: name) {
                    month = index + 1
                    continue
                }
            }
            if year == nil, word.count == 4, let value = Int(String(decoding: word, as: UTF8.self)),
               value > 1970 && value < 2200 {
                year = value
            }
        }
        guard let month, let year else { return nil }
        return "\(year)-" + (month < 10 ? "0" : "") + "\(month)"
    }

    /// The content hash of a patch: its files and hunk lines, so the same patch posted, resent or
    /// quoted whole in a reply is one patch.
    static func patchHash(_ patch: Patch) -> String {
        var hash = ContentHash()
        for file in patch.files {
            hash.add(file.oldPath ?? "/dev/null")
            hash.add(file.newPath ?? "/dev/null")
            for hunk in file.hunks {
                hash.add("@@ \(hunk.oldStart),\(hunk.oldCount) \(hunk.newStart),\(hunk.newCount)")
                for line in hunk.lines {
                    switch line.kind {
                    case .added: hash.add("+" + line.text)
                    case .removed: hash.add("-" + line.text)
                    case .context: hash.add(" " + line.text)
                    }
                }
            }
        }
        return hash.hex
    }

    /// The lines a reply comments on: a quoted diff line (`> +code`, `> -code`, `>  code`) directly
    /// followed (blank lines aside) by the reply's own text.
    static func comments(_ body: [String]) -> [ReplyComment] {
        var found: [ReplyComment] = []
        // Only the quoted line just above a comment counts, so its code is worked out only then.
        var lastQuoted: Substring?
        var index = 0
        while index < body.count {
            let (depth, text) = quoteDepth(body[index])
            if depth > 0 {
                lastQuoted = text
                index += 1
                continue
            }
            if trimmedOfSpaces(text).isEmpty {
                index += 1
                continue
            }
            // Reply text: it comments on the quoted diff line just above, if any.
            var comment: [String] = []
            while index < body.count, quoteDepth(body[index]).depth == 0 {
                let line = trimmedOfSpaces(body[index][...])
                if line.isEmpty { break }
                if comment.count < 6 { comment.append(line) }
                index += 1
            }
            if let code = lastQuoted.flatMap(diffCode), !code.isEmpty {
                found.append(ReplyComment(code: code, comment: comment.joined(separator: "\n")))
            }
            lastQuoted = nil
        }
        return found
    }

    /// The text without leading and trailing tabs and space separators (what Foundation's
    /// `trimmingCharacters(in: .whitespaces)` removes, without its cost on every line of a reply).
    static func trimmedOfSpaces(_ text: Substring) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            if scalar.isASCII { return scalar == " " || scalar == "\t" }
            return scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    private static func quoteDepth(_ line: String) -> (depth: Int, text: Substring) {
        var depth = 0
        var rest = Substring(line)
        while let first = rest.first, first == ">" {
            depth += 1
            rest = rest.dropFirst()
            if rest.first == " " { rest = rest.dropFirst() }
        }
        return (depth, rest)
    }

    /// The code of a quoted diff line, or nil for other quoted text.
    private static func diffCode(_ text: Substring) -> String? {
        guard let marker = text.first, marker == "+" || marker == "-" || marker == " " else { return nil }
        if text.hasPrefix("+++") || text.hasPrefix("---") { return nil }
        let code = trimmedOfSpaces(text.dropFirst())
        return code.isEmpty ? nil : code
    }
}
