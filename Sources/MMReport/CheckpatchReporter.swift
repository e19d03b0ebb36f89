import MMCore

/// The terse form of `checkpatch.pl --terse --showfile`, which b4's per-patch check reads
/// (`b4.prep-perpatch-check-cmd`): one `FILE:LINE: LEVEL: message [rule-id]` line per problem and a
/// `total:` line, nothing at all when clean. b4 counts a line containing `ERROR:` as a failure and
/// any other line as a warning, so errors are `ERROR`, warnings `WARNING` and notes checkpatch's
/// `CHECK`. What the patch fixes is no problem and is left out. Without the summary (checkpatch's
/// `--no-summary`, which b4 passes to checkpatch too) b4 counts exactly the findings.
public struct CheckpatchReporter: Reporter {
    public var summary: Bool

    public init(summary: Bool = true) {
        self.summary = summary
    }

    public func render(_ input: ReportInput) -> String {
        let ansi = ANSI(enabled: input.colour)
        var lines: [String] = []
        var counts: [Severity: Int] = [:]
        for finding in input.findings where finding.status != .fixed {
            counts[finding.severity, default: 0] += 1
            let level = Self.level(finding.severity)
            var message = TextStyle.singleLine(finding.message)
            if finding.status == .unchanged { message += " (already present before this patch)" }
            lines.append("\(finding.file):\(finding.line): \(ansi.severity(level)): \(message) [\(finding.rule)]")
        }
        guard !lines.isEmpty else { return "" }
        if summary {
            lines.append("total: \(counts[.error] ?? 0) errors, \(counts[.warning] ?? 0) warnings, "
                         + "\(counts[.note] ?? 0) checks")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .error: return "ERROR"
        case .warning: return "WARNING"
        case .note: return "CHECK"
        }
    }
}
