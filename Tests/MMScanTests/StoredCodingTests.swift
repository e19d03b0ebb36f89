import Foundation
import GRDB
import MMCore
import MMPatch
@testable import MMScan
import XCTest

/// The scan database's encoding of patches and findings: the report rebuilds exactly what the scan
/// stored, and databases written with the older JSON encoding still report the same.
final class StoredCodingTests: XCTestCase {
    /// Every patch of every Corpus mail (posted, quoted, rebuilt from flattened text) comes back equal.
    func testEveryCorpusPatchRoundTrips() throws {
        let corpus = Repository.root.appendingPathComponent("Corpus").path
        let files = FileManager.default.enumerator(atPath: corpus)!.compactMap { $0 as? String }
            .filter { !$0.hasSuffix(".yaml") && !$0.hasSuffix(".md") }.sorted()
        var patches = 0
        for file in files {
            let path = corpus + "/" + file
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            guard let read = try? InputReader().read(bytes: bytes, name: file, firstIndex: 0) else { continue }
            for patch in read {
                XCTAssertEqual(try StoredCoding.decodePatch(StoredCoding.encode(patch)), patch, file)
                patches += 1
            }
        }
        XCTAssertGreaterThan(patches, 50, "the Corpus holds more patches than that")
    }

    /// Notes, negative and absent numbers, and text with newlines, `:` and non-ASCII survive.
    func testFindingRoundTrips() throws {
        let origin = PatchOrigin(input: "-", index: 3, subject: "mm: fix – the ‘lock’", messageID: nil,
                                 author: "Zoë <z@example.org>", date: "Tue, 5 Mar 2019", quoted: true,
                                 note: "rebuilt:\nfrom flattened text")
        let finding = Finding(rule: "lock-leak", severity: .error, status: .fixed, file: "mm/memory.c", line: 12,
                              column: -1, function: "do_fault", code: "spin_lock(&ptl);", message: "a: b\n12:c",
                              notes: [FindingNote(file: "mm/memory.c", line: 0, code: "", message: "taken here")],
                              patch: origin, matchKey: "")
        XCTAssertEqual(try StoredCoding.decodeFinding(StoredCoding.encode(finding)), finding)
        XCTAssertThrowsError(try StoredCoding.decodeFinding(String(StoredCoding.encode(finding).dropLast(3))))
    }

    /// A database whose patches and findings were stored as JSON (mmreview before this encoding)
    /// gives the same report and HTML page.
    func testDatabaseWrittenAsJSONReportsTheSame() throws {
        let directory = try temporaryDirectory(self)
        let database = directory + "/results.sqlite"
        let scan = try mmreview(["scan", Repository.seeds, "--db", database])
        XCTAssertEqual(scan.status, 0, scan.stderr)
        let current = try mmreview(["report", "--db", database, "--html", directory + "/current.html"])
        XCTAssertEqual(current.status, 0, current.stderr)

        let queue = try DatabaseQueue(path: database)
        try queue.write { db in
            let encoder = JSONEncoder()
            for row in try Row.fetchAll(db, sql: "SELECT hash, patch_json FROM patches") {
                let json = String(decoding: try encoder.encode(try StoredCoding.decodePatch(row[1])), as: UTF8.self)
                try db.execute(sql: "UPDATE patches SET patch_json = ? WHERE hash = ?", arguments: [json, row[0]])
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, finding_json FROM findings") {
                let json = String(decoding: try encoder.encode(try StoredCoding.decodeFinding(row[1])), as: UTF8.self)
                try db.execute(sql: "UPDATE findings SET finding_json = ? WHERE id = ?", arguments: [json, row[0]])
            }
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM patches WHERE patch_json LIKE '{%'"), 5)
        }
        let legacy = try mmreview(["report", "--db", database, "--html", directory + "/legacy.html"])
        XCTAssertEqual(legacy.status, 0, legacy.stderr)
        XCTAssertEqual(legacy.stdout, current.stdout)
        XCTAssertEqual(try String(contentsOfFile: directory + "/legacy.html", encoding: .utf8),
                       try String(contentsOfFile: directory + "/current.html", encoding: .utf8))
    }
}
