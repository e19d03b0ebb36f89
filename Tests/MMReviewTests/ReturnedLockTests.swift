import MMCore
import MMReview
import Testing

/// Functions that return holding a lock and say so through their return value or the caller's
/// variables, and try-locks taken only when an earlier `&&` operand holds.
@Suite struct ReturnedLockTests {
    func lockLeaks(_ source: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: source))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == "lock-leak" }.map { "\($0.line) \($0.function): \($0.message)" }
    }

    /// mm/filemap.c filemap_page_mkwrite(): VM_FAULT_LOCKED is set when `ret` is declared and
    /// replaced on the path that unlocks.
    @Test func aFaultHandlerReturningVmFaultLockedInAVariableHandsThePageOver() throws {
        let source = """
            vm_fault_t page_mkwrite(struct vm_fault *vmf)
            {
            	struct address_space *mapping = vmf->vma->vm_file->f_mapping;
            	struct folio *folio = page_folio(vmf->page);
            	vm_fault_t ret = VM_FAULT_LOCKED;

            	folio_lock(folio);
            	if (folio->mapping != mapping) {
            		folio_unlock(folio);
            		ret = VM_FAULT_NOPAGE;
            		goto out;
            	}
            	folio_mark_dirty(folio);
            out:
            	sb_end_pagefault(mapping->host->i_sb);
            	return ret;
            }
            """
        #expect(try lockLeaks(source) == [])
    }

    /// mm/migrate.c __migrate_folio_unmap(): `return MIGRATEPAGE_UNMAP` with both folios locked,
    /// `return rc` with an errno after unlocking them.
    static let unmap = """
        static int folio_unmap(struct folio *src, struct folio *dst, int force)
        {
        	int rc = -EAGAIN;

        	if (!folio_trylock(src))
        		goto out;
        	if (folio_test_writeback(src)) {
        		rc = -EBUSY;
        		goto out_unlock;
        	}
        	if (!folio_trylock(dst))
        		goto out_unlock;
        	if (!folio_mapped(src))
        		return MIGRATEPAGE_UNMAP;
        	try_to_migrate(src, 0);
        	folio_unlock(dst);
        out_unlock:
        	folio_unlock(src);
        out:
        	return rc;
        }
        """

    @Test func aNamedSuccessConstantNoUnlockedExitReturnsHandsTheLocksOver() throws {
        #expect(try lockLeaks(Self.unmap) == [])
    }

    /// The same constant returned after unlocking too: the caller cannot tell, so it is a leak.
    @Test func theSameConstantOnAnUnlockedExitStillLeaks() throws {
        let source = Self.unmap.replacingOccurrences(of: "\tint rc = -EAGAIN;", with: "\tint rc = MIGRATEPAGE_UNMAP;")
        #expect(try lockLeaks(source) == [
            "14 folio_unmap: folio_unmap() returns here with 'dst->PG_locked' still held",
            "14 folio_unmap: folio_unmap() returns here with 'src->PG_locked' still held",
        ])
    }

    /// mm/shmem.c shmem_swapin_folio(): the locked folio goes back through `*foliop`.
    @Test func aLockedObjectStoredForTheCallerIsHandedOver() throws {
        let source = """
            static int swapin_folio(struct inode *inode, pgoff_t index, struct folio **foliop)
            {
            	struct folio *folio;
            	int error;

            	folio = swap_cache_get_folio(inode, index);
            	if (!folio)
            		return -ENOMEM;
            	folio_lock(folio);
            	if (!folio_test_uptodate(folio)) {
            		error = -EIO;
            		goto failed;
            	}
            	*foliop = folio;
            	return 0;
            failed:
            	folio_unlock(folio);
            	folio_put(folio);
            	return error;
            }
            """
        #expect(try lockLeaks(source) == [])
        // An error return after the store leaves the caller nothing to unlock.
        let leaking = source.replacingOccurrences(of: "\t*foliop = folio;\n\treturn 0;",
                                                  with: "\t*foliop = folio;\n\tif (folio_test_dirty(folio))\n\t\treturn -EBUSY;\n\treturn 0;")
        #expect(try lockLeaks(leaking) == [
            "16 swapin_folio: swapin_folio() returns here with 'folio->PG_locked' still held",
        ])
    }

    /// mm/page_idle.c: the try-lock runs only when `need_lock` is true, and the unlock is under
    /// the same flag.
    @Test func aTryLockBehindAFlagIsReleasedUnderTheSameFlag() throws {
        let source = """
            static void clear_refs(struct page *page)
            {
            	struct folio *folio = page_folio(page);
            	bool need_lock;

            	need_lock = !folio_test_anon(folio) || folio_test_ksm(folio);
            	if (need_lock && !folio_trylock(folio))
            		return;
            	rmap_walk(folio, &rwc);
            	if (need_lock)
            		folio_unlock(folio);
            }
            """
        #expect(try lockLeaks(source) == [])
    }

    /// mm/gup_test.c: a killable lock behind a flag, and an error return between it and the
    /// release still leaks.
    @Test func aKillableLockBehindAFlagStillLeaksOnAnEarlyReturn() throws {
        let source = """
            static int gup_ioctl(struct gup_test *gup, bool needs_mmap_lock)
            {
            	int ret = 0;

            	if (needs_mmap_lock && mmap_read_lock_killable(current->mm))
            		return -EINTR;
            	if (gup->size == 0)
            		return -EINVAL;
            	ret = run_benchmark(gup);
            	if (needs_mmap_lock)
            		mmap_read_unlock(current->mm);
            	return ret;
            }
            """
        #expect(try lockLeaks(source) == [
            "8 gup_ioctl: gup_ioctl() returns here with 'current->mm->mmap_lock' still held",
        ])
        let fixed = source.replacingOccurrences(of: "\tif (gup->size == 0)\n\t\treturn -EINVAL;\n", with: "")
        #expect(try lockLeaks(fixed) == [])
    }

    /// mm/slub.c deactivate_slab(): a state variable set beside the lock decides the unlock, in a
    /// retry loop. Without the unlock on the retry path the lock is taken twice.
    static let stateMachine = """
        static void deactivate(struct kmem_cache_node *n, struct slab *slab)
        {
        	int mode;
        	unsigned long flags;
        redo:
        	if (!slab->inuse) {
        		mode = M_FREE;
        	} else if (slab->freelist) {
        		mode = M_PARTIAL;
        		spin_lock_irqsave(&n->list_lock, flags);
        	} else {
        		mode = M_FULL_NOLIST;
        	}
        	if (!cmpxchg_slab(slab)) {
        		if (mode == M_PARTIAL)
        			spin_unlock_irqrestore(&n->list_lock, flags);
        		goto redo;
        	}
        	if (mode == M_PARTIAL) {
        		add_partial(n, slab);
        		spin_unlock_irqrestore(&n->list_lock, flags);
        	} else if (mode == M_FREE) {
        		discard_slab(slab);
        	}
        }
        """

    @Test func aStateVariableSetBesideTheLockDecidesTheUnlock() throws {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: Self.stateMachine))])
        #expect(result.findings.map { "\($0.rule) \($0.line)" } == [])
        let noRetryUnlock = Self.stateMachine.replacingOccurrences(
            of: "\t\tif (mode == M_PARTIAL)\n\t\t\tspin_unlock_irqrestore(&n->list_lock, flags);\n", with: "")
        let broken = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: noRetryUnlock))])
        #expect(broken.findings.filter { $0.rule == "double-lock" }.map(\.line) == [10])
    }

    /// mm/kmemleak.c kmemleak_write(): an interruptible lock's result kept in `ret`, and the
    /// function returns at once when it is negative; the unlock after that is balanced.
    @Test func anInterruptibleLockResultTestedBelowZeroHoldsTheLockAfterward() throws {
        let source = """
            static ssize_t scan_write(const char *buf)
            {
            	int ret;

            	ret = mutex_lock_interruptible(&scan_mutex);
            	if (ret < 0)
            		return ret;
            	if (strncmp(buf, "clear", 5) == 0)
            		clear_all();
            	else
            		ret = -EINVAL;
            	mutex_unlock(&scan_mutex);
            	return ret;
            }
            """
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: source))])
        #expect(result.findings.map { "\($0.rule) \($0.line)" } == [])
    }
}
