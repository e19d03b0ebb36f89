import MMCore
import MMReview
import Testing

/// Paths that reach one statement by different ways carry different histories; which one a finding
/// quotes must not depend on hash order, which Swift seeds afresh in every process. A scan of the
/// cgroups archive gave `is released here first` on line 924 in one run and 1021 in the next.
@Suite struct DeterministicNotesTests {
    static let source = """
        void drop(spinlock_t *lock, int fast)
        {
        	spin_lock(lock);
        	if (fast) {
        		spin_unlock(lock);
        	} else {
        		wait_a_while();
        		spin_unlock(lock);
        	}
        	spin_unlock(lock);
        }
        """

    @Test func aDoubleReleaseQuotesTheEarliestFirstRelease() throws {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: Self.source))])
        let doubles = result.findings.filter { $0.rule == "unbalanced-unlock" }
        #expect(doubles.map(\.line) == [10])
        #expect(doubles.first?.notes.map(\.line) == [5])
    }

    @Test func separateRunsPrintTheSameReview() throws {
        let patch = newFilePatch(source: Self.source)
        var outputs: Set<String> = []
        for _ in 0..<6 {
            let run = try runMMReview(["--format", "json", "-"], stdin: patch)
            #expect(run.status == 1)
            outputs.insert(run.stdout)
        }
        #expect(outputs.count == 1)
    }
}
