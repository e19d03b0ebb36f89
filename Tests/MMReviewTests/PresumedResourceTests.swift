import MMCore
import MMReview
import Testing

/// A reference taken in code the hunk does not show and dropped in sight: a new exit that skips
/// the drop leaks it; a drop made only sometimes proves nothing.
@Suite struct PresumedResourceTests {
    func review(_ patch: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: Array(patch.utf8))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == "resource-leak" }
            .map { "\($0.status.rawValue) \($0.line) \($0.code): \($0.message)" }
    }

    @Test func newEarlyReturnSkipsTheDropOfAReferenceTakenOutOfSight() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,8 +20,10 @@ static int move_one(struct foo *foo)
             \tif (!page)
             \t\treturn -ENOMEM;
            +\tif (foo->busy)
            +\t\treturn -EBUSY;
             \tcopy_page(foo->dst, page);
             \tput_page(page);
             \treturn 0;
             }

            """
        #expect(try review(patch) == [
            "introduced 23 return -EBUSY;: move_one() returns here without put_page() or page_cache_release() on the "
                + "reference to 'page', which its other exits drop (it is taken before the code the patch shows): is it leaked?",
        ])
    }

    @Test func aDropMadeOnlySometimesIsNoEvidence() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,7 +20,9 @@ static int move_one(struct foo *foo)
             \tif (!page)
             \t\treturn -ENOMEM;
            +\tif (foo->busy)
            +\t\treturn -EBUSY;
             \tif (freeit)
             \t\tput_page(page);
             \treturn 0;
             }

            """
        #expect(try review(patch) == [])
    }
}
