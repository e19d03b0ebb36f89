import ArgumentParser
import Foundation
import MMCore

/// `mmreview install-hook`: git's `sendemail-validate` hook, so `git send-email` reviews every
/// patch before it leaves. The hook goes where git looks for hooks (`core.hooksPath` included),
/// never replaces a hook it did not write unless `--force`, and `--uninstall` removes only its own.
struct InstallHookCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-hook",
        abstract: "Install git's sendemail-validate hook: git send-email then stops on findings at or above --fail-on.")

    @Option(name: .customLong("fail-on"), help: "Lowest severity that stops the mail: error, warning or note.")
    var failOn: Severity = .warning

    @Flag(help: "Also stop the mail when mmreview itself fails (by default it says so and lets the mail go).")
    var strict = false

    @Flag(help: "Replace an existing sendemail-validate hook that mmreview did not install.")
    var force = false

    @Flag(help: "Remove the hook mmreview installed.")
    var uninstall = false

    @Option(name: .customLong("config"), help: "A configuration file the hook passes to mmreview (default: .mmreview.yaml at the repository root).")
    var configPath: String?

    /// The line that marks a hook as ours.
    static let marker = "# Installed by mmreview install-hook."

    func execute() -> Int32 {
        let hooks: String
        switch Git.hooksDirectory() {
        case .success(let path): hooks = path
        case .failure(let message):
            printError("mmreview install-hook: \(message)")
            return Status.unusable
        }
        let hook = (hooks as NSString).appendingPathComponent("sendemail-validate")
        let existing = FileManager.default.contents(atPath: hook).map { String(decoding: $0, as: UTF8.self) }
        let ours = existing?.contains(Self.marker) ?? false

        if uninstall {
            guard let _ = existing else {
                print("mmreview install-hook: no sendemail-validate hook in \(hooks); nothing to remove")
                return Status.clean
            }
            guard ours else {
                printError("mmreview install-hook: \(hook) was not installed by mmreview; left as it is")
                return Status.unusable
            }
            do {
                try FileManager.default.removeItem(atPath: hook)
            } catch {
                printError("mmreview install-hook: cannot remove \(hook): \(error.localizedDescription)")
                return Status.unusable
            }
            print("mmreview install-hook: removed \(hook)")
            return Status.clean
        }

        if existing != nil && !ours && !force {
            printError("mmreview install-hook: \(hook) exists and was not installed by mmreview; "
                       + "kept it (use --force to replace it)")
            return Status.unusable
        }
        var configArgument: String?
        if let configPath {
            configArgument = URL(fileURLWithPath: configPath).standardizedFileURL.path
        }
        let script = Self.script(executable: Self.reviewingExecutable(), failOn: failOn, strict: strict, config: configArgument)
        do {
            try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
            try Data(script.utf8).write(to: URL(fileURLWithPath: hook))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        } catch {
            printError("mmreview install-hook: cannot write \(hook): \(error.localizedDescription)")
            return Status.unusable
        }
        print("mmreview install-hook: installed \(hook) (stops git send-email on findings at or above \(failOn.rawValue)\(strict ? ", and when mmreview fails" : ""))")
        return Status.clean
    }

    /// The running binary, so the hook works whatever PATH git send-email runs with.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// What the hook runs: mmreview-client when it was installed beside this binary (it answers
    /// through a running `mmreview serve` in a few milliseconds, and runs this binary otherwise),
    /// else this binary.
    static func reviewingExecutable() -> String {
        let own = executablePath()
        let client = (own as NSString).deletingLastPathComponent + "/mmreview-client"
        return FileManager.default.isExecutableFile(atPath: client) ? client : own
    }

    /// A POSIX shell hook. git send-email passes the file holding the mail as $1; a non-zero exit
    /// stops the whole series before anything is sent.
    static func script(executable: String, failOn: Severity, strict: Bool, config: String?) -> String {
        let configOption = config.map { " --config \(shellQuoted($0))" } ?? ""
        let onFailure = strict
            ? "echo \"mmreview: could not review $1 (exit $status); not sending (--strict)\" >&2\n\texit 1"
            : "echo \"mmreview: could not review $1 (exit $status); sending it anyway\" >&2\n\texit 0"
        return """
            #!/bin/sh
            \(marker)
            # Reviews each mail git send-email is about to send; remove with
            # 'mmreview install-hook --uninstall', skip once with 'git send-email --no-validate'.
            # A mail without a diff (a series' cover letter) has nothing to review.
            grep -q -e '^diff ' -e '^--- ' "$1" || exit 0
            \(shellQuoted(executable)) --quiet --format gcc --fail-on \(failOn.rawValue)\(configOption) "$1"
            status=$?
            case $status in
            0)
            \texit 0 ;;
            1)
            \techo "mmreview: findings at or above \(failOn.rawValue) in $1; not sending (git send-email --no-validate sends anyway)" >&2
            \texit 1 ;;
            *)
            \t\(onFailure) ;;
            esac

            """
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// The little of git that install-hook needs.
enum Git {
    /// Where git runs hooks from for the current directory's repository: `core.hooksPath` when
    /// set, else `.git/hooks` (git resolves both with `rev-parse --git-path hooks`).
    static func hooksDirectory() -> Result<String, HookError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "--path-format=absolute", "--git-path", "hooks"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        do {
            try process.run()
        } catch {
            return .failure(HookError("cannot run git: \(error.localizedDescription)"))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(HookError("not inside a git repository (run it from the repository you send patches from)"))
        }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .success(path)
    }

    struct HookError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
