import Foundation
import GRDB
import XCTest

/// Paths, the mmreview executable and database counts for the scan tests.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The first 40 messages of the cgroups list archive (2019) and one later message whose body
    /// carries an mboxrd-quoted `>From ` line, cut byte-exact from the real mbox.
    static var slice: String {
        root.appendingPathComponent("Tests/MMScanTests/Fixtures/cgroups-2019-slice.mbox").path
    }

    static var seeds: String { root.appendingPathComponent("Corpus/seeds").path }

    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mmreview")
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmscan-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Runs a program to the end; output goes through files so a large output cannot block it.
func runProgram(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
         stdin: [UInt8] = []) throws -> ProcessResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmscan-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let inURL = directory.appendingPathComponent("stdin")
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    try Data(stdin).write(to: inURL)
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.currentDirectoryURL = Repository.root
    process.standardInput = try FileHandle(forReadingFrom: inURL)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

func mmreview(_ arguments: [String]) throws -> ProcessResult {
    try runProgram(Repository.executable, arguments)
}

/// How many findings `mmreview --format json` reports on these files, one review each: what a
/// scan of them must store and a report of it must list.
func reviewedFindingCount(_ paths: [String]) throws -> Int {
    var total = 0
    for path in paths {
        let run = try mmreview(["--format", "json", path])
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        total += (object?["findings"] as? [Any])?.count ?? 0
    }
    return total
}

/// The seed threads' files (their expectation files beside them are not mail).
var seedFiles: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: Repository.seeds)) ?? []).filter { $0.hasSuffix(".txt") }
        .sorted().map { Repository.seeds + "/" + $0 }
}

/// What a user would count in a scan database.
struct DatabaseCounts: Equatable, CustomStringConvertible {
    var messages = 0
    var failed = 0
    var patches = 0
    var reviewedPatches = 0
    var links = 0
    var findings = 0
    var comments = 0
    var agreements = 0

    init(_ path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            messages = try count("SELECT COUNT(*) FROM messages")
            failed = try count("SELECT COUNT(*) FROM messages WHERE failure IS NOT NULL")
            patches = try count("SELECT COUNT(*) FROM patches")
            reviewedPatches = try count("SELECT COUNT(*) FROM patches WHERE analysis IS NOT NULL")
            links = try count("SELECT COUNT(*) FROM message_patches")
            findings = try count("SELECT COUNT(*) FROM findings")
            comments = try count("SELECT COUNT(*) FROM reply_comments")
            agreements = try count("""
                SELECT COUNT(*) FROM reply_comments c
                JOIN message_patches mp ON mp.message_key = c.message_key AND mp.quoted = 1
                JOIN findings f ON f.patch_hash = mp.patch_hash AND f.code = c.code
                """)
        }
    }

    var description: String {
        "messages \(messages) (failed \(failed)), patches \(patches) (reviewed \(reviewedPatches)), links \(links), "
            + "findings \(findings), comments \(comments), agreements \(agreements)"
    }
}

func query<T: DatabaseValueConvertible>(_ path: String, _ sql: String) throws -> [T] {
    var configuration = Configuration()
    configuration.readonly = true
    return try DatabaseQueue(path: path, configuration: configuration).read { db in
        try T.fetchAll(db, sql: sql)
    }
}
