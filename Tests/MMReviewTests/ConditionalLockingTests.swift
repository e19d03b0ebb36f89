import MMCore
import MMReview
import Testing

/// Seed 004's locking, re-typed with its line breaks restored (the archived page flattened it onto
/// one line, so it cannot be read as is): conditional locking in vma_adjust() across hunks, a helper
/// that returns holding the root anon_vma lock, and one that hands a nested lock to its caller.
@Suite struct ConditionalLockingTests {
    static let patch = """
        diff --git a/mm/mmap.c b/mm/mmap.c
        index f90ea92..b447d5b 100644
        --- a/mm/mmap.c
        +++ b/mm/mmap.c
        @@ -505,6 +505,7 @@ int vma_adjust(struct vm_area_struct *vma, unsigned long start,
         \tstruct vm_area_struct *next = vma->vm_next;
         \tstruct vm_area_struct *importer = NULL;
         \tstruct address_space *mapping = NULL;
        +\tstruct anon_vma *anon_vma = NULL;
         \tstruct prio_tree_root *root = NULL;
         \tstruct file *file = vma->vm_file;
         \tlong adjust_next = 0;
        @@ -578,6 +579,11 @@ again:\t\t\tremove_next = 1 + (end > next->vm_end);
         \t\t}
         \t}
         
        +\tif (vma->anon_vma && (insert || importer || start != vma->vm_start)) {
        +\t\tanon_vma = vma->anon_vma;
        +\t\tspin_lock(&anon_vma->lock);
        +\t}
        +
         \tif (root) {
         \t\tflush_dcache_mmap_lock(mapping);
         \t\tvma_prio_tree_remove(vma, root);
        @@ -620,6 +626,9 @@ again:\t\t\tremove_next = 1 + (end > next->vm_end);
         \tif (mapping)
         \t\tspin_unlock(&mapping->i_mmap_lock);
         
        +\tif (anon_vma)
        +\t\tspin_unlock(&anon_vma->lock);
        +
         \tif (remove_next) {
         \t\tif (file) {
         \t\t\tfput(file);
        diff --git a/mm/rmap.c b/mm/rmap.c
        index 85f203e..2e65a75 100644
        --- a/mm/rmap.c
        +++ b/mm/rmap.c
        @@ -236,6 +236,40 @@ int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma)
         \treturn -ENOMEM;
         }
         
        +struct anon_vma *anon_vma_lock_nested(struct anon_vma *prev,
        +\t\t\tstruct anon_vma *next, struct anon_vma *root)
        +{
        +\tif (prev)
        +\t\tspin_unlock(&prev->lock);
        +\tif (next == root)
        +\t\treturn NULL;
        +\tspin_lock_nested(&next->lock, SINGLE_DEPTH_NESTING);
        +\treturn next;
        +}
        +
        +struct anon_vma *anon_vma_lock_root(struct anon_vma *anon_vma)
        +{
        +\tstruct anon_vma *root_anon_vma;
        +\tstruct anon_vma_chain *avc, *root_avc;
        +\tstruct vm_area_struct *vma;
        +
        +\tspin_lock(&anon_vma->lock);
        +\tif (list_empty(&anon_vma->head)) {
        +\t\tspin_unlock(&anon_vma->lock);
        +\t\treturn NULL;
        +\t}
        +
        +\tavc = list_first_entry(&anon_vma->head, struct anon_vma_chain, same_anon_vma);
        +\tvma = avc->vma;
        +\troot_avc = list_entry(vma->anon_vma_chain.prev, struct anon_vma_chain, same_vma);
        +\troot_anon_vma = root_avc->anon_vma;
        +
        +\tif (anon_vma != root_anon_vma) {
        +\t\tVM_BUG_ON(!rcu_read_lock_held());
        +\t\tspin_unlock(&anon_vma->lock);
        +\t\tspin_lock(&root_anon_vma->lock);
        +\t}
        +\treturn root_anon_vma;
        +}
        +
         /*
          * Attach the anon_vmas from src to dst.
          * Returns 0 on failure.

        """

    @Test func conditionalLockingAndLockReturningHelpersAreQuiet() throws {
        let result = try makeReviewer(showUnchanged: true).review([ReviewInput(name: "seed004.diff", bytes: Array(Self.patch.utf8))])
        #expect(result.errors.isEmpty)
        let names = Set(result.functions.map(\.touched.name))
        #expect(names == ["vma_adjust", "anon_vma_lock_nested", "anon_vma_lock_root"])
        let lockFindings = result.findings.filter { $0.rule != "use-after-unlock" }
        #expect(lockFindings.isEmpty, "\(lockFindings.map { "\($0.function):\($0.line) \($0.message)" })")
    }

    /// anon_vma_lock_root() reads root_anon_vma under anon_vma->lock, drops that lock and then
    /// locks root_anon_vma: nothing pins the root in that window (the reviewer's worry in seed 004).
    @Test func anonVmaLockRootUsesTheRootAfterDroppingTheLockThatProtectsIt() throws {
        let result = try makeReviewer().review([ReviewInput(name: "seed004.diff", bytes: Array(Self.patch.utf8))])
        let found = result.findings.filter { $0.rule == "use-after-unlock" }
        #expect(found.map { "\($0.status.rawValue) \($0.file):\($0.line) \($0.function) \($0.code)" } == [
            "introduced mm/rmap.c:270 anon_vma_lock_root spin_lock(&root_anon_vma->lock);",
        ])
        let finding = try #require(found.first)
        #expect(finding.message.contains("'anon_vma->lock' was dropped"))
        #expect(finding.notes.map { "\($0.line) \($0.code): \($0.message)" } == [
            "265 root_anon_vma = root_avc->anon_vma;: 'root_anon_vma' is read here under 'anon_vma->lock'",
            "269 spin_unlock(&anon_vma->lock);: 'anon_vma->lock' is dropped here",
        ])
    }

    /// Without the `if (anon_vma)` guard the second unlock would run on paths that never locked,
    /// and dropping the unlock entirely leaves the lock held: the same code shape stops being quiet.
    @Test func theSameShapeWithoutTheUnlockLeaks() throws {
        let source = """
            void adjust(struct vm_area_struct *vma, int insert)
            {
            	struct anon_vma *anon_vma = NULL;
            	if (vma->anon_vma && insert) {
            		anon_vma = vma->anon_vma;
            		spin_lock(&anon_vma->lock);
            	}
            	if (insert > 1)
            		return;
            	if (anon_vma)
            		spin_unlock(&anon_vma->lock);
            }
            """
        let result = try makeReviewer().review([ReviewInput(name: "x.diff", bytes: newFilePatch(source: source))])
        #expect(result.findings.map { "\($0.rule):\($0.line)" } == ["lock-leak:9"])
    }

    /// Seed 004's mm/ksm.c hunk re-typed: rmap_walk_ksm() walks `&anon_vma->head` with the result
    /// of anon_vma_lock_root(), which the patch's rmap.c hunk makes return NULL for an empty chain.
    static let ksmHunk = """
        diff --git a/mm/ksm.c b/mm/ksm.c
        index 3666d43..1db8656 100644
        --- a/mm/ksm.c
        +++ b/mm/ksm.c
        @@ -1671,9 +1672,16 @@ again:
         \t\tstruct anon_vma_chain *vmac;
         \t\tstruct vm_area_struct *vma;
         
        -\t\tspin_lock(&anon_vma->lock);
        +\t\tanon_vma = anon_vma_lock_root(anon_vma);
        +\t\tif (nested_anon_vma) {
        +\t\t\tspin_unlock(&nested_anon_vma->lock);
        +\t\t\tnested_anon_vma = NULL;
        +\t\t}
         \t\tlist_for_each_entry(vmac, &anon_vma->head, same_anon_vma) {
         \t\t\tvma = vmac->vma;
        +\t\t\tnested_anon_vma = anon_vma_lock_nested(nested_anon_vma,
        +\t\t\t\t\t\tvma->anon_vma, anon_vma);
        +
         \t\t\tif (rmap_item->address < vma->vm_start ||
         \t\t\t    rmap_item->address >= vma->vm_end)
         \t\t\t\tcontinue;

        """

    @Test func rmapWalkKsmUsesAnonVmaLockRootUnchecked() throws {
        let result = try makeReviewer().review([ReviewInput(name: "seed004.diff", bytes: Array((Self.ksmHunk + Self.patch).utf8))])
        #expect(result.errors.isEmpty)
        let found = result.findings.filter { $0.rule == "missing-null-check" }
        // The hunk header names the label `again:`, not the function, so the name is not checked.
        #expect(found.map { "\($0.status.rawValue) \($0.file):\($0.line) \($0.code)" } == [
            "introduced mm/ksm.c:1680 list_for_each_entry(vmac, &anon_vma->head, same_anon_vma) {",
        ])
        #expect(found.first?.message.contains("anon_vma_lock_root() returns NULL on some paths") == true)
    }
}

/// A killable or interruptible lock returns 0 or a negative errno, so `ret < 0` is a test of the
/// lock's result (kernel/seccomp.c, fs/fsopen.c).
@Suite struct ErrnoLockResultTests {
    func findings(_ source: String) throws -> [Finding] {
        try makeReviewer().review([ReviewInput(name: "x.diff", bytes: newFilePatch(source: source))]).findings
    }

    @Test func negativeResultTestedThroughAVariableEndsTheFailedPath() throws {
        let source = """
            static long notify_send(struct filter *filter, struct resp *resp)
            {
            \tlong ret;
            \tret = mutex_lock_interruptible(&filter->notify_lock);
            \tif (ret < 0)
            \t\treturn ret;
            \tret = reply(filter, resp);
            \tmutex_unlock(&filter->notify_lock);
            \treturn ret;
            }
            """
        #expect(try findings(source).filter { $0.rule == "unbalanced-unlock" || $0.rule == "lock-leak" }.isEmpty)
    }

    @Test func unlockingOnTheNegativePathIsStillReported() throws {
        let source = """
            static long notify_send(struct filter *filter, struct resp *resp)
            {
            \tlong ret;
            \tret = mutex_lock_interruptible(&filter->notify_lock);
            \tif (ret < 0) {
            \t\tmutex_unlock(&filter->notify_lock);
            \t\treturn ret;
            \t}
            \tret = reply(filter, resp);
            \tmutex_unlock(&filter->notify_lock);
            \treturn ret;
            }
            """
        let unbalanced = try findings(source).filter { $0.rule == "unbalanced-unlock" }
        #expect(unbalanced.map(\.line) == [6])
    }
}
