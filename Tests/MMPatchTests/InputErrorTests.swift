import Testing
import MMCore
@testable import MMPatch

@Suite struct InputErrorTests {
    @Test func emptyInput() {
        #expect(readError([], name: "t.diff") == InputError(input: "t.diff", message: "t.diff is empty"))
        #expect(readError(Array(" \n\t\r\n".utf8), name: "-")
                == InputError(input: "-", message: "standard input is empty"))
    }

    @Test func binaryData() {
        let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + Array("--- a/x.c\n".utf8)
        #expect(readError(elf, name: "a.out")
                == InputError(input: "a.out", message: "a.out is binary data, not a patch or a mail"))
        // No NUL byte, but almost nothing is valid UTF-8.
        let noise = (0..<4000).map { UInt8(0x80 + ($0 * 37) % 0x80) }
        #expect(readError(noise, name: "noise")?.message == "noise is binary data, not a patch or a mail")
    }

    @Test func mailWithoutPatch() {
        let mail = """
            From: A <a@example.org>
            Subject: Re: [PATCH] something

            Looks good to me.
            """
        let error = readError(Array(mail.utf8), name: "mail.eml")
        #expect(error == InputError(input: "mail.eml", message: "no patch found: expected a unified diff, "
                                    + "a git format-patch mail, or a mail quoting one"))
        #expect(error?.description == "mail.eml: no patch found: expected a unified diff, "
                + "a git format-patch mail, or a mail quoting one")
    }

    /// A hunk header cut short (`@@ -1,3` with no new range): the error names it.
    @Test func malformedHunkHeaderIsNamed() {
        let patch = "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,3\n a\n-b\n+c\n"
        #expect(readError(Array(patch.utf8), name: "cut.diff")
                == InputError(input: "cut.diff", message: "no patch found: the hunk header '@@ -1,3' is malformed "
                              + "(expected '@@ -start,count +start,count @@')"))
    }

    /// Seed 004 with one quoted line of its mm/ksm.c hunk taken out: the hunk no longer adds up to
    /// its line counts, so the flattened text is not rebuilt (a guess would review a wrong patch).
    @Test func flattenedPageThatDoesNotAddUp() {
        let cut = Seed.s004.replacingOccurrences(of: " > + nested_anon_vma = NULL;", with: "")
        #expect(cut != Seed.s004)
        let error = readError(Array(cut.utf8), name: "seed.txt")
        #expect(error?.description == "seed.txt: the message's line breaks were lost (a diff appears flattened "
                + "onto one line) and mmreview cannot rebuild the patch reliably: the lines of hunk "
                + "'@@ -1671,9 +1672,16 @@' do not add up to its line counts, so its line breaks cannot be told "
                + "apart from ' > ' in the code")
    }

    @Test func nonCPatchReadsButTouchesNoFunction() throws {
        let text = """
            diff --git a/Documentation/mm.rst b/Documentation/mm.rst
            --- a/Documentation/mm.rst
            +++ b/Documentation/mm.rst
            @@ -1,2 +1,2 @@
            -int f(void) {
            +int g(void) {
             }
            """
        let patches = try readPatches(text)
        #expect(patches.first?.files.first?.hunks.first?.lines.count == 3)
        #expect(patches.flatMap { FragmentBuilder().touchedFunctions(in: $0) }.isEmpty)
    }
}
