import Testing
import MMCore
@testable import MMPatch

/// Where a hunk that starts mid-file begins: inside the function its header names, or at file
/// scope. Mail mangling (space-stuffing, lost indentation) must not lose the function.
@Suite struct HunkStartTests {
    /// The hunk opens with the `};` of a local initialiser, indented, under a header naming a
    /// function: the code after it is that function's, not file-scope text.
    @Test func anIndentedInitialiserCloseUnderAFunctionHeader() throws {
        let touched = try functions("""
            --- a/fs/example.c
            +++ b/fs/example.c
            @@ -20,6 +20,9 @@ static ssize_t store(struct file *file, const char *buf)
             \t\t};
             
             \t\tif (mode == MODE_RESET) {
            +\t\t\tif (mutex_lock_killable(&ctx->lock))
            +\t\t\t\treturn -EINTR;
            +
             \t\t\treset(ctx);
             \t\t\tgoto out;
             \t\t}

            """)
        #expect(touched.map(\.name) == ["store"])
        #expect(touched.first?.after?.startsAtDefinition == false)
    }

    /// The hunk opens with the tail of a call split over lines, indentation lost in transit.
    @Test func theTailOfAStatementBegunBeforeTheHunk() throws {
        let touched = try functions("""
            --- a/drivers/example.c
            +++ b/drivers/example.c
            @@ -100,6 +100,9 @@ static int analyze(void)
             pr_info("no values for %d : %s\\n",
             i, name);
             }
            + if (!values) {
            + values = kstrdup("none", GFP_KERNEL);
            + }
             
             count++;
             return 0;

            """)
        #expect(touched.map(\.name) == ["analyze"])
    }

    /// format=flowed quoting stuffs one blank before each context line: the function's closing
    /// brace arrives as ` }` and still ends it, so the new function after it is its own (and the
    /// unchanged one before it is not touched).
    @Test func aSpaceStuffedClosingBraceEndsTheFunction() throws {
        let touched = try functions("""
            > --- a/drivers/example.c
            > +++ b/drivers/example.c
            > @@ -42,6 +42,12 @@ static void mark(struct range *range)
            >   \t}
            >   }
            >   
            > +static int count(struct range *range)
            > +{
            > +\treturn range->n;
            > +}
            > +
            >   /**
            >    * build() - build it
            >    */

            """)
        #expect(touched.map(\.name) == ["count"])
        #expect(touched.last?.after?.startsAtDefinition == true)
    }
}
