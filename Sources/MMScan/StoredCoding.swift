import Foundation
import MMCore

/// How the scan database stores a patch (patches.patch_json) and a finding (findings.finding_json)
/// for the report to rebuild them exactly: a compact length-prefixed encoding written by hand.
/// Foundation's JSONEncoder was a fifth of a scan's instructions (one patch encoded per message
/// that carries one); this writes the same values in a few percent of that.
///
/// The format: the tag `mm1` then a sequence of fields. A string is its UTF-8 length, `:` and its
/// bytes (so any text is safe, newlines included); an integer is its decimal digits (after `~` when negative) and `;`; an
/// absent optional is `-`; a Boolean is `0` or `1`; an array is its count as an integer, then its
/// elements. Databases written before this encoding hold JSON (its first byte is `{`), which
/// `decode` still reads, so an older database, or a shard merged from one, keeps its report.
public enum StoredCoding {
    static let tag = Array("mm1".utf8)

    // MARK: Encoding

    public static func encode(_ patch: Patch) -> String {
        var writer = Writer()
        writer.bytes += tag
        writer.origin(patch.origin)
        writer.string(patch.description)
        writer.int(patch.files.count)
        for file in patch.files {
            writer.optionalString(file.oldPath)
            writer.optionalString(file.newPath)
            writer.bool(file.isNew)
            writer.bool(file.isDeleted)
            writer.bool(file.isRename)
            writer.bool(file.isBinary)
            writer.int(file.hunks.count)
            for hunk in file.hunks {
                writer.int(hunk.oldStart)
                writer.int(hunk.oldCount)
                writer.int(hunk.newStart)
                writer.int(hunk.newCount)
                writer.string(hunk.section)
                writer.bool(hunk.repaired)
                writer.int(hunk.lines.count)
                for line in hunk.lines {
                    writer.int(Self.kinds.firstIndex(of: line.kind)!)
                    writer.string(line.text)
                    writer.optionalInt(line.oldLine)
                    writer.optionalInt(line.newLine)
                }
            }
        }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func encode(_ finding: Finding) -> String {
        var writer = Writer()
        writer.bytes += tag
        writer.string(finding.rule)
        writer.string(finding.severity.rawValue)
        writer.string(finding.status.rawValue)
        writer.string(finding.file)
        writer.int(finding.line)
        writer.int(finding.column)
        writer.string(finding.function)
        writer.string(finding.code)
        writer.string(finding.message)
        writer.int(finding.notes.count)
        for note in finding.notes {
            writer.string(note.file)
            writer.int(note.line)
            writer.string(note.code)
            writer.string(note.message)
        }
        writer.origin(finding.patch)
        writer.string(finding.matchKey)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private static let kinds: [DiffLineKind] = [.context, .added, .removed]

    // MARK: Decoding

    public struct DecodingError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func decodePatch(_ text: String) throws -> Patch {
        if text.utf8.first == UInt8(ascii: "{") { return try JSONDecoder().decode(Patch.self, from: Data(text.utf8)) }
        var reader = try Reader(text)
        let origin = try reader.origin()
        let description = try reader.string()
        var files: [FileDiff] = []
        for _ in 0..<(try reader.count()) {
            var file = FileDiff(oldPath: try reader.optionalString(), newPath: try reader.optionalString())
            file.isNew = try reader.bool()
            file.isDeleted = try reader.bool()
            file.isRename = try reader.bool()
            file.isBinary = try reader.bool()
            for _ in 0..<(try reader.count()) {
                var hunk = Hunk(oldStart: try reader.int(), oldCount: try reader.int(), newStart: try reader.int(),
                                newCount: try reader.int(), section: try reader.string(), lines: [])
                hunk.repaired = try reader.bool()
                let lineCount = try reader.count()
                hunk.lines.reserveCapacity(lineCount)
                for _ in 0..<lineCount {
                    let kind = try reader.int()
                    guard kinds.indices.contains(kind) else { throw DecodingError(description: "bad diff line kind \(kind)") }
                    hunk.lines.append(DiffLine(kind: kinds[kind], text: try reader.string(),
                                               oldLine: try reader.optionalInt(), newLine: try reader.optionalInt()))
                }
                file.hunks.append(hunk)
            }
            files.append(file)
        }
        try reader.end()
        return Patch(origin: origin, description: description, files: files)
    }

    public static func decodeFinding(_ text: String) throws -> Finding {
        if text.utf8.first == UInt8(ascii: "{") { return try JSONDecoder().decode(Finding.self, from: Data(text.utf8)) }
        var reader = try Reader(text)
        let rule = try reader.string()
        let severityText = try reader.string()
        let statusText = try reader.string()
        guard let severity = Severity(rawValue: severityText), let status = FindingStatus(rawValue: statusText) else {
            throw DecodingError(description: "bad severity or status '\(severityText)' '\(statusText)'")
        }
        let file = try reader.string()
        let line = try reader.int()
        let column = try reader.int()
        let function = try reader.string()
        let code = try reader.string()
        let message = try reader.string()
        var notes: [FindingNote] = []
        for _ in 0..<(try reader.count()) {
            notes.append(FindingNote(file: try reader.string(), line: try reader.int(), code: try reader.string(),
                                     message: try reader.string()))
        }
        let origin = try reader.origin()
        let matchKey = try reader.string()
        try reader.end()
        return Finding(rule: rule, severity: severity, status: status, file: file, line: line, column: column,
                       function: function, code: code, message: message, notes: notes, patch: origin,
                       matchKey: matchKey)
    }

    // MARK: Fields

    private struct Writer {
        var bytes: [UInt8] = []

        init() { bytes.reserveCapacity(4096) }

        mutating func string(_ value: String) {
            var value = value
            value.withUTF8 { utf8 in
                int(utf8.count, terminator: UInt8(ascii: ":"))
                bytes.append(contentsOf: utf8)
            }
        }

        mutating func optionalString(_ value: String?) {
            if let value { string(value) } else { bytes.append(UInt8(ascii: "-")) }
        }

        mutating func int(_ value: Int, terminator: UInt8 = UInt8(ascii: ";")) {
            // `~` marks a negative number: `-` is the absent marker of an optional.
            if value < 0 { bytes.append(UInt8(ascii: "~")) }
            bytes.append(contentsOf: String(value.magnitude).utf8)
            bytes.append(terminator)
        }

        mutating func optionalInt(_ value: Int?) {
            if let value { int(value) } else { bytes.append(UInt8(ascii: "-")) }
        }

        mutating func bool(_ value: Bool) {
            bytes.append(value ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        }

        mutating func origin(_ origin: PatchOrigin) {
            string(origin.input)
            int(origin.index)
            string(origin.subject)
            optionalString(origin.messageID)
            optionalString(origin.author)
            optionalString(origin.date)
            bool(origin.quoted)
            optionalString(origin.note)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position: Int

        init(_ text: String) throws {
            bytes = Array(text.utf8)
            guard bytes.starts(with: StoredCoding.tag) else {
                throw DecodingError(description: "neither JSON nor mmreview's stored encoding")
            }
            position = StoredCoding.tag.count
        }

        private func fail(_ what: String) -> DecodingError {
            DecodingError(description: "stored value cut short or damaged at byte \(position): expected \(what)")
        }

        private mutating func isAbsent() -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "-") else { return false }
            position += 1
            return true
        }

        mutating func int(terminator: UInt8 = UInt8(ascii: ";")) throws -> Int {
            var negative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "~") {
                negative = true
                position += 1
            }
            var value = 0
            var digits = 0
            while position < bytes.count, bytes[position] != terminator {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 19 else { throw fail("a number") }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            guard digits > 0, position < bytes.count else { throw fail("a number") }
            position += 1
            return negative ? -value : value
        }

        mutating func count() throws -> Int {
            let value = try int()
            guard value >= 0 else { throw fail("a count") }
            return value
        }

        mutating func optionalInt() throws -> Int? { isAbsent() ? nil : try int() }

        mutating func string() throws -> String {
            let length = try int(terminator: UInt8(ascii: ":"))
            guard length >= 0, length <= bytes.count - position else { throw fail("\(length) bytes of text") }
            defer { position += length }
            return String(decoding: bytes[position..<(position + length)], as: UTF8.self)
        }

        mutating func optionalString() throws -> String? { isAbsent() ? nil : try string() }

        mutating func bool() throws -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "0") || bytes[position] == UInt8(ascii: "1") else {
                throw fail("0 or 1")
            }
            defer { position += 1 }
            return bytes[position] == UInt8(ascii: "1")
        }

        mutating func origin() throws -> PatchOrigin {
            PatchOrigin(input: try string(), index: try int(), subject: try string(), messageID: try optionalString(),
                        author: try optionalString(), date: try optionalString(), quoted: try bool(),
                        note: try optionalString())
        }

        func end() throws {
            guard position == bytes.count else { throw fail("the end") }
        }
    }
}
