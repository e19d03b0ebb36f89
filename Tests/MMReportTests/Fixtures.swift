import MMCore
@testable import MMReport

/// Builds a hunk from diff text lines ("+…", "-…", " …"; an empty string is an empty context
/// line), numbering the lines as a diff parser would.
func makeHunk(oldStart: Int, newStart: Int, section: String, _ text: [String], repaired: Bool = false) -> Hunk {
    var old = oldStart
    var new = newStart
    var lines: [DiffLine] = []
    for raw in text {
        let marker = raw.first ?? " "
        let body = raw.isEmpty ? "" : String(raw.dropFirst())
        switch marker {
        case "+":
            lines.append(DiffLine(kind: .added, text: body, oldLine: nil, newLine: new))
            new += 1
        case "-":
            lines.append(DiffLine(kind: .removed, text: body, oldLine: old, newLine: nil))
            old += 1
        default:
            lines.append(DiffLine(kind: .context, text: body, oldLine: old, newLine: new))
            old += 1
            new += 1
        }
    }
    return Hunk(oldStart: oldStart, oldCount: old - oldStart, newStart: newStart, newCount: new - newStart,
                section: section, lines: lines, repaired: repaired)
}

/// The do_checkpoint_mm() hunk of "c/r: do not hold mmap_sem while checkpointing vma's" (seed 000).
enum Checkpoint {
    static let file = "checkpoint/memory.c"
    static let subject = "[PATCH] c/r: do not hold mmap_sem while checkpointing vma's"
    static let messageID = "<1256509409-1-git-send-email-orenl@cs.columbia.edu>"
    static let origin = PatchOrigin(input: "seed.txt", index: 0, subject: subject, messageID: messageID)

    static let hunk = makeHunk(
        oldStart: 674, newStart: 743,
        section: "static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)", [
            "",
            " \th->map_count = mm->map_count;",
            "",
            "-\t/* checkpoint the ->exe_file */",
            "-\tif (mm->exe_file) {",
            "-\t\texe_objref = checkpoint_obj(ctx, mm->exe_file, CKPT_OBJ_FILE);",
            "-\t\tif (exe_objref < 0) {",
            "-\t\t\tret = exe_objref;",
            "+\tif (mm->exe_file) {  /* checkpoint the ->exe_file */",
            "+\t\texe_file = mm->exe_file;",
            "+\t\tget_file(exe_file);",
            "+\t}",
            "+",
            "+\t/*",
            "+\t * Drop mm->mmap_sem before writing data to checkpoint image",
            "+\t * to avoid reverse locking order (inode must come before mm).",
            "+\t */",
            "+\tup_read(&mm->mmap_sem);",
            "+",
            "+\tif (exe_file) {",
            "+\t\th->exe_objref = checkpoint_obj(ctx, exe_file, CKPT_OBJ_FILE);",
            "+\t\tif (h->exe_objref < 0) {",
            "+\t\t\tret = h->exe_objref;",
            " \t\t\tgoto out;",
            " \t\t}",
            "-\t\th->exe_objref = exe_objref;",
            " \t}",
            "",
            " \tret = ckpt_write_obj(ctx, &h->h);",
        ])

    static let patch = Patch(origin: origin, description: "This patch modifies the memory checkpoint code.",
                             files: [FileDiff(oldPath: file, newPath: file, hunks: [hunk])])

    /// Introduced, new line 748.
    static let leak = Finding(
        rule: "resource-leak", severity: .warning, status: .introduced, file: file, line: 748, column: 3,
        function: "do_checkpoint_mm", code: "get_file(exe_file);",
        message: "reference taken by get_file() on 'exe_file' is not dropped when ckpt_hdr_get_type() fails",
        notes: [FindingNote(file: file, line: 765, code: "ret = ckpt_write_obj(ctx, &h->h);",
                            message: "ckpt_write_obj() fails here")],
        patch: origin, matchKey: "get_file:exe_file")

    /// Introduced, new line 758, with a message longer than one line.
    static let order = Finding(
        rule: "lock-order", severity: .error, status: .introduced, file: file, line: 758, column: 3,
        function: "do_checkpoint_mm", code: "h->exe_objref = checkpoint_obj(ctx, exe_file, CKPT_OBJ_FILE);",
        message: "checkpoint_obj() writes to the image file and so may take the inode lock; is 'mm->mmap_sem' released on every path that reaches it?",
        notes: [FindingNote(file: file, line: 755, code: "up_read(&mm->mmap_sem);", message: "mmap_sem is released here")],
        patch: origin, matchKey: "mmap_sem:inode")

    /// Fixed, old line 678.
    static let fixedLeak = Finding(
        rule: "lock-leak", severity: .error, status: .fixed, file: file, line: 678, column: 4,
        function: "do_checkpoint_mm", code: "ret = exe_objref;",
        message: "'mm->mmap_sem' still held when checkpoint_obj() fails",
        notes: [FindingNote(file: file, line: 660, code: "down_read(&mm->mmap_sem);", message: "lock taken here")],
        patch: origin, matchKey: "mm->mmap_sem:goto out")

    /// Unchanged, new line 765.
    static let unchecked = Finding(
        rule: "unchecked-return", severity: .warning, status: .unchanged, file: file, line: 765,
        function: "do_checkpoint_mm", code: "ret = ckpt_write_obj(ctx, &h->h);",
        message: "result of ckpt_write_obj() is not checked",
        patch: origin, matchKey: "ckpt_write_obj")

    static var findings: [Finding] { [fixedLeak, leak, order, unchecked].sorted(by: Finding.reportOrder) }

    static func input(_ findings: [Finding] = findings, errors: [InputError] = [], patches: [Patch] = [patch],
                      includeUnchanged: Bool = false) -> ReportInput {
        ReportInput(findings: findings, errors: errors, patches: patches, toolVersion: "0.1.0",
                    libclangVersion: "clang version 14.0.6", includeUnchanged: includeUnchanged)
    }
}
