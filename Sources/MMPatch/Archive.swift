// Mailing-list archive pages saved as text or HTML: pipermail (subject line, author, date,
// "More information about the … mailing list" footer) and hypermail / MHonArc ("[Date Prev]…"
// navigation, then the subject).

struct PageText: Sendable {
    var subject: String?
    var author: String?
    var date: String?
    var bodyLines: [String]
}

enum ArchivePage {
    /// Reads page metadata from text that has no mail header. Text that does not look like an
    /// archive page comes back unchanged with no metadata.
    static func read(_ lines: [String]) -> PageText {
        var lines = lines
        var title: String?
        if isHTML(lines) {
            title = htmlTitle(lines)
            lines = htmlToTextLines(lines)
        }
        var page = readText(lines)
        if let title, !title.isEmpty { page.subject = title }
        return page
    }

    private static func readText(_ lines: [String]) -> PageText {
        guard var index = lines.firstIndex(where: { !$0.trimmed.isEmpty }) else {
            return PageText(bodyLines: lines)
        }
        var body = lines
        if let footer = lines.firstIndex(where: { $0.hasPrefix("More information about the") }) {
            body = Array(lines[..<footer])
        }
        if isNavigation(lines[index]) {
            // hypermail / MHonArc: navigation links, then the subject.
            while index < body.count && (body[index].trimmed.isEmpty || isNavigation(body[index])) {
                index += 1
            }
            guard index < body.count else { return PageText(bodyLines: body) }
            var page = PageText(subject: body[index].trimmed, bodyLines: Array(body[(index + 1)...]))
            // MHonArc prints the main headers as text lines ("From: …", "Date: …").
            for line in page.bodyLines.prefix(30) {
                let text = line.trimmed.replacingStars()
                if page.author == nil, hasPrefixIgnoringCase(text, "From:") {
                    page.author = String(text.dropFirst(5)).trimmed
                } else if page.date == nil, hasPrefixIgnoringCase(text, "Date:") {
                    page.date = String(text.dropFirst(5)).trimmed
                }
            }
            return page
        }
        // pipermail: subject, author line(s), date line, then the message.
        let subjectIndex = index
        var between: [String] = []
        var probe = subjectIndex + 1
        while probe < body.count && between.count <= 3 {
            let text = body[probe].trimmed
            probe += 1
            if text.isEmpty { continue }
            if isArchiveDate(text) {
                return PageText(subject: body[subjectIndex].trimmed,
                                author: between.isEmpty ? nil : pipermailAuthor(between),
                                date: text, bodyLines: Array(body[probe...]))
            }
            between.append(text)
        }
        return PageText(bodyLines: body)
    }

    private static func isNavigation(_ line: String) -> Bool {
        let text = line.trimmed
        return text.hasPrefix("[") && (text.contains("Date Prev") || text.contains("Thread Prev")
            || text.contains("Date Next") || text.contains("Date Index"))
    }

    private static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// "Mon Oct 26 13:52:36 PDT 2009": a weekday, then a time, then a four-digit year.
    static func isArchiveDate(_ text: String) -> Bool {
        guard weekdays.contains(where: { text.hasPrefix($0 + " ") || text.hasPrefix($0 + ", ") }) else {
            return false
        }
        let words = text.split(separator: " ")
        let hasTime = words.contains { $0.contains(":") && $0.allSatisfy { $0.isNumber || $0 == ":" } }
        let hasYear = words.contains { $0.count == 4 && $0.allSatisfy(\.isNumber) }
        return hasTime && hasYear
    }

    /// pipermail writes "Name user at example.org" (one or two lines): turn it into
    /// "Name <user@example.org>".
    private static func pipermailAuthor(_ lines: [String]) -> String {
        let words = lines.joined(separator: " ").split(separator: " ").map(String.init)
        if let at = words.lastIndex(of: "at"), at > 0, at + 1 < words.count {
            let email = words[at - 1] + "@" + words[at + 1]
            let name = words[..<(at - 1)].joined(separator: " ")
            return name.isEmpty ? email : "\(name) <\(email)>"
        }
        return words.joined(separator: " ")
    }

    // MARK: HTML

    /// A page is HTML when it has real markup; only then are tags removed and entities decoded
    /// (a text page may well contain "&lt;" or "<linux/mm.h>" literally).
    static func isHTML(_ lines: [String]) -> Bool {
        for line in lines.prefix(2000) where containsMarkup(line) { return true }
        return false
    }

    /// Tags that only HTML has, after a `<`, ignoring ASCII case.
    private static let markupAfterOpen: [[UInt8]] = ["html", "body", "pre", "!doctype", "/a>", "br>"].map {
        Array($0.utf8)
    }

    /// One line holds one of those tags. Looks at the bytes after each `<` only: a plain-text page
    /// has few, and this runs on every line of every message without a mail header.
    private static func containsMarkup(_ line: String) -> Bool {
        var line = line
        return line.withUTF8 { containsMarkup($0) }
    }

    private static func containsMarkup(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                for tag in markupAfterOpen where index + 1 + tag.count <= bytes.count {
                    var matches = true
                    for (offset, byte) in tag.enumerated() where lowerASCII(bytes[index + 1 + offset]) != byte {
                        matches = false
                        break
                    }
                    if matches { return true }
                }
            }
            index += 1
        }
        return false
    }

    private static func htmlTitle(_ lines: [String]) -> String? {
        let bytes = Array(lines.prefix(200).joined(separator: "\n").utf8)
        let lower = bytes.map(lowerASCII)
        guard let open = firstRange(of: Array("<title>".utf8), in: lower, from: 0) else { return nil }
        let start = open + 7
        let end = firstRange(of: Array("</title>".utf8), in: lower, from: start) ?? bytes.count
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        return decodeEntities(text).split(whereSeparator: \.isNewline).joined(separator: " ").trimmed
    }
}

/// Index of the first occurrence of `needle` in `haystack` at or after `from`.
func firstRange(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    var index = from
    while index + needle.count <= haystack.count {
        if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        index += 1
    }
    return nil
}

private extension String {
    /// MHonArc marks header names with <em> which text dumps show as "*From*:".
    func replacingStars() -> String { filter { $0 != "*" } }
}

private let htmlTags: Set<String> = [
    "a", "p", "br", "pre", "html", "head", "body", "title", "meta", "div", "span", "b", "i", "u",
    "em", "strong", "tt", "code", "li", "ul", "ol", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "tr", "td", "th", "font", "link", "img", "base", "address", "blockquote", "small",
    "big", "center", "dl", "dt", "dd", "form", "input", "script", "style", "tbody", "thead",
    "!doctype",
]

/// Removes HTML markup (known tag names only, so `<linux/mm.h>` survives) and comments, then
/// decodes entities. `<br>` and `<p>` become line breaks.
func htmlToTextLines(_ lines: [String]) -> [String] {
    let bytes = Array(lines.joined(separator: "\n").utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = 0
    var inTitle = false
    while index < bytes.count {
        let byte = bytes[index]
        guard byte == 0x3C else {  // '<'
            if !inTitle { out.append(byte) }
            index += 1
            continue
        }
        // Comment: skip to "-->".
        if bytes[index...].starts(with: Array("<!--".utf8)) {
            var end = index + 4
            while end + 2 < bytes.count && !(bytes[end] == 0x2D && bytes[end + 1] == 0x2D && bytes[end + 2] == 0x3E) {
                end += 1
            }
            index = min(end + 3, bytes.count)
            continue
        }
        var nameStart = index + 1
        if nameStart < bytes.count && bytes[nameStart] == 0x2F { nameStart += 1 }  // '/'
        var nameEnd = nameStart
        while nameEnd < bytes.count, bytes[nameEnd] == 0x21 || (bytes[nameEnd] >= 0x30 && bytes[nameEnd] <= 0x39)
                || (lowerASCII(bytes[nameEnd]) >= 0x61 && lowerASCII(bytes[nameEnd]) <= 0x7A) {
            nameEnd += 1
        }
        let name = lowercasedASCII(asciiString(bytes[nameStart..<nameEnd]))
        let terminatorOK = nameEnd < bytes.count
            && (bytes[nameEnd] == 0x3E || bytes[nameEnd] == 0x20 || bytes[nameEnd] == 0x2F
                || bytes[nameEnd] == 0x0A || bytes[nameEnd] == 0x09)
        guard htmlTags.contains(name), terminatorOK,
              let close = bytes[nameEnd...].firstIndex(of: 0x3E) else {
            if !inTitle { out.append(byte) }
            index += 1
            continue
        }
        let closing = bytes[index + 1] == 0x2F
        if name == "title" { inTitle = !closing }
        if name == "br" || (name == "p" && !closing) { out.append(0x0A) }
        index = close + 1
    }
    return splitTextLines(decodeEntities(String(decoding: out, as: UTF8.self)))
}

/// Decodes `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&nbsp;` and numeric `&#NN;` / `&#xNN;`.
func decodeEntities(_ text: String) -> String {
    guard text.contains("&") else { return text }
    var out = String.UnicodeScalarView()
    let scalars = Array(text.unicodeScalars)
    var index = 0
    while index < scalars.count {
        let scalar = scalars[index]
        guard scalar == "&", let semicolon = scalars[index...].prefix(12).firstIndex(of: ";") else {
            out.append(scalar)
            index += 1
            continue
        }
        let name = String(String.UnicodeScalarView(scalars[(index + 1)..<semicolon]))
        var replacement: Unicode.Scalar?
        switch name {
        case "lt": replacement = "<"
        case "gt": replacement = ">"
        case "amp": replacement = "&"
        case "quot": replacement = "\""
        case "apos": replacement = "'"
        case "nbsp": replacement = " "
        default:
            if name.hasPrefix("#x") || name.hasPrefix("#X") {
                if let value = UInt32(name.dropFirst(2), radix: 16) { replacement = Unicode.Scalar(value) }
            } else if name.hasPrefix("#") {
                if let value = UInt32(name.dropFirst()) { replacement = Unicode.Scalar(value) }
            }
        }
        if let replacement {
            out.append(replacement)
            index = semicolon + 1
        } else {
            out.append(scalar)
            index += 1
        }
    }
    return String(out)
}
