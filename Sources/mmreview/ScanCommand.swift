import ArgumentParser
import Foundation
import MMScan

extension MboxQuoting: ExpressibleByArgument {}

/// `mmreview scan ARCHIVE… --db results.sqlite`: every patch of every message into SQLite.
struct ScanCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmreview scan",
        abstract: "Review every patch in mailing-list archives and store the results in SQLite.",
        discussion: """
            ARCHIVE is an mbox (mboxrd or mboxo, optionally .xz or .gz), a Maildir, a public-inbox \
            repository (v1, or v2 with its git/N.git epochs), or a directory of archive pages \
            (pipermail text or HTML, MHonArc HTML). A rerun skips what is stored already; a scan \
            stopped by Ctrl-C or kill -9 resumes where its last commit ended. Exit status: 0 \
            scanned, 2 unusable arguments, database or archive.
            """)

    @Argument(help: "Archives: mbox files, Maildirs, public-inbox repositories, directories of pages.")
    var archives: [String] = []

    @Option(name: .customLong("db"), help: "The SQLite database to fill (created when missing).")
    var database: String

    @Option(help: "Keep only messages whose Message-ID hashes to K of N (0 <= K < N), e.g. 0/4.")
    var shard: String?

    @Option(name: .customLong("mbox-quoting"), help: "How 'From ' lines in mbox bodies were escaped: mboxrd or mboxo.")
    var quoting: MboxQuoting = .mboxrd

    @Option(help: "Worker threads (default: one per core).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("batch-size"), help: "Messages stored per transaction (what a crash can cost).")
    var batchSize: Int = 500

    @Option(name: .customLong("rules"), help: "A directory of extra YAML lock facts, added to the bundled Rules/.")
    var rulesDirectory: String?

    func validate() throws {
        if archives.isEmpty { throw ValidationError("no archive: give mbox files, Maildirs, public-inbox repositories or page directories") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func execute() -> Int32 {
        var options = ScanOptions(archives: archives, database: database, toolVersion: toolVersion)
        options.quoting = quoting
        options.workers = jobs
        options.batchSize = batchSize
        options.rulesDirectory = rulesDirectory
        options.showProgress = isatty(STDERR_FILENO) == 1
        do {
            options.shard = try shard.map { text throws(ScanError) in try Shard(text) }
        } catch {
            printError("mmreview scan: \(error)")
            return Status.unusable
        }
        // Ctrl-C stops reading; what was read is finished and committed, and a rerun resumes.
        let stop = StopFlag()
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { stop.raise() }
        interrupt.resume()
        defer { interrupt.cancel() }

        let summary: ScanSummary
        do {
            summary = try Scanner(options: options).run(stop: stop)
        } catch {
            printError("mmreview scan: \(error)")
            return Status.unusable
        }
        for error in summary.archiveErrors { printError("mmreview scan: \(error)") }
        let counts = summary.counts
        print("""
            run \(summary.run)\(summary.interrupted ? " (interrupted; rerun to resume)" : ""): \
            \(counts.messagesRead) messages read, \(counts.messagesSkipped) already stored, \
            \(counts.messagesStored) stored (\(counts.messagesFailed) failed), \(counts.patchesSeen) patches, \
            \(counts.patchesReviewed) reviewed, \(counts.findings) findings
            """)
        return summary.archiveErrors.isEmpty ? Status.clean : Status.unusable
    }
}
