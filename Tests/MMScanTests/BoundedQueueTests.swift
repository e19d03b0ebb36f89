@testable import MMScan
import XCTest

/// Workers take a few messages at a time (one database lookup for all of them): they must come
/// out in order, none lost, none twice, and an empty batch must mean the queue is done.
final class BoundedQueueTests: XCTestCase {
    func testBatchesComeInOrderAndEndWithTheQueue() {
        let queue = BoundedQueue<Int>(capacity: 5)
        let producer = Thread {
            for item in 0..<2000 { queue.push(item) }
            queue.close()
        }
        producer.start()
        var received: [Int] = []
        var largest = 0
        while case let batch = queue.pop(upTo: 3), !batch.isEmpty {
            largest = max(largest, batch.count)
            received += batch
        }
        XCTAssertEqual(received, Array(0..<2000))
        XCTAssertLessThanOrEqual(largest, 3)
        XCTAssertTrue(queue.pop(upTo: 3).isEmpty, "a closed, drained queue stays empty")
    }

    func testTwoConsumersShareTheItemsWithoutDuplicates() {
        let queue = BoundedQueue<Int>(capacity: 8)
        let received = Received()
        let done = DispatchGroup()
        for _ in 0..<2 {
            done.enter()
            Thread.detachNewThread {
                while case let batch = queue.pop(upTo: 4), !batch.isEmpty {
                    XCTAssertEqual(batch, Array(batch[0]..<(batch[0] + batch.count)), "a batch is consecutive")
                    received.add(batch)
                }
                done.leave()
            }
        }
        for item in 0..<5000 { queue.push(item) }
        queue.close()
        done.wait()
        XCTAssertEqual(received.all.sorted(), Array(0..<5000))
    }
}

/// Items collected by several threads.
private final class Received: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [Int] = []

    func add(_ batch: [Int]) {
        lock.lock()
        items += batch
        lock.unlock()
    }

    var all: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
