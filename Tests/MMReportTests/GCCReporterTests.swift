import MMCore
import Testing
@testable import MMReport

@Suite struct GCCReporterTests {
    @Test func printsFindingsNotesFixedAndUnchanged() {
        let text = GCCReporter().render(Checkpoint.input())
        #expect(text == """
        checkpoint/memory.c:678:4: note: fixed by this patch: 'mm->mmap_sem' still held when checkpoint_obj() fails [lock-leak]
        checkpoint/memory.c:660:1: note: lock taken here
        checkpoint/memory.c:748:3: warning: reference taken by get_file() on 'exe_file' is not dropped when ckpt_hdr_get_type() fails [resource-leak]
        checkpoint/memory.c:765:1: note: ckpt_write_obj() fails here
        checkpoint/memory.c:758:3: error: checkpoint_obj() writes to the image file and so may take the inode lock; is 'mm->mmap_sem' released on every path that reaches it? [lock-order]
        checkpoint/memory.c:755:1: note: mmap_sem is released here
        checkpoint/memory.c:765:1: warning: result of ckpt_write_obj() is not checked (already present before this patch) [unchecked-return]

        """)
    }

    @Test func inputErrorsComeFirstAndMessagesStayOnOneLine() {
        var finding = Checkpoint.leak
        finding.message = "first line\nsecond line"
        finding.notes = []
        finding.column = 0
        let input = Checkpoint.input([finding], errors: [InputError(input: "broken.mbox", message: "no patch found")])
        #expect(GCCReporter().render(input) == """
        broken.mbox: error: no patch found
        checkpoint/memory.c:748:1: warning: first line second line [resource-leak]

        """)
    }

    @Test func nothingToSayPrintsNothing() {
        #expect(GCCReporter().render(Checkpoint.input([])) == "")
    }
}
