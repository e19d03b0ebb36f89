import Foundation
import MMCore
import MMExtract
import MMReview
import Testing

/// The five real review threads, end to end: read, rebuild, parse, check, report.
@Suite struct SeedReviewTests {
    /// Seed 000 moves `up_read(&mm->mmap_sem)` out of the `out:` label. Before the patch two exits
    /// between the hunks returned with mmap_sem held (taken in code the hunks do not show); after it
    /// every exit follows the up_read. Both leaks are fixed. The early `return ret` now skips the
    /// `fput(exe_file)` under `out:` for the reference get_file() took (introduced), and the
    /// removed `return -ENOSYS` no longer skips `ckpt_hdr_put(ctx, h)` (fixed).
    @Test func seed000FixesTwoMmapSemLeaksAndIntroducesAReferenceLeak() throws {
        let result = try makeReviewer().review([Repository.seed("000")])
        #expect(result.errors.isEmpty)
        #expect(result.patches.count == 1)
        // lock-order's findings on this seed are asserted in LockOrderTests.
        let summary = result.findings.filter { $0.rule != "lock-order" }
            .map { "\($0.rule) \($0.status.rawValue) \($0.file):\($0.line) \($0.function) \($0.code)" }
        #expect(summary == [
            "lock-leak fixed checkpoint/memory.c:693 do_checkpoint_mm return ret;",
            "lock-leak fixed checkpoint/memory.c:702 do_checkpoint_mm return -ENOSYS;",
            "resource-leak fixed checkpoint/memory.c:702 do_checkpoint_mm return -ENOSYS;",
            "resource-leak introduced checkpoint/memory.c:771 do_checkpoint_mm return ret;",
        ])
        let first = try #require(result.findings.first { $0.rule == "lock-leak" })
        #expect(first.message == "do_checkpoint_mm() returns here with 'mm->mmap_sem' still held, while its other exits release it")
        #expect(first.notes.map(\.line) == [728])
        #expect(first.notes.first?.code == "up_read(&mm->mmap_sem);")
        #expect(first.patch.subject == "[PATCH] c/r: do not hold mmap_sem while checkpointing vma's")
    }

    /// With --show-unchanged no lock problem appears: the post-image of do_checkpoint_mm and the
    /// moved up_write in do_restore_mm are clean as far as locks go (the unchanged ckpt_hdr_put
    /// leak is asserted in LifetimeSeedTests).
    @Test func seed000HasNoUnchangedLockProblems() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("000")])
        let lockRules: Set<String> = ["lock-leak", "double-lock", "unbalanced-unlock"]
        #expect(result.findings.filter { lockRules.contains($0.rule) }.allSatisfy { $0.status == .fixed })
    }

    /// Seed 001 (a new file): every lock is balanced, including pte_offset_map_lock's `&ptl`
    /// released by spin_unlock(ptl) on each path, and the err_up ladder of cpt_dump_mm.
    @Test func seed001LocksAreBalanced() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("001")])
        #expect(result.errors.isEmpty)
        #expect(result.findings.filter { ["lock-leak", "double-lock", "unbalanced-unlock"].contains($0.rule) }.isEmpty)
        let names = Set(result.functions.map(\.touched.name))
        #expect(names.isSuperset(of: ["page_get_desc", "dump_pages", "cpt_dump_dentry", "dump_one_vma",
                                      "cpt_dump_mm_context", "cpt_dump_mm"]))
    }

    /// The function model of cpt_dump_mm carries the mmap_sem acquire and the release under err_up.
    @Test func seed001CptDumpMmModel() throws {
        let result = try makeReviewer().review([Repository.seed("001")])
        let function = try #require(result.functions.first { $0.touched.name == "cpt_dump_mm" })
        #expect(function.before == nil)
        let model = try #require(function.after)
        let calls = model.body.allCalls
        let down = try #require(calls.first { $0.callee == "down_read" })
        #expect(down.arguments == ["&mm->mmap_sem"])
        #expect(down.line == 398)
        #expect(model.sourceLines[398]?.contains("down_read(&mm->mmap_sem);") == true)
        let up = try #require(calls.first { $0.callee == "up_read" })
        #expect(up.line == 430)
        #expect(model.sourceLines[429] == "err_up:")
        let write = try #require(calls.first { $0.callee == "ctx->write" })
        #expect(write.resultUse == .assigned(to: "err"))
    }

    /// Seed 002 (a 1999 diff -u patch across six files): the semaphores pair up, and the
    /// removed down()/up() pair of do_fork leaves nothing behind.
    @Test func seed002IsReviewedWithoutLockFalsePositives() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("002")])
        #expect(result.errors.isEmpty)
        #expect(result.patches.first?.files.map(\.displayPath) == [
            "fs/exec.c", "include/linux/sched.h", "kernel/fork.c", "mm/mmap.c", "mm/page_alloc.c", "mm/swapfile.c",
        ])
        // The loop in try_to_unuse never advances `mm` (SyntacticSeedTests); copy_mm's new locking
        // is lock-order's and nested-lock's (LockOrderTests, NestedLockSeedTests).
        #expect(result.findings.map { "\($0.rule) \($0.file):\($0.line)" } == [
            "lock-order kernel/fork.c:387", "nested-lock kernel/fork.c:389", "loop-no-progress mm/swapfile.c:321",
        ],
                "\(result.findings.map { "\($0.rule) \($0.line) \($0.message)" })")
        let names = Set(result.functions.map(\.touched.name))
        #expect(names.isSuperset(of: ["insert_mmlist", "delete_mmlist", "try_to_unuse", "unuse_mm"]))
    }

    /// Seed 003 lost its indentation in the archive; the quoted mm.h hunk is still read.
    @Test func seed003IsRead() throws {
        let result = try makeReviewer().review([Repository.seed("003")])
        #expect(result.errors.isEmpty)
        #expect(result.patches.first?.files.first?.displayPath == "include/linux/mm.h")
    }

    /// Seed 004 was flattened onto one line by the archive. Rebuilt from its quote and diff
    /// markers, it is reviewed and shows the three things its reviewers worried about:
    /// anon_vma_lock_root() reads root_anon_vma under anon_vma->lock and locks it after dropping
    /// that lock (Kamezawa's question); rmap_walk_ksm() walks anon_vma_lock_root()'s result, which
    /// is NULL on one path, without a check; and it takes the next root lock while the nested lock
    /// of the previous rmap_item is held. The rebuilt hunks have no indentation, so a hunk that
    /// opens with a declaration (`struct anon_vma_chain *vmac;`) is read on until a statement
    /// shows it is inside rmap_walk_ksm(). `if (nested_anon_vma) spin_unlock(…)` in the `out:`
    /// hunk is no leak: a lock taken out of sight was not taken through a NULL pointer.
    @Test func seed004IsRebuiltAndReviewed() throws {
        let result = try makeReviewer().review([Repository.seed("004")])
        #expect(result.errors.isEmpty)
        #expect(result.patches.count == 1)
        #expect(result.patches.first?.origin.note?.hasPrefix("the message's line breaks were lost; its patch "
                                                             + "(10 hunks) was rebuilt") == true)
        #expect(result.patches.first?.files.map(\.displayPath) == ["include/linux/rmap.h", "mm/ksm.c", "mm/mmap.c",
                                                                   "mm/rmap.c"])
        #expect(result.findings.map { "\($0.rule) \($0.status.rawValue) \($0.file):\($0.line) \($0.code)" } == [
            "nested-lock introduced mm/ksm.c:1675 anon_vma = anon_vma_lock_root(anon_vma);",
            "missing-null-check introduced mm/ksm.c:1680 list_for_each_entry(vmac, &anon_vma->head, same_anon_vma) {",
            "use-after-unlock introduced mm/rmap.c:291 spin_lock(&root_anon_vma->lock);",
        ])
        // The lock held from before the patch points at its first release, in every run (it used
        // to depend on the order of a dictionary, which changes from one process to the next).
        let nested = try #require(result.findings.first { $0.rule == "nested-lock" })
        #expect(nested.notes.map(\.line) == [1677])
    }

    /// No statement of a touched function is lost by the parse: on every side of every function of
    /// every seed, the calls in the model are exactly the calls a token-level scan finds.
    @Test func noCallIsLostOnAnySeed() throws {
        let result = try makeReviewer().review(Repository.allSeeds())
        var sides = 0
        for function in result.functions {
            for side in [Side.before, Side.after] {
                guard let model = function.model(side), let image = function.touched.image(side) else { continue }
                sides += 1
                let modelCalls = model.body.allCalls.map { "\($0.line):\(callName($0.callee))" }.sorted()
                let scanned = TokenCallScanner.calls(in: image.allLines).map { "\($0.line):\(callName($0.name))" }.sorted()
                #expect(modelCalls == scanned, "\(function.touched.name) \(side)")
            }
        }
        #expect(sides >= 35)
    }

    /// Compares calls by their last identifier (`ctx->write` → `write`), whatever the spelling of the chain.
    private func callName(_ callee: String) -> String {
        let identifier = callee.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return String(identifier.reversed())
    }
}
