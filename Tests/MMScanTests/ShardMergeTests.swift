import Foundation
import XCTest

/// `--shard K/N` splits by Message-ID; `mmreview merge` puts the shards back together.
final class ShardMergeTests: XCTestCase {
    func testShardsMergeIntoTheSameDatabaseAsOneScan() throws {
        let directory = try temporaryDirectory(self)
        let archives = [Repository.slice, Repository.seeds]
        let full = directory + "/full.sqlite"
        XCTAssertEqual(try mmreview(["scan"] + archives + ["--db", full]).status, 0)

        var shards: [String] = []
        var shardMessages = 0
        for index in 0..<3 {
            let shard = directory + "/shard\(index).sqlite"
            let result = try mmreview(["scan"] + archives + ["--db", shard, "--shard", "\(index)/3"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let messages = try DatabaseCounts(shard).messages
            XCTAssertGreaterThan(messages, 0, "every shard gets some of the 46 messages")
            shardMessages += messages
            shards.append(shard)
        }
        XCTAssertEqual(shardMessages, 46, "each message in exactly one shard")

        // The same shard of the same archives holds the same messages every time.
        let again = directory + "/again.sqlite"
        XCTAssertEqual(try mmreview(["scan"] + archives + ["--db", again, "--shard", "1/3"]).status, 0)
        let firstKeys: [String] = try query(shards[1], "SELECT key FROM messages ORDER BY key")
        let againKeys: [String] = try query(again, "SELECT key FROM messages ORDER BY key")
        XCTAssertEqual(firstKeys, againKeys)

        let merged = directory + "/merged.sqlite"
        let result = try mmreview(["merge", merged] + shards)
        XCTAssertEqual(result.status, 0, result.stderr)
        let whole = try DatabaseCounts(full)
        XCTAssertEqual(whole.messages, 46)
        XCTAssertEqual(result.stdout, "merged 3 databases into \(merged): 46 messages, 23 patches, \(whole.findings) findings\n")
        XCTAssertEqual(try DatabaseCounts(merged), whole)
        let runs: [String] = try query(merged, "SELECT shard FROM runs ORDER BY id")
        XCTAssertEqual(runs, ["0/3", "1/3", "2/3"])

        // Merging a shard twice adds nothing.
        XCTAssertEqual(try mmreview(["merge", merged, shards[0]]).status, 0)
        XCTAssertEqual(try DatabaseCounts(merged), try DatabaseCounts(full))
    }

    func testMergeRejectsWhatIsNotAScanDatabase() throws {
        let directory = try temporaryDirectory(self)
        let result = try mmreview(["merge", directory + "/out.sqlite", Repository.slice])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("mmreview merge: \(Repository.slice): cannot open:"), result.stderr)
        let noInput = try mmreview(["merge", directory + "/out.sqlite"])
        XCTAssertEqual(noInput.status, 2)
        XCTAssertTrue(noInput.stderr.contains("no input database"), noInput.stderr)
    }
}
