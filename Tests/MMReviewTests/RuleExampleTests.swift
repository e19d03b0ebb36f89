import MMChecks
import MMCore
import MMReview
import Testing

/// Every check's own examples are its tests: a line marked `↓` in a triggering example must be
/// reported by that rule as introduced, and the non-triggering examples must stay quiet.
@Suite struct RuleExampleTests {
    struct Example: CustomTestStringConvertible, Sendable {
        var rule: String
        var index: Int
        var source: String
        var triggers: Bool
        var testDescription: String { "\(rule) \(triggers ? "triggering" : "non-triggering") #\(index + 1)" }
    }

    static let examples: [Example] = CheckRegistry.all.flatMap { check -> [Example] in
        let description = check.description
        return description.triggering.enumerated().map { Example(rule: description.id, index: $0.offset, source: $0.element, triggers: true) }
            + description.nonTriggering.enumerated().map { Example(rule: description.id, index: $0.offset, source: $0.element, triggers: false) }
            // What `rules explain` recommends writing instead must itself pass.
            + (description.instead.isEmpty ? [] : [Example(rule: description.id, index: description.nonTriggering.count, source: description.instead, triggers: false)])
    }

    @Test(arguments: examples)
    func example(_ example: Example) throws {
        var expectedLines: [Int] = []
        var cleaned: [String] = []
        for (offset, line) in example.source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("↓") {
                expectedLines.append(offset + 1)
                cleaned.append(String(line.dropFirst()))
            } else {
                cleaned.append(String(line))
            }
        }
        let reviewer = try makeReviewer()
        let result = reviewer.review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: cleaned.joined(separator: "\n")))])
        #expect(result.errors.isEmpty)
        let found = result.findings.filter { $0.rule == example.rule }
        if example.triggers {
            #expect(!expectedLines.isEmpty, "a triggering example must mark its line with ↓")
            #expect(found.map(\.line) == expectedLines, "\(found.map { "\($0.line): \($0.message)" })")
            #expect(found.allSatisfy { $0.status == .introduced })
        } else {
            #expect(found.isEmpty, "\(found.map { "\($0.line): \($0.message)" })")
        }
    }

    @Test func everyCheckIsRegisteredOnceAndDocumented() {
        let ids = CheckRegistry.all.map(\.description.id)
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids).isSuperset(of: ["lock-leak", "double-lock", "unbalanced-unlock"]))
        for check in CheckRegistry.all {
            #expect(!check.description.summary.isEmpty)
            #expect(check.description.rationale.count > 80)
            #expect(check.description.triggering.count >= 2)
            #expect(check.description.nonTriggering.count >= 2)
        }
    }
}
