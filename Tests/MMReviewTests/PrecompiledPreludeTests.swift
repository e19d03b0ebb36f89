import Foundation
import MMCore
import MMExtract
import MMFacts
import MMReview
import Testing

/// The kernel prelude is loaded from a precompiled header when one can be built: that must not
/// change a single finding, note or line number against parsing the prelude in every unit.
@Suite struct PrecompiledPreludeTests {
    private func summary(_ result: ReviewResult) -> [String] {
        result.findings.map { finding in
            // nested-lock's notes vary in order from run to run (known), on either path.
            let notes = finding.rule == "nested-lock" ? "" : finding.notes.map { "\($0.line) \($0.code)" }.joined(separator: " | ")
            return "\(finding.rule) \(finding.status.rawValue) \(finding.file):\(finding.line) \(finding.function) "
                + "\(finding.code) — \(finding.message) [\(notes)]"
        }
    }

    @Test(arguments: ["000", "002"])
    func precompiledAndFullPreludeGiveTheSameFindings(seed: String) throws {
        let facts = try FactsLoader().bundled()
        let options = ReviewOptions(showUnchanged: true)
        let input = try Repository.seed(seed)
        let precompiledReviewer = try Reviewer(facts: facts, options: options, fullParsesBeforePrecompiling: 0)
        let precompiled = precompiledReviewer.review([input])
        #expect(precompiledReviewer.isPreludePrecompiled)
        let fullReviewer = try Reviewer(facts: facts, options: options, fullParsesBeforePrecompiling: nil)
        let full = fullReviewer.review([input])
        #expect(!fullReviewer.isPreludePrecompiled)
        #expect(!precompiled.findings.isEmpty)
        #expect(summary(precompiled) == summary(full))
    }
}
