import ArgumentParser
import Foundation
import MMChecks
import MMEval
import MMFacts
import MMReview

/// `mmreview eval DIR…`: runs every corpus case and scores mmreview against its expectations.
struct EvalCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmreview eval",
        abstract: "Run the corpus cases under DIR (expect.yaml files) and print recall and precision per rule.",
        discussion: """
            Exit status: 0 every must-find found and no must-not-flag line reported; 1 otherwise; \
            2 when an expectation file is unreadable or invalid. Todo entries count against recall \
            but never fail. The format of expect.yaml is described in Corpus/README.md.
            """)

    @Argument(help: "Directories (searched recursively) or single expectation files.")
    var paths: [String] = []

    @Flag(name: .shortAndLong, help: "Also list todo entries now found and findings no entry names.")
    var verbose = false

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give a corpus directory, e.g. 'mmreview eval Corpus'") }
    }

    func execute() -> Int32 {
        let knownRules = Set(CheckRegistry.all.map(\.description.id)).union(reservedRuleIDs)
        let loader = ExpectationLoader(knownRules: knownRules)
        var cases: [ExpectationCase] = []
        do {
            for path in paths {
                for file in try loader.findFiles(under: path) {
                    cases.append(try loader.load(path: file))
                }
            }
        } catch {
            printError("mmreview eval: \(error)")
            return Status.unusable
        }
        if cases.isEmpty {
            printError("mmreview eval: no expect.yaml or *.expect.yaml file under \(paths.joined(separator: ", "))")
            return Status.unusable
        }
        let evaluator: Evaluator
        do {
            let facts = try FactsLoader().bundled()
            evaluator = Evaluator(reviewer: try Reviewer(facts: facts, options: ReviewOptions(showUnchanged: true)))
        } catch {
            printError("mmreview eval: \(error)")
            return Status.unusable
        }
        let outcomes = cases.map { evaluator.run($0) }
        print(EvalReport().render(outcomes, verbose: verbose), terminator: "")
        return outcomes.contains(where: \.failed) ? Status.findings : Status.clean
    }
}

/// Rule ids DESIGN.md reserves for checks that may not exist yet; todo entries may name them.
let reservedRuleIDs: Set<String> = [
    "lock-order", "lock-leak", "double-lock", "unbalanced-unlock", "sleep-in-atomic", "nested-lock",
    "unchecked-lock-result", "unchecked-return", "missing-null-check", "resource-leak", "use-after-unlock",
    "alloc-sizeof", "loop-no-progress",
]
