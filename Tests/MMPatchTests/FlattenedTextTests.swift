import Testing
import MMCore
@testable import MMPatch

/// Text whose line breaks became spaces (seed 004's archive page): rebuilt from the `> ` quote
/// markers and the diff markers, checked hunk by hunk against the hunk headers' line counts.
@Suite struct FlattenedTextTests {
    @Test func seed004HunksAreRebuiltLineByLine() throws {
        let patches = try InputReader().read(bytes: Array(Seed.s004.utf8), name: "seed.txt", firstIndex: 0)
        #expect(patches.count == 1)
        let hunks = patches[0].files.flatMap(\.hunks)
        #expect(hunks.count == 10)
        // Every hunk but the last (cut short by the reply) has exactly the lines its header counts.
        for hunk in hunks.dropLast() {
            #expect(hunk.lines.filter { $0.kind != .added }.count == hunk.oldCount)
            #expect(hunk.lines.filter { $0.kind != .removed }.count == hunk.newCount)
        }
        // `@@ … @@ again: remove_next = 1 + (end > next->vm_end);`: the ` > ` of the comparison
        // in the header's function line is not a line break.
        #expect(hunks.contains { $0.section == "again: remove_next = 1 + (end > next->vm_end);" })
        let ksm = try #require(patches[0].files.first { $0.displayPath == "mm/ksm.c" })
        #expect(ksm.hunks[1].lines.map { "\($0.kind.rawValue) \($0.text)" }.prefix(5) == [
            "context struct anon_vma_chain *vmac;",
            "context struct vm_area_struct *vma;",
            "context ",
            "removed spin_lock(&anon_vma->lock);",
            "added anon_vma = anon_vma_lock_root(anon_vma);",
        ])
        // The last quoted line ends where its code does; the reply after it is not code.
        let last = try #require(hunks.last?.lines.last)
        #expect(last.kind == .added && last.text == "}")
        #expect(patches[0].origin.note?.contains("the last hunk, cut short by the reply, ends where its code line does") == true)
    }

    /// A page holding the flattened message many times over (the fuzzer's repeated line): the copies
    /// are rebuilt into the same file sections, which are reviewed once and named in one note. Each
    /// copy used to be checked against every other copy, and 4 600 copies took minutes.
    @Test func repeatedFlattenedCopiesAreReviewedOnce() throws {
        let once = try InputReader().read(bytes: Array(Seed.s004.utf8), name: "seed.txt", firstIndex: 0)
        let page = Array(repeating: Seed.s004, count: 200).joined(separator: "\n")
        let patches = try InputReader().read(bytes: Array(page.utf8), name: "page.txt", firstIndex: 0)
        #expect(patches.count == 1)
        #expect(patches[0].files == once[0].files)
        #expect(patches[0].files.flatMap(\.hunks).count == 10)
        let note = try #require(patches[0].origin.note)
        #expect(note.hasSuffix("(199 more flattened lines were rebuilt the same way)"))
        #expect(note.components(separatedBy: "line breaks were lost").count == 2)
    }

    @Test func textWithoutQuoteMarkersIsNotRebuilt() {
        // Seed 004's first hunk header and lines, flattened without any `> ` quoting.
        let line = "diff --git a/include/linux/rmap.h b/include/linux/rmap.h index 7721674..1dc949f 100644 "
            + "--- a/include/linux/rmap.h +++ b/include/linux/rmap.h @@ -121,6 +121,10 @@ int anon_vma_prepare("
            + "struct vm_area_struct *); void unlink_anon_vmas(struct vm_area_struct *); int anon_vma_clone(struct "
            + "vm_area_struct *, struct vm_area_struct *); int anon_vma_fork(struct vm_area_struct *, struct "
            + "vm_area_struct *); +struct anon_vma *anon_vma_lock_nested(struct anon_vma *prev, + struct anon_vma "
            + "*next, struct anon_vma *root);"
        #expect(FlattenedText.recover([line]) == .failed("no `> ` quote markers to rebuild the lines from"))
    }
}
