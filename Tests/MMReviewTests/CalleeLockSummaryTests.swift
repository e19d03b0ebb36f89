import MMCore
import MMReview
import Testing

/// A function of the patch that drops a lock its caller holds: the caller's walk follows the
/// drop at the call site instead of reporting the lock as leaked (or released twice).
@Suite struct CalleeLockSummaryTests {
    func findings(_ source: String, rule: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: source))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == rule }.map { "\($0.line) \($0.function): \($0.message)" }
    }

    /// mm/hugetlb.c: allocate_file_region_entries() drops `resv->lock` to allocate and returns
    /// -ENOMEM without taking it again; region_chg() returns that failure at once.
    static let dropsOnFailure = """
        static int allocate_entries(struct resv_map *resv, int needed)
        {
        	struct file_region *trg;
        	while (resv->region_cache_count < needed) {
        		spin_unlock(&resv->lock);
        		trg = kmalloc(sizeof(*trg), GFP_KERNEL);
        		if (!trg)
        			return -ENOMEM;
        		spin_lock(&resv->lock);
        		list_add(&trg->link, &resv->region_cache);
        		resv->region_cache_count++;
        	}
        	return 0;
        }

        long region_chg(struct resv_map *resv, long f, long t)
        {
        	long chg;
        	spin_lock(&resv->lock);
        	chg = count_regions(resv, f, t);
        	if (allocate_entries(resv, chg))
        		return -ENOMEM;
        	resv->adds_in_progress += chg;
        	spin_unlock(&resv->lock);
        	return chg;
        }
        """

    @Test func aCalleeThatDropsTheLockOnFailureIsNoLeak() throws {
        #expect(try findings(Self.dropsOnFailure, rule: "lock-leak") == [])
    }

    /// The same caller with a helper that keeps the lock: the early return leaks it.
    @Test func aCalleeThatKeepsTheLockLeavesTheLeak() throws {
        let source = Self.dropsOnFailure
            .replacingOccurrences(of: "\t\tspin_unlock(&resv->lock);\n", with: "")
            .replacingOccurrences(of: "\t\tspin_lock(&resv->lock);\n", with: "")
        #expect(try findings(source, rule: "lock-leak") == [
            "20 region_chg: region_chg() returns here with 'resv->lock' still held",
        ])
    }

    /// mm/memory.c: wp_page_shared() locks vmf->page and fault_dirty_shared_page() unlocks it
    /// through a local copy of `vmf->page`, on every return.
    static let unlocksThroughAlias = """
        static vm_fault_t dirty_shared_page(struct vm_fault *vmf)
        {
        	struct page *page = vmf->page;
        	bool dirtied;
        	dirtied = set_page_dirty(page);
        	unlock_page(page);
        	if (dirtied)
        		return VM_FAULT_COMPLETED;
        	return 0;
        }

        static vm_fault_t page_shared(struct vm_fault *vmf)
        {
        	vm_fault_t ret = VM_FAULT_WRITE;
        	get_page(vmf->page);
        	lock_page(vmf->page);
        	ret |= dirty_shared_page(vmf);
        	put_page(vmf->page);
        	return ret;
        }
        """

    @Test func aCalleeThatUnlocksTheCallersPageIsNoLeak() throws {
        #expect(try findings(Self.unlocksThroughAlias, rule: "lock-leak") == [])
    }

    /// Released by the callee on every return, so unlocking again after it is a double unlock.
    @Test func unlockingAgainAfterTheCalleeIsADoubleUnlock() throws {
        let source = Self.unlocksThroughAlias.replacingOccurrences(
            of: "\tput_page(vmf->page);\n", with: "\tunlock_page(vmf->page);\n\tput_page(vmf->page);\n")
        #expect(try findings(source, rule: "unbalanced-unlock") == [
            "18 page_shared: unlock_page() releases 'vmf->page->PG_locked' again; this path already released it",
        ])
    }

    /// mm/hugetlb.c: hugetlb_fault() hands its fault mutex (a global table) to hugetlb_no_page(),
    /// which drops it on every return, one of them through a third helper.
    @Test func aGlobalLockDroppedTwoCallsDownIsNoLeak() throws {
        let source = """
            static vm_fault_t handle_userfault(struct vm_area_struct *vma, u32 hash)
            {
            	vm_fault_t ret;
            	ret = handle_userfault_wait(vma);
            	mutex_unlock(&fault_mutex_table[hash]);
            	return ret;
            }

            static vm_fault_t no_page(struct vm_area_struct *vma, unsigned long address)
            {
            	u32 hash = fault_mutex_hash(vma, address);
            	if (userfaultfd_missing(vma))
            		return handle_userfault(vma, hash);
            	fill_page(vma, address);
            	mutex_unlock(&fault_mutex_table[hash]);
            	return 0;
            }

            vm_fault_t huge_fault(struct vm_area_struct *vma, unsigned long address)
            {
            	u32 hash = fault_mutex_hash(vma, address);
            	mutex_lock(&fault_mutex_table[hash]);
            	if (huge_pte_none(vma, address))
            		return no_page(vma, address);
            	update_entry(vma, address);
            	mutex_unlock(&fault_mutex_table[hash]);
            	return 0;
            }
            """
        #expect(try findings(source, rule: "lock-leak") == [])
    }
}
