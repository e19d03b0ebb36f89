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

/// Runs the mmreview executable from the repository root with the given arguments and standard
/// input (through runProgram, so neither a large output nor a large input can block the child).
func runMMReview(_ arguments: [String], stdin: [UInt8] = []) throws -> ProcessResult {
    try runProgram(Repository.executable.path, arguments, in: Repository.root, stdin: stdin)
}
