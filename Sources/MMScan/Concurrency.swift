import Foundation
import Synchronization

/// A first-in first-out queue between threads with a fixed capacity: `push` waits while it is
/// full, which is what keeps a scan's memory bounded when readers outrun the reviewers.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `items` and `closed` holds `condition`.
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func push(_ item: Element) {
        condition.lock()
        while items.count - head >= capacity { condition.wait() }
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// The next item; nil once the queue is closed and empty.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// Up to `limit` items in order, waiting for the first; empty once the queue is closed and
    /// empty.
    func pop(upTo limit: Int) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed { condition.wait() }
        let end = min(items.count, head + max(1, limit))
        let taken = Array(items[head..<end])
        head = end
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return taken
    }

    /// No more pushes: consumers drain what is left, then get nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Raised by Ctrl-C (or a test) to end a scan early: readers stop, what was read is finished and
/// committed.
public final class StopFlag: Sendable {
    // An atomic, not a lock: the archive reader asks once per line.
    private let raised = Atomic<Bool>(false)

    public init() {}

    public var isRaised: Bool { raised.load(ordering: .acquiring) }

    public func raise() {
        raised.store(true, ordering: .releasing)
    }
}

/// Counters shared by the reader, the workers and the writer, for the progress line and the
/// run's totals.
public final class ScanProgress: @unchecked Sendable {
    // @unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private var counts = ScanCounts()

    public init() {}

    func addBytes(_ count: Int) {
        lock.lock()
        counts.bytesRead += count
        lock.unlock()
    }

    func update(_ change: (inout ScanCounts) -> Void) {
        lock.lock()
        change(&counts)
        lock.unlock()
    }

    public var snapshot: ScanCounts {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}

public struct ScanCounts: Sendable, Equatable {
    public var bytesRead = 0
    /// Messages read from the archives (in this shard).
    public var messagesRead = 0
    /// Messages already stored by an earlier run with the same rules and version, or copies of a
    /// message this run has already taken (a mailbox concatenated with itself, a cross-post).
    public var messagesSkipped = 0
    public var messagesStored = 0
    public var messagesFailed = 0
    public var patchesSeen = 0
    public var patchesReviewed = 0
    public var findings = 0
}

/// Content hashes taken on in this run, first caller wins: for patches, so that the same patch
/// arriving in two messages at once is reviewed by one worker only, and for messages, so that a
/// copy of a message is analysed once.
final class HashClaims: @unchecked Sendable {
    // @unchecked: `claimed` is only touched under `lock`.
    private let lock = NSLock()
    private var claimed: Set<String> = []

    /// True for the first caller with this hash.
    func claim(_ hash: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return claimed.insert(hash).inserted
    }
}

public enum ScanError: Error, Sendable, CustomStringConvertible {
    case archive(String, String)
    case database(String, String)
    case usage(String)

    public var description: String {
        switch self {
        case .archive(let path, let message): return "\(path): \(message)"
        case .database(let path, let message): return "\(path): \(message)"
        case .usage(let message): return message
        }
    }
}
