import MMCore
import MMReview
import Testing

/// Seed 001 (Louis Rilling's review of the checkpoint mm dump): every place he asked "Error
/// handling?" is an unchecked-return finding, and calls that cannot fail stay quiet.
@Suite struct ErrorHandlingSeedTests {
    @Test func seed001ShowsEveryErrorHandlingQuestion() throws {
        let result = try makeReviewer().review([Repository.seed("001")])
        #expect(result.errors.isEmpty)
        let found = result.findings.filter { $0.rule == "unchecked-return" }
        let summary = found.map { "\($0.status.rawValue) \($0.file):\($0.line) \($0.function) \($0.code)" }
        #expect(summary == [
            "introduced checkpoint/cpt_mm.c:220 dump_pages ctx->write(maddr, PAGE_SIZE, ctx);",
            "introduced checkpoint/cpt_mm.c:279 cpt_dump_dentry ctx->write(&o, sizeof(o), ctx);",
            "introduced checkpoint/cpt_mm.c:280 cpt_dump_dentry ctx->write(path, len + 1, ctx);",
            "introduced checkpoint/cpt_mm.c:328 dump_one_vma ctx->write(v, sizeof(*v), ctx);",
            "introduced checkpoint/cpt_mm.c:350 dump_one_vma dump_page_block(vma, &pgb, ctx);",
            "introduced checkpoint/cpt_mm.c:370 cpt_dump_mm_context ctx->write(&b, sizeof(b), ctx);",
            "introduced checkpoint/cpt_mm.c:374 cpt_dump_mm_context ctx->write(mm->context.ldt, size, ctx);",
        ])
        #expect(found.allSatisfy { $0.severity == .warning })
        let first = try #require(found.first)
        #expect(first.message == "error handling? ctx->write() can fail and its result is ignored; it is checked in dump_page_block() and cpt_dump_mm()")
        let block = try #require(found.first { $0.line == 350 })
        #expect(block.message.hasPrefix("error handling? dump_page_block() can fail"))
    }

    /// kunmap, put_page, eprintk, spin_unlock, free_page, kfree, page_cache_release, page_get_desc
    /// and the checked calls (kzalloc, d_path, get_user_pages, count_vma_pages …) are not flagged,
    /// and nothing in seed 001 dereferences an unchecked NULL result.
    @Test func seed001IsQuietOnCallsThatCannotFail() throws {
        let result = try makeReviewer(showUnchanged: true).review([Repository.seed("001")])
        let codes = result.findings.filter { ["unchecked-return", "missing-null-check"].contains($0.rule) }.map(\.code)
        for quiet in ["kunmap", "put_page", "eprintk", "spin_unlock", "free_page", "kfree", "page_cache_release",
                      "page_get_desc", "kzalloc", "d_path", "get_user_pages", "count_vma_pages", "cpt_dump_dentry(",
                      "mutex_lock", "kmap("] {
            #expect(!codes.contains { $0.contains(quiet) }, "\(quiet) flagged")
        }
        #expect(result.findings.filter { $0.rule == "missing-null-check" }.isEmpty)
    }

    /// Seed 004: rmap_walk_ksm() walks anon_vma_lock_root()'s result, which the patch's own
    /// definition returns NULL on one path, without testing it (issue 3's seed case).
    @Test func seed004WalksAPossiblyNullRoot() throws {
        let result = try makeReviewer().review([Repository.seed("004")])
        let found = result.findings.filter { $0.rule == "missing-null-check" }
        #expect(found.map { "\($0.function) \($0.line) \($0.code)" }
                == ["rmap_walk_ksm 1680 list_for_each_entry(vmac, &anon_vma->head, same_anon_vma) {"])
        #expect(found.first?.message == "can 'anon_vma' be NULL here? anon_vma_lock_root() returns NULL on some paths "
                + "and 'anon_vma' is dereferenced without a check")
    }

    /// The other seeds have no error-handling findings of these two rules.
    @Test func otherSeedsAreQuiet() throws {
        for prefix in ["000", "002", "003"] {
            let result = try makeReviewer(showUnchanged: true).review([Repository.seed(prefix)])
            let found = result.findings.filter { ["unchecked-return", "missing-null-check"].contains($0.rule) }
            #expect(found.isEmpty, "seed \(prefix): \(found.map { "\($0.line) \($0.message)" })")
        }
    }
}
