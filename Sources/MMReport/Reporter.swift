import MMCore

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

    public init(findings: [Finding], errors: [InputError] = [], patches: [Patch] = [],
                toolVersion: String, libclangVersion: String, includeUnchanged: Bool = false) {
        self.findings = findings
        self.errors = errors
        self.patches = patches
        self.toolVersion = toolVersion
        self.libclangVersion = libclangVersion
        self.includeUnchanged = includeUnchanged
    }
}

/// Turns a run's findings into text. Pure: the same input always gives the same text.
/// The text ends with a newline unless it is empty (nothing to print).
public protocol Reporter: Sendable {
    func render(_ input: ReportInput) -> String
}

public enum ReportFormat: String, CaseIterable, Sendable {
    case email, gcc, json

    /// The form used when the user names none.
    public static let defaultFormat: ReportFormat = .email

    public func makeReporter() -> any Reporter {
        switch self {
        case .email: return EmailReporter()
        case .gcc: return GCCReporter()
        case .json: return JSONReporter()
        }
    }
}
