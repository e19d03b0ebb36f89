import Foundation
import Testing

/// The email reply for every seed, compared byte for byte with a stored snapshot in
/// Tests/MMReviewTests/Snapshots. A change in wording shows up here as a diff to read; to accept
/// it on purpose, run `MMREVIEW_UPDATE_SNAPSHOTS=1 swift test --filter EmailSnapshotTests` and
/// commit the rewritten files.
@Suite(.serialized) struct EmailSnapshotTests {
    static let seeds = ["000", "001", "002", "003", "004"]

    @Test(arguments: seeds)
    func emailReplyMatchesTheSnapshot(_ prefix: String) throws {
        let seed = try Repository.seed(prefix)
        let run = try runMMReview([seed.name], stdin: [])
        // What the user sees: the reply on standard output, messages on standard error.
        var seen = "exit status \(run.status)\n" + run.stdout
        if !run.stderr.isEmpty { seen += "[stderr]\n" + run.stderr }
        let name = URL(fileURLWithPath: seed.name).deletingPathExtension().lastPathComponent + ".email.txt"
        let url = Repository.root.appendingPathComponent("Tests/MMReviewTests/Snapshots").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["MMREVIEW_UPDATE_SNAPSHOTS"] == "1" {
            try Data(seen.utf8).write(to: url)
            return
        }
        let stored = try String(contentsOf: url, encoding: .utf8)
        #expect(seen == stored, "snapshot \(name) differs; MMREVIEW_UPDATE_SNAPSHOTS=1 rewrites it")
    }
}
