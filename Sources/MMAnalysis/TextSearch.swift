import Foundation
import MMCore

extension String {
    /// Foundation's `range(of:range:)`, by bytes on ASCII text where both find the same range
    /// (see ByteSearch): the analyses search short expression texts thousands of times a patch.
    public func fastRange(of needle: String, from start: Index? = nil) -> Range<Index>? {
        if isAllASCII { return byteRange(of: needle, from: start) }
        return range(of: needle, range: (start ?? startIndex)..<endIndex)
    }

    /// Foundation's `range(of:options: .backwards)`, by bytes on ASCII text.
    public func fastLastRange(of needle: String) -> Range<Index>? {
        if isAllASCII { return lastByteRange(of: needle) }
        return range(of: needle, options: .backwards)
    }
}
