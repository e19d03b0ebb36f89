import ArgumentParser
import Foundation
import MMChecks
import MMConfig
import MMCore
import MMExtract
import MMFacts
import MMReport
import MMReview

/// Exit statuses: 0 nothing at or above --fail-on, 1 findings, 2 unusable input or usage error.
enum Status {
    static let clean: Int32 = 0
    static let findings: Int32 = 1
    static let unusable: Int32 = 2
}

let toolVersion = "0.1.0"

struct MMReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmreview",
        abstract: "Review Linux kernel mm locking patches from the diff alone.",
        discussion: """
            Reads unified and git diffs, git format-patch mails and series, mails that quote a patch \
            with '> ', mailboxes and list-archive pages. Rebuilds every touched function before and \
            after the patch, parses both with libclang, and reports lock problems the patch \
            introduces or fixes. Exit status: 0 clean, 1 findings at or above --fail-on, 2 unusable \
            input or usage error.
            """,
        version: toolVersion)

    @Argument(help: "Patch, mail or mailbox files; '-' reads standard input.")
    var inputs: [String] = []

    @Option(help: "Output format: email (a reply to the list), gcc (file:line:col: warning: … [rule]), json (schema version 1), sarif (SARIF 2.1.0), checkpatch (checkpatch.pl --terse lines, for b4).")
    var format: ReportFormat = .email

    @Option(name: .customLong("fail-on"), help: "Lowest severity that makes the exit status 1: error, warning or note (default warning, or fail-on in .mmreview.yaml).")
    var failOn: Severity?

    @Option(name: .customLong("config"), help: "Read this configuration instead of the .mmreview.yaml at the root of the current git repository.")
    var configPath: String?

    @Flag(name: .customLong("show-unchanged"), help: "Also report problems present both before and after the patch.")
    var showUnchanged = false

    @Option(name: .customLong("rules"), help: "A directory of extra YAML lock facts, added to the bundled Rules/.")
    var rulesDirectory: String?

    @Option(name: .customLong("only"), parsing: .singleValue, help: "Run only this rule (repeatable); the rules are listed in README.md.")
    var onlyRules: [String] = []

    @Flag(help: "Print nothing unless something fails (findings at or above --fail-on).")
    var quiet = false

    @Flag(name: .customLong("no-summary"), help: "With --format checkpatch: leave out the 'total:' line, as checkpatch.pl --no-summary does (for b4).")
    var noSummary = false

    @Flag(name: .customLong("dump-models"), help: "Print the extracted function models as JSON instead of findings (for debugging the parse).")
    var dumpModels = false

    func validate() throws {
        if inputs.isEmpty {
            throw ValidationError("no input: give a patch, mail or mailbox file, or '-' for standard input")
        }
        for rule in onlyRules where !ruleIDs.contains(rule) {
            throw ValidationError("unknown rule '\(rule)' for --only; rules are \(ruleIDs.joined(separator: ", "))")
        }
    }

    func execute() -> Int32 {
        execute(in: .ownProcess(), resources: FreshResources())
    }

    /// The review, reading and writing only through `invocation` (see Invocation) and taking
    /// facts and the reviewer from `resources`.
    func execute(in invocation: Invocation, resources: some ReviewResources) -> Int32 {
        let configuration: Configuration
        do {
            configuration = try loadConfiguration(invocation)
        } catch {
            invocation.printError("mmreview: \(error)")
            return Status.unusable
        }
        let facts: KernelFacts
        do {
            facts = try loadFacts(configuration, invocation: invocation, resources: resources)
        } catch {
            invocation.printError("mmreview: bad rules: \(error)")
            return Status.unusable
        }
        var reviewInputs: [ReviewInput] = []
        var readErrors: [InputError] = []
        for name in inputs {
            switch readInput(name, invocation) {
            case .success(let bytes): reviewInputs.append(ReviewInput(name: name, bytes: bytes))
            case .failure(let error): readErrors.append(error)
            }
        }
        // --only picks the rules to run; the configuration can still turn some off.
        let selected = Set(onlyRules.isEmpty ? ruleIDs : onlyRules).subtracting(configuration.disabled)
        let reviewer: Reviewer
        do {
            reviewer = try resources.reviewer(facts: facts, options: ReviewOptions(
                showUnchanged: showUnchanged, enabledRules: selected.count == ruleIDs.count ? nil : selected,
                checkThreads: ProcessInfo.processInfo.activeProcessorCount))
        } catch {
            invocation.printError("mmreview: \(error)")
            return Status.unusable
        }
        let progressLine = ProgressLine(enabled: invocation.drawsProgress && invocation.stderrIsTerminal && !quiet,
                                        write: invocation.writeError)
        var result = reviewer.review(reviewInputs, progress: progressLine.update)
        progressLine.clear()
        result.errors.insert(contentsOf: readErrors, at: 0)
        result.findings = configuration.apply(to: result.findings)

        if dumpModels {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if let data = try? encoder.encode(result.functions), let text = String(data: data, encoding: .utf8) {
                invocation.printOutput(text)
            }
            return result.errors.isEmpty ? Status.clean : Status.unusable
        }

        for error in result.errors {
            // Some messages already start with the input's name ("x.bin is binary data…").
            let named = error.message.hasPrefix(error.input + " ") ? error.message : "\(error.input): \(error.message)"
            invocation.printError("mmreview: \(named)")
        }
        // How an input was read when that was out of the ordinary (a flattened diff rebuilt).
        var noted: Set<String> = []
        for patch in result.patches {
            guard let note = patch.origin.note, noted.insert(patch.origin.input + note).inserted else { continue }
            invocation.printError("mmreview: note: \(patch.origin.input): \(note)")
        }
        if let first = result.repeats.first, !quiet {
            let count = result.repeats.count
            invocation.printError("mmreview: note: \(count) patch\(count == 1 ? "" : "es") repeat\(count == 1 ? "s" : "") the diff "
                       + "of an earlier one (first: patch \(first.patch.index + 1) repeats patch "
                       + "\(first.repeats.index + 1), '\(first.repeats.subject)'); each diff was reviewed once")
        }
        let threshold = failOn ?? configuration.failOn ?? .warning
        let failing = result.findings.contains { $0.status != .fixed && $0.severity >= threshold }
        // --quiet: nothing on standard output unless something fails (the pre-send hook's case).
        let silent = quiet && !failing
        if !silent && !(result.patches.isEmpty && !format.isDocument) {
            let report = ReportInput(findings: result.findings, errors: result.errors, patches: result.patches,
                                     toolVersion: toolVersion, libclangVersion: reviewer.libclangVersion,
                                     includeUnchanged: showUnchanged, rules: reportRules(selected),
                                     colour: ColourPolicy.enabled(stdoutIsTerminal: invocation.stdoutIsTerminal,
                                                                  environment: invocation.environment))
            let reporter = format == .checkpatch ? CheckpatchReporter(summary: !noSummary) : format.makeReporter()
            let text = reporter.render(report)
            if !text.isEmpty { invocation.printOutput(text, terminator: text.hasSuffix("\n") ? "" : "\n") }
        }
        return result.exitStatus(failOn: threshold)
    }

    /// `--config FILE`, else the `.mmreview.yaml` at the root of the caller's git work tree, else
    /// the defaults.
    private func loadConfiguration(_ invocation: Invocation) throws(ConfigError) -> Configuration {
        let loader = ConfigurationLoader(ruleIDs: ruleIDs)
        if let configPath { return try loader.load(path: invocation.resolve(configPath)) }
        guard let found = ConfigurationLoader.locate(from: invocation.directory) else {
            return Configuration()
        }
        return try loader.load(path: found)
    }

    /// The bundled facts, then `--rules`, then the configuration's `rules` directory and `facts`.
    private func loadFacts(_ configuration: Configuration, invocation: Invocation,
                           resources: some ReviewResources) throws(FactsError) -> KernelFacts {
        let loader = FactsLoader()
        var files: [(name: String, text: String)] = []
        if let rulesDirectory { files += try loader.readDirectory(invocation.resolve(rulesDirectory)) }
        if let directory = configuration.rulesDirectory { files += try loader.readDirectory(directory) }
        if let text = configuration.factsText {
            files.append(("\(configuration.file ?? Configuration.fileName): facts", text))
        }
        return try resources.facts(extendedBy: files)
    }

    /// The descriptions of the rules that ran, for SARIF's rule metadata.
    private func reportRules(_ selected: Set<String>) -> [ReportRule] {
        CheckRegistry.all.map(\.description).filter { selected.contains($0.id) }.map(ReportRule.init)
    }

    private var ruleIDs: [String] { CheckRegistry.all.map(\.description.id) }

    private func readInput(_ name: String, _ invocation: Invocation) -> Result<[UInt8], InputError> {
        if name == "-" {
            return .success(invocation.readStandardInput())
        }
        let path = invocation.resolve(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(InputError(input: name, message: "no such file"))
        }
        if isDirectory.boolValue {
            return .failure(InputError(input: name, message: "is a directory; give patch or mailbox files"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(InputError(input: name, message: "cannot be read (permission denied?)"))
        }
        return .success(Array(data))
    }
}

/// "reviewing 120/5000 patches" on a terminal's standard error while a large input is reviewed,
/// redrawn at most every quarter second; nothing for small inputs or when stderr is not a terminal.
final class ProgressLine {
    private let enabled: Bool
    private let write: (String) -> Void
    private var lastDrawn: Date?
    private var drawn = false

    init(enabled: Bool, write: @escaping (String) -> Void) {
        self.enabled = enabled
        self.write = write
    }

    func update(done: Int, total: Int) {
        guard enabled, total >= 20 else { return }
        let now = Date()
        if let lastDrawn, now.timeIntervalSince(lastDrawn) < 0.25, done < total { return }
        lastDrawn = now
        drawn = true
        write("\rmmreview: reviewing \(done)/\(total) patches\u{1B}[K")
    }

    func clear() {
        if drawn { write("\r\u{1B}[K") }
    }
}

extension ReportFormat: ExpressibleByArgument {}
extension Severity: ExpressibleByArgument {}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Subcommands are named by the first argument (`mmreview scan …`); anything else is the review
/// itself, so `mmreview patch.diff` keeps working. A file that happens to be called like a
/// subcommand can still be reviewed as `./scan`.
let subcommands: [String: any ParsableCommand.Type] = Subcommands.all

let arguments = Array(CommandLine.arguments.dropFirst())
if let first = arguments.first, let command = subcommands[first] {
    exit(runSubcommand(command, arguments: Array(arguments.dropFirst())))
}

// Parse errors are usage errors (exit 2), not ArgumentParser's default 64; --help and --version exit 0.
do {
    let command = try MMReviewCommand.parseAsRoot(arguments)
    guard let review = command as? MMReviewCommand else {
        var other = command
        try other.run()
        exit(Status.clean)
    }
    exit(review.execute())
} catch {
    let code = MMReviewCommand.exitCode(for: error)
    if code == .success {
        print(MMReviewCommand.fullMessage(for: error))
        exit(Status.clean)
    }
    printError(MMReviewCommand.fullMessage(for: error))
    printError("Usage: mmreview [--format email|gcc|json|sarif|checkpatch] [--fail-on error|warning|note] [--config FILE] <patch-or-mail>... ('mmreview --help' for more)")
    exit(Status.unusable)
}
