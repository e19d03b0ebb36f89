import MMCore
import MMReview
import Testing

/// Calls through function pointers whose documented contract releases an argument's lock
/// (Rules/locks.yaml `operations`): `->read_folio()` and a `filler_t` unlock the folio, `->writepage()`
/// and a `writepage_t` unlock the page unless they return AOP_WRITEPAGE_ACTIVATE, memory-failure's
/// `page_state->action()` unlocks the page. Nothing behind the pointer is in the patch.
@Suite struct OperationContractTests {
    func findings(_ source: String, rule: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: source))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == rule }.map { "\($0.line) \($0.function): \($0.message)" }
    }

    /// mm/filemap.c filemap_update_page() style: the folio is handed to ->read_folio() locked.
    static let readFolio = """
        static int update_page(struct file *file, struct address_space *mapping, struct folio *folio)
        {
        	int error;
        	if (!folio_trylock(folio))
        		return -EAGAIN;
        	if (folio_test_uptodate(folio)) {
        		folio_unlock(folio);
        		return 0;
        	}
        	error = mapping->a_ops->read_folio(file, folio);
        	if (error)
        		return error;
        	return folio_wait_locked_killable(folio);
        }
        """

    @Test func readFolioUnlocksTheFolio() throws {
        #expect(try findings(Self.readFolio, rule: "lock-leak") == [])
    }

    /// An operation that is called with the folio locked and does not unlock it (->launder_folio):
    /// the returns after it still hold the lock.
    @Test func anOperationWithoutTheContractLeavesTheLeak() throws {
        let source = Self.readFolio.replacingOccurrences(of: "a_ops->read_folio(file, folio)",
                                                         with: "a_ops->launder_folio(folio)")
        #expect(try !findings(source, rule: "lock-leak").isEmpty)
    }

    /// Unlocking again after ->read_folio() is the bug the contract makes visible.
    @Test func unlockingAfterReadFolioIsUnbalanced() throws {
        let source = Self.readFolio.replacingOccurrences(of: "\tif (error)\n\t\treturn error;\n",
                                                         with: "\tfolio_unlock(folio);\n\tif (error)\n\t\treturn error;\n")
        #expect(try !findings(source, rule: "unbalanced-unlock").isEmpty)
    }

    /// mm/filemap.c filemap_read_folio(): a `filler_t` parameter stands in for ->read_folio(); the
    /// helper that calls it releases its caller's folio on every return (a callee summary).
    static let filler = """
        static int read_with(struct file *file, filler_t filler, struct folio *folio)
        {
        	int error = filler(file, folio);
        	if (error)
        		return error;
        	return folio_wait_locked_killable(folio);
        }

        int read_page(struct file *file, filler_t filler, struct folio *folio)
        {
        	int error;
        	if (!folio_trylock(folio))
        		return -EAGAIN;
        	if (folio_test_uptodate(folio)) {
        		folio_unlock(folio);
        		return 0;
        	}
        	error = read_with(file, filler, folio);
        	return error;
        }
        """

    @Test func aFillerParameterUnlocksTheFolioThroughAHelper() throws {
        #expect(try findings(Self.filler, rule: "lock-leak") == [])
    }

    /// The same name declared with another type is just a function pointer: nothing is known.
    @Test func aPointerOfAnotherTypeSaysNothing() throws {
        let source = Self.filler.replacingOccurrences(of: "filler_t filler", with: "check_t filler")
        #expect(try !findings(source, rule: "lock-leak").isEmpty)
    }

    /// mm/page-writeback.c write_cache_pages(): a `writepage_t` unlocks the page unless it returns
    /// AOP_WRITEPAGE_ACTIVATE, after which the caller unlocks it.
    static let writepage = """
        int write_pages(struct pagevec *pvec, struct writeback_control *wbc, writepage_t writepage, void *data)
        {
        	int i, error;
        	for (i = 0; i < pvec->nr; i++) {
        		struct page *page = pvec->pages[i];
        		lock_page(page);
        		if (!PageDirty(page)) {
        			unlock_page(page);
        			continue;
        		}
        		error = (*writepage)(page, wbc, data);
        		if (error == AOP_WRITEPAGE_ACTIVATE) {
        			unlock_page(page);
        			error = 0;
        		}
        		if (error)
        			return error;
        	}
        	return 0;
        }
        """

    @Test func aWritepageCallbackMayUnlockThePage() throws {
        #expect(try findings(Self.writepage, rule: "lock-leak") == [])
        #expect(try findings(Self.writepage, rule: "unbalanced-unlock") == [])
    }

    /// mm/memory-failure.c: struct page_state's ->action() unlocks the page; the member name alone
    /// (`->action` of another struct) says nothing.
    static let pageState = """
        static int page_action(struct page_state *ps, struct page *p, unsigned long pfn)
        {
        	int result;
        	result = ps->action(ps, p);
        	return (result == MF_RECOVERED || result == MF_DELAYED) ? 0 : -EBUSY;
        }

        int handle_page(struct page_state *ps, struct page *p, unsigned long pfn)
        {
        	int ret;
        	lock_page(p);
        	if (PageReserved(p)) {
        		unlock_page(p);
        		return 0;
        	}
        	ret = page_action(ps, p, pfn);
        	return ret;
        }
        """

    @Test func aStructMemberWithTheContractUnlocksThePage() throws {
        #expect(try findings(Self.pageState, rule: "lock-leak") == [])
    }

    @Test func theSameMemberOfAnotherStructSaysNothing() throws {
        let source = Self.pageState.replacingOccurrences(of: "struct page_state *ps", with: "struct work_state *ps")
        #expect(try !findings(source, rule: "lock-leak").isEmpty)
    }
}
