import ArgumentParser
import MMChecks
import MMReport

/// `mmreview rules` lists the checks; `mmreview rules explain ID` documents one;
/// `mmreview rules --markdown` prints README's table of checks.
struct RulesCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List the checks, or explain one: mmreview rules explain lock-leak.")

    @Argument(help: "'explain ID' to document one check.")
    var words: [String] = []

    @Flag(help: "Print the table of checks as Markdown (README's table).")
    var markdown = false

    func execute() -> Int32 {
        let rules = CheckRegistry.all.map { ReportRule($0.description) }
        if words.isEmpty {
            print(markdown ? RuleDocs.markdownTable(rules) : RuleDocs.list(rules), terminator: "")
            return Status.clean
        }
        guard words.count == 2, words[0] == "explain" else {
            printError("mmreview rules: expected 'explain ID', got '\(words.joined(separator: " "))'")
            printError("Usage: mmreview rules [--markdown] | mmreview rules explain ID")
            return Status.unusable
        }
        guard let rule = rules.first(where: { $0.id == words[1] }) else {
            printError("mmreview rules: unknown rule '\(words[1])'; rules are \(rules.map(\.id).joined(separator: ", "))")
            return Status.unusable
        }
        print(RuleDocs.explain(rule), terminator: "")
        return Status.clean
    }
}
