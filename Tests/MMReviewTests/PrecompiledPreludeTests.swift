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

/// The precompiled prelude kept between runs: built and stored by the first run, loaded by the
/// next from its first unit, and rebuilt when the stored file is damaged — the findings the same
/// every time as with the prelude parsed in every unit.
@Suite struct PreludeCacheTests {
    private func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-cache-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    }

    private func cachedFiles(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    private func lines(_ result: ReviewResult) -> [String] {
        result.findings.map { "\($0.rule) \($0.status.rawValue) \($0.file):\($0.line) \($0.code) — \($0.message)" }
    }

    @Test func storedByTheFirstRunLoadedByTheNextRebuiltWhenDamaged() throws {
        let facts = try FactsLoader().bundled()
        let input = try Repository.seed("000")
        let base = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let directory = base + "/nested/mmreview"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = PreludeCache(directory: directory)
        let expected = lines(try Reviewer(facts: facts, fullParsesBeforePrecompiling: nil).review([input]))
        #expect(!expected.isEmpty)

        let first = try Reviewer(facts: facts, preludeCache: cache)
        #expect(lines(first.review([input])) == expected)
        #expect(first.isPreludePrecompiled)
        let stored = cachedFiles(directory)
        #expect(stored.count == 1 && stored[0].hasPrefix("prelude-") && stored[0].hasSuffix(".pch"), "\(stored)")
        let path = directory + "/" + (stored.first ?? "")
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size > 10_000)

        let second = try Reviewer(facts: facts, preludeCache: cache)
        #expect(lines(second.review([input])) == expected)
        #expect(second.isPreludePrecompiled)
        #expect(cachedFiles(directory) == stored)

        // A damaged file: clang refuses it, the units are parsed in full, and the file goes.
        try Data("not a precompiled header".utf8).write(to: URL(fileURLWithPath: path))
        let third = try Reviewer(facts: facts, preludeCache: cache)
        #expect(lines(third.review([input])) == expected)
        #expect(!third.isPreludePrecompiled)
        #expect(cachedFiles(directory).isEmpty)
        // …and the run after that builds it again.
        let fourth = try Reviewer(facts: facts, preludeCache: cache)
        #expect(lines(fourth.review([input])) == expected)
        #expect(cachedFiles(directory) == stored)
    }

    @Test func locationFollowsTheEnvironment() {
        #expect(PreludeCache.standard(environment: ["MMREVIEW_CACHE_DIR": "/x/y", "HOME": "/h"])?.directory == "/x/y")
        #expect(PreludeCache.standard(environment: ["MMREVIEW_CACHE_DIR": "", "HOME": "/h"]) == nil)
        #expect(PreludeCache.standard(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])?.directory == "/c/mmreview")
        #expect(PreludeCache.standard(environment: ["HOME": "/h"])?.directory == "/h/.cache/mmreview")
        #expect(PreludeCache.standard(environment: [:]) == nil)
    }
}
