import ArgumentParser
import Foundation
import MMScan

/// `mmreview merge OUT.sqlite IN.sqlite…`: combine the databases of a sharded scan.
struct MergeCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmreview merge",
        abstract: "Combine scan databases (e.g. the shards of 'mmreview scan --shard K/N') into one.",
        discussion: "OUT is created when missing; the inputs are only read. Exit status: 0 merged, 2 unusable database.")

    @Argument(help: "The database to merge into.")
    var output: String

    @Argument(help: "Scan databases to merge.")
    var inputs: [String] = []

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("no input database: give OUT.sqlite and one or more scan databases") }
        if inputs.contains(output) { throw ValidationError("'\(output)' is both the output and an input") }
    }

    func execute() -> Int32 {
        do {
            let summary = try ScanMerge().merge(into: output, from: inputs)
            print("merged \(summary.inputs) database\(summary.inputs == 1 ? "" : "s") into \(output): "
                  + "\(summary.messages) messages, \(summary.patches) patches, \(summary.findings) findings")
            return Status.clean
        } catch {
            printError("mmreview merge: \(error)")
            return Status.unusable
        }
    }
}
