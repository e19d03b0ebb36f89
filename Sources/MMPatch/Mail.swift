// RFC 822 / MIME reading: mbox splitting, headers, multipart bodies, transfer encodings.
// Works on byte lines until a part's charset is known, then decodes to text lines.

typealias ByteLine = ArraySlice<UInt8>

/// A mail's header block, kept as the byte lines it was read from. A list message carries dozens
/// of fields (Received, DKIM-Signature, ARC-…) and a reader asks for a handful, so a field is
/// unfolded (continuation lines joined with a space) and its encoded words decoded only when it is
/// asked for: decoding every field was a third of the instructions of a scan of mail without
/// patches.
struct MailHeaders: Sendable {
    /// One field: the lines it spans (its first line, then continuation lines) and where its value
    /// starts in the first line.
    struct Field: Sendable {
        var name: ByteLine
        var valueStart: Int
        var lines: Range<Int>
    }

    private let lines: ArraySlice<ByteLine>
    private let fields: [Field]

    init(lines: ArraySlice<ByteLine>, fields: [Field]) {
        self.lines = lines
        self.fields = fields
    }

    /// No fields (a MIME part without headers).
    init() {
        self.init(lines: [], fields: [])
    }

    /// The first field of that name (compared without case), unfolded and decoded.
    func value(_ name: String) -> String? {
        let wanted = name.utf8
        guard let field = fields.first(where: { $0.name.count == wanted.count
                                                && zip($0.name, wanted).allSatisfy { lowerASCII($0) == lowerASCII($1) } })
        else { return nil }
        var value = asciiString(lines[field.lines.lowerBound][field.valueStart...]).trimmed
        for index in field.lines.dropFirst() { value += " " + asciiString(lines[index]).trimmed }
        return decodeEncodedWords(value)
    }
}

/// A message as found in the input: its headers (nil when the text does not start with a mail
/// header, e.g. a plain diff or an archive page) and its body decoded to text lines.
struct MailText: Sendable {
    var headers: MailHeaders?
    var bodyLines: [String]
}

enum Mail {
    /// Splits an mbox into messages. A message starts at a line beginning with "From " that is the
    /// first line or follows an empty line, when the next line looks like a header. Input without
    /// such lines is one message. In mbox messages, `>From ` (any number of `>`) loses one `>`
    /// (mboxrd unescaping; for mboxo this is right for the common single `>From `).
    static func splitMbox(_ lines: [ByteLine]) -> [[ByteLine]] {
        var starts: [Int] = []
        for index in lines.indices where startsWithFromSpace(lines[index]) {
            let afterBlank = index == 0 || lines[index - 1].isEmpty
            let nextIsHeader = index + 1 < lines.count && headerNameEnd(lines[index + 1]) != nil
            if afterBlank && nextIsHeader { starts.append(index) }
        }
        guard let first = starts.first else { return [lines] }
        var messages: [[ByteLine]] = []
        // Text before the first separator (rare) is kept as its own message.
        if first > 0, lines[0..<first].contains(where: { !$0.allSatisfy(isBlankByte) }) {
            messages.append(Array(lines[0..<first]))
        }
        for (n, start) in starts.enumerated() {
            let end = n + 1 < starts.count ? starts[n + 1] : lines.count
            var message: [ByteLine] = []
            message.reserveCapacity(end - start - 1)
            for line in lines[(start + 1)..<end] { message.append(unescapeFrom(line)) }
            messages.append(message)
        }
        return messages
    }

    private static func startsWithFromSpace(_ line: ByteLine) -> Bool {
        line.starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20])  // "From "
    }

    private static func unescapeFrom(_ line: ByteLine) -> ByteLine {
        var index = line.startIndex
        while index < line.endIndex && line[index] == 0x3E { index += 1 }  // '>'
        if index > line.startIndex && line[index...].starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20]) {
            return line.dropFirst()
        }
        return line
    }

    /// The header name when the line has the form `Name: value` (printable ASCII name, no blanks).
    /// Where the `:` after a header name is (the name is printable ASCII without blanks).
    static func headerNameEnd(_ line: ByteLine) -> Int? {
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            if byte == 0x3A { break }  // ':'
            if byte <= 0x20 || byte >= 0x7F { return nil }
            index += 1
        }
        guard index < line.endIndex, index > line.startIndex else { return nil }
        return index
    }

    private static let knownHeaders: Set<String> = [
        "from", "subject", "date", "message-id", "to", "cc", "content-type", "mime-version",
        "received", "return-path", "in-reply-to", "references", "delivered-to", "reply-to",
        "sender", "list-id", "x-mailer", "user-agent", "content-transfer-encoding",
    ]

    /// Reads a header block at the start of `lines`. Returns nil when the lines do not start with
    /// mail headers (at least one well-known header name is required, so that `Index: foo` of a
    /// quilt patch is not taken for a mail).
    static func readHeaders(_ lines: ArraySlice<ByteLine>, requireKnown: Bool)
        -> (headers: MailHeaders, bodyStart: Int)?
    {
        var fields: [MailHeaders.Field] = []
        var index = lines.startIndex
        var sawKnown = false
        while index < lines.endIndex {
            let line = lines[index]
            if line.isEmpty { index += 1; break }
            if let first = line.first, first == 0x20 || first == 0x09 {
                guard !fields.isEmpty else { return nil }
                fields[fields.count - 1].lines = fields[fields.count - 1].lines.lowerBound..<(index + 1)
                index += 1
                continue
            }
            guard let nameEnd = headerNameEnd(line) else {
                // A non-header line ends the block (some mails lack the blank separator).
                break
            }
            let name = line[line.startIndex..<nameEnd]
            fields.append(MailHeaders.Field(name: name, valueStart: nameEnd + 1, lines: index..<(index + 1)))
            if !sawKnown && knownHeaders.contains(lowercasedASCII(asciiString(name))) { sawKnown = true }
            index += 1
        }
        guard !fields.isEmpty, sawKnown || !requireKnown else { return nil }
        return (MailHeaders(lines: lines, fields: fields), index)
    }

    /// Reads one message: headers (when present) and its body as text lines, MIME decoded.
    static func read(_ lines: [ByteLine]) -> MailText {
        guard let (headers, bodyStart) = readHeaders(lines[...], requireKnown: true) else {
            return MailText(headers: nil, bodyLines: splitTextLines(decodeText(joinByteLines(lines),
                                                                                charset: nil)))
        }
        let body = lines[bodyStart...]
        let parts = bodyText(headers: headers, body: body, nesting: 0)
        return MailText(headers: headers, bodyLines: parts)
    }

    // MARK: MIME

    /// Splits `type/subtype; key=value; key="value"` into the lowercased type and its parameters.
    static func parseContentType(_ value: String?) -> (type: String, parameters: [String: String]) {
        guard let value else { return ("text/plain", [:]) }
        // Split on the bytes: `;` and `"` are ASCII, and this runs on every message.
        var pieces: [Substring] = []
        let utf8 = value.utf8
        var pieceStart = utf8.startIndex
        var inQuotes = false
        for index in utf8.indices {
            switch utf8[index] {
            case 0x22: inQuotes.toggle()
            case 0x3B where !inQuotes:
                pieces.append(value[pieceStart..<index])
                pieceStart = utf8.index(after: index)
            default: break
            }
        }
        pieces.append(value[pieceStart...])
        let type = lowercasedASCII(pieces[0].trimmed)
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.utf8.firstIndex(of: 0x3D) else { continue }
            let key = lowercasedASCII(piece[..<equals].trimmed)
            var parameterValue = piece[piece.utf8.index(after: equals)...].trimmed
            if parameterValue.hasPrefix("\"") && parameterValue.hasSuffix("\"") && parameterValue.utf8.count >= 2 {
                parameterValue = String(parameterValue.dropFirst().dropLast())
            }
            parameters[key] = parameterValue
        }
        return (type.isEmpty ? "text/plain" : type, parameters)
    }

    /// The text of a body: a single part decoded, or the text parts of a multipart body joined
    /// with an empty line between them.
    static func bodyText(headers: MailHeaders, body: ArraySlice<ByteLine>, nesting: Int) -> [String] {
        let (type, parameters) = parseContentType(headers.value("Content-Type"))
        if type.hasPrefix("multipart/"), let boundary = parameters["boundary"], !boundary.isEmpty,
           nesting < 8 {
            let parts = splitMultipart(body, boundary: boundary)
            var texts: [(type: String, lines: [String])] = []
            for part in parts {
                let (partHeaders, start) = readHeaders(part, requireKnown: false)
                    ?? (MailHeaders(), part.startIndex)
                let (partType, partParameters) = parseContentType(partHeaders.value("Content-Type"))
                let partBody = part[start...]
                if partType.hasPrefix("multipart/") || partType == "message/rfc822" {
                    if partType == "message/rfc822" {
                        let inner = read(Array(partBody))
                        var lines: [String] = []
                        if let subject = inner.headers?.value("Subject") { lines.append("Subject: \(subject)") }
                        lines += inner.bodyLines
                        texts.append((partType, lines))
                    } else {
                        texts.append((partType, bodyText(headers: partHeaders, body: partBody,
                                                          nesting: nesting + 1)))
                    }
                    continue
                }
                let filename = lowercasedASCII(partParameters["name"]
                    ?? dispositionFilename(partHeaders.value("Content-Disposition")) ?? "")
                let isPatchFile = filename.hasSuffix(".patch") || filename.hasSuffix(".diff")
                guard partType.hasPrefix("text/") || isPatchFile else { continue }
                texts.append((partType, leafText(headers: partHeaders, body: partBody,
                                                 charset: partParameters["charset"])))
            }
            // HTML only when there is nothing better (multipart/alternative carries both).
            let plain = texts.filter { $0.type != "text/html" }
            let chosen = plain.isEmpty ? texts.map { (type: $0.type, lines: htmlToTextLines($0.lines)) }
                                       : plain
            var lines: [String] = []
            for (n, text) in chosen.enumerated() {
                if n > 0 { lines.append("") }
                lines += text.lines
                if type == "multipart/alternative" { break }
            }
            return lines
        }
        let lines = leafText(headers: headers, body: body, charset: parameters["charset"])
        return type == "text/html" ? htmlToTextLines(lines) : lines
    }

    private static func dispositionFilename(_ value: String?) -> String? {
        guard let value else { return nil }
        return parseContentType(value).parameters["filename"]
    }

    /// Lines between `--boundary` separators, up to `--boundary--`.
    private static func splitMultipart(_ body: ArraySlice<ByteLine>, boundary: String) -> [ArraySlice<ByteLine>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<ByteLine>] = []
        var partStart: Int?
        for index in body.indices {
            let line = body[index]
            guard line.starts(with: delimiter) else { continue }
            let rest = line.dropFirst(delimiter.count)
            let isClose = rest.starts(with: [0x2D, 0x2D])
            guard isClose || rest.allSatisfy(isBlankByte) else { continue }
            if let start = partStart { parts.append(body[start..<index]) }
            if isClose { return parts }
            partStart = index + 1
        }
        if let start = partStart, start <= body.endIndex { parts.append(body[start..<body.endIndex]) }
        return parts
    }

    /// Decodes a single part's transfer encoding and charset to text lines.
    static func leafText(headers: MailHeaders, body: ArraySlice<ByteLine>, charset: String?) -> [String] {
        let encoding = lowercasedASCII(headers.value("Content-Transfer-Encoding") ?? "").trimmed
        let bytes: [UInt8]
        switch encoding {
        case "base64":
            bytes = decodeBase64(joinByteLines(body))
        case "quoted-printable":
            bytes = decodeQuotedPrintable(body)
        default:
            bytes = joinByteLines(body)
        }
        return decodeTextLines(bytes, charset: charset)
    }
}

func isBlankByte(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0C
}
