import MMChecks
import MMReport

extension ReportRule {
    /// A check's description as the reporters see it (MMReport does not depend on MMChecks).
    init(_ description: RuleDescription) {
        self.init(id: description.id, name: description.name, summary: description.summary,
                  rationale: description.rationale, advice: description.advice,
                  severity: description.severity, references: description.references,
                  example: description.triggering.first ?? "",
                  instead: description.instead.isEmpty ? (description.nonTriggering.first ?? "") : description.instead)
    }
}
