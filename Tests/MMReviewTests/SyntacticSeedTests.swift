import MMCore
import MMReview
import Testing

/// The seeds where a reviewer caught a wrong sizeof and a loop that never advances.
@Suite struct SyntacticSeedTests {
    private func summary(_ findings: [Finding]) -> [String] {
        findings.map { "\($0.rule) \($0.status.rawValue) \($0.file):\($0.line) \($0.code)" }
    }

    /// Seed 002: try_to_unuse's new `while (mm != &init_mm)` never moves `mm` on; the loop it
    /// replaces was an iteration macro and is not reported.
    @Test func seed002LoopNeverAdvances() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("002")])
        let found = result.findings.filter { $0.rule == "loop-no-progress" }
        #expect(summary(found) == ["loop-no-progress introduced mm/swapfile.c:321 while (mm != &init_mm) {"])
        #expect(found.first?.function == "try_to_unuse")
        #expect(found.first?.severity == .error)
        #expect(result.findings.filter { $0.rule == "alloc-sizeof" }.isEmpty)
    }

    /// Seed 003: both vmalloc() calls into the `spinlock_t **` members of `struct mm_lock_data`,
    /// a structure defined in the quoted mm.h hunk, use sizeof(spinlock_t) ("You want
    /// 'sizeof(spinlock_t *)' here." — Rusty Russell). The quoted mmap.c lines had no file header,
    /// so they are filed under mm.h, numbered from the start of the quote, and the message says so.
    @Test func seed003WrongSizeofInBothVmallocs() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("003")])
        let found = result.findings.filter { $0.rule == "alloc-sizeof" }
        #expect(summary(found) == [
            "alloc-sizeof introduced include/linux/mm.h:2 sizeof(spinlock_t));",
            "alloc-sizeof introduced include/linux/mm.h:4 sizeof(spinlock_t));",
        ])
        let first = try #require(found.first)
        #expect(first.severity == .warning)
        #expect(first.message.contains("'data->i_mmap_locks' holds 'spinlock_t *' elements (struct mm_lock_data in include/linux/mm.h)"))
        #expect(first.message.contains("sizeof(spinlock_t *) or sizeof(*data->i_mmap_locks) was meant"))
        #expect(first.message.contains("no file header"))
        #expect(first.notes.map(\.line) == [1])
        #expect(found.last?.message.contains("'data->anon_vma_locks'") == true)
        #expect(result.findings.filter { $0.rule == "loop-no-progress" }.isEmpty)
    }
}
