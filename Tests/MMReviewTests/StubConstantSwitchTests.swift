import MMCore
import MMReview
import Testing

/// Names in capitals the patch does not define are stubbed as enum constants. With one value for
/// all of them, `case A:` and `case B:` of one switch were duplicate case values, clang dropped the
/// switch, and the statements recovered from tokens ran into `default: BUG()` on every path: a
/// result stored in a case and returned after the switch looked never read (mm/hugetlb.c
/// __vma_reservation_common()).
@Suite struct StubConstantSwitchTests {
    func findings(_ source: String, rule: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: source))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == rule }.map { "\($0.line) \($0.function): \($0.message)" }
    }

    static let source = """
        static long resv_common(struct resv_map *resv, long idx, int mode)
        {
        	long ret;
        	switch (mode) {
        	case VMA_COMMIT_RESV:
        		ret = region_add(resv, idx, idx + 1);
        		break;
        	case VMA_DEL_RESV:
        		ret = region_del(resv, idx, idx + 1);
        		break;
        	default:
        		BUG();
        	}
        	return ret;
        }

        long unreserve(struct resv_map *resv, long idx)
        {
        	long chg = region_del(resv, idx, idx + 1);
        	if (chg < 0)
        		return chg;
        	return 0;
        }
        """

    @Test func aResultStoredInACaseAndReturnedIsRead() throws {
        #expect(try findings(Self.source, rule: "unchecked-return") == [])
    }

    /// The same switch with the stored result dropped: still reported, now that the switch parses.
    @Test func aResultStoredInACaseAndDroppedIsReported() throws {
        let source = Self.source.replacingOccurrences(of: "\treturn ret;\n}", with: "\treturn 0;\n}")
        #expect(try findings(source, rule: "unchecked-return").count == 1)
    }
}
