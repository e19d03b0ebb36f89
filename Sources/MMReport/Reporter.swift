import MMCore

/// What a report says about a rule (SARIF's `tool.driver.rules`): the same text `mmreview rules
/// explain` prints, handed in by the caller because MMReport does not depend on the checks.
public struct ReportRule: Sendable, Hashable {
    public var id: String
    /// "LockLeak".
    public var name: String
    public var summary: String
    public var rationale: String
    /// What to write instead.
    public var advice: String
    public var severity: Severity
    public var references: [String]
    /// C code the rule reports, its line marked with `↓`.
    public var example: String
    /// C code that does it right.
    public var instead: String

    public init(id: String, name: String, summary: String, rationale: String, advice: String,
                severity: Severity, references: [String] = [], example: String = "", instead: String = "") {
        self.id = id
        self.name = name
        self.summary = summary
        self.rationale = rationale
        self.advice = advice
        self.severity = severity
        self.references = references
        self.example = example
        self.instead = instead
    }
}

/// Everything a reporter needs: the findings of one run and what was reviewed.
public struct ReportInput: Sendable {
    /// Already sorted with `Finding.reportOrder`; reporters keep this order.
    public var findings: [Finding]
    public var errors: [InputError]
    /// Every patch reviewed, for subjects, message ids and the hunk lines to quote.
    public var patches: [Patch]
    public var toolVersion: String
    /// As libclang reports it ("clang version 14.0.6").
    public var libclangVersion: String
    /// Show findings present before and after the patch in the email form too (gcc and json always
    /// list them).
    public var includeUnchanged: Bool
    /// Every rule that ran, for formats that describe their rules (SARIF).
    public var rules: [ReportRule]
    /// ANSI colour for a terminal; the caller decides (TTY and NO_COLOR), reporters only obey.
    public var colour: Bool

    /// What the user should know about how inputs were read (a flattened diff rebuilt, a hunk cut
    /// short), once per input and text, in patch order.
    public var inputNotes: [(input: String, message: String)] {
        var seen: Set<[String]> = []
        return patches.compactMap { patch in
            guard let note = patch.origin.note, seen.insert([patch.origin.input, note]).inserted else { return nil }
            return (patch.origin.input, note)
        }
    }

    public init(findings: [Finding], errors: [InputError] = [], patches: [Patch] = [],
                toolVersion: String, libclangVersion: String, includeUnchanged: Bool = false,
                rules: [ReportRule] = [], colour: Bool = false) {
        self.findings = findings
        self.errors = errors
        self.patches = patches
        self.toolVersion = toolVersion
        self.libclangVersion = libclangVersion
        self.includeUnchanged = includeUnchanged
        self.rules = rules
        self.colour = colour
    }
}

/// Turns a run's findings into text. Pure: the same input always gives the same text.
/// The text ends with a newline unless it is empty (nothing to print).
public protocol Reporter: Sendable {
    func render(_ input: ReportInput) -> String
}

public enum ReportFormat: String, CaseIterable, Sendable {
    case email, gcc, json, sarif, checkpatch

    /// The form used when the user names none.
    public static let defaultFormat: ReportFormat = .email

    public func makeReporter() -> any Reporter {
        switch self {
        case .email: return EmailReporter()
        case .gcc: return GCCReporter()
        case .json: return JSONReporter()
        case .sarif: return SARIFReporter()
        case .checkpatch: return CheckpatchReporter()
        }
    }

    /// Machine-read forms print their (empty) document even when nothing was found; the terse
    /// checkpatch form prints nothing then, as `checkpatch.pl -q` does.
    public var isDocument: Bool { self == .json || self == .sarif }
}

/// When to colour: only for a person at a terminal who has not asked for no colour
/// (https://no-color.org: NO_COLOR set to anything, even empty, turns it off).
public enum ColourPolicy {
    public static func enabled(stdoutIsTerminal: Bool, environment: [String: String]) -> Bool {
        stdoutIsTerminal && environment["NO_COLOR"] == nil
    }
}
