import MMCore

/// The documentation of the checks, rendered from the same descriptions that feed SARIF's rule
/// metadata: `mmreview rules`, `mmreview rules explain ID` and README's table of checks.
public enum RuleDocs {
    /// One line per rule: id, default severity, what it finds.
    public static func list(_ rules: [ReportRule]) -> String {
        let idWidth = rules.map(\.id.count).max() ?? 0
        let lines = rules.map { rule in
            pad(rule.id, idWidth) + "  " + pad(rule.severity.rawValue, 7) + "  " + rule.summary
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Ruff's headings: what it finds, why it matters, an example, what to write instead,
    /// references. Prose is wrapped at 72 columns; code is printed as is, indented.
    public static func explain(_ rule: ReportRule) -> String {
        var lines = ["\(rule.id) (\(rule.severity.rawValue) by default)", ""]
        lines += ["What it finds", ""] + indented(TextStyle.wrap(TextStyle.withFullStop(TextStyle.capitalized(rule.summary)), width: 68)) + [""]
        if !rule.rationale.isEmpty {
            lines += ["Why it matters for mm locking", ""] + indented(TextStyle.wrap(rule.rationale, width: 68)) + [""]
        }
        if !rule.example.isEmpty {
            lines += ["Example (the line marked with ↓ is reported)", ""] + code(rule.example) + [""]
        }
        if !rule.advice.isEmpty || !rule.instead.isEmpty {
            lines += ["Write instead", ""]
            if !rule.advice.isEmpty { lines += indented(TextStyle.wrap(rule.advice, width: 68)) + [""] }
            if !rule.instead.isEmpty { lines += code(rule.instead) + [""] }
        }
        if !rule.references.isEmpty {
            lines += ["References", ""] + rule.references.map { "  - " + $0 } + [""]
        }
        return lines.joined(separator: "\n")
    }

    /// README's table of checks, between its markers.
    public static func markdownTable(_ rules: [ReportRule]) -> String {
        var lines = ["| rule | default | finds |", "| --- | --- | --- |"]
        for rule in rules {
            lines.append("| `\(rule.id)` | \(rule.severity.rawValue) | \(rule.summary) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func indented(_ lines: [String]) -> [String] {
        lines.map { $0.isEmpty ? "" : "  " + $0 }
    }

    /// Code indented by four spaces, tabs kept (so it pastes back into C as it was); the `↓`
    /// marker moves into the margin.
    private static func code(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("↓") { return "  ↓ " + line.dropFirst() }
            return line.isEmpty ? "" : "    " + line
        }
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
