// Byte- and text-level helpers: line splitting, charset decoding, transfer encodings.
// Everything here works on arrays of bytes or lines so that the cost stays linear in the input
// size (no repeated slicing of one big String).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits bytes into lines at LF and drops a CR right before the LF. A last line without LF is
/// kept; a final LF does not produce an extra empty line.
func splitByteLines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    // The line feeds are found through the buffer (no bounds check per byte: every byte of every
    // archived message passes here), then the slices are cut.
    let base = bytes.startIndex
    let newlines: [Int] = bytes.withUnsafeBufferPointer { buffer in
        var found: [Int] = []
        guard let first = buffer.baseAddress else { return found }
        var from = first
        let end = first + buffer.count
        while from < end, let hit = memchr(UnsafeRawPointer(from), 0x0A, end - from) {
            let newline = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self))
            found.append(base + (newline - first))
            from = newline + 1
        }
        return found
    }
    var lines: [ArraySlice<UInt8>] = []
    lines.reserveCapacity(newlines.count + 1)
    var start = base
    for newline in newlines {
        var end = newline
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        lines.append(bytes[start..<end])
        start = newline + 1
    }
    if start < bytes.endIndex {
        var end = bytes.endIndex
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        lines.append(bytes[start..<end])
    }
    return lines
}

/// Splits a decoded text into lines (LF, CRLF). Works on the UTF-8 view: splitting a Swift String
/// by Character would keep "\r\n" together as one grapheme.
func splitTextLines(_ text: String) -> [String] {
    var text = text  // withUTF8 may make a bridged string's storage contiguous
    return text.withUTF8(decodeUTF8Lines)
}

/// The lines of UTF-8 text split as splitByteLines splits them (LF, with a CR before it dropped),
/// each decoded straight from the buffer.
private func decodeUTF8Lines(_ bytes: UnsafeBufferPointer<UInt8>) -> [String] {
    var lines: [String] = []
    var start = 0
    func add(_ end: Int) {
        var end = end
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }
    for index in 0..<bytes.count where bytes[index] == 0x0A {
        add(index)
        start = index + 1
    }
    if start < bytes.count { add(bytes.count) }
    return lines
}

/// decodeText, then splitTextLines. UTF-8 is decoded line by line: a line feed never belongs to
/// a multi-byte sequence, so this gives the same lines (and the same U+FFFD repairs) without
/// building the whole text first.
func decodeTextLines(_ bytes: [UInt8], charset: String?) -> [String] {
    if isSingleByteCharset(charset) && !isValidUTF8(bytes) {
        return splitTextLines(decodeText(bytes, charset: charset))
    }
    return bytes.withUnsafeBufferPointer(decodeUTF8Lines)
}

/// Joins byte lines with LF.
func joinByteLines(_ lines: some Collection<ArraySlice<UInt8>>) -> [UInt8] {
    var out: [UInt8] = []
    var first = true
    for line in lines {
        if !first { out.append(0x0A) }
        out.append(contentsOf: line)
        first = false
    }
    return out
}

func asciiString(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}

extension StringProtocol {
    /// The text without leading and trailing blanks (spaces, tabs, CR, LF).
    var trimmed: String {
        // The blanks are all ASCII, so the UTF-8 view finds the same ends without decoding scalars
        // (this runs on every header and line of every message of a batch scan).
        let text = Substring(self)
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !isBlankByte($0) && $0 != 0x0A }) else { return "" }
        guard let last = bytes.lastIndex(where: { !isBlankByte($0) && $0 != 0x0A }) else { return "" }
        return String(text[first..<bytes.index(after: last)])
    }
}

func isBlank(_ scalar: Unicode.Scalar) -> Bool {
    scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" || scalar == "\u{0C}"
}

/// Case-insensitive ASCII prefix test (header names, MIME types, keywords).
func hasPrefixIgnoringCase(_ text: some StringProtocol, _ prefix: String) -> Bool {
    var textIterator = text.utf8.makeIterator()
    for expected in prefix.utf8 {
        guard let actual = textIterator.next() else { return false }
        if lowerASCII(actual) != lowerASCII(expected) { return false }
    }
    return true
}

func lowerASCII(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
}

func lowercasedASCII(_ text: String) -> String {
    String(decoding: text.utf8.map(lowerASCII), as: UTF8.self)
}

// MARK: - Charsets

/// Decodes bytes in the named charset. UTF-8 (and anything unknown) is decoded lossily: invalid
/// sequences become U+FFFD instead of failing. ISO-8859-1 and its relatives map bytes to code
/// points directly (windows-1252's 0x80–0x9F punctuation is rare in patches and maps the same way).
func decodeText(_ bytes: some Collection<UInt8>, charset: String?) -> String {
    if isSingleByteCharset(charset) && !isValidUTF8(bytes) {
        // Each byte is its own code point: below 0x80 one UTF-8 byte, above it two.
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count + bytes.count / 4)
        for byte in bytes {
            if byte < 0x80 {
                utf8.append(byte)
            } else {
                utf8.append(0xC0 | (byte >> 6))
                utf8.append(0x80 | (byte & 0x3F))
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func isSingleByteCharset(_ charset: String?) -> Bool {
    guard let charset else { return false }
    let singleByte = ["iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-8859-15",
                      "iso8859-15", "windows-1252", "cp1252", "us-ascii", "ascii"]
    return singleByte.contains(lowercasedASCII(charset).trimmed)
}

func isValidUTF8(_ bytes: some Collection<UInt8>) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

/// True for data that is not text: NUL bytes, or mostly invalid UTF-8 and control characters.
/// Looks at the first 64 KiB only; that is plenty to tell and keeps the check cheap.
func looksBinary(_ bytes: [UInt8]) -> Bool {
    let sample = bytes.prefix(65_536)
    if sample.contains(0) { return true }
    var iterator = sample.makeIterator()
    var decoder = UTF8()
    var total = 0
    var bad = 0
    decoding: while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar):
            total += 1
            let value = scalar.value
            if (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D && value != 0x0C
                && value != 0x1B) || value == 0x7F {
                bad += 1
            }
        case .error:
            total += 1
            bad += 1
        case .emptyInput:
            break decoding
        }
    }
    // Latin-1 text read as UTF-8 has a few bad bytes; binary data has many.
    return total > 0 && bad * 10 > total * 3
}

// MARK: - Transfer encodings

/// Decodes base64, skipping whitespace and any character outside the alphabet; stops at '='.
func decodeBase64(_ bytes: some Collection<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 3 / 4)
    var buffer: UInt32 = 0
    var bits = 0
    for byte in bytes {
        let value: UInt32
        switch byte {
        case 0x41...0x5A: value = UInt32(byte - 0x41)
        case 0x61...0x7A: value = UInt32(byte - 0x61 + 26)
        case 0x30...0x39: value = UInt32(byte - 0x30 + 52)
        case 0x2B, 0x2D: value = 62  // '+' (and '-' of the URL alphabet)
        case 0x2F, 0x5F: value = 63  // '/' (and '_')
        case 0x3D: return out        // '=' padding ends the data
        default: continue
        }
        buffer = (buffer << 6) | value
        bits += 6
        if bits >= 8 {
            bits -= 8
            out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            buffer &= (1 << UInt32(bits)) - 1
        }
    }
    return out
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// Decodes quoted-printable text given as lines: `=XX` escapes, and a line ending in `=` is a
/// soft break (joined with the next line without a newline).
func decodeQuotedPrintable(_ lines: some Collection<ArraySlice<UInt8>>) -> [UInt8] {
    var out: [UInt8] = []
    var lineIndex = 0
    let count = lines.count
    for line in lines {
        lineIndex += 1
        // Trailing blanks are not part of the encoded data (RFC 2045 6.7 rule 3).
        var end = line.endIndex
        while end > line.startIndex && (line[end - 1] == 0x20 || line[end - 1] == 0x09) { end -= 1 }
        var index = line.startIndex
        var softBreak = false
        while index < end {
            let byte = line[index]
            if byte == 0x3D {  // '='
                if index + 1 == end {
                    softBreak = true
                    index += 1
                    continue
                }
                if index + 2 < end, let high = hexValue(line[index + 1]),
                   let low = hexValue(line[index + 2]) {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        if !softBreak && lineIndex < count { out.append(0x0A) }
    }
    return out
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`, `=?iso-8859-1?Q?...?=`) in a header value.
/// Whitespace between two encoded words is dropped, as the RFC says.
func decodeEncodedWords(_ value: String) -> String {
    let bytes = Array(value.utf8)
    guard bytes.indices.dropLast().contains(where: { bytes[$0] == 0x3D && bytes[$0 + 1] == 0x3F }) else {
        return value  // no "=?": the common case, tested on bytes (String.contains is slow here)
    }
    var out = ""
    var index = 0
    var pendingSpace = ""
    var lastWasEncoded = false
    while index < bytes.count {
        if bytes[index] == 0x3D, index + 1 < bytes.count, bytes[index + 1] == 0x3F,
           let (decoded, next) = parseEncodedWord(bytes, at: index) {
            if !lastWasEncoded { out += pendingSpace }
            pendingSpace = ""
            out += decoded
            index = next
            lastWasEncoded = true
            continue
        }
        let byte = bytes[index]
        if byte == 0x20 || byte == 0x09 {
            pendingSpace.append(Character(Unicode.Scalar(byte)))
            index += 1
            continue
        }
        out += pendingSpace
        pendingSpace = ""
        lastWasEncoded = false
        // Copy one UTF-8 sequence (the value was decoded from bytes, so it is valid).
        var end = index + 1
        while end < bytes.count && (bytes[end] & 0xC0) == 0x80 { end += 1 }
        out += String(decoding: bytes[index..<end], as: UTF8.self)
        index = end
    }
    return out + pendingSpace
}

private func parseEncodedWord(_ bytes: [UInt8], at start: Int) -> (String, Int)? {
    // =?charset?E?text?=
    var index = start + 2
    var charsetEnd = index
    while charsetEnd < bytes.count && bytes[charsetEnd] != 0x3F { charsetEnd += 1 }
    guard charsetEnd + 2 < bytes.count, bytes[charsetEnd + 2] == 0x3F else { return nil }
    var charset = asciiString(bytes[index..<charsetEnd])
    if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
    let encoding = lowerASCII(bytes[charsetEnd + 1])
    index = charsetEnd + 3
    var end = index
    while end + 1 < bytes.count && !(bytes[end] == 0x3F && bytes[end + 1] == 0x3D) { end += 1 }
    guard end + 1 < bytes.count else { return nil }
    let text = bytes[index..<end]
    let decoded: [UInt8]
    if encoding == 0x62 {  // b
        decoded = decodeBase64(text)
    } else if encoding == 0x71 {  // q: '_' is a space, =XX escapes
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let byte = text[i]
            if byte == 0x5F {
                out.append(0x20)
            } else if byte == 0x3D, i + 2 < text.endIndex,
                      let high = hexValue(text[i + 1]), let low = hexValue(text[i + 2]) {
                out.append(high << 4 | low)
                i += 3
                continue
            } else {
                out.append(byte)
            }
            i += 1
        }
        decoded = out
    } else {
        return nil
    }
    return (decodeText(decoded, charset: charset), end + 2)
}
