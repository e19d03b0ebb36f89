/// Reads the pre-parsed copy of the bundled rules that scripts/embed-rules writes next to the YAML
/// text: each file's YAML as JSON whose scalars are all strings (what Yams's basic resolver gives),
/// so that a start-up does not run the YAML parser. Parsing ~700 lines of YAML cost more than a
/// whole review of a small patch; this reader does the same in a single pass over the bytes.
///
/// Accepts only what the generator writes: objects, arrays and strings (with the escapes JSON
/// allows), and whitespace between them. Anything else is a programming error in the generator,
/// reported with the byte offset.
enum RulesTree {
    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var expected: String
        var description: String { "pre-parsed rules: expected \(expected) at byte \(offset)" }
    }

    /// The value of `json`: `[String: Any]`, `[Any]` or `String`, nested.
    static func parse(_ json: String) throws(Malformed) -> Any {
        var reader = Reader(bytes: Array(json.utf8))
        let value = try reader.value()
        reader.skipBlanks()
        guard reader.index == reader.bytes.count else { throw Malformed(offset: reader.index, expected: "the end") }
        return value
    }

    private struct Reader {
        var bytes: [UInt8]
        var index = 0

        mutating func skipBlanks() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D
                || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(Malformed) {
            skipBlanks()
            guard index < bytes.count, bytes[index] == byte else { throw Malformed(offset: index, expected: what) }
            index += 1
        }

        /// True (and consumed) when the next non-blank byte is `byte`.
        mutating func take(_ byte: UInt8) -> Bool {
            skipBlanks()
            if index < bytes.count, bytes[index] == byte {
                index += 1
                return true
            }
            return false
        }

        mutating func value() throws(Malformed) -> Any {
            skipBlanks()
            guard index < bytes.count else { throw Malformed(offset: index, expected: "a value") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var map: [String: Any] = [:]
                if take(UInt8(ascii: "}")) { return map }
                repeat {
                    skipBlanks()
                    let key = try string()
                    try expect(UInt8(ascii: ":"), "':'")
                    map[key] = try value()
                } while take(UInt8(ascii: ","))
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return map
            case UInt8(ascii: "["):
                index += 1
                var list: [Any] = []
                if take(UInt8(ascii: "]")) { return list }
                repeat {
                    list.append(try value())
                } while take(UInt8(ascii: ","))
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return list
            case UInt8(ascii: "\""):
                return try string()
            default:
                throw Malformed(offset: index, expected: "an object, an array or a string")
            }
        }

        mutating func string() throws(Malformed) -> String {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw Malformed(offset: index, expected: "a string")
            }
            index += 1
            var utf8: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
                if byte != UInt8(ascii: "\\") {
                    utf8.append(byte)
                    continue
                }
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    guard let scalar = try unicodeEscape() else {
                        throw Malformed(offset: index, expected: "a Unicode scalar")
                    }
                    utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: utf8.append(escape)  // \" \\ \/
                }
            }
            throw Malformed(offset: index, expected: "the closing quote")
        }

        /// `\uXXXX`, and a surrogate pair `\uD8xx\uDCxx`, after the `\u`.
        mutating func unicodeEscape() throws(Malformed) -> Unicode.Scalar? {
            let high = try hex4()
            if (0xD800..<0xDC00).contains(high) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    return nil
                }
                index += 2
                let low = try hex4()
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            }
            return Unicode.Scalar(high)
        }

        mutating func hex4() throws(Malformed) -> UInt32 {
            guard index + 4 <= bytes.count,
                  let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
                throw Malformed(offset: index, expected: "four hex digits")
            }
            index += 4
            return value
        }
    }
}
