import Foundation
import MMCore
import MMReview

/// What mmreview said about one corpus case, set against its expectations.
public struct CaseOutcome: Sendable {
    public var expectation: ExpectationCase
    /// Every finding, unchanged ones included.
    public var findings: [Finding]
    public var errors: [InputError]
    public var exitStatus: Int32
    public var found: [ExpectedFinding]
    public var missed: [ExpectedFinding]
    public var todoFound: [ExpectedFinding]
    public var todoMissed: [ExpectedFinding]
    public var quietHits: [(line: QuietLine, finding: Finding)]
    /// Introduced or fixed findings no entry names (unchanged ones are pre-existing and not counted).
    public var other: [Finding]
    /// Why the exit status or the error text differ from the expectation, if they do.
    public var exitProblem: String?

    /// The case fails eval: a must-find missed, a must-not-flag hit, or the wrong exit or error.
    public var failed: Bool { !missed.isEmpty || !quietHits.isEmpty || exitProblem != nil }
    /// Findings that an entry (must-find or todo) names.
    public var matchedFindingCount: Int
}

/// Runs corpus cases through one Reviewer and matches findings to expectations.
public final class Evaluator {
    private let reviewer: Reviewer

    /// The reviewer must report unchanged findings too, so entries can name them.
    public init(reviewer: Reviewer) {
        self.reviewer = reviewer
    }

    public func run(_ expectation: ExpectationCase) -> CaseOutcome {
        var result: ReviewResult
        if let data = FileManager.default.contents(atPath: expectation.inputPath) {
            result = reviewer.review([ReviewInput(name: expectation.inputPath, bytes: Array(data))])
        } else {
            result = ReviewResult(patches: [], findings: [], errors: [
                InputError(input: expectation.inputPath, message: "no such file")], functions: [])
        }
        let findings = result.findings
        // The exit status the command line would give (it hides unchanged findings by default).
        var shown = result
        shown.findings.removeAll { $0.status == .unchanged }
        let exitStatus = shown.exitStatus(failOn: .warning)

        var matched = Set<Int>()
        func matches(_ entry: ExpectedFinding) -> [Int] {
            findings.indices.filter { Self.matches(findings[$0], rule: entry.rule, file: entry.file,
                                                   code: entry.code, status: entry.status) }
        }
        var found: [ExpectedFinding] = [], missed: [ExpectedFinding] = []
        for entry in expectation.mustFind {
            let hits = matches(entry)
            matched.formUnion(hits)
            if hits.isEmpty { missed.append(entry) } else { found.append(entry) }
        }
        var todoFound: [ExpectedFinding] = [], todoMissed: [ExpectedFinding] = []
        for entry in expectation.todo {
            let hits = matches(entry)
            matched.formUnion(hits)
            if hits.isEmpty { todoMissed.append(entry) } else { todoFound.append(entry) }
        }
        var quietHits: [(line: QuietLine, finding: Finding)] = []
        for line in expectation.mustNotFlag {
            for finding in findings where finding.status != .unchanged
                && Self.matches(finding, rule: line.rule, file: line.file, code: line.code, status: nil) {
                quietHits.append((line, finding))
            }
        }
        let other = findings.indices.filter { !matched.contains($0) && findings[$0].status != .unchanged }
            .map { findings[$0] }

        var exitProblem: String?
        if let expected = expectation.exitStatus, expected != exitStatus {
            exitProblem = "exit status \(exitStatus), expected \(expected)"
        }
        if let text = expectation.errorText, !result.errors.contains(where: { $0.message.contains(text) }) {
            let said = result.errors.map(\.message).joined(separator: "; ")
            exitProblem = "no error says '\(text)'" + (said.isEmpty ? "" : " (errors: \(said))")
        }
        return CaseOutcome(expectation: expectation, findings: findings, errors: result.errors,
                           exitStatus: exitStatus, found: found, missed: missed, todoFound: todoFound,
                           todoMissed: todoMissed, quietHits: quietHits, other: other, exitProblem: exitProblem,
                           matchedFindingCount: matched.count)
    }

    /// Same rule (when given), same file (a path suffix, when given), same trimmed code line with
    /// runs of blanks collapsed, same status (when given).
    static func matches(_ finding: Finding, rule: String?, file: String?, code: String, status: FindingStatus?) -> Bool {
        if let rule, finding.rule != rule { return false }
        if let status, finding.status != status { return false }
        if let file, !(finding.file == file || finding.file.hasSuffix("/" + file)) { return false }
        return normalized(finding.code) == normalized(code)
    }

    static func normalized(_ code: String) -> String {
        code.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
