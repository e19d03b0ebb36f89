import Foundation
import MMAnalysis
import MMCore
import MMFacts
import MMReview
import Testing

/// lock-order on the seeds, and the order and call-effect facts it reads from Rules/.
@Suite struct LockOrderTests {
    /// Seed 000 moves the checkpoint image writes after up_read(&mm->mmap_sem), and do_restore_mm's
    /// _ckpt_read_buffer() after up_write(): each write under mmap_sem against "inode lock before
    /// mmap_lock" is fixed (the lock itself was taken in code the hunks do not show).
    @Test func seed000FixesImageWritesUnderMmapSem() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("000")])
        let found = result.findings.filter { $0.rule == "lock-order" }
        #expect(found.map { "\($0.status.rawValue) \($0.function) \($0.code)" } == [
            "fixed do_checkpoint_mm exe_objref = checkpoint_obj(ctx, mm->exe_file, CKPT_OBJ_FILE);",
            "fixed do_restore_mm ret = _ckpt_read_buffer(ctx, mm->saved_auxv, sizeof(mm->saved_auxv));",
        ])
        // One finding per function and lock pair; the other writes under the same lock are notes.
        #expect(found.first?.notes.map(\.code) == [
            "up_read(&mm->mmap_sem);", "ret = ckpt_write_obj(ctx, &h->h);",
            "ckpt_write_err(ctx, \"TE\", \"vma: bad flags (%#lx)\\n\",", "ckpt_write_err(ctx, \"TE\", \"vma: failed\", ret);",
        ])
        let first = try #require(found.first)
        #expect(first.message.contains("while 'mm->mmap_sem' is held"))
        #expect(first.message.contains("i_rwsem -> mmap_lock (mm/rmap.c"))
    }

    /// Seed 001: cpt_dump_mm holds mmap_sem across every image write, its own and those inside
    /// the helpers it calls.
    @Test func seed001HoldsMmapSemAcrossImageWrites() throws {
        let result = try makeReviewer().review([Repository.seed("001")])
        let found = result.findings.filter { $0.rule == "lock-order" }
        #expect(found.map { "\($0.status.rawValue) \($0.function) \($0.code)" } == [
            "introduced cpt_dump_mm err = ctx->write(v, sizeof(*v), ctx);",
        ])
        let finding = try #require(found.first)
        #expect(finding.message.contains("(and 2 more calls below)"))
        #expect(finding.notes.map(\.code) == [
            "down_read(&mm->mmap_sem);", "if ((err = dump_one_vma(mm, vma, ctx)) != 0)", "err = cpt_dump_mm_context(mm, ctx);",
        ])
        #expect(finding.notes[1].message.hasPrefix("dump_one_vma() calls ctx->write()"))
    }

    /// Seed 002 states "the lock ordering is mm_sem -> mmap_sem"; copy_mm (a hunk without a function
    /// name) calls insert_mmlist(), which takes mm_sem, while the new mm's mmap_sem is still held.
    /// try_to_unuse() holds mm_sem while unuse_mm() takes mmap_sem: the stated order, no finding.
    @Test func seed002InsertMmlistUnderMmapSemAgainstTheStatedOrder() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("002")])
        let found = result.findings.filter { $0.rule == "lock-order" }
        #expect(found.map { "\($0.status.rawValue) \($0.file):\($0.line) \($0.code)" } == [
            "introduced kernel/fork.c:387 insert_mmlist(mm);",
        ])
        let finding = try #require(found.first)
        #expect(finding.message.contains("insert_mmlist() takes 'mm_sem'"))
        #expect(finding.message.contains("'mm->mmap_sem' is held"))
        #expect(finding.message.contains("mm_sem -> mmap_lock (\"To do this, the lock ordering is mm_sem -> mmap_sem\")"))
        #expect(finding.notes.map(\.code) == ["up(&mm->mmap_sem);"])
    }

    /// A project declares its own image I/O functions in a `--rules` directory (same format as
    /// Rules/checkpoint-io.yaml); writes through them under mmap_lock are then reported.
    @Test func projectIOFunctionsComeFromARulesDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("""
            effects:
              - {pattern: "dump_emit_*", sleeps: true, takes: [i_rwsem], why: writes the dump file, source: a project of ours}
            """.utf8).write(to: directory.appendingPathComponent("io.yaml"))
        let source = """
            int dump(struct dump_ctx *ctx, struct mm_struct *mm)
            {
            	int ret;
            	mmap_read_lock(mm);
            	ret = dump_emit_header(ctx, mm->map_count);
            	mmap_read_unlock(mm);
            	return ret;
            }
            """
        let facts = try FactsLoader().bundled(extendedBy: directory.path)
        let reviewer = try Reviewer(facts: facts)
        let result = reviewer.review([ReviewInput(name: "x.diff", bytes: newFilePatch(source: source))])
        #expect(result.findings.filter { $0.rule == "lock-order" }.map(\.line) == [5])
        let plain = try makeReviewer().review([ReviewInput(name: "x.diff", bytes: newFilePatch(source: source))])
        #expect(plain.findings.filter { $0.rule == "lock-order" }.isEmpty)
    }

    @Test func statedOrdersAreReadFromProse() throws {
        let facts = try FactsLoader().bundled()
        let orders = LockOrderFactsProbe.stated("the lock ordering is mm_sem -> mmap_sem. foo() -> bar() is a call chain", facts)
        #expect(orders == ["mm_sem -> mmap_lock"])
        #expect(LockOrderFactsProbe.stated("i_mmap_rwsem nests inside mmap_sem", facts) == ["mmap_lock -> i_mmap_rwsem"])
        #expect(LockOrderFactsProbe.stated("mm->mmap_sem is a member access, not an order", facts).isEmpty)
        #expect(LockOrderFactsProbe.stated("we must never take mmap_sem -> i_mutex", facts).isEmpty)
        #expect(LockOrderFactsProbe.stated("all_mms_lock nests outside mmap_lock", facts) == ["all_mms_lock -> mmap_lock"])
    }

    @Test func orderAndEffectsAreLoadedAndValidated() throws {
        let facts = try FactsLoader().bundled()
        #expect(facts.documentedOrder(outer: "i_rwsem", inner: "mmap_lock") != nil)
        #expect(facts.documentedOrder(outer: "mmap_lock", inner: "i_rwsem") == nil)
        #expect(facts.documentedOrder(outer: "anon_vma_lock", inner: "ptl") != nil)
        #expect(facts.callSleeps(callee: "kmalloc", arguments: ["n", "GFP_KERNEL"]))
        #expect(!facts.callSleeps(callee: "kmalloc", arguments: ["n", "GFP_ATOMIC"]))
        #expect(!facts.callSleeps(callee: "kmalloc", arguments: ["n", "GFP_NOWAIT | __GFP_NOWARN"]))
        #expect(!facts.callSleeps(callee: "kmalloc", arguments: ["n", "gfp"]))
        #expect(facts.effect(forCallee: "ctx->write")?.takes == ["i_rwsem"])
        #expect(facts.effect(forCallee: "file->f_op->write")?.takes == ["i_rwsem"])
        #expect(facts.effect(forCallee: "ckpt_write_obj")?.takes == ["i_rwsem"])
        #expect(facts.effect(forCallee: "copy_to_user")?.takes == ["mmap_lock"])
        #expect(facts.lockClass(forExpression: "swap_lock")?.name == "swap_lock")
        let bad = [(name: "bad.yaml", text: "order:\n  - {chain: [mmap_lock, no_such_lock], source: x}\n")]
        #expect(throws: FactsError.self) { try FactsLoader().load(files: [("classes.yaml", "classes:\n  - {name: mmap_lock, members: [mmap_lock]}\n")] + bad) }
        do {
            _ = try FactsLoader().load(files: [("e.yaml", "effects:\n  - {function: f, pattern: 'g*', sleeps: true}\n")])
            Issue.record("an effect with both function and pattern must be rejected")
        } catch {
            #expect(error.description.contains("e.yaml"))
        }
    }
}

enum LockOrderFactsProbe {
    static func stated(_ text: String, _ facts: KernelFacts) -> [String] {
        LockOrderFacts.statedOrders(in: text, facts: facts).map { "\($0.outer) -> \($0.inner)" }
    }
}
