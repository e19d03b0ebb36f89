import Foundation
@testable import MMScan
import XCTest

/// `mmreview scan` end to end: what lands in the database for each kind of archive, reruns,
/// resuming after kill -9, re-analysis when the rules change.
final class ScanTests: XCTestCase {
    /// The slice: 41 messages, 22 patches carried (18 distinct: replies quote whole patches).
    static let sliceCounts = (messages: 41, patches: 18, links: 22)

    func testMboxScanStoresEveryMessageAndEachPatchOnce() throws {
        let directory = try temporaryDirectory(self)
        let database = directory + "/results.sqlite"
        let result = try mmreview(["scan", Repository.slice, "--db", database])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("41 messages read, 0 already stored, 41 stored (0 failed), 22 patches, "
                                             + "18 reviewed"), result.stdout)
        XCTAssertEqual(result.stderr, "", "no progress line when stderr is not a terminal")
        let counts = try DatabaseCounts(database)
        XCTAssertEqual(counts.messages, Self.sliceCounts.messages)
        XCTAssertEqual(counts.patches, Self.sliceCounts.patches)
        XCTAssertEqual(counts.reviewedPatches, Self.sliceCounts.patches)
        XCTAssertEqual(counts.links, Self.sliceCounts.links)
        // The metadata of a real reply: its Message-ID, what it answers, its thread and month.
        let replies: [String] = try query(database, """
            SELECT message_id || ' ' || in_reply_to || ' ' || thread || ' ' || month FROM messages
            WHERE in_reply_to IS NOT NULL ORDER BY message_id LIMIT 1
            """)
        XCTAssertEqual(replies.count, 1)
        XCTAssertTrue(replies.first?.hasSuffix(" 2019-04") ?? false, "\(replies)")
        // A patch carried by three messages (posted, then quoted whole twice) is one patch, linked thrice.
        let shared: [Int] = try query(database, """
            SELECT COUNT(*) FROM message_patches GROUP BY patch_hash ORDER BY COUNT(*) DESC LIMIT 1
            """)
        XCTAssertEqual(shared, [3])
    }

    func testRerunOnAnUnchangedArchiveAnalysesNothing() throws {
        let directory = try temporaryDirectory(self)
        let database = directory + "/results.sqlite"
        XCTAssertEqual(try mmreview(["scan", Repository.slice, "--db", database]).status, 0)
        let before = try DatabaseCounts(database)
        let again = try mmreview(["scan", Repository.slice, "--db", database])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("41 messages read, 41 already stored, 0 stored (0 failed), 0 patches, "
                                            + "0 reviewed, 0 findings"), again.stdout)
        XCTAssertEqual(try DatabaseCounts(database), before)
        let runs: [String] = try query(database, "SELECT status FROM runs ORDER BY id")
        XCTAssertEqual(runs, ["complete", "complete"])
    }

    func testCopiesOfAMessageInOneRunAreAnalysedOnceWhateverTheTiming() throws {
        // The slice three times over, as `cat a.mbox a.mbox a.mbox` or a cross-posted list gives:
        // the copies are skipped like stored messages, so the summary is the same in every run.
        let directory = try temporaryDirectory(self)
        let slice = try Data(contentsOf: URL(fileURLWithPath: Repository.slice))
        let tripled = directory + "/tripled.mbox"
        try (slice + slice + slice).write(to: URL(fileURLWithPath: tripled))
        var summaries: Set<String> = []
        for attempt in 0..<3 {
            let database = directory + "/results-\(attempt).sqlite"
            let result = try mmreview(["scan", tripled, "--db", database, "--jobs", "2"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("123 messages read, 82 already stored, 41 stored (0 failed), 22 patches, "
                                                 + "18 reviewed"), result.stdout)
            summaries.insert(result.stdout)
            let counts = try DatabaseCounts(database)
            XCTAssertEqual(counts.messages, Self.sliceCounts.messages)
            XCTAssertEqual(counts.links, Self.sliceCounts.links)
        }
        XCTAssertEqual(summaries.count, 1, "\(summaries)")
    }

    func testChangedRulesReanalyseEveryPatch() throws {
        let directory = try temporaryDirectory(self)
        let database = directory + "/results.sqlite"
        XCTAssertEqual(try mmreview(["scan", Repository.slice, "--db", database]).status, 0)
        let before = try DatabaseCounts(database)
        // An extra rules file changes the rules fingerprint even when it adds no fact.
        let rules = directory + "/rules"
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try "# site-local lock facts\nprimitives: []\n".write(toFile: rules + "/local.yaml", atomically: true, encoding: .utf8)
        let again = try mmreview(["scan", Repository.slice, "--db", database, "--rules", rules])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("0 already stored, 41 stored (0 failed), 22 patches, 18 reviewed"),
                      again.stdout)
        XCTAssertEqual(try DatabaseCounts(database), before, "re-analysis replaces, never duplicates")
    }

    func testKilledScanResumesWithNothingLostOrDuplicated() throws {
        let directory = try temporaryDirectory(self)
        let reference = directory + "/reference.sqlite"
        XCTAssertEqual(try mmreview(["scan", Repository.slice, "--db", reference]).status, 0)
        let expected = try DatabaseCounts(reference)

        let database = directory + "/killed.sqlite"
        let process = Process()
        process.executableURL = Repository.executable
        // One message per transaction and one worker: the scan is still running after its first commit.
        process.arguments = ["scan", Repository.slice, "--db", database, "--jobs", "1", "--batch-size", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the first committed batch, then kill without warning.
        var stored = 0
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            stored = (try? DatabaseCounts(database).messages) ?? 0
            if stored > 0 { break }
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the scan finished before it could be killed")
        XCTAssertLessThan(try DatabaseCounts(database).messages, expected.messages)

        let resumed = try mmreview(["scan", Repository.slice, "--db", database])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try DatabaseCounts(database), expected)
        let runs: [String] = try query(database, "SELECT status FROM runs ORDER BY id")
        XCTAssertEqual(runs, ["running", "complete"], "the killed run stays marked as never finished")
    }

    func testCtrlCFinishesWhatWasReadAndTheRerunCompletesIt() throws {
        let directory = try temporaryDirectory(self)
        let reference = directory + "/reference.sqlite"
        XCTAssertEqual(try mmreview(["scan", Repository.slice, "--db", reference]).status, 0)
        let expected = try DatabaseCounts(reference)

        let database = directory + "/interrupted.sqlite"
        let output = directory + "/stdout"
        FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = Repository.executable
        process.arguments = ["scan", Repository.slice, "--db", database, "--jobs", "1", "--batch-size", "1"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            if ((try? DatabaseCounts(database).messages) ?? 0) > 0 { break }
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let said = try String(contentsOfFile: output, encoding: .utf8)
        XCTAssertTrue(said.contains("(interrupted; rerun to resume)"), said)
        let runs: [String] = try query(database, "SELECT status FROM runs ORDER BY id")
        XCTAssertEqual(runs, ["interrupted"])
        XCTAssertLessThan(try DatabaseCounts(database).messages, expected.messages)

        XCTAssertEqual(try mmreview(["scan", Repository.slice, "--db", database]).status, 0)
        XCTAssertEqual(try DatabaseCounts(database), expected)
    }

    func testMaildirGivesTheSameDatabaseAsTheMbox() throws {
        let directory = try temporaryDirectory(self)
        let maildir = directory + "/Maildir"
        for folder in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: maildir + "/" + folder, withIntermediateDirectories: true)
        }
        for (number, message) in try sliceMessages().enumerated() {
            let folder = number % 2 == 0 ? "cur" : "new"
            let name = String(format: "%010d.M%dP1.host", 1_556_000_000 + number, number) + (folder == "cur" ? ":2,S" : "")
            FileManager.default.createFile(atPath: "\(maildir)/\(folder)/\(name)", contents: Data(message))
        }
        let database = directory + "/results.sqlite"
        let result = try mmreview(["scan", maildir, "--db", database])
        XCTAssertEqual(result.status, 0, result.stderr)
        let counts = try DatabaseCounts(database)
        XCTAssertEqual([counts.messages, counts.patches, counts.links],
                       [Self.sliceCounts.messages, Self.sliceCounts.patches, Self.sliceCounts.links])
    }

    /// A real public-inbox repository made by Debian's public-inbox tools (public-inbox-init, then
    /// public-inbox-mda for each message, as a mail server would deliver them).
    private func makePublicInbox(version: String, messages: [[UInt8]]) throws -> (directory: String, inbox: String) {
        let directory = try temporaryDirectory(self)
        let inbox = directory + "/inbox"
        var environment = ProcessInfo.processInfo.environment
        environment["PI_CONFIG"] = directory + "/pi-config"
        environment["HOME"] = directory
        let initResult = try runProgram(URL(fileURLWithPath: "/usr/bin/public-inbox-init"),
                                        [version, "test", inbox, "http://example.invalid/test", "test@example.invalid"],
                                        environment: environment)
        XCTAssertEqual(initResult.status, 0, initResult.stderr)
        let config = try runProgram(URL(fileURLWithPath: "/usr/bin/git"),
                                    ["config", "-f", directory + "/pi-config", "publicinboxmda.spamcheck", "none"])
        XCTAssertEqual(config.status, 0, config.stderr)
        environment["ORIGINAL_RECIPIENT"] = "test@example.invalid"
        for message in messages {
            let delivered = try runProgram(URL(fileURLWithPath: "/usr/bin/public-inbox-mda"), ["--no-precheck"],
                                           environment: environment, stdin: message)
            XCTAssertEqual(delivered.status, 0, delivered.stderr)
        }
        return (directory, inbox)
    }

    func testPublicInboxV1() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/public-inbox-init") else {
            throw XCTSkip("public-inbox is not installed (apt-get install public-inbox; .ci/run does)")
        }
        let messages = Array(try sliceMessages().prefix(12))
        let (directory, inbox) = try makePublicInbox(version: "-V1", messages: messages)
        XCTAssertTrue(FileManager.default.fileExists(atPath: inbox + "/objects"), "a v1 inbox is one bare git repository")
        let database = directory + "/results.sqlite"
        let result = try mmreview(["scan", inbox, "--db", database])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try DatabaseCounts(database).messages, 12)
    }

    /// A real public-inbox v2 repository made by Debian's public-inbox tools from the slice.
    func testPublicInboxV2() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/public-inbox-init") else {
            throw XCTSkip("public-inbox is not installed (apt-get install public-inbox; .ci/run does)")
        }
        let (directory, inbox) = try makePublicInbox(version: "-V2", messages: try sliceMessages())
        XCTAssertTrue(FileManager.default.fileExists(atPath: inbox + "/git/0.git"))

        let database = directory + "/results.sqlite"
        let result = try mmreview(["scan", inbox, "--db", database])
        XCTAssertEqual(result.status, 0, result.stderr)
        let counts = try DatabaseCounts(database)
        XCTAssertEqual([counts.messages, counts.patches, counts.links],
                       [Self.sliceCounts.messages, Self.sliceCounts.patches, Self.sliceCounts.links])
        // public-inbox adds its own headers, but the Message-IDs are the list's.
        let ids: [String] = try query(database, "SELECT message_id FROM messages WHERE message_id IS NOT NULL")
        XCTAssertEqual(Set(ids).count, Self.sliceCounts.messages)
    }

    func testPageDirectoryRecordsFindingsAgreementsAndFailures() throws {
        let directory = try temporaryDirectory(self)
        // The five seed pages, and seed 004 with one quoted line taken out of its flattened text,
        // which can no longer be rebuilt reliably.
        let pages = directory + "/pages"
        try FileManager.default.copyItem(atPath: Repository.seeds, toPath: pages)
        let seed004 = try String(contentsOfFile: pages + "/004_135183a29977c0f3.txt", encoding: .utf8)
        try seed004.replacingOccurrences(of: " > + nested_anon_vma = NULL;", with: "")
            .write(toFile: pages + "/004-cut.txt", atomically: true, encoding: .utf8)
        let database = directory + "/results.sqlite"
        let result = try mmreview(["scan", pages, "--db", database])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("6 messages read, 0 already stored, 6 stored (1 failed)"), result.stdout)
        let counts = try DatabaseCounts(database)
        XCTAssertEqual(counts.messages, 6)
        XCTAssertEqual(counts.patches, 5, "seed 004's flattened patch is rebuilt and reviewed")
        XCTAssertGreaterThan(counts.findings, 0)
        let failures: [String] = try query(database, "SELECT source || ': ' || failure FROM messages WHERE failure IS NOT NULL")
        XCTAssertEqual(failures, [pages + "/004-cut.txt:0: the message's line breaks were lost (a diff appears "
                                  + "flattened onto one line) and mmreview cannot rebuild the patch reliably: the "
                                  + "lines of hunk '@@ -1671,9 +1672,16 @@' do not add up to its line counts, so "
                                  + "its line breaks cannot be told apart from ' > ' in the code"])
        // Seed 001: the reviewer asked for the result of ctx->write() to be checked on the very
        // lines mmreview flags as unchecked-return.
        let agreed: [String] = try query(database, """
            SELECT DISTINCT f.rule || ' ' || f.code FROM reply_comments c
            JOIN message_patches mp ON mp.message_key = c.message_key AND mp.quoted = 1
            JOIN findings f ON f.patch_hash = mp.patch_hash AND f.code = c.code ORDER BY 1
            """)
        XCTAssertTrue(agreed.contains("unchecked-return ctx->write(path, len + 1, ctx);"), "\(agreed)")
    }

    func testMboxQuotingConventions() throws {
        // A line of the real archive (mboxrd-quoted once) as it would be stored quoted once more.
        let line = ">>From these results, we can see that Viresh's patch reduces the latency"
        let directory = try temporaryDirectory(self)
        let path = directory + "/one.mbox"
        let slice = try sliceMessages()[0]
        var mbox = Array("From mboxrd@z Thu Jan  1 00:00:00 1970\n".utf8) + slice
        mbox += Array((line + "\n").utf8)
        FileManager.default.createFile(atPath: path, contents: Data(mbox))
        func body(_ quoting: MboxQuoting) throws -> String {
            var messages: [ArchivedMessage] = []
            let reader = ArchiveReader(quoting: quoting, progress: ScanProgress(), stop: StopFlag())
            try reader.read(path) { messages.append($0) }
            XCTAssertEqual(messages.count, 1)
            return String(decoding: messages.first?.bytes ?? [], as: UTF8.self)
        }
        XCTAssertTrue(try body(.mboxrd).hasSuffix("\n>From these results, we can see that Viresh's patch reduces the latency\n"))
        XCTAssertTrue(try body(.mboxo).hasSuffix("\n>>From these results, we can see that Viresh's patch reduces the latency\n"))
        // The slice's `>From 2602…` line (a format-patch header inside a message) is not a separator.
        XCTAssertEqual(try sliceMessages().count, 41)
        XCTAssertTrue(try sliceMessages().contains { String(decoding: $0, as: UTF8.self)
            .contains("\nFrom 2602261b066a06f6884057d2cd7369951768b9ed Mon Sep 17 00:00:00 2001\n") })
    }

    func testUnreadableArchiveIsNamedAndTheOthersAreScanned() throws {
        let directory = try temporaryDirectory(self)
        let database = directory + "/results.sqlite"
        let result = try mmreview(["scan", directory + "/missing.mbox", Repository.slice, "--db", database])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("mmreview scan: \(directory)/missing.mbox: no such file or directory"),
                      result.stderr)
        XCTAssertEqual(try DatabaseCounts(database).messages, 41)
    }

    func testUsageErrors() throws {
        let noDatabase = try mmreview(["scan", Repository.slice])
        XCTAssertEqual(noDatabase.status, 2)
        XCTAssertTrue(noDatabase.stderr.contains("--db"), noDatabase.stderr)
        let badShard = try mmreview(["scan", Repository.slice, "--db", "/tmp/x.sqlite", "--shard", "4/4"])
        XCTAssertEqual(badShard.status, 2)
        XCTAssertTrue(badShard.stderr.contains("bad --shard '4/4': expected K/N with 0 <= K < N"), badShard.stderr)
    }

    /// The slice's messages, as the mbox reader hands them out (`From ` lines removed).
    private func sliceMessages() throws -> [[UInt8]] {
        var messages: [[UInt8]] = []
        let reader = ArchiveReader(quoting: .mboxrd, progress: ScanProgress(), stop: StopFlag())
        try reader.read(Repository.slice) { messages.append($0.bytes) }
        return messages
    }
}
