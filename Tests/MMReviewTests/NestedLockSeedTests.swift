import MMCore
import MMReview
import Testing

/// nested-lock on the seeds.
@Suite struct NestedLockSeedTests {
    /// Seed 002's copy_mm now takes current->mm->mmap_sem while the new mm's mmap_sem (released
    /// later by `up(&mm->mmap_sem)`, taken in code the hunk does not show) is still held.
    @Test func seed002TakesTheParentsMmapSemUnderTheChilds() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("002")])
        let found = result.findings.filter { $0.rule == "nested-lock" }
        #expect(found.map { "\($0.status.rawValue) \($0.file):\($0.line) \($0.code)" } == [
            "introduced kernel/fork.c:389 down(&current->mm->mmap_sem);",
        ])
        #expect(found.first?.message.contains("while 'mm->mmap_sem' of the same class (mmap_lock) is held") == true)
        // unuse_mm's own mmap_sem under try_to_unuse's mm_sem is another class: nothing.
        #expect(!result.findings.contains { $0.rule == "nested-lock" && $0.file == "mm/swapfile.c" })
    }

    /// Seed 004 (re-typed): rmap_walk_ksm() calls anon_vma_lock_root() for the next rmap_item while
    /// the nested anon_vma lock taken for the previous one (released only further down) is held.
    /// anon_vma_lock_nested() itself uses spin_lock_nested(), and vma_adjust's conditional lock
    /// raises nothing.
    @Test func seed004LocksTheRootUnderTheNestedAnonVmaLock() throws {
        let patch = ConditionalLockingTests.ksmHunk + ConditionalLockingTests.patch
        let result = try makeReviewer(showUnchanged: true).review([ReviewInput(name: "seed004.diff", bytes: Array(patch.utf8))])
        let found = result.findings.filter { $0.rule == "nested-lock" }
        #expect(found.map { "\($0.status.rawValue) \($0.file):\($0.line) \($0.code)" } == [
            "introduced mm/ksm.c:1675 anon_vma = anon_vma_lock_root(anon_vma);",
        ])
        #expect(found.first?.message.contains("anon_vma_lock_root() takes 'anon_vma->lock'") == true)
        #expect(found.first?.message.contains("'nested_anon_vma->lock'") == true)
        let newRules: Set<String> = ["lock-order", "nested-lock", "sleep-in-atomic", "unchecked-lock-result"]
        #expect(!result.findings.contains { newRules.contains($0.rule) && $0.function == "vma_adjust" })
    }

    /// The new lock checks stay quiet on seed 001's page_get_desc (pte lock handling) and on 003.
    @Test func quietWhereTheSeedsAreCorrect() throws {
        let newRules: Set<String> = ["nested-lock", "sleep-in-atomic", "unchecked-lock-result"]
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("001"), Repository.seed("003")])
        let found = result.findings.filter { newRules.contains($0.rule) }
        #expect(found.isEmpty, "\(found.map { "\($0.function):\($0.line) \($0.message)" })")
    }
}
