import MMCore

/// Compiler-style lines for editors and CI:
/// `file:line:col: warning: message [rule-id]`, then `file:line:1: note: …` for each note.
/// Fixed findings are printed as notes so tools do not count them; input errors as
/// `input: error: message`. No summary line. On a terminal the location is bold and the severity
/// coloured as gcc colours them.
public struct GCCReporter: Reporter {
    public init() {}

    public func render(_ input: ReportInput) -> String {
        let ansi = ANSI(enabled: input.colour)
        var lines: [String] = []
        for error in input.errors {
            lines.append("\(ansi.bold(error.input + ":")) \(ansi.severity("error")): \(TextStyle.singleLine(error.message))")
        }
        for finding in input.findings {
            lines.append(headline(finding, ansi))
            for note in finding.notes {
                lines.append("\(ansi.bold("\(note.file):\(note.line):1:")) \(ansi.severity("note")): \(TextStyle.singleLine(note.message))")
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    private func headline(_ finding: Finding, _ ansi: ANSI) -> String {
        let location = ansi.bold("\(finding.file):\(finding.line):\(max(1, finding.column)):")
        let message = TextStyle.singleLine(finding.message)
        let severity = ansi.severity(finding.severity.rawValue)
        switch finding.status {
        case .introduced:
            return "\(location) \(severity): \(message) [\(finding.rule)]"
        case .unchanged:
            return "\(location) \(severity): \(message) (already present before this patch) [\(finding.rule)]"
        case .fixed:
            return "\(location) \(ansi.severity("note")): fixed by this patch: \(message) [\(finding.rule)]"
        }
    }
}
