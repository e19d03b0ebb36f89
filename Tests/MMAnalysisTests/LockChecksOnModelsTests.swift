import Dispatch
import class Foundation.Thread
import MMAnalysis
import MMChecks
import MMCore
import MMFacts
import Testing

/// Lock checks on hand-built function models: the analysis needs no libclang.
@Suite struct LockChecksOnModelsTests {
    let facts: KernelFacts

    init() throws { facts = try FactsLoader().bundled() }

    func call(_ callee: String, _ args: [String], line: Int, use: ResultUse = .ignored) -> Statement {
        .expression(Expression(text: "\(callee)(\(args.joined(separator: ", ")))", line: line,
                               calls: [Call(callee: callee, arguments: args, line: line, column: 2, resultUse: use)]))
    }

    func assign(_ target: String, _ callee: String, _ args: [String], line: Int) -> Statement {
        .expression(Expression(text: "\(target) = \(callee)(...)", line: line,
                               calls: [Call(callee: callee, arguments: args, line: line, column: 2, resultUse: .assigned(to: target))],
                               assignments: [Assignment(target: target, value: "\(callee)(...)", line: line, valueCallee: callee)]))
    }

    func cond(_ text: String, line: Int) -> Expression { Expression(text: text, line: line) }

    func model(_ name: String, startsAtDefinition: Bool = true, _ body: [Statement], lines: [Int: String] = [:]) -> FunctionModel {
        var source = lines
        for line in 1...120 where source[line] == nil { source[line] = "line \(line)" }
        return FunctionModel(name: name, file: "mm/x.c", side: .after, startsAtDefinition: startsAtDefinition,
                             body: .block(body), sourceLines: source)
    }

    func run(_ model: FunctionModel, endsAtClosingBrace: Bool = true) -> [SideFinding] {
        let context = FunctionContext(model: model, endsAtClosingBrace: endsAtClosingBrace, facts: facts)
        return CheckRegistry.all.flatMap { $0.check(context) }
    }

    /// Seed 000 before the patch: mmap_sem taken in code the hunks do not show, released under
    /// `out:`, but an early `return ret` between the hunks skips it.
    @Test func presumedLockLeaksOnTheExitThatSkipsTheRelease() {
        let body: [Statement] = [
            .gap(line: 10),
            assign("ret", "ckpt_write_obj", ["ctx", "&h->h"], line: 20),
            .gap(line: 21),
            .ifElse(condition: cond("ret < 0", line: 30), then: .returnStatement(value: cond("ret", line: 31), line: 31), otherwise: nil),
            assign("ret", "checkpoint_mm_context", ["ctx", "mm"], line: 33),
            .label(name: "out", line: 34),
            call("ckpt_hdr_put", ["ctx", "h"], line: 35),
            call("up_read", ["&mm->mmap_sem"], line: 36),
            .returnStatement(value: cond("ret", line: 37), line: 37),
        ]
        let all = run(model("do_checkpoint_mm", body, lines: [31: "\t\treturn ret;"]))
        // The same exit skips ckpt_hdr_put(ctx, h) as well ('h' too is taken out of sight). The
        // lock is presumed taken in the last unseen stretch before its release (line 21), after
        // ckpt_write_obj(), so no lock-order finding: the gap at line 10 may as well not take it.
        #expect(all.map(\.rule).sorted() == ["lock-leak", "resource-leak"])
        let findings = all.filter { $0.rule == "lock-leak" }
        #expect(findings.first?.line == 31)
        #expect(findings.first?.message == "do_checkpoint_mm() returns here with 'mm->mmap_sem' still held, while its other exits release it")
        #expect(findings.first?.notes.first?.line == 36)
    }

    /// Seed 000 after the patch: the release moved before the early return: nothing to say.
    @Test func presumedLockReleasedBeforeEveryExitIsQuiet() {
        let body: [Statement] = [
            .gap(line: 10),
            call("up_read", ["&mm->mmap_sem"], line: 15),
            .gap(line: 21),
            .ifElse(condition: cond("ret < 0", line: 30), then: .returnStatement(value: cond("ret", line: 31), line: 31), otherwise: nil),
            .label(name: "out", line: 34),
            .returnStatement(value: cond("ret", line: 37), line: 37),
        ]
        #expect(run(model("do_checkpoint_mm", body)).isEmpty)
    }

    /// A complete function that releases its caller's lock on some paths only is a helper: quiet.
    @Test func completeFunctionReleasingCallersLockIsQuiet() {
        let body: [Statement] = [
            .ifElse(condition: cond("!vma", line: 3),
                    then: .block([call("mmap_read_unlock", ["mm"], line: 4), .returnStatement(value: cond("NULL", line: 5), line: 5)]),
                    otherwise: nil),
            .returnStatement(value: cond("vma", line: 6), line: 6),
        ]
        #expect(run(model("lock_and_find", body)).isEmpty)
    }

    @Test func pteLockThroughOutParameterPairsWithSpinUnlock() {
        let body: [Statement] = [
            assign("ptep", "pte_offset_map_lock", ["mm", "pmd", "addr", "&ptl"], line: 3),
            .ifElse(condition: cond("pte_none(pte)", line: 4), then: .goto(label: "out_unlock", line: 5), otherwise: nil),
            call("spin_unlock", ["ptl"], line: 6),
            .returnStatement(value: nil, line: 7),
            .label(name: "out_unlock", line: 8),
            call("spin_unlock", ["ptl"], line: 9),
        ]
        #expect(run(model("page_get_desc", body)).isEmpty)
        // Without the unlock under the label, the goto path leaks the page-table lock.
        let leaky = Array(body.dropLast())
        let findings = run(model("page_get_desc", leaky))
        #expect(findings.map(\.rule) == ["lock-leak"])
        #expect(findings.first?.message.contains("'*ptl'") == true)
        #expect(findings.first?.notes.first?.line == 3)
    }

    @Test func doubleUnlockAfterGotoToUnlockingLabel() {
        let body: [Statement] = [
            call("down_read", ["&mm->mmap_sem"], line: 3),
            .ifElse(condition: cond("err", line: 4),
                    then: .block([call("up_read", ["&mm->mmap_sem"], line: 5), .goto(label: "out", line: 6)]), otherwise: nil),
            .label(name: "out", line: 7),
            call("up_read", ["&mm->mmap_sem"], line: 8),
            .returnStatement(value: cond("err", line: 9), line: 9),
        ]
        let findings = run(model("f", body))
        #expect(findings.map(\.rule) == ["unbalanced-unlock"])
        #expect(findings.first?.line == 8)
        #expect(findings.first?.notes.first?.line == 5)
    }

    @Test func oldAndNewMmapLockNamesAreOneLock() {
        let body: [Statement] = [
            call("down_write", ["&mm->mmap_sem"], line: 3),
            call("mmap_write_lock", ["mm"], line: 4),
            call("mmap_write_unlock", ["mm"], line: 5),
        ]
        let findings = run(model("f", body))
        #expect(findings.map(\.rule) == ["double-lock"])
        #expect(findings.first?.line == 4)
    }

    /// A function image that stops mid-function says nothing about what happens after it.
    @Test func visibleCodeEndingMidFunctionIsNoExit() {
        let body: [Statement] = [call("spin_lock", ["&mm->page_table_lock"], line: 3), call("g", [], line: 4)]
        #expect(run(model("f", body), endsAtClosingBrace: false).isEmpty)
    }

    /// A fuzzer's patch nested `if (!trylock_page(old_page))` some two thousand times: every level
    /// adds a path holding the lock from another line, and the walk used to merge them all again
    /// at every join (98 s for 1 673 levels). The walk must stay linear and still see the leak.
    @Test func deeplyNestedTryLocksAreWalkedInBoundedWork() {
        let depth = 2_000
        let first = 2
        func tryLock(line: Int) -> Expression {
            Expression(text: "!trylock_page(page)", line: line,
                       calls: [Call(callee: "trylock_page", arguments: ["page"], line: line, column: 7, resultUse: .tested)])
        }
        var nested: Statement = .returnStatement(value: cond("-EAGAIN", line: first + depth), line: first + depth)
        for level in stride(from: depth - 1, through: 0, by: -1) {
            nested = .ifElse(condition: tryLock(line: first + level), then: nested, otherwise: nil)
        }
        let busyLine = first + depth + 1
        let body: [Statement] = [
            nested,
            .ifElse(condition: cond("busy", line: busyLine),
                    then: .returnStatement(value: cond("-EBUSY", line: busyLine + 1), line: busyLine + 1), otherwise: nil),
            call("unlock_page", ["page"], line: busyLine + 2),
            .returnStatement(value: cond("0", line: busyLine + 3), line: busyLine + 3),
        ]
        var lines: [Int: String] = [:]
        for line in 1...(busyLine + 4) { lines[line] = "line \(line)" }
        let function = FunctionModel(name: "f", file: "mm/x.c", side: .after, parameterNames: ["page", "busy"],
                                     startsAtDefinition: true, body: .block(body), sourceLines: lines)
        let facts = facts
        // The statement tree is two thousand levels deep, and a debug build's recursion over it
        // needs more stack than a test thread has.
        let outcome = onLargeStack { () -> (iterations: Int, nodes: Int, widest: Int, rules: [String], line: Int?) in
            let context = FunctionContext(model: function, endsAtClosingBrace: true, facts: facts)
            let analysis = context.locks
            // The lock checks only: the others have walks of their own, and a debug build takes
            // long over two thousand levels.
            let lockChecks: Set<String> = ["double-lock", "lock-leak", "unbalanced-unlock"]
            let findings = CheckRegistry.all.filter { lockChecks.contains($0.description.id) }.flatMap { $0.check(context) }
            return (analysis.iterations, analysis.graph.nodes.count, analysis.statesAt.map(\.count).max() ?? 0,
                    findings.map(\.rule), findings.first?.line)
        }
        // Each node is visited a bounded number of times and holds a bounded number of paths.
        #expect(outcome.iterations < 8 * outcome.nodes)
        #expect(outcome.widest <= 64)
        #expect(outcome.rules == ["lock-leak"])
        #expect(outcome.line == busyLine + 1)
    }

    /// A function that touches no lock is not walked: every node the entry reaches holds the one
    /// empty state, the rest none; one that takes a lock, or asserts one held on entry, is.
    @Test func aFunctionWithoutLocksIsNotWalked() {
        let unlocked = model("copy_range", [
            assign("page", "alloc_page", ["GFP_KERNEL"], line: 2),
            .ifElse(condition: cond("!page", line: 3), then: .returnStatement(value: Expression(text: "-ENOMEM", line: 4), line: 4),
                    otherwise: nil),
            call("copy_page", ["dst", "page"], line: 5),
            .returnStatement(value: Expression(text: "0", line: 6), line: 6),
        ])
        let quiet = FunctionContext(model: unlocked, endsAtClosingBrace: true, facts: facts).locks
        #expect(quiet.iterations == 0)
        #expect(quiet.incidents.isEmpty)
        func holdsNothing(_ node: Int) -> Bool {
            quiet.statesAt[node].count == 1 && quiet.statesAt[node].first?.locks.isEmpty == true
        }
        // The two returns are reached; the closing brace after `return 0;` is not.
        #expect(quiet.graph.exits.map { quiet.statesAt[$0].count } == [1, 1, 0])
        #expect(quiet.graph.exits.filter { !quiet.statesAt[$0].isEmpty }.allSatisfy(holdsNothing))
        #expect(holdsNothing(0))
        #expect(!quiet.graph.exits.isEmpty)

        let asserting = model("copy_range_locked", [
            call("lockdep_assert_held", ["&mm->page_table_lock"], line: 2),
            call("copy_page", ["dst", "page"], line: 3),
        ])
        #expect(FunctionContext(model: asserting, endsAtClosingBrace: true, facts: facts).locks.iterations > 0)
        let locking = model("copy_range_spin", [
            call("spin_lock", ["&mm->page_table_lock"], line: 2),
            call("copy_page", ["dst", "page"], line: 3),
            call("spin_unlock", ["&mm->page_table_lock"], line: 4),
        ])
        #expect(FunctionContext(model: locking, endsAtClosingBrace: true, facts: facts).locks.iterations > 0)
    }

    /// Runs `body` on a thread with a 512 MB stack and returns its result.
    func onLargeStack<Result: Sendable>(_ body: @escaping @Sendable () -> Result) -> Result {
        let box = ResultBox<Result>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = body()
            done.signal()
        }
        thread.stackSize = 512 << 20
        thread.start()
        done.wait()
        return box.result!
    }
}

/// Carries a result from the thread that computed it; the semaphore orders the accesses.
private final class ResultBox<Result>: @unchecked Sendable {
    var result: Result?
}
