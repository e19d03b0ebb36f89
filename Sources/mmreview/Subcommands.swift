import ArgumentParser
import Foundation

/// A subcommand reports its own exit status (0, 1 or 2, as for the review itself).
protocol StatusCommand: ParsableCommand {
    func execute() -> Int32
}

enum Subcommands {
    /// One entry per subcommand, each defined in its own file.
    static let all: [String: any ParsableCommand.Type] = [
        "eval": EvalCommand.self,
        "install-hook": InstallHookCommand.self,
        "rules": RulesCommand.self,
        "merge": MergeCommand.self,
        "report": ReportCommand.self,
        "scan": ScanCommand.self,
        "serve": ServeCommand.self,
    ]
}

/// Parses and runs a subcommand; usage errors exit 2 with the subcommand's usage line.
func runSubcommand(_ type: any ParsableCommand.Type, arguments: [String]) -> Int32 {
    do {
        let command = try type.parse(arguments)
        if let withStatus = command as? any StatusCommand {
            return withStatus.execute()
        }
        var other = command
        try other.run()
        return Status.clean
    } catch {
        let code = type.exitCode(for: error)
        if code == .success {
            print(type.fullMessage(for: error))
            return Status.clean
        }
        printError(type.fullMessage(for: error))
        return Status.unusable
    }
}
