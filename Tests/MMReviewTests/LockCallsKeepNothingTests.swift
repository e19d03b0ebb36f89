import Foundation
import MMCore
import MMReview
import Testing

/// Locking an object does not take the reference to it: a path that takes a page reference, fails
/// to lock the page and returns without dropping the reference leaks it, as in mm/migrate_device.c
/// migrate_vma_collect_pmd() (get_page(); spin_unlock(); if (!trylock_page(page)) return …;).
/// Before, handing the page to trylock_page() counted as handing the reference on.
@Suite struct LockCallsKeepNothingTests {
    static let leaking = """
        static int collect_huge(pmd_t *pmdp, struct mm_struct *mm)
        {
        	spinlock_t *ptl;
        	struct page *page;
        	int ret;

        	ptl = pmd_lock(mm, pmdp);
        	page = pmd_page(*pmdp);
        	get_page(page);
        	spin_unlock(ptl);
        	if (unlikely(!trylock_page(page)))
        		return collect_skip(mm, pmdp);
        	ret = split_huge_page(page);
        	unlock_page(page);
        	put_page(page);
        	if (ret)
        		return -EBUSY;
        	return 0;
        }
        """

    /// The same with the reference dropped on the failed try-lock's path.
    static let dropping = leaking.replacingOccurrences(
        of: "\tif (unlikely(!trylock_page(page)))\n\t\treturn collect_skip(mm, pmdp);",
        with: "\tif (unlikely(!trylock_page(page))) {\n\t\tput_page(page);\n\t\treturn collect_skip(mm, pmdp);\n\t}")

    func leaks(_ source: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: newFilePatch(source: source))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == "resource-leak" }
            .map { "\($0.line) \($0.code) [\($0.notes.map { String($0.line) }.joined(separator: ","))]" }
    }

    @Test func aFailedTryLockDoesNotHandTheReferenceOn() throws {
        #expect(try leaks(Self.leaking) == ["12 return collect_skip(mm, pmdp); [9,15]"])
    }

    @Test func droppingItBeforeReturningIsQuiet() throws {
        #expect(Self.dropping != Self.leaking)
        #expect(try leaks(Self.dropping) == [])
    }
}
