import MMCore
import MMReview
import Testing

/// A NULL test of a call's result that the patch removes, while the new code still uses the
/// result: the old code's own test says the call can fail.
@Suite struct RemovedNullTestTests {
    func review(_ patch: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: Array(patch.utf8))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == "missing-null-check" }
            .map { "\($0.status.rawValue) \($0.line) \($0.code): \($0.message)" }
    }

    @Test func aDroppedTestIsReportedAtTheFirstUse() throws {
        let patch = """
            --- a/mm/sparse.c
            +++ b/mm/sparse.c
            @@ -403,13 +403,11 @@ void __init populate_node(struct page **map_map, unsigned long size)
             \tsize = PAGE_ALIGN(size);
             \tmap = alloc_boot_node_high(nodeid, size * count);
            -\tif (map) {
            -\t\tfor (pnum = begin; pnum < end; pnum++) {
            -\t\t\tmap_map[pnum] = map;
            -\t\t\tmap += size;
            -\t\t}
            -\t\treturn;
            +\tfor (pnum = begin; pnum < end; pnum++) {
            +\t\tmap_map[pnum] = map;
            +\t\tmap += size;
             \t}
            +\treturn;
             
             \t/* fallback */
             \tfor (pnum = begin; pnum < end; pnum++) {

            """
        #expect(try review(patch) == [
            "introduced 406 map_map[pnum] = map;: can 'map' be NULL here? The patch removes the NULL test of 'map' "
                + "that the old code made after alloc_boot_node_high(), and uses it without one",
        ])
    }

    @Test func aTestRewrittenAsIsErrOrAnEarlyReturnIsStillATest() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,8 +20,9 @@ static int setup(struct foo *foo)
             \tbuf = make_buffer(foo);
            -\tif (buf)
            -\t\tfill(buf);
            +\tif (IS_ERR(buf))
            +\t\treturn PTR_ERR(buf);
            +\tfill(buf);
             \treturn 0;
             }

            """
        #expect(try review(patch) == [])
    }

    @Test func aCallThePatchRewritesMayHaveStoppedFailing() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,7 +20,6 @@ static int setup(struct foo *foo)
            -\tbuf = kmalloc(64, GFP_KERNEL);
            -\tif (buf)
            -\t\tfill(buf);
            +\tbuf = kmalloc(64, GFP_KERNEL | __GFP_NOFAIL);
            +\tfill(buf);
             \treturn 0;
             }

            """
        #expect(try review(patch) == [])
    }
}
