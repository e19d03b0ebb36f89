import MMCore
import MMReview
import Testing

/// resource-leak and use-after-unlock on the seed threads, end to end.
@Suite struct LifetimeSeedTests {
    func summary(_ findings: [Finding]) -> [String] {
        findings.filter { $0.rule == "resource-leak" || $0.rule == "use-after-unlock" }
            .map { "\($0.rule) \($0.status.rawValue) \($0.file):\($0.line) \($0.code)" }
    }

    /// Seed 000: after the patch the early `return ret` (after ckpt_write_obj) skips the
    /// `fput(exe_file)` under `out:`; the removed `return -ENOSYS` used to skip `ckpt_hdr_put`.
    @Test func seed000IntroducesTheExeFileReferenceLeak() throws {
        let result = try makeReviewer().review([Repository.seed("000")])
        #expect(result.errors.isEmpty)
        #expect(summary(result.findings) == [
            "resource-leak fixed checkpoint/memory.c:702 return -ENOSYS;",
            "resource-leak introduced checkpoint/memory.c:771 return ret;",
        ])
        let leak = try #require(result.findings.first { $0.rule == "resource-leak" && $0.status == .introduced })
        #expect(leak.function == "do_checkpoint_mm")
        #expect(leak.severity == .warning)
        #expect(leak.message.contains("fput()") && leak.message.contains("'exe_file'"))
        #expect(leak.notes.map { "\($0.line) \($0.code): \($0.message)" } == [
            "748 get_file(exe_file);: get_file() takes the reference here",
            "782 fput(exe_file);: it is released here on other paths",
        ])
    }

    /// The same `return ret` also skips `ckpt_hdr_put(ctx, h)`, as it did before the patch.
    @Test func seed000CkptHdrLeakIsUnchanged() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("000")])
        #expect(summary(result.findings) == [
            "resource-leak fixed checkpoint/memory.c:702 return -ENOSYS;",
            "resource-leak unchanged checkpoint/memory.c:771 return ret;",
            "resource-leak introduced checkpoint/memory.c:771 return ret;",
        ])
        let unchanged = try #require(result.findings.first { $0.rule == "resource-leak" && $0.status == .unchanged })
        #expect(unchanged.message.contains("ckpt_hdr_put()") && unchanged.message.contains("'h'"))
    }

    /// exe_file gets get_file() before up_read(); checkpoint_vmas copies the vma under the lock and
    /// balances get_file/fput per iteration and kfree on every exit.
    @Test func seed000HasNoUseAfterUnlockAndCheckpointVmasIsQuiet() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("000")])
        #expect(!result.findings.contains { $0.rule == "use-after-unlock" })
        #expect(!result.findings.contains { $0.function == "checkpoint_vmas" && ($0.rule == "resource-leak" || $0.rule == "use-after-unlock") })
    }
}

/// use-after-unlock on code shaped like the kernel's: one question per pointer, asked where it is
/// first used after the drop.
@Suite struct UseAfterUnlockReportTests {
    @Test func aPointerUsedSeveralTimesAfterTheDropIsReportedOnce() throws {
        let source = """
            int f(struct inode *inode, struct file *filp)
            {
            \tstruct pipe_inode_info *pipe;
            \tspin_lock(&inode->i_lock);
            \tpipe = inode->i_pipe;
            \tspin_unlock(&inode->i_lock);
            \tfilp->private_data = pipe;
            \tpipe_lock(pipe);
            \tpipe->readers++;
            \tpipe->r_counter++;
            \tpipe_unlock(pipe);
            \treturn 0;
            }
            """
        let result = try makeReviewer().review([ReviewInput(name: "x.diff", bytes: newFilePatch(source: source))])
        let findings = result.findings.filter { $0.rule == "use-after-unlock" }
        #expect(findings.map(\.line) == [8])
        #expect(findings.first?.message == "'pipe' is used here after 'inode->i_lock' was dropped, with no reference taken on it: what keeps it alive?")
        #expect(findings.first?.notes.map(\.line) == [5, 6])
    }
}
