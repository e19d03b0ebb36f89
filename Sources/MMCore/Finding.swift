// What the checks produce and the reporters print. Findings are values, never thrown.

public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case note, warning, error

    private var rank: Int {
        switch self {
        case .note: return 0
        case .warning: return 1
        case .error: return 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

public enum FindingStatus: String, Sendable, Hashable, Codable {
    /// Present after the patch only.
    case introduced
    /// Present before the patch only.
    case fixed
    /// Present before and after.
    case unchanged
}

/// A secondary location: where the lock was taken, where a result is checked elsewhere.
public struct FindingNote: Sendable, Hashable, Codable {
    public var file: String
    public var line: Int
    public var code: String
    public var message: String

    public init(file: String, line: Int, code: String, message: String) {
        self.file = file
        self.line = line
        self.code = code
        self.message = message
    }
}

public struct Finding: Sendable, Hashable, Codable {
    public var rule: String
    public var severity: Severity
    public var status: FindingStatus
    /// New-file path; old-file path for fixed findings.
    public var file: String
    /// New-file line; old-file line for fixed findings.
    public var line: Int
    public var column: Int
    public var function: String
    /// The source line, trimmed, without diff marker.
    public var code: String
    public var message: String
    public var notes: [FindingNote]
    public var patch: PatchOrigin
    /// What identifies "the same problem" before and after the patch independent of line numbers
    /// (for example the lock and the exit's code text).
    public var matchKey: String

    public init(rule: String, severity: Severity, status: FindingStatus, file: String, line: Int,
                column: Int = 1, function: String, code: String, message: String,
                notes: [FindingNote] = [], patch: PatchOrigin, matchKey: String) {
        self.rule = rule
        self.severity = severity
        self.status = status
        self.file = file
        self.line = line
        self.column = column
        self.function = function
        self.code = code
        self.message = message
        self.notes = notes
        self.patch = patch
        self.matchKey = matchKey
    }
}

extension Finding {
    /// The documented order: patch, file, line, rule.
    public static func reportOrder(_ a: Finding, _ b: Finding) -> Bool {
        if a.patch.index != b.patch.index { return a.patch.index < b.patch.index }
        if a.file != b.file { return a.file < b.file }
        if a.line != b.line { return a.line < b.line }
        if a.rule != b.rule { return a.rule < b.rule }
        if a.message != b.message { return a.message < b.message }
        // Two findings can share line, rule and message and differ in their notes (a pointer set
        // at two lines, both reaching one dereference): the notes settle it, so the order does
        // not depend on which a check's hash-ordered walk met first.
        if a.column != b.column { return a.column < b.column }
        if a.status != b.status { return a.status.rawValue < b.status.rawValue }
        for (x, y) in zip(a.notes, b.notes) where x.line != y.line || x.message != y.message {
            return x.line != y.line ? x.line < y.line : x.message < y.message
        }
        if a.notes.count != b.notes.count { return a.notes.count < b.notes.count }
        return a.function < b.function
    }
}

/// An input that could not be used, reported instead of findings for it.
public struct InputError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var input: String
    public var message: String

    public init(input: String, message: String) {
        self.input = input
        self.message = message
    }

    public var description: String { "\(input): \(message)" }
}
