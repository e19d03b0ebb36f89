/// Substring search on UTF-8 bytes, for the hot paths that used Foundation's `range(of:)`.
///
/// Foundation's search bridges to NSString and compares canonically equivalent sequences (about
/// 8K instructions a call on short expression texts). On ASCII text, where every byte is a
/// character and no sequence has another canonical form, a byte comparison finds the same ranges:
/// callers use these functions when `isAllASCII` holds and keep Foundation's search otherwise.
extension String {
    /// True when every byte of the text is ASCII.
    public var isAllASCII: Bool {
        var text = self
        return text.withUTF8 { bytes in ByteSearch.isASCII(bytes) }
    }

    /// The first occurrence of `needle`'s bytes at or after `start` (the text's start when nil);
    /// nil when there is none or `needle` is empty (as Foundation's `range(of:)`).
    public func byteRange(of needle: String, from start: Index? = nil) -> Range<Index>? {
        let from = start.map { utf8.distance(from: utf8.startIndex, to: $0) } ?? 0
        var text = self
        var wanted = needle
        let found = text.withUTF8 { bytes in
            wanted.withUTF8 { pattern in ByteSearch.firstOffset(of: pattern, in: bytes, from: from) }
        }
        guard let found else { return nil }
        let lower = utf8.index(utf8.startIndex, offsetBy: found)
        return lower..<utf8.index(lower, offsetBy: needle.utf8.count)
    }

    /// Whether `needle`'s bytes occur in the text; false for an empty needle.
    public func containsBytes(_ needle: String) -> Bool {
        var text = self
        var wanted = needle
        return text.withUTF8 { bytes in
            wanted.withUTF8 { pattern in ByteSearch.firstOffset(of: pattern, in: bytes, from: 0) != nil }
        }
    }

    /// The last occurrence of `needle`'s bytes; nil when there is none or `needle` is empty.
    public func lastByteRange(of needle: String) -> Range<Index>? {
        var text = self
        var wanted = needle
        let found = text.withUTF8 { bytes in
            wanted.withUTF8 { pattern in ByteSearch.lastOffset(of: pattern, in: bytes) }
        }
        guard let found else { return nil }
        let lower = utf8.index(utf8.startIndex, offsetBy: found)
        return lower..<utf8.index(lower, offsetBy: needle.utf8.count)
    }
}

/// The byte loops behind String.byteRange, on offsets.
public enum ByteSearch {
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte >= 0x80 { return false }
        return true
    }

    /// The offset of the first occurrence of `pattern` at or after `from`; nil for none or an
    /// empty pattern.
    public static func firstOffset(of pattern: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>,
                                   from: Int) -> Int? {
        guard let first = pattern.first, pattern.count <= bytes.count, from >= 0 else { return nil }
        var index = from
        let lastStart = bytes.count - pattern.count
        while index <= lastStart {
            if bytes[index] == first {
                var matched = 1
                while matched < pattern.count, bytes[index + matched] == pattern[matched] { matched += 1 }
                if matched == pattern.count { return index }
            }
            index += 1
        }
        return nil
    }

    /// The offset of the last occurrence of `pattern`; nil for none or an empty pattern.
    public static func lastOffset(of pattern: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = pattern.first, pattern.count <= bytes.count else { return nil }
        var index = bytes.count - pattern.count
        while index >= 0 {
            if bytes[index] == first {
                var matched = 1
                while matched < pattern.count, bytes[index + matched] == pattern[matched] { matched += 1 }
                if matched == pattern.count { return index }
            }
            index -= 1
        }
        return nil
    }
}
