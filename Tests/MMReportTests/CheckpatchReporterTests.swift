import MMCore
import Testing
@testable import MMReport

@Suite struct CheckpatchReporterTests {
    /// checkpatch.pl --terse --showfile lines, fixed findings left out, a total line; b4 reads
    /// each line as one check result.
    @Test func printsTerseLinesAndATotal() {
        let text = CheckpatchReporter().render(Checkpoint.input(Checkpoint.findings, includeUnchanged: true))
        #expect(text == """
            checkpoint/memory.c:748: WARNING: reference taken by get_file() on 'exe_file' is not dropped when ckpt_hdr_get_type() fails [resource-leak]
            checkpoint/memory.c:758: ERROR: checkpoint_obj() writes to the image file and so may take the inode lock; is 'mm->mmap_sem' released on every path that reaches it? [lock-order]
            checkpoint/memory.c:765: WARNING: result of ckpt_write_obj() is not checked (already present before this patch) [unchecked-return]
            total: 1 errors, 2 warnings, 0 checks

            """)
    }

    /// Clean, or only fixes: no output at all, which b4 shows as "passed all checks".
    @Test func printsNothingWhenClean() {
        #expect(CheckpatchReporter().render(Checkpoint.input([])) == "")
        #expect(CheckpatchReporter().render(Checkpoint.input([Checkpoint.fixedLeak])) == "")
    }

    @Test func notesAreChecks() {
        var note = Checkpoint.leak
        note.severity = .note
        #expect(CheckpatchReporter().render(Checkpoint.input([note])).hasSuffix("total: 0 errors, 0 warnings, 1 checks\n"))
        #expect(CheckpatchReporter().render(Checkpoint.input([note])).contains(": CHECK: "))
    }
}

@Suite struct ColourTests {
    @Test func onlyOnATerminalWithoutNoColour() {
        #expect(ColourPolicy.enabled(stdoutIsTerminal: true, environment: [:]))
        #expect(!ColourPolicy.enabled(stdoutIsTerminal: false, environment: [:]))
        #expect(!ColourPolicy.enabled(stdoutIsTerminal: true, environment: ["NO_COLOR": "1"]))
        // no-color.org: set to anything, even empty.
        #expect(!ColourPolicy.enabled(stdoutIsTerminal: true, environment: ["NO_COLOR": ""]))
    }

    @Test func gccColoursLikeGCC() {
        var input = Checkpoint.input([Checkpoint.leak])
        #expect(!GCCReporter().render(input).contains("\u{1B}"))
        input.colour = true
        let first = GCCReporter().render(input).split(separator: "\n").first.map(String.init)
        #expect(first == "\u{1B}[1mcheckpoint/memory.c:748:3:\u{1B}[0m \u{1B}[1;35mwarning\u{1B}[0m: reference taken by get_file() on 'exe_file' is not dropped when ckpt_hdr_get_type() fails [resource-leak]")
    }
}

@Suite struct RuleDocsTests {
    @Test func listsOneRulePerLine() {
        #expect(RuleDocs.list(SampleRules.all) == """
            lock-leak      error    a path returns with a lock still held
            resource-leak  warning  a path returns without dropping a reference or freeing memory it took

            """)
    }

    @Test func explainsUnderFixedHeadings() {
        #expect(RuleDocs.explain(SampleRules.all[0]) == """
            lock-leak (error by default)

            What it finds

              A path returns with a lock still held.

            Why it matters for mm locking

              A lock left held on an error path deadlocks the next task that takes
              it.

            Example (the line marked with ↓ is reported)

                int f(void)
                {
              ↓ \treturn 0;
                }

            Write instead

              Release the lock on every exit.

                int f(void)
                {
                \treturn 1;
                }

            References

              - Documentation/mm/process_addrs.rst

            """)
    }

    @Test func markdownTable() {
        #expect(RuleDocs.markdownTable(SampleRules.all) == """
            | rule | default | finds |
            | --- | --- | --- |
            | `lock-leak` | error | a path returns with a lock still held |
            | `resource-leak` | warning | a path returns without dropping a reference or freeing memory it took |

            """)
    }
}

@Suite struct CheckpatchSummaryTests {
    @Test func noSummaryLeavesOutTheTotal() {
        let text = CheckpatchReporter(summary: false).render(Checkpoint.input([Checkpoint.leak]))
        #expect(text == "checkpoint/memory.c:748: WARNING: reference taken by get_file() on 'exe_file' is not dropped when ckpt_hdr_get_type() fails [resource-leak]\n")
    }
}
