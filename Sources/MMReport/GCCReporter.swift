import MMCore

/// Compiler-style lines for editors and CI:
/// `file:line:col: warning: message [rule-id]`, then `file:line:1: note: …` for each note.
/// Fixed findings are printed as notes so tools do not count them; input errors as
/// `input: error: message`. No summary line.
public struct GCCReporter: Reporter {
    public init() {}

    public func render(_ input: ReportInput) -> String {
        var lines: [String] = []
        for error in input.errors {
            lines.append("\(error.input): error: \(TextStyle.singleLine(error.message))")
        }
        for finding in input.findings {
            lines.append(headline(finding))
            for note in finding.notes {
                lines.append("\(note.file):\(note.line):1: note: \(TextStyle.singleLine(note.message))")
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    private func headline(_ finding: Finding) -> String {
        let location = "\(finding.file):\(finding.line):\(max(1, finding.column))"
        let message = TextStyle.singleLine(finding.message)
        switch finding.status {
        case .introduced:
            return "\(location): \(finding.severity.rawValue): \(message) [\(finding.rule)]"
        case .unchanged:
            return "\(location): \(finding.severity.rawValue): \(message) (already present before this patch) [\(finding.rule)]"
        case .fixed:
            return "\(location): note: fixed by this patch: \(message) [\(finding.rule)]"
        }
    }
}
