import Foundation
import MMExtract
import MMFacts
import MMReview

/// Where one review command runs for: this process's own directory, environment and standard
/// streams, or those of a `mmreview-client` that `mmreview serve` answers. The review reads and
/// writes only through this, so that both give the same output byte for byte.
struct Invocation {
    /// The caller's working directory; relative paths are taken from it.
    var directory: String
    var environment: [String: String]
    var stdoutIsTerminal: Bool
    var stderrIsTerminal: Bool
    /// False when output is collected and sent at the end, where a progress line means nothing.
    var drawsProgress: Bool
    var readStandardInput: () -> [UInt8]
    var writeOutput: (String) -> Void
    var writeError: (String) -> Void

    /// This process: its working directory, environment and file descriptors 0, 1 and 2.
    static func ownProcess() -> Invocation {
        Invocation(directory: FileManager.default.currentDirectoryPath,
                   environment: ProcessInfo.processInfo.environment,
                   stdoutIsTerminal: isatty(STDOUT_FILENO) == 1, stderrIsTerminal: isatty(STDERR_FILENO) == 1,
                   drawsProgress: true,
                   readStandardInput: { Array(FileHandle.standardInput.readDataToEndOfFile()) },
                   writeOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
                   writeError: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// `path` as the caller meant it: absolute paths as they are, others under `directory`.
    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }

    func printOutput(_ text: String, terminator: String = "\n") { writeOutput(text + terminator) }
    func printError(_ text: String) { writeError(text + "\n") }
}

/// What a review needs that may outlive it. A process that reviews once builds it afresh;
/// `mmreview serve` keeps it between reviews (ResidentResources).
protocol ReviewResources {
    /// The bundled facts extended by `files` (from --rules and the configuration).
    func facts(extendedBy files: [(name: String, text: String)]) throws(FactsError) -> KernelFacts
    func reviewer(facts: KernelFacts, options: ReviewOptions) throws(ExtractError) -> Reviewer
}

/// Everything made for this one review, the prelude taken from the on-disk cache.
struct FreshResources: ReviewResources {
    func facts(extendedBy files: [(name: String, text: String)]) throws(FactsError) -> KernelFacts {
        try FactsLoader().bundled(extendedBy: files)
    }

    func reviewer(facts: KernelFacts, options: ReviewOptions) throws(ExtractError) -> Reviewer {
        try Reviewer(facts: facts, options: options, preludeCache: PreludeCache.standard())
    }
}
