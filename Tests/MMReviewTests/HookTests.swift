import Foundation
import Testing

/// `mmreview install-hook` with the real git: a temporary repository, a commit touching mm-style
/// C, `git format-patch`, and `git send-email --dry-run` through the installed hook; and b4's
/// per-patch check on the same kind of commit. git-email and b4 are installed by .ci/run.
@Suite(.serialized) struct HookTests {
    static let clean = "int f(struct mm_struct *mm)\n{\n\tmmap_read_lock(mm);\n\tg(mm);\n\tmmap_read_unlock(mm);\n\treturn 0;\n}\n"
    static let leaky = "int f(struct mm_struct *mm)\n{\n\tmmap_read_lock(mm);\n\tif (g(mm))\n\t\treturn -EINVAL;\n\tmmap_read_unlock(mm);\n\treturn 0;\n}\n"
    static let fixed = "int f(struct mm_struct *mm)\n{\n\tint ret;\n\tmmap_read_lock(mm);\n\tret = g(mm);\n\tmmap_read_unlock(mm);\n\treturn ret;\n}\n"

    static let sendEmailAvailable = programAvailable("git", ["send-email", "-h"]) || {
        // `git send-email -h` exits 129 after printing its usage when it is installed.
        (try? runProgram("git", ["send-email", "-h"], in: FileManager.default.temporaryDirectory))?.stdout
            .contains("git send-email") ?? false
    }()

    /// A repository whose first commit adds mm/x.c and whose second commit changes it to `after`.
    struct Repo {
        var url: URL

        init(after: String) throws {
            url = try makeTemporaryDirectory("mmreview-hook")
            try git("init", "-q", "-b", "master")
            try git("config", "user.email", "dev@example.org")
            try git("config", "user.name", "Dev")
            try FileManager.default.createDirectory(at: url.appendingPathComponent("mm"), withIntermediateDirectories: true)
            try write("mm/x.c", HookTests.clean)
            try git("add", "mm/x.c")
            try git("commit", "-q", "-m", "mm: add f()")
            try write("mm/x.c", after)
            try git("commit", "-q", "-a", "-m", "mm: change f()")
        }

        func write(_ path: String, _ text: String) throws {
            try Data(text.utf8).write(to: url.appendingPathComponent(path))
        }

        @discardableResult
        func git(_ arguments: String...) throws -> ProcessResult {
            let result = try runProgram("git", arguments, in: url)
            if result.status != 0 { throw RepoError(message: "git \(arguments.joined(separator: " ")): \(result.stderr)") }
            return result
        }

        func mmreview(_ arguments: [String]) throws -> ProcessResult {
            try runProgram(Repository.executable.path, arguments, in: url)
        }

        /// `git format-patch -1`, then `git send-email --dry-run` of it; the hook runs on the way.
        func send() throws -> ProcessResult {
            let patch = try git("format-patch", "-1", "-o", "out").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return try runProgram("git", ["send-email", "--dry-run", "--confirm=never", "--to=list@example.org",
                                          "--suppress-cc=all", patch], in: url)
        }

        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    struct RepoError: Error { var message: String }

    @Test(.enabled(if: sendEmailAvailable)) func hookBlocksABadPatchAndPassesACleanOne() throws {
        let bad = try Repo(after: Self.leaky)
        defer { bad.remove() }
        let install = try bad.mmreview(["install-hook"])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.hasPrefix("mmreview install-hook: installed "))
        #expect(install.stdout.contains(".git/hooks/sendemail-validate (stops git send-email on findings at or above warning)"))
        let blocked = try bad.send()
        #expect(blocked.status != 0)
        // git runs the hook with its output on standard error.
        #expect(blocked.stderr.contains("mm/x.c:5:1: error: f() returns here with 'mm->mmap_lock' still held [lock-leak]\nmm/x.c:3:1: note: 'mm->mmap_lock' is taken here\n"), "\(blocked.stderr)")
        #expect(blocked.stderr.contains("mmreview: findings at or above warning in "), "\(blocked.stderr)")
        #expect(blocked.stderr.contains("rejected by sendemail-validate hook"), "\(blocked.stderr)")
        #expect(!blocked.stdout.contains("Dry-OK"))

        let good = try Repo(after: Self.fixed)
        defer { good.remove() }
        #expect(try good.mmreview(["install-hook"]).status == 0)
        let sent = try good.send()
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("Dry-OK"), "\(sent.stdout)")
        // --quiet: a clean patch adds nothing to send-email's output.
        #expect(!sent.stdout.contains("mmreview"))
        #expect(!sent.stderr.contains("mmreview"))
    }

    /// A series with a cover letter: the cover letter has no diff and passes silently.
    @Test(.enabled(if: sendEmailAvailable)) func coverLetterPassesQuietly() throws {
        let repo = try Repo(after: Self.fixed)
        defer { repo.remove() }
        #expect(try repo.mmreview(["install-hook"]).status == 0)
        try repo.git("format-patch", "-1", "--cover-letter", "-o", "series")
        let series = try FileManager.default.contentsOfDirectory(atPath: repo.url.appendingPathComponent("series").path).sorted()
        #expect(series.count == 2)
        // send-email refuses git's template subject; a real cover letter has its own.
        let cover = repo.url.appendingPathComponent("series").appendingPathComponent(series[0])
        let text = try String(contentsOf: cover, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "*** SUBJECT HERE ***", with: "mm: change f()").utf8).write(to: cover)
        let sent = try runProgram("git", ["send-email", "--dry-run", "--confirm=never", "--to=list@example.org",
                                          "--suppress-cc=all"] + series.map { "series/" + $0 }, in: repo.url)
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(!sent.stderr.contains("mmreview"), "\(sent.stderr)")
        #expect(sent.stdout.components(separatedBy: "Dry-OK").count == 3)
    }

    @Test(.enabled(if: sendEmailAvailable)) func failOnErrorLetsWarningsThrough() throws {
        // A reference leak is a warning; with --fail-on error the mail goes.
        let source = "int f(struct mm_struct *mm)\n{\n\tstruct file *file = mm->exe_file;\n\tget_file(file);\n\tif (g(file))\n\t\treturn -EIO;\n\tfput(file);\n\treturn 0;\n}\n"
        let repo = try Repo(after: source)
        defer { repo.remove() }
        #expect(try repo.mmreview(["install-hook", "--fail-on", "error"]).status == 0)
        let sent = try repo.send()
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("Dry-OK"))
        #expect(try repo.mmreview(["install-hook", "--fail-on", "warning"]).status == 0)
        #expect(try repo.send().status != 0)
    }

    /// mmreview failing (here: a broken configuration) is said and the mail goes, unless --strict.
    @Test(.enabled(if: sendEmailAvailable)) func failureOfMMReviewLetsTheMailGoUnlessStrict() throws {
        let repo = try Repo(after: Self.leaky)
        defer { repo.remove() }
        try repo.write(".mmreview.yaml", "colour: yes\n")
        #expect(try repo.mmreview(["install-hook"]).status == 0)
        let sent = try repo.send()
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stderr.contains("'colour': unknown key"), "\(sent.stderr)")
        #expect(sent.stderr.contains("mmreview: could not review "))
        #expect(sent.stderr.contains("(exit 2); sending it anyway"))
        #expect(sent.stdout.contains("Dry-OK"))

        #expect(try repo.mmreview(["install-hook", "--strict"]).status == 0)
        let strict = try repo.send()
        #expect(strict.status != 0)
        #expect(strict.stderr.contains("(exit 2); not sending (--strict)"), "\(strict.stderr)")
    }

    @Test func respectsHooksPathKeepsForeignHooksAndUninstalls() throws {
        let repo = try Repo(after: Self.leaky)
        defer { repo.remove() }
        try repo.git("config", "core.hooksPath", "githooks")
        let hooks = repo.url.appendingPathComponent("githooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        let hook = hooks.appendingPathComponent("sendemail-validate")
        try Data("#!/bin/sh\nexit 0\n".utf8).write(to: hook)

        let kept = try repo.mmreview(["install-hook"])
        #expect(kept.status == 2)
        #expect(kept.stderr.contains("/githooks/sendemail-validate exists and was not installed by mmreview; kept it (use --force to replace it)"))
        #expect(try String(contentsOf: hook, encoding: .utf8) == "#!/bin/sh\nexit 0\n")
        let refused = try repo.mmreview(["install-hook", "--uninstall"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("was not installed by mmreview; left as it is"))

        let forced = try repo.mmreview(["install-hook", "--force"])
        #expect(forced.status == 0)
        let script = try String(contentsOf: hook, encoding: .utf8)
        #expect(script.contains("# Installed by mmreview install-hook."))
        #expect(script.contains("--quiet --format gcc --fail-on warning \"$1\""))
        #expect(!FileManager.default.fileExists(atPath: repo.url.appendingPathComponent(".git/hooks/sendemail-validate").path))
        let permissions = try FileManager.default.attributesOfItem(atPath: hook.path)[.posixPermissions] as? Int
        #expect(permissions == 0o755)

        let removed = try repo.mmreview(["install-hook", "--uninstall"])
        #expect(removed.status == 0)
        #expect(removed.stdout.hasPrefix("mmreview install-hook: removed "))
        #expect(!FileManager.default.fileExists(atPath: hook.path))
        let again = try repo.mmreview(["install-hook", "--uninstall"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("nothing to remove"))
    }

    @Test func outsideARepositoryIsAUsageError() throws {
        let directory = try makeTemporaryDirectory("mmreview-norepo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try runProgram(Repository.executable.path, ["install-hook"], in: directory,
                                 environment: ["GIT_CEILING_DIRECTORIES": directory.deletingLastPathComponent().path])
        #expect(run.status == 2)
        #expect(run.stderr == "mmreview install-hook: not inside a git repository (run it from the repository you send patches from)\n")
    }

    static let b4Available = programAvailable("b4", ["--version"])

    /// b4's per-patch check with mmreview's checkpatch form on standard input.
    @Test(.enabled(if: b4Available)) func b4PrepCheckRunsMMReview() throws {
        let cases = [
            (Self.leaky, ["mmreview: mm/x.c:5: ERROR: f() returns here with 'mm->mmap_lock' still held [lock-leak]",
                          "Success: 0, Warning: 0, Error: 1"]),
            (Self.fixed, ["Success: 1, Warning: 0, Error: 0"]),
        ]
        for (source, expected) in cases {
            let url = try makeTemporaryDirectory("mmreview-b4")
            defer { try? FileManager.default.removeItem(at: url) }
            let environment = ["HOME": url.path, "XDG_CACHE_HOME": url.appendingPathComponent(".cache").path]
            func git(_ arguments: [String]) throws {
                let result = try runProgram("git", arguments, in: url, environment: environment)
                #expect(result.status == 0, "git \(arguments): \(result.stderr)")
            }
            try git(["init", "-q", "-b", "master"])
            try git(["config", "user.email", "dev@example.org"])
            try git(["config", "user.name", "Dev"])
            try FileManager.default.createDirectory(at: url.appendingPathComponent("mm"), withIntermediateDirectories: true)
            try Data(Self.clean.utf8).write(to: url.appendingPathComponent("mm/x.c"))
            try git(["add", "mm/x.c"])
            try git(["commit", "-q", "-m", "mm: add f()"])
            let prep = try runProgram("b4", ["prep", "-n", "change-f", "-f", "master"], in: url, environment: environment)
            #expect(prep.status == 0, "\(prep.stderr)")
            try Data(source.utf8).write(to: url.appendingPathComponent("mm/x.c"))
            try git(["commit", "-q", "-a", "-m", "mm: change f()"])
            try git(["config", "b4.prep-perpatch-check-cmd",
                     "\(Repository.executable.path) --format checkpatch --no-summary -"])
            let check = try runProgram("b4", ["prep", "--check"], in: url, environment: environment)
            let output = check.stdout + check.stderr
            for line in expected { #expect(output.contains(line), "\(output)") }
        }
    }
}
