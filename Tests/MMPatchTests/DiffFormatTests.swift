import Testing
import MMCore
@testable import MMPatch

@Suite struct DiffFormatTests {
    static let gitDiff = """
        diff --git a/mm/a.c b/mm/a.c
        index 111..222 100644
        --- a/mm/a.c
        +++ b/mm/a.c
        @@ -10,3 +10,4 @@ static int foo(void)
         \tint x;
        +\tint y;
         \tx = 1;
         \treturn x;
        diff --git a/mm/new.c b/mm/new.c
        new file mode 100644
        index 0000000..333
        --- /dev/null
        +++ b/mm/new.c
        @@ -0,0 +1 @@
        +int z;
        \\ No newline at end of file
        diff --git a/mm/old.c b/mm/old.c
        deleted file mode 100644
        index 444..0000000
        --- a/mm/old.c
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -int a;
        -int b;
        diff --git a/mm/x.c b/mm/y.c
        similarity index 90%
        rename from mm/x.c
        rename to mm/y.c
        index 555..666 100644
        --- a/mm/x.c
        +++ b/mm/y.c
        @@ -1 +1 @@
        -int q;
        +int r;
        diff --git a/fw/blob.bin b/fw/blob.bin
        index 777..888 100644
        Binary files a/fw/blob.bin and b/fw/blob.bin differ
        diff --git a/fw/img.bin b/fw/img.bin
        new file mode 100644
        index 0000000..999
        GIT binary patch
        literal 12
        TcmZ?wbhEHbRA*pd00a0

        literal 0
        HcmV?d00001

        diff --git a/mm/z.c b/mm/z.c
        --- a/mm/z.c
        +++ b/mm/z.c
        @@ -5,2 +5,2 @@
        -old
        +new
         ctx
        """

    @Test func gitDiffWithSeveralFiles() throws {
        let patches = try readPatches(Self.gitDiff)
        #expect(patches.count == 1)
        let files = try #require(patches.first?.files)
        #expect(files.map(\.displayPath) == ["mm/a.c", "mm/new.c", "mm/old.c", "mm/y.c", "fw/blob.bin",
                                             "fw/img.bin", "mm/z.c"])

        let first = files[0]
        #expect(first.oldPath == "mm/a.c" && first.newPath == "mm/a.c")
        #expect(!first.isNew && !first.isDeleted && !first.isRename && !first.isBinary)
        let hunk = try #require(first.hunks.first)
        #expect(hunk.section == "static int foo(void)")
        #expect((hunk.oldStart, hunk.oldCount, hunk.newStart, hunk.newCount) == (10, 3, 10, 4))
        #expect(!hunk.repaired)
        #expect(hunk.lines == [
            DiffLine(kind: .context, text: "\tint x;", oldLine: 10, newLine: 10),
            DiffLine(kind: .added, text: "\tint y;", oldLine: nil, newLine: 11),
            DiffLine(kind: .context, text: "\tx = 1;", oldLine: 11, newLine: 12),
            DiffLine(kind: .context, text: "\treturn x;", oldLine: 12, newLine: 13),
        ])

        let new = files[1]
        #expect(new.isNew && new.oldPath == nil && new.newPath == "mm/new.c")
        #expect(new.hunks.map(\.lines) == [[DiffLine(kind: .added, text: "int z;", oldLine: nil, newLine: 1)]])
        #expect(new.hunks.first.map { ($0.oldStart, $0.oldCount, $0.newStart, $0.newCount) } ?? (9, 9, 9, 9)
                == (0, 0, 1, 1))
        #expect(new.hunks.first?.repaired == false)

        let deleted = files[2]
        #expect(deleted.isDeleted && deleted.newPath == nil && deleted.oldPath == "mm/old.c")
        #expect(deleted.hunks.first?.lines.map(\.oldLine) == [1, 2])

        let renamed = files[3]
        #expect(renamed.isRename && renamed.oldPath == "mm/x.c" && renamed.newPath == "mm/y.c")
        #expect(renamed.hunks.first?.lines == [
            DiffLine(kind: .removed, text: "int q;", oldLine: 1, newLine: nil),
            DiffLine(kind: .added, text: "int r;", oldLine: nil, newLine: 1),
        ])

        #expect(files[4].isBinary && files[4].hunks.isEmpty && files[4].oldPath == "fw/blob.bin")
        #expect(files[5].isBinary && files[5].isNew && files[5].hunks.isEmpty)
        #expect(files[6].hunks.first?.lines.count == 3)
        #expect(files[6].hunks.first?.repaired == false)
    }

    /// A diff concatenated with itself is reviewed once; a later section of the same file that
    /// differs (a second change to it) is kept.
    @Test func repeatedFileSectionsAreKeptOnce() throws {
        let twice = try readPatches(Self.gitDiff + "\n" + Self.gitDiff)
        #expect(twice.count == 1)
        #expect(twice.first?.files == (try readPatches(Self.gitDiff)).first?.files)
        let changed = Self.gitDiff.replacingOccurrences(of: "+\tint y;", with: "+\tint w;")
        let both = try readPatches(Self.gitDiff + "\n" + changed)
        #expect(both.first?.files.filter { $0.displayPath == "mm/a.c" }.count == 2)
        #expect(both.first?.files.count == 8)
    }

    @Test func plainDiffWithTimestampsAndNoPrefixes() throws {
        let patches = try readPatches(Seed.s002, name: "seed.txt")
        #expect(patches.count == 1)
        let files = try #require(patches.first?.files)
        #expect(files.map(\.oldPath) == ["/usr/tmp/p_rdiff_a009HP/exec.c", "/usr/tmp/p_rdiff_a009HP/sched.h",
                                         "/usr/tmp/p_rdiff_a009HP/fork.c", "/usr/tmp/p_rdiff_a009HP/mmap.c",
                                         "/usr/tmp/p_rdiff_a009HP/page_alloc.c", "/usr/tmp/p_rdiff_a009HP/swapfile.c"])
        #expect(files.map(\.newPath) == ["fs/exec.c", "include/linux/sched.h", "kernel/fork.c", "mm/mmap.c",
                                         "mm/page_alloc.c", "mm/swapfile.c"])
        #expect(files.map(\.hunks.count) == [1, 4, 4, 4, 2, 3])
        #expect(files.allSatisfy { $0.hunks.allSatisfy { !$0.repaired && $0.section.isEmpty } })
        let exec = try #require(files.first?.hunks.first)
        #expect(exec.line(new: 402) == DiffLine(kind: .added, text: "\tinsert_mmlist(mm);", oldLine: nil, newLine: 402))
        #expect(exec.line(old: 402)?.text == "\treturn 0;")
        #expect(exec.line(old: 402)?.newLine == 403)
        // The page-separator line "--" after the last hunk is not part of it.
        let last = try #require(files.last?.hunks.last)
        #expect(last.lines.last?.text == "                   page we've been using. */")
        #expect(last.lines.count == 16)
    }

    /// `patch -p1` diffs between two trees, and akpm's quilt backups as the old side.
    @Test func treeDirectoriesAndBackupSuffixesAreDropped() throws {
        let text = """
            diff --git v2.6.35-rc3-hwpoison/mm/hugetlb.c v2.6.35-rc3-hwpoison/mm/hugetlb.c
            --- v2.6.35-rc3-hwpoison/mm/hugetlb.c
            +++ v2.6.35-rc3-hwpoison/mm/hugetlb.c
            @@ -1,1 +1,1 @@
            -a
            +b
            --- linux-2.6.orig/mm/rmap.c
            +++ linux-2.6/mm/rmap.c
            @@ -1,1 +1,1 @@
            -a
            +b
            --- a/mm/memory.c~memory-controller-fix
            +++ a/mm/memory.c
            @@ -1,1 +1,1 @@
            -a
            +b
            --- /usr/tmp/p_rdiff/exec.c
            +++ fs/exec.c
            @@ -1,1 +1,1 @@
            -a
            +b

            """
        let files = try #require(try readPatches(text, name: "p.diff").first?.files)
        #expect(files.map(\.oldPath) == ["mm/hugetlb.c", "mm/rmap.c", "mm/memory.c", "/usr/tmp/p_rdiff/exec.c"])
        #expect(files.map(\.newPath) == ["mm/hugetlb.c", "mm/rmap.c", "mm/memory.c", "fs/exec.c"])
    }

    @Test func plainDiffWithGitStylePrefixesLosesThem() throws {
        let text = """
            --- a/mm/x.c\t2009-10-26 13:52:36.000000000 -0400
            +++ b/mm/x.c\t2009-10-27 13:52:36.000000000 -0400
            @@ -1,1 +1,1 @@
            -a
            +b
            """
        let file = try #require(try readPatches(text).first?.files.first)
        #expect(file.oldPath == "mm/x.c" && file.newPath == "mm/x.c")
        // Timestamps separated by blanks instead of a tab are cut off too.
        #expect(DiffParser.pathField("linux/mm/x.c 2009-10-26 13:52:36.000000000 -0400") == "linux/mm/x.c")
        #expect(DiffParser.pathField("/usr/tmp/exec.c\tSun Jun 27 16:51:58 1999") == "/usr/tmp/exec.c")
    }

    @Test func hunkHeaders() throws {
        let seed = try #require(HunkHeader("@@ -644,11 +644,80 @@ static int anonymous_checkpoint(struct ckpt_ctx *ctx,"))
        #expect(seed == HunkHeader(oldStart: 644, oldCount: 11, newStart: 644, newCount: 80,
                                   section: "static int anonymous_checkpoint(struct ckpt_ctx *ctx,", capped: false))
        let short = try #require(HunkHeader("@@ -1 +1 @@"))
        #expect((short.oldStart, short.oldCount, short.newStart, short.newCount, short.section) == (1, 1, 1, 1, ""))
        #expect(HunkHeader("@@ -1,2 @@") == nil)
        #expect(HunkHeader("@@@ -1,2 -1,2 +1,3 @@@") == nil)
        #expect(HunkHeader("@@ -1,2 +1,3 @@@ merge") == nil)
        let huge = try #require(HunkHeader("@@ -999999999999999999999,1 +1,99999999999999999999999999 @@"))
        #expect(huge.capped && huge.oldStart == HunkHeader.limit && huge.newCount == HunkHeader.limit)
    }

    @Test func hugeNumbersDoNotTrap() throws {
        let text = """
            --- a/mm/x.c
            +++ b/mm/x.c
            @@ -999999999999999999999,1 +1 @@
            -int a;
            +int b;
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.repaired)
        #expect(hunk.lines.map(\.oldLine) == [HunkHeader.limit, nil])
        #expect(hunk.lines.map(\.newLine) == [nil, 1])
    }

    @Test func truncatedHunkIsKeptAndRepaired() throws {
        let text = """
            --- a/mm/x.c
            +++ b/mm/x.c
            @@ -1,5 +1,6 @@
             a
            +b
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.repaired)
        #expect(hunk.lines.map(\.text) == ["a", "b"])
        #expect(hunk.lines.map(\.newLine) == [1, 2])
    }

    @Test func countsThatAreTooLargeStopAtTheNextHeader() throws {
        let text = """
            diff --git a/mm/x.c b/mm/x.c
            --- a/mm/x.c
            +++ b/mm/x.c
            @@ -1,10 +1,10 @@
             a
            -b
            +c
            @@ -20,1 +20,1 @@
            -d
            +e
            diff --git a/mm/y.c b/mm/y.c
            --- a/mm/y.c
            +++ b/mm/y.c
            @@ -1,9 +1,9 @@
            -f
            --- a/mm/z.c
            +++ b/mm/z.c
            @@ -1 +1 @@
            -g
            +h
            """
        let files = try #require(try readPatches(text).first?.files)
        #expect(files.map(\.displayPath) == ["mm/x.c", "mm/y.c", "mm/z.c"])
        #expect(files[0].hunks.map(\.lines.count) == [3, 2])
        #expect(files[0].hunks.map(\.repaired) == [true, false])
        #expect(files[1].hunks.first?.lines.map(\.text) == ["f"])
        #expect(files[1].hunks.first?.repaired == true)
        #expect(files[2].hunks.first?.lines.map(\.text) == ["g", "h"])
    }

    @Test func countsThatAreTooSmallBelieveTheLines() throws {
        let text = """
            --- a/mm/x.c
            +++ b/mm/x.c
            @@ -1,1 +1,1 @@
             a
            +b
             c

            Trailing prose is not part of the hunk.
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.repaired)
        #expect(hunk.lines.map(\.text) == ["a", "b", "c"])
        #expect(hunk.lines.map(\.newLine) == [1, 2, 3])
        #expect(hunk.lines.map(\.oldLine) == [1, nil, 2])
    }

    @Test func emptyLineInsideHunkIsEmptyContext() throws {
        let text = "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,4 @@\n a\n\n+b\n c\n"
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(!hunk.repaired)
        #expect(hunk.lines[1] == DiffLine(kind: .context, text: "", oldLine: 2, newLine: 2))
    }

    @Test func crlfLineEndingsAreAccepted() throws {
        let text = "--- a/x.c\r\n+++ b/x.c\r\n@@ -1,2 +1,2 @@\r\n-a\r\n+b\r\n c\r\n"
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.lines.map(\.text) == ["a", "b", "c"])
        #expect(!hunk.repaired)
    }

    @Test func gitHeaderPathsWithBlanks() {
        #expect(DiffParser.gitHeaderPaths("a/dir b/x.c b/dir b/x.c") == ("a/dir b/x.c", "b/dir b/x.c"))
        #expect(DiffParser.gitHeaderPaths("a/x.c b/y.c") == ("a/x.c", "b/y.c"))
        #expect(DiffParser.gitHeaderPaths("\"a/sp ace.c\" \"b/sp ace.c\"") == ("a/sp ace.c", "b/sp ace.c"))
    }

    @Test func modeChangeOnlyIsAFileWithoutHunks() throws {
        let text = """
            diff --git a/scripts/x.sh b/scripts/x.sh
            old mode 100644
            new mode 100755
            """
        let file = try #require(try readPatches(text).first?.files.first)
        #expect(file.displayPath == "scripts/x.sh")
        #expect(file.hunks.isEmpty && !file.isBinary)
    }
}
