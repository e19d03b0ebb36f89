import MMCore
import Testing
@testable import MMReport

@Suite struct EmailReporterTests {
    private let checkpointReply = """
    Subject: Re: [PATCH] c/r: do not hold mmap_sem while checkpointing vma's
    In-Reply-To: <1256509409-1-git-send-email-orenl@cs.columbia.edu>
    References: <1256509409-1-git-send-email-orenl@cs.columbia.edu>

    This fixes a lock leak in do_checkpoint_mm().

    > @@ -674,14 +743,23 @@ static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)
    > -\t\t\tret = exe_objref;
    > +\tif (mm->exe_file) {  /* checkpoint the ->exe_file */
    > +\t\texe_file = mm->exe_file;
    > +\t\tget_file(exe_file);

    Reference taken by get_file() on 'exe_file' is not dropped when
    ckpt_hdr_get_type() fails.
    ckpt_write_obj() fails: ret = ckpt_write_obj(ctx, &h->h);

    [ ... ]

    > +\tup_read(&mm->mmap_sem);
    > +
    > +\tif (exe_file) {
    > +\t\th->exe_objref = checkpoint_obj(ctx, exe_file, CKPT_OBJ_FILE);

    checkpoint_obj() writes to the image file and so may take the inode
    lock; is 'mm->mmap_sem' released on every path that reaches it?
    mmap_sem is released above.
    """

    @Test func writesAReplyToThePatch() {
        let text = EmailReporter().render(Checkpoint.input())
        #expect(text == checkpointReply + """


        1 pre-existing issue is not shown.

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        """)
    }

    @Test func commentSitsUnderTheFlaggedLine() {
        let lines = EmailReporter().render(Checkpoint.input()).split(separator: "\n", omittingEmptySubsequences: false)
        let flagged = lines.firstIndex(of: "> +\t\tget_file(exe_file);")
        #expect(flagged != nil)
        if let flagged {
            #expect(lines[flagged + 1] == "")
            #expect(lines[flagged + 2] == "Reference taken by get_file() on 'exe_file' is not dropped when")
        }
        #expect(lines.last == "")
        #expect(lines[lines.count - 3] == "-- ")
        #expect(lines[lines.count - 2] == "mmreview 0.1.0 (libclang 14.0.6)")
    }

    @Test func showsPreExistingFindingsOnRequest() {
        let text = EmailReporter().render(Checkpoint.input(includeUnchanged: true))
        #expect(text == checkpointReply + """


        [ ... ]

        > -\t\th->exe_objref = exe_objref;
        >  \t}
        >
        >  \tret = ckpt_write_obj(ctx, &h->h);

        Result of ckpt_write_obj() is not checked. This was already the case
        before this patch.

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        """)
    }

    @Test func wrapsCommentsAt72Columns() {
        var finding = Checkpoint.leak
        finding.message = String(repeating: "the reference taken here is never dropped on the error path ", count: 4)
        finding.notes = [FindingNote(
            file: "mm/other.c", line: 12,
            code: "error = ckpt_obj_collect(ctx, exe_file, CKPT_OBJ_FILE, CKPT_OBJ_FLAGS_NONE);",
            message: "the reference is dropped on the success path here")]
        let text = EmailReporter().render(Checkpoint.input([finding]))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Quoted lines and the note's code (indented on a line of its own) are never wrapped.
        let comment = lines.filter { !$0.hasPrefix(">") && !$0.hasPrefix("    ") }
        #expect(comment.allSatisfy { $0.count <= 72 })
        let start = lines.firstIndex { $0.hasPrefix("The reference taken here") }
        #expect(start != nil)
        if let start {
            let paragraph = lines[start...].prefix { !$0.isEmpty }
            #expect(paragraph.count == 6)  // four lines of message, the note, its code
            #expect(paragraph.dropLast(2).joined(separator: " ")
                    == TextStyle.capitalized(TextStyle.trimmed(finding.message)) + ".")
            #expect(paragraph[paragraph.endIndex - 2] == "The reference is dropped on the success path in mm/other.c:")
            #expect(paragraph.last == "    error = ckpt_obj_collect(ctx, exe_file, CKPT_OBJ_FILE, CKPT_OBJ_FLAGS_NONE);")
        }
    }

    @Test func saysSoWhenThereIsNothingToComment() {
        #expect(EmailReporter().render(Checkpoint.input([])) == "mmreview found nothing to comment on in 1 patch.\n")
        let two = Checkpoint.input([], patches: [Checkpoint.patch, Checkpoint.patch])
        #expect(EmailReporter().render(two) == "mmreview found nothing to comment on in 2 patches.\n")
        let hiddenOnly = Checkpoint.input([Checkpoint.unchecked])
        #expect(EmailReporter().render(hiddenOnly) == """
        mmreview found nothing to comment on in 1 patch.
        1 pre-existing issue is not shown.

        """)
    }

    @Test func listsInputErrorsFirst() {
        let errors = [InputError(input: "a.mbox", message: "not a mailbox"),
                      InputError(input: "-", message: "no patch found\non stdin")]
        #expect(EmailReporter().render(Checkpoint.input([], errors: errors, patches: [])) == """
        mmreview could not read a.mbox: not a mailbox
        mmreview could not read -: no patch found on stdin

        """)
        let text = EmailReporter().render(Checkpoint.input([Checkpoint.fixedLeak], errors: [errors[0]]))
        #expect(text == """
        mmreview could not read a.mbox: not a mailbox

        Subject: Re: [PATCH] c/r: do not hold mmap_sem while checkpointing vma's
        In-Reply-To: <1256509409-1-git-send-email-orenl@cs.columbia.edu>
        References: <1256509409-1-git-send-email-orenl@cs.columbia.edu>

        This fixes a lock leak in do_checkpoint_mm().

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        """)
    }

    @Test func writesOneReplyPerPatch() {
        // Second patch: no Message-ID (bare id on the first), finding outside its hunks.
        let origin = PatchOrigin(input: "series.mbox", index: 1, subject: "[PATCH 2/2] mm: take mmap_lock for reading")
        let hunk = makeHunk(oldStart: 10, newStart: 10, section: "int walk(struct mm_struct *mm)", [
            " \tint ret;",
            "+\tmmap_read_lock(mm);",
            " \tret = walk_vmas(mm);",
        ])
        let second = Patch(origin: origin, description: "", files: [FileDiff(oldPath: "mm/walk.c", newPath: "mm/walk.c", hunks: [hunk])])
        let outside = Finding(rule: "lock-leak", severity: .error, status: .introduced, file: "mm/walk.c", line: 40,
                              function: "walk", code: "return ret;",
                              message: "can this return with mmap_lock held when walk_vmas() fails?",
                              notes: [FindingNote(file: "mm/walk.c", line: 11, code: "mmap_read_lock(mm);", message: "mmap_lock is taken here")],
                              patch: origin, matchKey: "mmap_lock")
        var first = Checkpoint.patch
        first.origin.messageID = "bare-id@example.org"
        var leak = Checkpoint.leak
        leak.notes = []
        let input = Checkpoint.input([leak, outside], patches: [first, second])
        #expect(EmailReporter().render(input) == """
        Subject: Re: [PATCH] c/r: do not hold mmap_sem while checkpointing vma's
        In-Reply-To: <bare-id@example.org>
        References: <bare-id@example.org>

        > @@ -674,14 +743,23 @@ static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)
        > -\t\t\tret = exe_objref;
        > +\tif (mm->exe_file) {  /* checkpoint the ->exe_file */
        > +\t\texe_file = mm->exe_file;
        > +\t\tget_file(exe_file);

        Reference taken by get_file() on 'exe_file' is not dropped when
        ckpt_hdr_get_type() fails.

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        ------------------------------------------------------------------------

        Subject: Re: [PATCH 2/2] mm: take mmap_lock for reading

        > return ret;

        Can this return with mmap_lock held when walk_vmas() fails?
        mmap_lock is taken: mmap_read_lock(mm);

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        """)
    }

    @Test func namesFilesAndStacksCommentsOnOneLine() {
        let origin = PatchOrigin(input: "p.diff", index: 0, subject: "")
        let rmap = makeHunk(oldStart: 100, newStart: 100, section: "", [
            " \tanon_vma_lock_write(anon_vma);",
            "+\tspin_lock(&mm->page_table_lock);",
        ])
        let walk = makeHunk(oldStart: 5, newStart: 5, section: "", [
            "-\tunlock_page(page);",
            " \treturn 0;",
        ])
        let patch = Patch(origin: origin, description: "", files: [
            FileDiff(oldPath: "mm/rmap.c", newPath: "mm/rmap.c", hunks: [rmap]),
            FileDiff(oldPath: "mm/walk.c", newPath: "mm/walk.c", hunks: [walk]),
        ])
        func finding(_ rule: String, _ file: String, _ line: Int, _ message: String) -> Finding {
            Finding(rule: rule, severity: .warning, status: .introduced, file: file, line: line,
                    function: "f", code: "", message: message, patch: origin, matchKey: rule)
        }
        let findings = [
            finding("double-lock", "mm/rmap.c", 101, "'mm->page_table_lock' may already be held here"),
            finding("lock-order", "mm/rmap.c", 101, "page_table_lock nests inside anon_vma->rwsem"),
            finding("lock-leak", "mm/walk.c", 5, ""),
        ]
        let text = EmailReporter().render(ReportInput(findings: findings, patches: [patch], toolVersion: "0.1.0",
                                                      libclangVersion: ""))
        #expect(text == """
        > diff --git a/mm/rmap.c b/mm/rmap.c
        > @@ -100 +100,2 @@
        >  \tanon_vma_lock_write(anon_vma);
        > +\tspin_lock(&mm->page_table_lock);

        'mm->page_table_lock' may already be held here.

        page_table_lock nests inside anon_vma->rwsem.

        > diff --git a/mm/walk.c b/mm/walk.c
        > @@ -5,2 +5 @@
        > -\tunlock_page(page);
        >  \treturn 0;

        This looks like a lock leak.

        -- \nmmreview 0.1.0

        """)
    }

    @Test func findsLinesOfRepairedHunksByTheirCode() {
        let origin = PatchOrigin(input: "reply.txt", index: 0, subject: "Re: [PATCH] fix", quoted: true)
        // The quoted hunk lost a line, so its numbers are one short after the loss.
        let hunk = makeHunk(oldStart: 20, newStart: 20, section: "", [
            " \tlock_page(page);",
            "+\tif (!page_mapped(page))",
            "+\t\treturn 0;",
            " \tunlock_page(page);",
        ], repaired: true)
        let patch = Patch(origin: origin, description: "", files: [FileDiff(oldPath: "mm/a.c", newPath: "mm/a.c", hunks: [hunk])])
        let finding = Finding(rule: "lock-leak", severity: .error, status: .introduced, file: "mm/a.c", line: 23,
                              function: "f", code: "return 0;", message: "page still locked", patch: origin, matchKey: "page")
        let text = EmailReporter(contextLines: 1).render(ReportInput(findings: [finding], patches: [patch],
                                                                      toolVersion: "0.1.0", libclangVersion: "Debian clang version 14.0.6 (15)"))
        #expect(text == """
        Subject: Re: [PATCH] fix

        > @@ -20,2 +20,4 @@
        > +\tif (!page_mapped(page))
        > +\t\treturn 0;

        Page still locked.

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        """)
    }

    @Test func everyFormatHasAReporter() {
        #expect(ReportFormat.defaultFormat == .email)
        #expect(ReportFormat(rawValue: "gcc")?.makeReporter() is GCCReporter)
        #expect(ReportFormat.email.makeReporter() is EmailReporter)
        #expect(ReportFormat.json.makeReporter() is JSONReporter)
        #expect(ReportFormat.allCases.map(\.rawValue) == ["email", "gcc", "json", "sarif", "checkpatch"])
    }

    /// A hunk without git's section line: the quote opens with the function's own definition
    /// line, snipped to the flagged line; a repeated comment becomes "Same here."; fixes are one
    /// short line at the top.
    @Test func opensWithTheFunctionHeaderAndSaysSameHere() {
        let origin = PatchOrigin(input: "dump.patch", index: 0, subject: "[PATCH 06/10] Introduce functions to dump mm",
                                 messageID: "<1@example.org>")
        let hunk = makeHunk(oldStart: 0, newStart: 1, section: "", [
            "+static int dump_one_vma(struct mm_struct *mm, struct cpt_context *ctx)",
            "+{",
            "+\tint err;",
            "+\tstruct cpt_vma_image *v = ctx->tmp;",
            "+",
            "+\tv->cpt_start = 0;",
            "+\tctx->write(v, sizeof(*v), ctx);",
            "+\tctx->write(v, 1, ctx);",
            "+\treturn 0;",
            "+}",
        ])
        let patch = Patch(origin: origin, description: "", files: [FileDiff(oldPath: nil, newPath: "mm/dump.c", hunks: [hunk])])
        func ignored(_ line: Int, _ code: String) -> Finding {
            Finding(rule: "unchecked-return", severity: .warning, status: .introduced, file: "mm/dump.c", line: line,
                    function: "dump_one_vma", code: code,
                    message: "the result of ctx->write() is ignored; it is checked in cpt_dump_mm()",
                    patch: origin, matchKey: "\(line)")
        }
        func fixed(_ rule: String, _ function: String) -> Finding {
            Finding(rule: rule, severity: .error, status: .fixed, file: "mm/dump.c", line: 3, function: function,
                    code: "", message: "x", patch: origin, matchKey: rule + function)
        }
        let findings = [fixed("lock-leak", "cpt_dump_mm"), fixed("lock-leak", "cpt_dump_mm"),
                        fixed("resource-leak", "cpt_dump_mm"), fixed("lock-leak", "dump_one_vma"),
                        ignored(7, "ctx->write(v, sizeof(*v), ctx);"), ignored(8, "ctx->write(v, 1, ctx);")]
        let text = EmailReporter().render(ReportInput(findings: findings, patches: [patch], toolVersion: "0.1.0",
                                                      libclangVersion: "clang version 14.0.6"))
        #expect(text == """
        Subject: Re: [PATCH 06/10] Introduce functions to dump mm
        In-Reply-To: <1@example.org>
        References: <1@example.org>

        This fixes two lock leaks and a resource leak in cpt_dump_mm() and a
        lock leak in dump_one_vma().

        > +static int dump_one_vma(struct mm_struct *mm, struct cpt_context *ctx)
        [ ... ]
        > +\tstruct cpt_vma_image *v = ctx->tmp;
        > +
        > +\tv->cpt_start = 0;
        > +\tctx->write(v, sizeof(*v), ctx);

        The result of ctx->write() is ignored; it is checked in cpt_dump_mm().

        > +\tctx->write(v, 1, ctx);

        Same here.

        -- \nmmreview 0.1.0 (libclang 14.0.6)

        """)
    }

    @Test func coloursQuotedLinesOnlyWhenAsked() {
        var input = Checkpoint.input([Checkpoint.leak])
        #expect(!EmailReporter().render(input).contains("\u{1B}"))
        input.colour = true
        let lines = EmailReporter().render(input).split(separator: "\n").map(String.init)
        #expect(lines.contains("\u{1B}[32m> +\t\tget_file(exe_file);\u{1B}[0m"))
        #expect(lines.contains("\u{1B}[31m> -\t\t\tret = exe_objref;\u{1B}[0m"))
        #expect(lines.contains("Reference taken by get_file() on 'exe_file' is not dropped when"))
    }
}
