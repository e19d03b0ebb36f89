import Foundation
import MMCore
@testable import MMEval
import MMFacts
import MMReview
import Testing

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let rules: Set<String> = ["lock-leak", "unchecked-return", "resource-leak", "lock-order", "use-after-unlock"]

/// Writes an expectation file next to a copy of seed 001, so `input:` resolves as it does in Corpus/.
private func caseDirectory(expectation: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-eval-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let seed = repositoryRoot.appendingPathComponent("Corpus/seeds/001_f23a81c0b7ab8d5c.txt")
    try FileManager.default.copyItem(at: seed, to: directory.appendingPathComponent("thread.txt"))
    try expectation.write(to: directory.appendingPathComponent("expect.yaml"), atomically: true, encoding: .utf8)
    return directory.path
}

private func evaluate(_ expectation: String) throws -> CaseOutcome {
    let directory = try caseDirectory(expectation: expectation)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let loader = ExpectationLoader(knownRules: rules)
    let loaded = try loader.load(path: directory + "/expect.yaml")
    let reviewer = try Reviewer(facts: FactsLoader().bundled(), options: ReviewOptions(showUnchanged: true))
    return Evaluator(reviewer: reviewer).run(loaded)
}

@Suite struct ExpectationLoaderTests {
    let loader = ExpectationLoader(knownRules: rules)

    @Test func unknownKeyIsNamedWithWhereItIs() {
        let text = "input: t.txt\nmust-find:\n  - {rule: lock-leak, code: 'return 0;', stauts: fixed}\n"
        #expect(throws: ExpectationError.self) { try loader.parse(text: text, path: "x/expect.yaml") }
        do {
            _ = try loader.parse(text: text, path: "x/expect.yaml")
        } catch {
            #expect(error.description.hasPrefix("x/expect.yaml: must-find[1]: unknown key 'stauts'; accepted: code, file, message-id, reviewer, rule, status"))
        }
    }

    @Test func badStatusRuleAndExitAreRejected() {
        let cases: [(String, String)] = [
            ("input: t\ntodo:\n  - {rule: lock-leak, code: x, status: new}\n", "todo[1]: 'status' is 'new'; accepted: introduced, fixed, unchanged"),
            ("input: t\nmust-find:\n  - {rule: lock-leek, code: x}\n", "must-find[1]: 'rule' is 'lock-leek'; accepted: lock-leak, lock-order,"),
            ("input: t\nexit: 3\n", "top level: 'exit' is '3'; accepted: 0, 1 or 2"),
            ("input: t\nmust-not-flag:\n  - {code: x}\n", "must-not-flag[1]: 'why' is missing"),
            ("source: s\n", "top level: 'input' is missing"),
            ("- a\n- b\n", "the top level must be a mapping"),
        ]
        for (text, message) in cases {
            do {
                _ = try loader.parse(text: text, path: "e.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }

    @Test func fieldsAreReadAndInputResolvesNextToTheFile() throws {
        let text = """
            input: thread.mbox
            exit: 1
            must-find:
              - rule: lock-leak
                file: mm/mmap.c
                code: "return -ENOMEM;"
                status: introduced
                reviewer: "You leak mmap_lock here"
            must-not-flag:
              - code: "spin_lock(&mm->page_table_lock);"
                why: "taken by the helper"
            """
        let loaded = try loader.parse(text: text, path: "Corpus/threads/a/expect.yaml")
        #expect(loaded.inputPath == "Corpus/threads/a/thread.mbox")
        #expect(loaded.exitStatus == 1)
        #expect(loaded.mustFind == [ExpectedFinding(rule: "lock-leak", file: "mm/mmap.c", code: "return -ENOMEM;",
                                                    status: .introduced, reviewer: "You leak mmap_lock here", messageID: nil)])
        #expect(loaded.mustNotFlag.first?.rule == nil)
    }
}

@Suite(.serialized) struct EvaluatorTests {
    @Test func foundMissedTodoAndOtherAreTold() throws {
        let outcome = try evaluate("""
            input: thread.txt
            exit: 1
            must-find:
              - {rule: unchecked-return, file: cpt_mm.c, code: "ctx->write(path,   len + 1, ctx);", status: introduced}
              - {rule: unchecked-return, code: "ctx->write(nothing_like_this);"}
            todo:
              - {rule: lock-order, code: "err = dump_one_vma(mm, vma, ctx);", status: introduced}
            """)
        #expect(outcome.found.map(\.code) == ["ctx->write(path,   len + 1, ctx);"])
        #expect(outcome.missed.map(\.code) == ["ctx->write(nothing_like_this);"])
        #expect(outcome.todoMissed.count == 1)
        #expect(outcome.exitProblem == nil)
        #expect(outcome.failed)
        // Seed 001 has seven unchecked writes; one is named, so six are "other".
        #expect(outcome.other.filter { $0.rule == "unchecked-return" }.count == 6)
        let summary = EvalSummary([outcome])
        #expect(summary.rules["unchecked-return"]?.found == 1)
        #expect(summary.rules["unchecked-return"]?.missed == 1)
        #expect(summary.rules["unchecked-return"]?.other == 6)
        #expect(summary.recall == 1.0 / 3.0)
        #expect(summary.precision == 1.0 / Double(1 + outcome.other.count))
    }

    @Test func mustNotFlagHitAndWrongExitFail() throws {
        let outcome = try evaluate("""
            input: thread.txt
            exit: 0
            must-not-flag:
              - {code: "ctx->write(maddr, PAGE_SIZE, ctx);", why: "a test: this line is flagged"}
              - {rule: unchecked-return, code: "kunmap(page);", why: "kunmap cannot fail"}
            """)
        #expect(outcome.quietHits.map(\.finding.code) == ["ctx->write(maddr, PAGE_SIZE, ctx);"])
        #expect(outcome.exitProblem == "exit status 1, expected 0")
        let text = EvalReport().render([outcome], verbose: false)
        #expect(text.contains("MUST NOT FLAG unchecked-return at checkpoint/cpt_mm.c:220 `ctx->write(maddr, PAGE_SIZE, ctx);`: a test: this line is flagged"))
        #expect(text.contains("cases: 1, failing: 1"))
    }

    @Test func missingInputIsAnErrorOutcome() throws {
        let outcome = try evaluate("input: no-such-file.txt\nexit: 2\nerror: no such file\n")
        #expect(outcome.exitStatus == 2)
        #expect(outcome.exitProblem == nil)
        #expect(!outcome.failed)
    }
}
