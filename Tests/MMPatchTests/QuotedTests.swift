import Testing
import MMCore
@testable import MMPatch

@Suite struct QuotedTests {
    @Test func seed000QuotedGitPatch() throws {
        let patches = try readPatches(Seed.s000, name: "seed.txt")
        #expect(patches.count == 1)
        let patch = try #require(patches.first)
        #expect(patch.origin.quoted)
        #expect(patch.description.hasPrefix("This patch modifies the memory checkpoint code to _not_ hold the\nmmap_sem"))
        #expect(patch.description.hasSuffix(" 1 files changed, 94 insertions(+), 39 deletions(-)"))
        let file = try #require(patch.files.first)
        #expect(patch.files.count == 1)
        #expect(file.oldPath == "checkpoint/memory.c" && file.newPath == "checkpoint/memory.c")
        #expect(file.hunks.map(\.oldStart) == [644, 674, 692, 1288])
        #expect(file.hunks.map(\.lines.count) == [82, 29, 47, 10])
        #expect(file.hunks.allSatisfy { !$0.repaired })
        #expect(file.hunks[0].section == "static int anonymous_checkpoint(struct ckpt_ctx *ctx,")
        // `> ` alone is an empty context line.
        #expect(file.hunks[0].lines[2] == DiffLine(kind: .context, text: "", oldLine: 646, newLine: 646))
        #expect(file.hunks[1].line(new: 755) == DiffLine(kind: .added, text: "\tup_read(&mm->mmap_sem);",
                                                         oldLine: nil, newLine: 755))
        #expect(file.hunks[2].line(old: 728) == DiffLine(kind: .removed, text: "\tup_read(&mm->mmap_sem);",
                                                         oldLine: 728, newLine: nil))
        #expect(file.hunks[2].line(old: 726) == DiffLine(kind: .context, text: " out:", oldLine: 726, newLine: 780))
        #expect(file.hunks[3].line(new: 1346)?.text == "\tup_write(&mm->mmap_sem);")
        #expect(file.hunks[3].line(old: 1293)?.kind == .removed)
    }

    @Test func seed001ReviewerTextInterruptsButDoesNotEndTheHunk() throws {
        let patch = try #require(try readPatches(Seed.s001, name: "seed.txt").first)
        #expect(patch.origin.quoted)
        #expect(patch.description == "Functions to dump mm struct, VMAs and mm context are added.")
        let file = try #require(patch.files.first)
        #expect(patch.files.count == 1)
        #expect(file.isNew && file.oldPath == nil && file.newPath == "checkpoint/cpt_mm.c")
        let hunk = try #require(file.hunks.first)
        #expect(hunk.lines.count == 434)
        #expect(!hunk.repaired)
        #expect(hunk.lines.allSatisfy { $0.kind == .added })
        #expect(!hunk.lines.contains { $0.text.contains("Error handling?") || $0.text.contains("no error handling") })
        #expect(hunk.line(new: 1)?.text == "/*")
        #expect(hunk.line(new: 221)?.text == "\t\t\t\tkunmap(pg[i]);")
        #expect(hunk.line(new: 222)?.text == "\t\t\t}")
        #expect(hunk.line(new: 398)?.text == "\tdown_read(&mm->mmap_sem);")
        #expect(hunk.line(new: 430)?.text == "\tup_read(&mm->mmap_sem);")
        #expect(hunk.line(new: 434)?.text == "")
    }

    @Test func seed003LostIndentationAndHeaderlessLines() throws {
        let patches = try readPatches(Seed.s003, name: "seed.txt")
        #expect(patches.count == 1)
        let patch = try #require(patches.first)
        #expect(patch.origin.quoted)
        #expect(patch.files.count == 2)
        let header = patch.files[0]
        #expect(header.oldPath == "include/linux/mm.h" && header.newPath == "include/linux/mm.h")
        let hunk = try #require(header.hunks.first)
        #expect(header.hunks.count == 1)
        #expect(hunk.repaired)
        #expect(hunk.lines.count == 11)
        #expect(hunk.lines[0] == DiffLine(kind: .context, text: "unsigned long addr, unsigned long len,",
                                          oldLine: 1050, newLine: 1050))
        #expect(hunk.lines[2] == DiffLine(kind: .context, text: "", oldLine: 1052, newLine: 1052))
        #expect(hunk.lines[3] == DiffLine(kind: .added, text: "struct mm_lock_data {", oldLine: nil, newLine: 1053))
        #expect(hunk.lines[10] == DiffLine(kind: .added,
                                           text: "extern void mm_unlock(struct mm_struct *mm, struct mm_lock_data *data);",
                                           oldLine: nil, newLine: 1060))

        // The quoted lines of mm/mmap.c have no header: kept as extra hunks at unknown positions,
        // under the only path the quote names.
        let orphan = patch.files[1]
        #expect(orphan.newPath == "include/linux/mm.h")
        #expect(orphan.hunks.count == 2)
        #expect(orphan.hunks.allSatisfy { $0.repaired })
        #expect(orphan.hunks.map(\.newStart) == [1, 12])
        #expect(orphan.hunks.map(\.lines.count) == [10, 3])
        #expect(orphan.hunks[0].lines[0] == DiffLine(kind: .added, text: " data->i_mmap_locks = vmalloc(nr_i_mmap_locks *",
                                                     oldLine: nil, newLine: 1))
        #expect(orphan.hunks[0].lines[3].text == " sizeof(spinlock_t));")
        #expect(orphan.hunks[1].lines.map(\.text) == [" data->i_mmap_locks[nr_i_mmap_locks++] = i_mmap_lock;", " }",
                                                      " data->nr_i_mmap_locks = nr_i_mmap_locks;"])
    }

    static let nested = """
        On Mon, X wrote:
        > On Sun, Y wrote:
        > > diff --git a/mm/a.c b/mm/a.c
        > > --- a/mm/a.c
        > > +++ b/mm/a.c
        > > @@ -10,6 +10,7 @@ static void f(void)
        > >  \ta();
        > >  \tb();
        >
        > Why b here?
        >
        > > +\tc();
        > >  \td();
        > > SNIP
        > > +\te();

        Reply text.
        """

    @Test(arguments: ["[...]", "[ ... ]", "...", "<snip>", "[snip]"])
    func snipMarkerEndsTheHunkAndLaterLinesAreExtra(marker: String) throws {
        let text = Self.nested.replacingOccurrences("SNIP", with: marker)
        let patch = try #require(try readPatches(text).first)
        #expect(patch.origin.quoted)
        #expect(patch.files.count == 2)
        let hunk = try #require(patch.files.first?.hunks.first)
        #expect(hunk.repaired)
        #expect(hunk.lines == [
            DiffLine(kind: .context, text: "\ta();", oldLine: 10, newLine: 10),
            DiffLine(kind: .context, text: "\tb();", oldLine: 11, newLine: 11),
            DiffLine(kind: .added, text: "\tc();", oldLine: nil, newLine: 12),
            DiffLine(kind: .context, text: "\td();", oldLine: 12, newLine: 13),
        ])
        #expect(patch.files[1].hunks.first?.lines == [DiffLine(kind: .added, text: "\te();", oldLine: nil, newLine: 1)])
    }

    @Test func deeperQuoteWithoutSpaces() throws {
        let text = """
            >> --- a/mm/a.c
            >> +++ b/mm/a.c
            >> @@ -1,3 +1,3 @@
            >>  a
            >> -b
            >> +c
            >>
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(!hunk.repaired)
        #expect(hunk.lines.map(\.text) == ["a", "b", "c", ""])
    }

    @Test func endOfQuoteEndsTheHunk() throws {
        let text = """
            > --- a/mm/a.c
            > +++ b/mm/a.c
            > @@ -1,5 +1,5 @@
            >  a
            > -b

            I stopped reading here.
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.repaired)
        #expect(hunk.lines.map(\.text) == ["a", "b"])
    }

    @Test func unmarkedQuotedLineIsContext() throws {
        let text = """
            > --- a/mm/a.c
            > +++ b/mm/a.c
            > @@ -1,3 +1,4 @@
            > int f(void)
            > {
            > +\tg();
            > }
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.repaired)
        #expect(hunk.lines.map(\.kind) == [.context, .context, .added, .context])
        #expect(hunk.lines[3] == DiffLine(kind: .context, text: "}", oldLine: 3, newLine: 4))
    }

    @Test func unquotedAndQuotedPatchesInOneMessageAreSeparate() throws {
        let text = """
            Here is v2:

            --- a/mm/a.c
            +++ b/mm/a.c
            @@ -1 +1 @@
            -a
            +b

            > v1 was:
            > --- a/mm/a.c
            > +++ b/mm/a.c
            > @@ -1 +1 @@
            > -a
            > +c
            """
        let patches = try readPatches(text, firstIndex: 3)
        #expect(patches.map(\.origin.quoted) == [false, true])
        #expect(patches.map(\.origin.index) == [3, 4])
        #expect(patches.map { $0.files.first?.hunks.first?.lines.last?.text } == ["b", "c"])
        #expect(patches.map(\.description) == ["Here is v2:", "v1 was:"])
    }
}

extension String {
    /// Foundation-free replacement of every occurrence of `target`.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
