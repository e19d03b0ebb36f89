import MMCore
import MMReview
import Testing

/// A release the patch adds on a path says the object is owned there: the pre-image path from
/// that point that neither releases, stores, hands on nor returns it leaked it, and the patch
/// fixes that leak. A swapped release, or a release of something the patch introduces, teaches
/// nothing about the code before it.
@Suite struct TaughtReleaseTests {
    func review(_ patch: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: Array(patch.utf8))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == "resource-leak" }
            .map { "\($0.status.rawValue) \($0.line) \($0.code): \($0.message)" }
    }

    @Test func aFreeAddedBeforeAnErrorReturnFixesALeakOfMemoryAllocatedOutOfSight() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -40,8 +40,10 @@ static ssize_t store_count(struct kobject *kobj, const char *buf)
             \tNODEMASK_ALLOC(nodemask_t, mask, GFP_KERNEL);
             
             \terr = kstrtoul(buf, 10, &count);
            -\tif (err)
            +\tif (err) {
            +\t\tkfree(mask);
             \t\treturn 0;
            +\t}
             
             \th = kobj_to_hstate(kobj, &nid);
             \tif (nid == NUMA_NO_NODE) {

            """
        #expect(try review(patch) == [
            "fixed 44 return 0;: store_count() returns here without kfree() or kvfree() on 'mask', "
                + "which the patch releases on this path: is it leaked?",
        ])
    }

    @Test func aReturnTurnedIntoAGotoThatDropsTheReferenceFixesALeak() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -40,11 +40,14 @@ static int inject_one(unsigned long pfn)
             \t */
             \tif (!PageLRU(p))
            -\t\treturn 0;
            +\t\tgoto put_out;
             
             \tlock_page(hpage);
             \terr = filter_page(hpage);
             \tunlock_page(hpage);
             \tif (err)
             \t\treturn err;
             \treturn memory_failure(pfn, MF_COUNT_INCREASED);
            +put_out:
            +\tput_page(hpage);
            +\treturn 0;
             }

            """
        #expect(try review(patch) == [
            "fixed 42 return 0;: inject_one() returns here without put_page() or page_cache_release() on the "
                + "reference to 'hpage', which the patch releases on this path: is it leaked?",
        ])
    }

    @Test func freeingTheStructureThatHoldsAReferenceDoesNotHandItOn() throws {
        let patch = """
            --- a/fs/example.c
            +++ b/fs/example.c
            @@ -87,8 +87,10 @@ static struct file *ctx_file_create(int flags)
             
             \tfile = anon_inode_getfile("[ctx]", &ctx_fops, ctx, O_RDWR);
            -\tif (IS_ERR(file))
            +\tif (IS_ERR(file)) {
            +\t\tmmput(ctx->mm);
             \t\tkmem_cache_free(ctx_cachep, ctx);
            +\t}
             out:
             \treturn file;
             }

            """
        #expect(try review(patch) == [
            "fixed 92 return file;: ctx_file_create() returns here without mmput() on 'ctx->mm', "
                + "which the patch releases on this path: is it leaked?",
        ])
    }

    @Test func overwritingTheOnlyPointerToAnOwnedPageLosesIt() throws {
        // `*pagep` is a pointer the stubs must type as one, or the store is not parsed at all.
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -5962,6 +5962,7 @@ int mcopy_atomic_pte(struct mm_struct *dst_mm, struct page **pagep)
             
             \t\tpage = alloc_huge_page(dst_vma, dst_addr, 0);
             \t\tif (IS_ERR(page)) {
            +\t\t\tput_page(*pagep);
             \t\t\tret = -ENOMEM;
             \t\t\t*pagep = NULL;
             \t\t\tgoto out;

            """
        #expect(try review(patch) == [
            "fixed 5966 *pagep = NULL;: mcopy_atomic_pte() overwrites its only pointer here without put_page() or page_cache_release() "
                + "on the reference to '*pagep', which the patch releases on this path: is it leaked?",
        ])
    }

    @Test func aReleaseSwappedForAnotherTeachesNothing() throws {
        let patch = """
            --- a/arch/x/mm/init.c
            +++ b/arch/x/mm/init.c
            @@ -2894,7 +2894,7 @@ pgtable_t pte_alloc_one(struct mm_struct *mm)
             \tif (!page)
             \t\treturn NULL;
             \tif (!pgtable_pte_page_ctor(page)) {
            -\t\tfree_unref_page(page);
            +\t\t__free_page(page);
             \t\treturn NULL;
             \t}
             \treturn (pte_t *) page_address(page);

            """
        #expect(try review(patch) == [])
    }

    @Test func aReleaseOfWhatThePatchIntroducesTeachesNothingAboutTheOldCode() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -30,8 +30,12 @@ static int dump_mm(struct ctx *ctx, struct mm_struct *mm)
             \tint ret;
            +\tstruct file *exe = mm->exe_file;
             
            +\tget_file(exe);
             \tret = write_header(ctx);
            +\tfput(exe);
             \tif (ret < 0)
             \t\treturn ret;
            +\tmore(ctx);
             \treturn write_body(ctx);
             }

            """
        #expect(try review(patch) == [])
    }

    @Test func anObjectHandedOnAfterTheNewErrorPathIsNotLeakedByTheOldCode() throws {
        let patch = """
            --- a/drivers/example.c
            +++ b/drivers/example.c
            @@ -60,6 +60,10 @@ static int setup(struct dev *dev, int n)
             \tif (!buf)
             \t\treturn -ENOMEM;
            +\tif (n > dev->max) {
            +\t\tkfree(buf);
            +\t\treturn -EINVAL;
            +\t}
             \tregister_buffer(dev, buf);
             \treturn 0;
             }

            """
        #expect(try review(patch) == [])
    }
}
