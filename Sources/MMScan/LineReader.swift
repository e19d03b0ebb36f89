import Foundation

/// Reads a file descriptor in large chunks and hands out lines (without the `\n`) or exact byte
/// counts, so archives of any size stream through a fixed buffer.
final class LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    /// Bytes consumed so far (for progress).
    private(set) var offset = 0

    init(descriptor: Int32, chunk: Int = 1 << 20) {
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: chunk)
    }

    /// The next line, or nil at the end of input. A last line without `\n` is returned too.
    func nextLine() -> ArraySlice<UInt8>? {
        var searchFrom = start
        while true {
            if let newline = findNewline(from: searchFrom) {
                let line = buffer[start..<newline]
                offset += newline + 1 - start
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < end else { return nil }
                let line = buffer[start..<end]
                offset += end - start
                start = end
                return line
            }
            let kept = end - start
            searchFrom = kept
            fill()
        }
    }

    private func findNewline(from: Int) -> Int? {
        guard from < end else { return nil }
        return buffer.withUnsafeBufferPointer { pointer -> Int? in
            guard let base = pointer.baseAddress, let found = memchr(base + from, 0x0A, end - from) else {
                return nil
            }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Exactly `count` bytes (fewer only at the end of input).
    func read(count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if start == end {
                if atEnd { break }
                fill()
                continue
            }
            let take = min(count - out.count, end - start)
            out.append(contentsOf: buffer[start..<(start + take)])
            start += take
            offset += take
        }
        return out
    }

    /// Moves unread bytes to the front, grows the buffer when a line fills it, and reads more.
    private func fill() {
        if start > 0 {
            buffer.withUnsafeMutableBufferPointer { pointer in
                guard let base = pointer.baseAddress else { return }
                memmove(base, base + start, end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        let got = buffer.withUnsafeMutableBufferPointer { pointer in
            Foundation.read(descriptor, pointer.baseAddress! + end, pointer.count - end)
        }
        if got <= 0 { atEnd = true } else { end += got }
    }
}
