import Foundation
import MMCore
import MMFacts
import MMReview

/// Paths and helpers shared by the end-to-end tests.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func seed(_ prefix: String) throws -> ReviewInput {
        let directory = root.appendingPathComponent("Corpus/seeds")
        let name = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            .first { $0.hasPrefix(prefix) && $0.hasSuffix(".txt") } ?? prefix
        let url = directory.appendingPathComponent(name)
        return ReviewInput(name: "Corpus/seeds/" + name, bytes: Array(try Data(contentsOf: url)))
    }

    static func allSeeds() throws -> [ReviewInput] {
        try ["000", "001", "002", "003", "004"].map(seed)
    }

    /// The mmreview executable built next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mmreview")
    }
}

func makeReviewer(showUnchanged: Bool = false) throws -> Reviewer {
    try Reviewer(facts: FactsLoader().bundled(), options: ReviewOptions(showUnchanged: showUnchanged))
}

/// A C source as a git patch that adds it as a new file, so every line is an added line.
func newFilePatch(path: String = "mm/example.c", source: String) -> [UInt8] {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var text = """
        diff --git a/\(path) b/\(path)
        new file mode 100644
        index 0000000..1111111
        --- /dev/null
        +++ b/\(path)
        @@ -0,0 +1,\(lines.count) @@

        """
    for line in lines { text += "+" + line + "\n" }
    return Array(text.utf8)
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the mmreview executable with the given arguments and standard input. Output goes through
/// temporary files so that neither a large output nor a large input can block the child.
func runMMReview(_ arguments: [String], stdin: [UInt8] = []) throws -> ProcessResult {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("mmreview-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let inURL = directory.appendingPathComponent("stdin")
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    try Data(stdin).write(to: inURL)
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = Repository.executable
    process.arguments = arguments
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
