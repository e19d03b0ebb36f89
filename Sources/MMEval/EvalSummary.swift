import MMCore

/// Per-rule and overall figures over a set of case outcomes.
public struct EvalSummary: Sendable {
    public struct RuleFigures: Sendable, Hashable {
        public var mustFind = 0
        public var found = 0
        public var missed = 0
        public var todo = 0
        public var todoFound = 0
        public var quietHits = 0
        public var other = 0
    }

    public var rules: [String: RuleFigures] = [:]
    public var cases = 0
    public var failedCases = 0
    public var matchedFindings = 0
    public var otherFindings = 0

    public init(_ outcomes: [CaseOutcome]) {
        for outcome in outcomes {
            cases += 1
            if outcome.failed { failedCases += 1 }
            for entry in outcome.found { rules[entry.rule, default: .init()].mustFind += 1; rules[entry.rule]!.found += 1 }
            for entry in outcome.missed { rules[entry.rule, default: .init()].mustFind += 1; rules[entry.rule]!.missed += 1 }
            for entry in outcome.todoFound { rules[entry.rule, default: .init()].todo += 1; rules[entry.rule]!.todoFound += 1 }
            for entry in outcome.todoMissed { rules[entry.rule, default: .init()].todo += 1 }
            for hit in outcome.quietHits { rules[hit.finding.rule, default: .init()].quietHits += 1 }
            for finding in outcome.other { rules[finding.rule, default: .init()].other += 1 }
            matchedFindings += outcome.matchedFindingCount
            otherFindings += outcome.other.count
        }
    }

    /// Found must-find and todo entries over all of them (nil when there are none).
    public var recall: Double? {
        let total = rules.values.reduce(0) { $0 + $1.mustFind + $1.todo }
        let found = rules.values.reduce(0) { $0 + $1.found + $1.todoFound }
        return total == 0 ? nil : Double(found) / Double(total)
    }

    /// Findings an entry names over all reported findings (nil when nothing was reported).
    public var precision: Double? {
        let total = matchedFindings + otherFindings
        return total == 0 ? nil : Double(matchedFindings) / Double(total)
    }
}

/// The text `mmreview eval` prints: one line per failing or noteworthy case, then the table.
public struct EvalReport: Sendable {
    public init() {}

    public func render(_ outcomes: [CaseOutcome], verbose: Bool) -> String {
        var lines: [String] = []
        for outcome in outcomes {
            let name = outcome.expectation.path
            for entry in outcome.missed {
                lines.append("\(name): MISSED \(entry.rule) \(entry.status?.rawValue ?? "") `\(entry.code)`")
            }
            for hit in outcome.quietHits {
                lines.append("\(name): MUST NOT FLAG \(hit.finding.rule) at \(hit.finding.file):\(hit.finding.line) `\(hit.finding.code)`: \(hit.line.why)")
            }
            if let problem = outcome.exitProblem { lines.append("\(name): \(problem)") }
            if verbose {
                for entry in outcome.todoFound {
                    lines.append("\(name): todo now found: \(entry.rule) `\(entry.code)` (move it to must-find)")
                }
                for finding in outcome.other {
                    lines.append("\(name): other: \(finding.file):\(finding.line): \(finding.rule) \(finding.status.rawValue): \(finding.message)")
                }
            }
        }
        let summary = EvalSummary(outcomes)
        if !lines.isEmpty { lines.append("") }
        let header = ["rule", "must-find", "found", "missed", "todo", "todo-found", "must-not-flag-hits", "other"]
        var rows: [[String]] = [header]
        for rule in summary.rules.keys.sorted() {
            let f = summary.rules[rule]!
            rows.append([rule, "\(f.mustFind)", "\(f.found)", "\(f.missed)", "\(f.todo)", "\(f.todoFound)",
                         "\(f.quietHits)", "\(f.other)"])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.indices.map { column in
                column == 0 ? row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - row[column].count) + row[column]
            }
            lines.append(cells.joined(separator: "  "))
        }
        lines.append("")
        lines.append("cases: \(summary.cases), failing: \(summary.failedCases)")
        lines.append("recall: \(percent(summary.recall)) (found must-find and todo entries over all of them)")
        lines.append("precision: \(percent(summary.precision)) (findings an entry names over all introduced and fixed findings)")
        return lines.joined(separator: "\n") + "\n"
    }

    private func percent(_ value: Double?) -> String {
        guard let value else { return "n/a" }
        let tenths = Int((value * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
