import Testing
import MMCore
@testable import MMPatch

@Suite struct SeedFragmentTests {
    @Test func seed000() throws {
        let touched = try functions(Seed.s000, name: "seed.txt")
        #expect(touched.map(\.name) == ["checkpoint_vmas", "do_checkpoint_mm", "do_restore_mm"])
        #expect(touched.allSatisfy { $0.file == "checkpoint/memory.c" && $0.oldFile == "checkpoint/memory.c" })

        let vmas = touched[0]
        #expect(vmas.before == nil)
        let after = try #require(vmas.after)
        #expect(ranges(after) == "647-715")
        #expect(after.isComplete)
        #expect(after.allLines.allSatisfy { $0.changed })
        #expect(after.line(647)?.text == "static int checkpoint_vmas(struct ckpt_ctx *ctx, struct mm_struct *mm)")
        #expect(after.line(663) == SourceLine(number: 663, text: "\t\tdown_read(&mm->mmap_sem);", changed: true))
        #expect(after.line(715)?.text == "}")

        let mm = touched[1]
        #expect(ranges(mm.before) == "647-654,674-687,692-730")
        #expect(ranges(mm.after) == "717-723,743-765,770-785")
        #expect(mm.before?.startsAtDefinition == true && mm.after?.startsAtDefinition == true)
        #expect(mm.before?.endsAtClosingBrace == true && mm.after?.endsAtClosingBrace == true)
        #expect(mm.before?.line(647)?.text == "static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)")
        #expect(mm.before?.line(728) == SourceLine(number: 728, text: "\tup_read(&mm->mmap_sem);", changed: true))
        #expect(mm.after?.line(755) == SourceLine(number: 755, text: "\tup_read(&mm->mmap_sem);", changed: true))
        #expect(mm.after?.line(780) == SourceLine(number: 780, text: " out:", changed: false))
        #expect(mm.before?.line(730)?.text == "}")

        let restore = touched[2]
        #expect(ranges(restore.before) == "1288-1296")
        #expect(ranges(restore.after) == "1343-1351")
        #expect(restore.before?.startsAtDefinition == false && restore.after?.startsAtDefinition == false)
        #expect(restore.before?.line(1293) == SourceLine(number: 1293, text: "\tup_write(&mm->mmap_sem);", changed: true))
        #expect(restore.after?.line(1346) == SourceLine(number: 1346, text: "\tup_write(&mm->mmap_sem);", changed: true))
    }

    @Test func seed001NewFile() throws {
        let touched = try functions(Seed.s001, name: "seed.txt")
        #expect(touched.map(\.name) == ["page_get_desc", "count_vma_pages", "dump_pages", "dump_page_block",
                                        "cpt_dump_dentry", "dump_one_vma", "cpt_dump_mm_context", "cpt_dump_mm"])
        #expect(touched.map { ranges($0.after) } == ["62-172", "174-192", "200-235", "237-252", "254-284", "286-354",
                                                     "356-380", "382-433"])
        #expect(touched.allSatisfy { $0.before == nil && $0.after?.isComplete == true })
        #expect(touched.allSatisfy { $0.file == "checkpoint/cpt_mm.c" && $0.oldFile == nil })
        let dump = try #require(touched.last?.after)
        #expect(dump.line(398) == SourceLine(number: 398, text: "\tdown_read(&mm->mmap_sem);", changed: true))
        #expect(dump.line(430)?.text == "\tup_read(&mm->mmap_sem);")
        // A comment before the header is not part of the function.
        #expect(touched[2].after?.allLines.first?.text == "static int dump_pages(struct vm_area_struct *vma, unsigned long start,")
        // `#define` inside a function stays one of its lines.
        #expect(touched[2].after?.line(203)?.text == "#define MAX_PAGE_BATCH 16")
    }

    @Test func seed002() throws {
        let touched = try functions(Seed.s002, name: "seed.txt")
        let unknown = "<unknown>"
        #expect(touched.map(\.name) == [unknown, "insert_mmlist", "delete_mmlist", unknown, unknown, unknown, unknown,
                                        unknown, unknown, "vma_init", "swap_in", "unuse_mm", "try_to_unuse"])
        #expect(touched.map(\.file) == ["fs/exec.c", "include/linux/sched.h", "include/linux/sched.h",
                                        "kernel/fork.c", "kernel/fork.c", "kernel/fork.c", "kernel/fork.c",
                                        "mm/mmap.c", "mm/mmap.c", "mm/mmap.c", "mm/page_alloc.c", "mm/swapfile.c",
                                        "mm/swapfile.c"])
        #expect(touched.first?.oldFile == "/usr/tmp/p_rdiff_a009HP/exec.c")

        let exec = touched[0]
        #expect(ranges(exec.before) == "399-404" && ranges(exec.after) == "399-405")
        #expect(exec.after?.line(402) == SourceLine(number: 402, text: "\tinsert_mmlist(mm);", changed: true))
        #expect(exec.after?.startsAtDefinition == false)

        let insert = touched[1]
        #expect(insert.before == nil)
        #expect(ranges(insert.after) == "625-633" && insert.after?.isComplete == true)
        #expect(insert.after?.line(625)?.text == "static inline void insert_mmlist(struct mm_struct * mm)")
        #expect(ranges(touched[2].after) == "634-640")

        // Unknown functions are never merged: kernel/fork.c shows four separate pieces.
        #expect(touched[3...6].map { ranges($0.before) } == ["351-356", "383-389", "549-555", "676-682"])
        #expect(touched[3].after?.endsAtClosingBrace == true)
        #expect(touched[5].before?.line(552) == SourceLine(number: 552, text: "\tdown(&current->mm->mmap_sem);",
                                                           changed: true))

        // exit_mmap: the hunk starts at the body's `{`, the header is not shown.
        let exit = touched[7]
        #expect(ranges(exit.before) == "812-817" && ranges(exit.after) == "814-820")
        #expect(exit.after?.allLines.first?.text == "{")
        #expect(exit.after?.line(817) == SourceLine(number: 817, text: "\tdown(&mm->mmap_sem);", changed: true))
        #expect(ranges(touched[8].after) == "846-850" && touched[8].after?.endsAtClosingBrace == true)

        let vmaInit = touched[9]
        #expect(ranges(vmaInit.after) == "962-967" && vmaInit.after?.startsAtDefinition == true)
        #expect(vmaInit.after?.line(964) == SourceLine(number: 964, text: "\tinit_MUTEX(&mm_sem);", changed: true))

        // swap_in: its header ends the first hunk, the second hunk continues it.
        let swapIn = touched[10]
        #expect(ranges(swapIn.before) == "394-394,400-410")
        #expect(ranges(swapIn.after) == "393-393,399-404")
        #expect(swapIn.before?.startsAtDefinition == true)
        #expect(swapIn.before?.line(404) == SourceLine(number: 404, text: "\tif (pte_val(*page_table) != entry) {",
                                                       changed: true))

        // unuse_process was renamed unuse_mm in its header line.
        let unuse = touched[11]
        #expect(ranges(unuse.before) == "262-277" && ranges(unuse.after) == "262-277")
        #expect(unuse.before?.line(262)?.text == "static void unuse_process(struct mm_struct * mm, unsigned long entry, ")
        #expect(unuse.after?.line(262)?.text == "static void unuse_mm(struct mm_struct * mm, unsigned long entry, ")
        #expect(unuse.before?.line(270) == SourceLine(number: 270, text: "\tif (!mm || mm == &init_mm)", changed: true))
        #expect(unuse.after?.line(270) == SourceLine(number: 270, text: "\tdown(&mm->mmap_sem);", changed: true))
        #expect(unuse.before?.isComplete == true && unuse.after?.isComplete == true)

        // try_to_unuse: two hunks, the second with no section text continues it.
        let unuseAll = touched[12]
        #expect(ranges(unuseAll.before) == "284-290,316-325")
        #expect(ranges(unuseAll.after) == "284-290,316-327")
        #expect(unuseAll.after?.startsAtDefinition == true && unuseAll.after?.endsAtClosingBrace == false)
        #expect(unuseAll.after?.line(319) == SourceLine(number: 319, text: "\t\tdown(&mm_sem);", changed: true))
        #expect(unuseAll.before?.line(319) == SourceLine(number: 319, text: "\t\tread_lock(&tasklist_lock);",
                                                         changed: true))
    }

    @Test func seed003HeaderHunkTouchesNoFunction() throws {
        let patch = try #require(try readPatches(Seed.s003, name: "seed.txt").first)
        let header = try #require(patch.files.first)
        #expect(FragmentBuilder().touchedFunctions(in: header).isEmpty)
        // The headerless mm/mmap.c lines form functions of unknown name and position.
        let extra = FragmentBuilder().touchedFunctions(in: patch.files[1])
        #expect(extra.map(\.name) == ["<unknown>", "<unknown>"])
        #expect(extra.first?.after?.line(1)?.text == " data->i_mmap_locks = vmalloc(nr_i_mmap_locks *")
        #expect(extra.allSatisfy { $0.before == nil })
    }
}

@Suite struct FragmentRuleTests {
    static func diff(_ hunks: String, path: String = "mm/t.c") -> String {
        "--- a/\(path)\n+++ b/\(path)\n" + hunks
    }

    @Test func sectionNamesTheFunctionOfAMidFunctionHunk() throws {
        let text = Self.diff("""
            @@ -100,4 +100,5 @@ static int foo(struct bar *b)
             \tspin_lock(&b->lock);
            +\tb->n++;
             \tspin_unlock(&b->lock);
             \treturn 0;
             }
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["foo"])
        #expect(ranges(touched.first?.before) == "100-103" && ranges(touched.first?.after) == "100-104")
        #expect(touched.first?.after?.startsAtDefinition == false)
        #expect(touched.first?.after?.endsAtClosingBrace == true)
    }

    // The return type on the line before (`static int` / `smb2_reconnect(...`): git's section is
    // the name line; two hunks of that function are one function, so a goto in the first reaches
    // the label in the second.
    @Test func sectionWithTheNameLineOnlyNamesTheFunction() throws {
        let text = Self.diff("""
            @@ -401,4 +401,4 @@ smb2_reconnect(__le16 smb2_command, struct cifs_tcon *tcon,
             \tspin_lock(&ses->ses_lock);
             \tif (ses->flags & 1)
            -\t\tgoto skip;
            +\t\tgoto skip_locked;
             \tspin_unlock(&ses->ses_lock);
            @@ -448,3 +448,4 @@ smb2_reconnect(__le16 smb2_command, struct cifs_tcon *tcon,
             skip:
             \tspin_lock(&ses->ses_lock);
            +skip_locked:
             \tspin_unlock(&ses->ses_lock);
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["smb2_reconnect"])
        #expect(touched.first?.after?.segments.count == 2)
    }

    @Test func sectionThatIsAMacroOrDeclarationNamesNoFunction() {
        #expect(CLexer.sectionFunctionName("EXPORT_SYMBOL_GPL(foo);") == nil)
        #expect(CLexer.sectionFunctionName("DEFINE_PER_CPU(struct foo,") == nil)
        #expect(CLexer.sectionFunctionName("\tfoo(a,") == nil)
        #expect(CLexer.sectionFunctionName("foo(struct bar *b)") == "foo")
    }

    @Test func sectionOfTheFunctionBeforeIsIgnoredWhenTheHunkStartsBetweenFunctions() throws {
        let text = Self.diff("""
            @@ -10,5 +10,6 @@ static int before(void)
             }
             
             int after(int x)
             {
            +\tx++;
             \treturn x;
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["after"])
        #expect(ranges(touched.first?.after) == "12-15")
        #expect(touched.first?.after?.startsAtDefinition == true)
    }

    @Test func notFunctions() throws {
        let text = Self.diff("""
            @@ -1,0 +1,14 @@
            +struct s {
            +\tint (*fn)(int);
            +};
            +int proto(int a,
            +\t  int b);
            +#define M(x) do { \\
            +\t} while (0)
            +static int arr[] = { 1, 2 };
            +enum { A, B };
            +/* int fake(void) { */
            +int real(void)
            +{
            +\treturn 1;
            +}
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["real"])
        #expect(ranges(touched.first?.after) == "11-14")
    }

    @Test func bracesInCommentsStringsAndCharactersAreIgnored() throws {
        let text = Self.diff("""
            @@ -1,0 +1,11 @@
            +static void f(void)
            +{
            +\tprintk("{ not a brace");
            +\tc = '}';
            +\t/* } */
            +\t// }
            +}
            +static void g(void)
            +{
            +\th();
            +}
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["f", "g"])
        #expect(touched.map { ranges($0.after) } == ["1-7", "8-11"])
    }

    @Test func unknownFunctionsStayApart() throws {
        let text = Self.diff("""
            @@ -10,3 +10,4 @@
             \ta();
            +\tb();
             }
             
            @@ -50,2 +51,3 @@
             \tc();
            +\td();
             \te();
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["<unknown>", "<unknown>"])
        #expect(touched.map { ranges($0.after) } == ["10-12", "51-53"])
    }

    @Test func namedFunctionContinuesIntoTheNextHunk() throws {
        let text = Self.diff("""
            @@ -1,4 +1,4 @@
             int f(int a,
             \t  int b)
             {
            -\tint x;
            +\tlong x;
            @@ -40,2 +40,3 @@ struct unrelated {
             \tx = a;
            +\tx += b;
             \treturn x;
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["f"])
        #expect(ranges(touched.first?.after) == "1-4,40-42")
        #expect(touched.first?.after?.startsAtDefinition == true)
    }

    @Test func wholeFunctionRemovedHasNoAfterImage() throws {
        let text = Self.diff("""
            @@ -5,6 +5,2 @@ int keep(void)
             }
             
            -int gone(void)
            -{
            -\treturn 0;
            -}
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["gone"])
        #expect(touched.first?.after == nil)
        #expect(ranges(touched.first?.before) == "7-10")
        #expect(touched.first?.before?.isComplete == true)
    }

    @Test func syscallDefinitionIsNamedLikeTheSyscall() throws {
        let text = Self.diff("""
            @@ -1,0 +1,4 @@
            +SYSCALL_DEFINE2(munlock, unsigned long, start, size_t, len)
            +{
            +\treturn 0;
            +}
            """)
        #expect(try functions(text).map(\.name) == ["sys_munlock"])
    }

    // fs/coredump.c and kernel/kthread.c put a format-checking attribute before the name.
    @Test func attributeMacroBeforeTheNameIsNotTheFunction() throws {
        let sameLine = Self.diff("""
            @@ -1,0 +1,5 @@
            +static __printf(2, 0) int cn_vprintf(struct core_name *cn, const char *fmt,
            +\t\t\t\t     va_list arg)
            +{
            +\treturn 0;
            +}
            """)
        #expect(try functions(sameLine).map(\.name) == ["cn_vprintf"])
        let lineBefore = Self.diff("""
            @@ -1,0 +1,6 @@
            +static __printf(4, 0)
            +struct task_struct *__kthread_create_on_node(int (*threadfn)(void *data),
            +\t\t\t\t\t\t    void *data, int node)
            +{
            +\treturn NULL;
            +}
            """)
        #expect(try functions(lineBefore).map(\.name) == ["__kthread_create_on_node"])
    }

    @Test func untouchedFunctionsAreLeftOut() throws {
        let text = Self.diff("""
            @@ -1,8 +1,8 @@
             int a(void)
             {
             \treturn 1;
             }
             int b(void)
             {
            -\treturn 2;
            +\treturn 3;
             }
            """)
        let touched = try functions(text)
        #expect(touched.map(\.name) == ["b"])
        #expect(touched.first?.before?.line(7)?.text == "\treturn 2;")
        #expect(touched.first?.after?.line(7)?.text == "\treturn 3;")
    }
}
