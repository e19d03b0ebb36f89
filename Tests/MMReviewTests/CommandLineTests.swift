import Foundation
import Testing

/// The mmreview command as a user runs it: exit statuses, formats, and the message on bad input.
@Suite(.serialized) struct CommandLineTests {
    /// A file under the temporary directory; each caller removes it when done.
    func writeTemporary(_ bytes: [UInt8], name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-cli-\(getpid())-\(name)")
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Seed 000 fixes two lock leaks but introduces a reference leak (the early `return ret` skips
    /// `fput(exe_file)`): the fixes are acknowledged and the exit status reports the finding.
    @Test func seedWithFixedAndIntroducedFindingsExitsOneAndPrintsTheAcknowledgement() throws {
        let run = try runMMReview(["Corpus/seeds/000_ed32f0bd73afb809.txt"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("do_checkpoint_mm() returns here without fput() on the reference to\n'exe_file': is it leaked?"))
        #expect(run.stdout.hasPrefix("Subject: Re: [PATCH] c/r: do not hold mmap_sem while checkpointing vma's\n"))
        #expect(run.stdout.contains("\nThis fixes a lock ordering problem, two lock leaks and a resource leak\nin do_checkpoint_mm() and a lock ordering problem in do_restore_mm().\n"))
        #expect(run.stdout.contains("-- \nmmreview 0.1.0 (libclang 14.0.6)"))
    }

    @Test func gccFormat() throws {
        let run = try runMMReview(["--format", "gcc", "Corpus/seeds/000_ed32f0bd73afb809.txt"])
        #expect(run.status == 1)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("checkpoint/memory.c:693:1: note: fixed by this patch: do_checkpoint_mm() returns here with 'mm->mmap_sem' still held, while its other exits release it [lock-leak]"))
        #expect(lines.contains("checkpoint/memory.c:728:1: note: 'mm->mmap_sem' is released here on the other paths"))
        #expect(lines.contains("checkpoint/memory.c:771:1: warning: do_checkpoint_mm() returns here without fput() on the reference to 'exe_file': is it leaked? [resource-leak]"))
    }

    @Test func jsonFormatFollowsSchemaVersion1() throws {
        let run = try runMMReview(["--format", "json", "Corpus/seeds/000_ed32f0bd73afb809.txt"])
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        let tool = try #require(object["tool"] as? [String: Any])
        #expect(tool["name"] as? String == "mmreview")
        let findings = try #require(object["findings"] as? [[String: Any]])
        let summary = findings.map { "\($0["rule"] as? String ?? "") \($0["status"] as? String ?? "") \($0["line"] as? Int ?? 0) \($0["code"] as? String ?? "")" }
        #expect(summary.contains("lock-leak fixed 693 return ret;"))
        #expect(summary.contains("resource-leak introduced 771 return ret;"))
        // Two functions wrote the image under mmap_sem: one lock-order finding each, fixed.
        #expect(summary.filter { $0.hasPrefix("lock-order fixed") }.count == 2)
        #expect(findings.count == 6)
        #expect((object["errors"] as? [Any])?.isEmpty == true)
    }

    @Test func introducedLeakExitsOneAndFailOnErrorStillFails() throws {
        let source = """
            int f(struct mm_struct *mm)
            {
            	int ret;
            	mmap_read_lock(mm);
            	ret = g(mm);
            	if (ret)
            		return ret;
            	mmap_read_unlock(mm);
            	return 0;
            }
            """
        let path = try writeTemporary(newFilePatch(source: source), name: "leak.diff")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runMMReview(["--format", "gcc", path])
        #expect(run.status == 1)
        #expect(run.stdout == """
            mm/example.c:7:1: error: f() returns here with 'mm->mmap_lock' still held [lock-leak]
            mm/example.c:4:1: note: 'mm->mmap_lock' is taken here

            """)
        // The same patch on standard input.
        let piped = try runMMReview(["--format", "gcc", "-"], stdin: newFilePatch(source: source))
        #expect(piped.status == 1)
        #expect(piped.stdout == run.stdout)
    }

    @Test func cleanPatchExitsZeroAndQuietPrintsNothing() throws {
        let source = "void f(struct mm_struct *mm)\n{\n\tmmap_read_lock(mm);\n\tg(mm);\n\tmmap_read_unlock(mm);\n}"
        let path = try writeTemporary(newFilePatch(source: source), name: "clean.diff")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runMMReview([path])
        #expect(run.status == 0)
        #expect(run.stdout == "mmreview found nothing to comment on in 1 patch.\n")
        let quiet = try runMMReview(["--quiet", path])
        #expect(quiet.status == 0)
        #expect(quiet.stdout.isEmpty)
    }

    @Test func usageErrorsExitTwo() throws {
        let none = try runMMReview([])
        #expect(none.status == 2)
        #expect(none.stderr.contains("no input: give a patch, mail or mailbox file, or '-' for standard input"))
        let badFormat = try runMMReview(["--format", "xml", "x.diff"])
        #expect(badFormat.status == 2)
        #expect(badFormat.stderr.contains("xml"))
        let badRule = try runMMReview(["--only", "no-such-rule", "x.diff"])
        #expect(badRule.status == 2)
        #expect(badRule.stderr.contains("unknown rule 'no-such-rule'"))
        let help = try runMMReview(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--fail-on"))
    }

    @Test func missingFileExitsTwoNamingIt() throws {
        let run = try runMMReview(["/nonexistent/patch.diff"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("/nonexistent/patch.diff: no such file"))
    }

    /// Seed 004's page lost its line breaks; the patch is rebuilt from its quote and diff markers,
    /// the user is told so, and the reviewer's use-after-unlock is found.
    @Test func flattenedArchivePageIsRebuiltWithANote() throws {
        let run = try runMMReview(["--format", "gcc", "Corpus/seeds/004_135183a29977c0f3.txt"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("mmreview: note: Corpus/seeds/004_135183a29977c0f3.txt: the message's line "
                                    + "breaks were lost; its patch (10 hunks) was rebuilt from the '> ' quote and "
                                    + "diff markers, each hunk checked against its line counts"))
        #expect(run.stdout.contains("mm/rmap.c:291:1: warning: 'root_anon_vma' is used here after "
                                    + "'anon_vma->lock' was dropped"))
        #expect(!run.stderr.contains("Fatal error"))
    }

    /// Bad input of every kind: a clear message naming the input and exit 2, or a review; never a
    /// crash, a hang or a trace.
    @Test(arguments: [
        ("empty", [UInt8](), "is empty"),
        ("binary", [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00] + [UInt8](repeating: 0, count: 64) + [0xff, 0xfe, 0x00, 0x01], "binary"),
        ("nopatch", Array("From: a@b.c\nSubject: hello\n\nJust a question about mmap_lock, no patch.\n".utf8), "no patch found"),
        ("utf8", Array("diff --git a/mm/x.c b/mm/x.c\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,2 +1,3 @@\n int x;\n+/* caf\u{e9} */\n int y;\n".utf8)
            + [0xc3, 0x28, 0xa0, 0xa1, 0x0a], ""),
    ] as [(String, [UInt8], String)])
    func badInput(_ name: String, _ bytes: [UInt8], _ expected: String) throws {
        let path = try writeTemporary(bytes, name: name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runMMReview(["--format", "gcc", path])
        #expect(!run.stderr.contains("Fatal error"))
        #expect(!run.stderr.contains("Stack dump"))
        if expected.isEmpty {
            #expect(run.status == 0)
        } else {
            #expect(run.status == 2)
            #expect(run.stderr.contains(path), "\(run.stderr)")
            #expect(run.stderr.contains(expected), "\(run.stderr)")
        }
    }

    @Test func truncatedAndLyingHunksAreReviewedAsFarAsTheyGo() throws {
        // The header promises 20 lines; 7 follow (the last one blank). The leak in what is there is still found.
        let text = """
            diff --git a/mm/x.c b/mm/x.c
            --- a/mm/x.c
            +++ b/mm/x.c
            @@ -10,20 +10,21 @@ static int f(struct mm_struct *mm)
             {
             	mmap_read_lock(mm);
            +	if (g(mm))
            +		return -EINVAL;
             	mmap_read_unlock(mm);
             	return 0;
             }

            """
        let path = try writeTemporary(Array(text.utf8), name: "truncated.diff")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runMMReview(["--format", "gcc", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("mm/x.c:13:1: error: f() returns here with 'mm->mmap_lock' still held [lock-leak]"))
        // The user hears that the rest of the hunk was never seen, in every format.
        let note = "the hunk '@@ -10,20 +10,21 @@' of mm/x.c ends after 7 of its 21 lines: the patch looks "
            + "truncated or its hunk header is wrong; only the lines present were reviewed"
        #expect(run.stderr.contains("mmreview: note: \(path): \(note)"), "\(run.stderr)")
        let json = try runMMReview(["--format", "json", path])
        #expect(json.stdout.contains("\"notes\": [\n    {\n      \"input\": \"\(path)\",\n      \"message\": \"\(note)\""),
                "\(json.stdout)")
    }

    /// A complete hunk gets no note, and neither does a quoted one that the reviewer trimmed.
    @Test func completeAndTrimmedQuotedHunksGetNoNote() throws {
        let text = """
            diff --git a/mm/x.c b/mm/x.c
            --- a/mm/x.c
            +++ b/mm/x.c
            @@ -10,4 +10,5 @@ static int f(struct mm_struct *mm)
             {
             	mmap_read_lock(mm);
            +	g(mm);
             	mmap_read_unlock(mm);
             }

            """
        let quoted = "Subject: Re: x\n\nOn Monday someone wrote:\n> diff --git a/mm/y.c b/mm/y.c\n> --- a/mm/y.c\n"
            + "> +++ b/mm/y.c\n> @@ -10,30 +10,31 @@ static int f(struct mm_struct *mm)\n>  {\n> +\tg(mm);\n\nWhy?\n"
        for (name, body) in [("complete.diff", text), ("trimmed.mail", quoted)] {
            let path = try writeTemporary(Array(body.utf8), name: name)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let run = try runMMReview(["--format", "gcc", path])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(!run.stderr.contains("note:"), "\(run.stderr)")
        }
    }

    /// The same patch twice (a mail saved twice in a mailbox) is reviewed once: its findings are
    /// reported once, and the user is told why.
    @Test func repeatedPatchIsReviewedOnce() throws {
        let posting = "Corpus/threads/lock-cachefiles-idr-alloc-gfp-kernel-spinlock/01-patch.eml"
        let mail = try String(contentsOfFile: posting, encoding: .utf8)
        let separator = "From a@b Thu Jan  1 00:00:00 1970\n"
        let path = try writeTemporary(Array((separator + mail + "\n" + separator + mail).utf8), name: "twice.mbox")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let once = try runMMReview(["--format", "gcc", posting])
        let twice = try runMMReview(["--format", "gcc", path])
        #expect(twice.status == 1)
        func findingLines(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter { $0.contains(": error: ") || $0.contains(": warning: ") }
        }
        #expect(!findingLines(once.stdout).isEmpty)
        #expect(findingLines(twice.stdout).count == findingLines(once.stdout).count)
        #expect(twice.stderr.contains("each diff was reviewed once"), "\(twice.stderr)")
        #expect(!once.stderr.contains("each diff was reviewed once"), "\(once.stderr)")
    }

    /// A 20 000-line function in one hunk: reviewed, in bounded memory (a quadratic structure once
    /// took this input to 24 GB and a SIGKILL). GNU time reports the child's peak RSS.
    @Test func hugeHunkIsHandled() throws {
        let body = 20_000
        var text = "diff --git a/mm/big.c b/mm/big.c\n--- a/mm/big.c\n+++ b/mm/big.c\n@@ -1,2 +1,\(body + 2) @@\n"
        text += " int f(struct mm_struct *mm)\n {\n"
        for i in 0..<body { text += "+\tx\(i % 7) += g(mm, \(i));\n" }
        text += " }\n"
        let path = try writeTemporary(Array(text.utf8), name: "huge.diff")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rssFile = path + ".rss"
        defer { try? FileManager.default.removeItem(atPath: rssFile) }
        let run = try runProgram("/usr/bin/time", ["-f", "%M", "-o", rssFile, Repository.executable.path,
                                                   "--format", "gcc", path], in: Repository.root)
        #expect(run.status == 0, "\(run.stderr.prefix(500))")
        #expect(!run.stderr.contains("Fatal error"))
        let kilobytes = Int(try String(contentsOfFile: rssFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? Int.max
        #expect(kilobytes < 600_000, "peak RSS \(kilobytes) KB")
    }

    @Test func proseInsteadOfCIsNoCrash() throws {
        let text = """
            diff --git a/mm/notes.c b/mm/notes.c
            --- a/mm/notes.c
            +++ b/mm/notes.c
            @@ -1,3 +1,4 @@
             This is not C at all { it is ( prose
             with unbalanced } braces and "quotes
            +and a lock: spin_lock(&mm->page_table_lock) inside words
             that go on ((( forever

            """
        let path = try writeTemporary(Array(text.utf8), name: "prose.diff")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runMMReview(["--format", "gcc", path])
        #expect(run.status == 0 || run.status == 1)
        #expect(!run.stderr.contains("Fatal error"))
    }
}

/// `mmreview eval` on the seeds' expectation files, as CI runs it on Corpus/.
@Suite(.serialized) struct EvalCommandTests {
    @Test func seedsPassWithTheirTable() throws {
        let run = try runMMReview(["eval", "Corpus/seeds"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "rule                must-find  found  missed  todo  todo-found  must-not-flag-hits  other")
        #expect(lines.contains("unchecked-return            7      7       0     0           0                   0      0"))
        #expect(lines.contains("cases: 5, failing: 0"))
    }

    @Test func invalidExpectationExitsTwoNamingTheKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-evalcli-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "input: x.txt\nmust_find: []\n".write(to: directory.appendingPathComponent("expect.yaml"), atomically: true, encoding: .utf8)
        let run = try runMMReview(["eval", directory.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("expect.yaml: top level: unknown key 'must_find'; accepted: error, exit, input, message-id, must-find, must-not-flag, source, summary, todo"))
        let empty = try runMMReview(["eval"])
        #expect(empty.status == 2)
        #expect(empty.stderr.contains("Usage: mmreview eval"))
    }
}

/// A project's own lock classes and their order, declared in its configuration, feed lock-order.
@Suite(.serialized) struct ConfiguredOrderTests {
    @Test func orderEdgesFromTheConfigurationAreChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-order-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("mmreview.yaml")
        try """
            facts:
              classes:
                - {name: dev_lock, members: [dev_lock], description: a driver's device lock}
                - {name: queue_lock, members: [queue_lock], description: a driver's queue lock}
              order:
                - {chain: [dev_lock, queue_lock], source: "drivers/foo/core.c header comment"}

            """.write(to: config, atomically: true, encoding: .utf8)
        let patch = directory.appendingPathComponent("a.diff")
        try Data(newFilePatch(path: "drivers/foo/a.c", source: """
            void f(struct foo *foo)
            {
            	spin_lock(&foo->queue_lock);
            	spin_lock(&foo->dev_lock);
            	foo->n++;
            	spin_unlock(&foo->dev_lock);
            	spin_unlock(&foo->queue_lock);
            }
            """)).write(to: patch)
        let run = try runMMReview(["--config", config.path, "--format", "gcc", patch.path])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("drivers/foo/a.c:4:2: error: spin_lock() takes 'foo->dev_lock' while 'foo->queue_lock' is held (taken earlier in f()); the documented order is dev_lock -> queue_lock (drivers/foo/core.c header comment) [lock-order]\n"))
        let without = try runMMReview(["--format", "gcc", patch.path])
        #expect(without.status == 0)
    }
}
