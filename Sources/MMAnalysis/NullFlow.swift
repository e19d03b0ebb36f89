import Foundation
import MMCore
import MMFacts

/// A pointer that may be NULL (or an ERR_PTR) because of the call that produced it.
public struct NullSource: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case null
        case errPointer
        /// NULL or an ERR_PTR (get_ksm_page): a NULL test and IS_ERR are both right.
        case nullOrError
    }
    public var variable: String
    public var callee: String
    public var line: Int
    public var kind: Kind
    /// A callee already read through it unchecked (reported there): later calls that read through
    /// it are reported too, the function's own `p->` uses are not (one report per use of a kind).
    public var readByCallee = false
}

/// What the walk met.
public struct NullIncident: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Dereferenced while it may still be NULL.
        case dereference
        /// `if (!p)` on an ERR_PTR result: the error value passes the test.
        case nullTestOfErrPointer
        /// `IS_ERR(p)` on a NULL result: NULL passes the test.
        case errTestOfNull
    }

    public var kind: Kind
    public var source: NullSource
    public var line: Int
    /// For a dereference inside a callee (`memset(buf, …)`, `vma_pages(vma)`): the callee.
    public var callee: String?
}

/// Follows the results of calls that can return NULL or an ERR_PTR through a function, along the
/// CFG, and notes where one is used before it is tested.
///
/// The graph is built from a copy of the model in which every expression starts with a marker
/// call carrying its text: the lock graph has nodes only for calls and assignments, so `p->n++;`,
/// the header of `list_for_each_entry(v, &p->head, …)` or `switch (p->type)` would otherwise be
/// invisible.
public struct NullFlow: Sendable {
    static let marker = "__nullflow_expr"
    static let scopeEnd = "__nullflow_scope_end"

    public private(set) var incidents: [NullIncident] = []
    private let graph: ControlFlowGraph
    private let model: FunctionModel
    /// Assignment nodes that store a fallible result, with what they store.
    private var sources: [Int: NullSource] = [:]
    private let nullTestingHelpers: [String: Set<Int>]
    /// Calls that dereference some of their arguments (Rules/: `dereferences`).
    private let dereferencingCalls: [String: Set<Int>]
    /// Calls that run only when another part of their expression lets them (`p && f(p)`,
    /// `!p || f(p)`, `p ? f(p) : 0`), by line and column: what they read through is guarded by a
    /// test the walk does not see as a branch.
    private var shortCircuitedCalls: Set<CallSite> = []

    struct CallSite: Hashable {
        var line: Int
        var column: Int
    }
    /// Variables the function passes to IS_ERR somewhere: a NULL test of those is a second test
    /// (`if (!p) break; if (IS_ERR(p)) …` for a value that is NULL at the end of a list), not a
    /// mistaken one.
    private var errTested: Set<String> = []

    /// - Parameters:
    ///   - kind: what a callee returns on failure (from Rules/ or the patch), nil when it cannot fail.
    ///   - nullTestingHelpers: functions of the patch and the parameters they test for NULL themselves.
    ///   - noReturn: functions that never return (panic): `if (!p) panic(…);` is a check.
    public init(model: FunctionModel, endsAtClosingBrace: Bool, kind: (String) -> NullSource.Kind?,
                nullTestingHelpers: [String: Set<Int>], noReturn: Set<String> = [],
                dereferencingCalls: [String: Set<Int>] = [:]) {
        self.dereferencingCalls = dereferencingCalls
        self.model = model
        self.nullTestingHelpers = nullTestingHelpers
        var marked = model
        marked.body = Self.mark(model.body)
        graph = ControlFlowGraph(model: marked, endsAtClosingBrace: endsAtClosingBrace, noReturn: noReturn)
        for (index, node) in graph.nodes.enumerated() {
            guard case .assign(let a) = node.action, let callee = a.valueCallee,
                  let name = Call(callee: callee, arguments: [], line: 0, column: 0, resultUse: .other).functionName,
                  let sourceKind = kind(name) else { continue }
            let target = ConditionFacts.atom(a.target)
            guard Self.isIdentifier(target) || Self.isMemberPath(target) else { continue }
            // __GFP_NOFAIL allocations do not return NULL.
            if a.value.contains("__GFP_NOFAIL") { continue }
            sources[index] = NullSource(variable: target, callee: callee, line: a.line, kind: sourceKind)
        }
        if sources.values.contains(where: { $0.kind == .errPointer }) {
            var tested = Set<String>()
            model.body.visitExpressions { e in
                for call in e.calls where call.functionName?.hasPrefix("IS_ERR") == true {
                    tested.formUnion(call.arguments.map(ConditionFacts.atom))
                }
            }
            errTested = tested
        }
        if !sources.isEmpty {
            shortCircuitedCalls = Self.shortCircuitedCalls(in: model.body)
            run()
        }
    }

    static func shortCircuitedCalls(in body: Statement) -> Set<CallSite> {
        var result: Set<CallSite> = []
        body.visitExpressions { e in
            guard e.text.contains("&&") || e.text.contains("||") || e.text.contains("?") else { return }
            for call in e.calls {
                guard let at = e.text.range(of: call.callee + "(") else { continue }
                let before = e.text[..<at.lowerBound]
                if before.contains("&&") || before.contains("||") || before.contains("?") {
                    result.insert(CallSite(line: call.line, column: call.column))
                }
            }
        }
        return result
    }

    /// The kernel names a function that works on an object after the object: `vma_pages(vma)`,
    /// `folio_mapping(folio)`, `page_address(page)`, `inode_lock(inode)` read through the pointer
    /// their first argument is, as `p->x` does. Teardown calls (`dst_release`, `dev_put`, …)
    /// often accept NULL the way kfree does, and validity tests may check for it: both are left out.
    static func isAccessor(_ name: String, of variable: String, arguments: [String]) -> Bool {
        guard variable.utf8.count >= 2, arguments.first == variable, isIdentifier(variable),
              name.hasPrefix(variable + "_") else { return false }
        let mayAcceptNull = ["_put", "_free", "_release", "_destroy", "_unref", "_drop", "_cleanup", "_exit",
                             "_close", "_uninit", "_fini", "_deinit", "_del", "_remove", "_unregister", "_kill"]
        if mayAcceptNull.contains(where: name.hasSuffix) { return false }
        let testsIt = ["valid", "null", "exists", "_ok", "_is_err"]
        return !testsIt.contains(where: name.contains)
    }

    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// A member reached from a variable through `->` and `.` only (`state->internal`,
    /// `dev->cfg.buf`): an allocation stored there is as fallible as one kept in a local.
    public static func isMemberPath(_ text: String) -> Bool {
        let parts = text.replacingOccurrences(of: "->", with: ".").split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { isIdentifier(String($0)) }
    }

    /// The variable a member path starts from: `state` for `state->internal`.
    static func root(of path: String) -> String {
        String(path.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    }

    /// A store to `target` ends what is known of `tracked` when it is the same name or a structure
    /// on its way (`state = …` for `state->internal`).
    static func overwrites(_ target: String, _ tracked: String) -> Bool {
        tracked == target || tracked.hasPrefix(target + "->") || tracked.hasPrefix(target + ".")
    }

    // MARK: Marking

    private static func markExpression(_ e: MMCore.Expression) -> MMCore.Expression {
        var copy = e
        copy.calls.insert(Call(callee: marker, arguments: [e.text], line: e.line, column: 0, resultUse: .other), at: 0)
        return copy
    }

    /// Also the graph DereferenceBeforeTest walks.
    static func mark(_ statement: Statement) -> Statement {
        switch statement {
        case .block(let items):
            // A variable declared in a block ends with it: a store to it before the end tells the
            // walk that the name no longer holds the tracked result (an inner `page` shadowing an
            // outer one).
            var marked = items.map(mark)
            let declared = items.compactMap { item -> (String, Int)? in
                if case .declaration(let name, _, let line) = item { return (name, line) }
                return nil
            }
            if let last = items.last, !declared.isEmpty {
                marked.append(kill(declared.map(\.0), line: Self.lastLine(of: last) ?? declared[0].1))
            }
            return .block(marked)
        case .expression(let e): return .expression(markExpression(e))
        case .ifElse(let c, let then, let otherwise):
            return .ifElse(condition: markExpression(c), then: mark(then), otherwise: otherwise.map(mark))
        case .declaration(let name, _, let line):
            // A new variable of that name (an inner block's `page`) is not the tracked one.
            return .block([statement, kill([name], line: line)])
        case .loop(var loop):
            if loop.kind == .macroLoop, let header = loop.condition, let cursor = macroCursor(header.text) {
                // `list_for_each_entry(page, …)` sets its first argument on every iteration.
                loop.body = .block([kill([cursor], line: loop.line), loop.body])
            }
            loop.initializer = loop.initializer.map(markExpression)
            loop.condition = loop.condition.map(markExpression)
            loop.increment = loop.increment.map(markExpression)
            loop.body = mark(loop.body)
            return .loop(loop)
        case .switchCase(let c, let body): return .switchCase(condition: markExpression(c), body: mark(body))
        case .returnStatement(let value, let line): return .returnStatement(value: value.map(markExpression), line: line)
        default: return statement
        }
    }

    /// Stores that end what the walk knows about these names.
    private static func kill(_ names: [String], line: Int) -> Statement {
        .expression(MMCore.Expression(text: "", line: line, calls: [],
                                      assignments: names.map { Assignment(target: $0, value: scopeEnd, line: line, valueCallee: nil) }))
    }

    /// The cursor an iteration macro sets: its first argument, when that is a plain name.
    static func macroCursor(_ header: String) -> String? {
        let text = ConditionFacts.atom(header)
        guard let open = text.firstIndex(of: "(") else { return nil }
        let rest = text[text.index(after: open)...]
        let first = rest.prefix { $0 != "," && $0 != ")" }
        let name = String(first)
        return isIdentifier(name) ? name : nil
    }

    /// The line a statement ends on, as far as the model knows.
    private static func lastLine(of statement: Statement) -> Int? {
        switch statement {
        case .block(let items): return items.last.flatMap(lastLine)
        case .expression(let e): return e.line
        case .declaration(_, _, let line), .caseLabel(let line), .label(_, let line), .goto(_, let line),
             .returnStatement(_, let line), .breakStatement(let line), .continueStatement(let line), .gap(let line):
            return line
        case .ifElse(let c, let then, let otherwise): return (otherwise.flatMap(lastLine)) ?? lastLine(of: then) ?? c.line
        case .loop(let loop): return lastLine(of: loop.body) ?? loop.line
        case .switchCase(let c, let body): return lastLine(of: body) ?? c.line
        }
    }

    // MARK: The walk

    private mutating func run() {
        var states = Array(repeating: Set<NullSource>(), count: graph.nodes.count)
        var reached = Array(repeating: false, count: graph.nodes.count)
        reached[0] = true
        var worklist = [0]
        var found = Set<NullIncident>()
        var iterations = 0
        while let node = worklist.popLast() {
            iterations += 1
            if iterations > 100_000 { break }  // a safety net; the sets only grow, so this converges
            let outgoing = transfer(states[node], node: node, found: &found)
            for successor in graph.nodes[node].successors {
                let incoming = filterAssume(outgoing, at: successor, found: &found)
                let merged = states[successor].union(incoming)
                if merged != states[successor] || !reached[successor] {
                    states[successor] = merged
                    reached[successor] = true
                    worklist.append(successor)
                }
            }
        }
        incidents = found.sorted { ($0.line, $0.source.variable) < ($1.line, $1.source.variable) }
    }

    private func transfer(_ input: Set<NullSource>, node: Int, found: inout Set<NullIncident>) -> Set<NullSource> {
        var state = input
        switch graph.nodes[node].action {
        case .call(let call):
            if call.callee == Self.marker {
                let text = call.arguments.first ?? ""
                if Self.isRecoveredStatement(text) {
                    // A statement the parser dropped and the tokens kept (`if (!name) return
                    // -ENOMEM` inside a SYSCALL_DEFINE): its tests are invisible, so whatever it
                    // mentions counts as tested.
                    let atom = ConditionFacts.atom(text)
                    return state.filter { !ResultFlow.mentions(atom, $0.variable) }
                }
                for source in state where source.kind != .errPointer && !source.readByCallee {
                    if let line = dereferenceLine(of: source.variable, in: text, from: call.line) {
                        found.insert(NullIncident(kind: .dereference, source: source, line: line))
                        // One report per path is enough: the first use would already oops.
                        state.remove(source)
                    }
                }
                return state
            }
            return applyCall(call, to: state, found: &found)
        case .assign(let a):
            let target = ConditionFacts.atom(a.target)
            state = state.filter { !Self.overwrites(target, $0.variable) }
            if let source = sources[node] { state.insert(source) }
            return state
        case .gap:
            // Code the patch does not show may test it.
            return []
        default:
            return state
        }
    }

    private func applyCall(_ call: Call, to input: Set<NullSource>, found: inout Set<NullIncident>) -> Set<NullSource> {
        var state = input
        let arguments = call.arguments.map(ConditionFacts.atom)
        let name = call.functionName ?? ""
        for source in input {
            let v = source.variable
            // A call given the structure that holds a tracked member (`init_state(state)`) may
            // set or test the member: the walk no longer knows it.
            if Self.isMemberPath(v) {
                let holder = Self.root(of: v)
                if arguments.contains(where: { ResultFlow.mentions($0, holder) && !ResultFlow.mentions($0, v) }) {
                    state.remove(source)
                    continue
                }
            }
            let mentioned = arguments.contains { ResultFlow.mentions($0, v) }
            guard mentioned else { continue }
            switch name {
            case "IS_ERR", "PTR_ERR", "IS_ERR_VALUE", "PTR_ERR_OR_ZERO":
                if source.kind == .null && arguments.first == v {
                    found.insert(NullIncident(kind: .errTestOfNull, source: source, line: call.line))
                }
                state.remove(source)
            case "IS_ERR_OR_NULL":
                state.remove(source)
            default:
                // Assertions and helpers of the patch that test it for NULL count as the test;
                // `&p` handed to a call may change it.
                if name.contains("BUG_ON") || name.contains("WARN_ON") || name.hasPrefix("WARN") {
                    state.remove(source)
                } else if source.kind != .errPointer, !shortCircuitedCalls.contains(CallSite(line: call.line, column: call.column)),
                          dereferencingCalls[name].map({ indices in
                              arguments.indices.contains { indices.contains($0) && arguments[$0] == v }
                          }) ?? (nullTestingHelpers[name] == nil && Self.isAccessor(name, of: v, arguments: arguments)) {
                    // `memset(buf, 0, n)` reads and writes through `buf`: an unchecked NULL oopses.
                    // The oops is inside the callee, out of this function's sight: later callees
                    // that read through it are named too (a reviewer names each), so it stays tracked.
                    var reported = source
                    reported.readByCallee = false
                    found.insert(NullIncident(kind: .dereference, source: reported, line: call.line, callee: name))
                    if !source.readByCallee {
                        state.remove(source)
                        var marked = source
                        marked.readByCallee = true
                        state.insert(marked)
                    }
                } else if arguments.contains("&" + v) {
                    state.remove(source)
                } else if let tested = nullTestingHelpers[name],
                          arguments.indices.contains(where: { tested.contains($0) && arguments[$0] == v }) {
                    state.remove(source)
                }
            }
        }
        return state
    }

    /// Applies what a branch condition says about the tracked pointers on this edge.
    private func filterAssume(_ states: Set<NullSource>, at node: Int, found: inout Set<NullIncident>) -> Set<NullSource> {
        guard case .assume(let condition, let outcome) = graph.nodes[node].action else { return states }
        var result = states
        let text = ConditionFacts.atom(condition.text)
        for source in states {
            let v = source.variable
            guard ResultFlow.mentions(text, v) else { continue }
            let facts = ConditionFacts.facts(condition: Self.unwrapStore(text, variable: v), outcome: outcome)
            let about = facts.filter { $0.atom == v }
            if source.kind == .errPointer {
                // `!p`, `p == NULL`, `if (p)`: a NULL test of an ERR_PTR result.
                let allFacts = ConditionFacts.facts(condition: Self.unwrapStore(text, variable: v), outcome: true)
                    + ConditionFacts.facts(condition: Self.unwrapStore(text, variable: v), outcome: false)
                if allFacts.contains(where: { $0.atom == v }) && !text.contains("IS_ERR") && !errTested.contains(v) {
                    found.insert(NullIncident(kind: .nullTestOfErrPointer, source: source, line: condition.line))
                }
                result.remove(source)
                continue
            }
            if about.contains(where: { $0.value }) {
                result.remove(source)  // not NULL on this edge
            } else if about.isEmpty {
                // A test the facts do not understand (`p != ERR_PTR(…)`, `check(p)`): assume it is one.
                result.remove(source)
            }
            // Known NULL on this edge: keep it; a dereference here is certainly wrong.
        }
        return result
    }

    /// Text of a statement kept from tokens, whose branches the model does not show.
    static func isRecoveredStatement(_ text: String) -> Bool {
        // Asked for every expression statement: ASCII text is decided on its bytes, the same way.
        if text.isAllASCII {
            let bytes = text.utf8.drop { $0 == UInt8(ascii: " ") }
            for keyword in ["if", "else", "while", "for", "switch", "do"] where bytes.starts(with: keyword.utf8) {
                let rest = bytes.dropFirst(keyword.utf8.count)
                if rest.isEmpty || rest.first == UInt8(ascii: " ") || rest.first == UInt8(ascii: "(")
                    || rest.first == UInt8(ascii: "{") { return true }
            }
            return false
        }
        let trimmed = text.drop { $0 == " " }
        for keyword in ["if", "else", "while", "for", "switch", "do"] where trimmed.hasPrefix(keyword) {
            let rest = trimmed.dropFirst(keyword.count)
            if rest.isEmpty || rest.first == " " || rest.first == "(" || rest.first == "{" { return true }
        }
        return false
    }

    /// `(p=f(x))==NULL` → `p==NULL`, so the facts see the stored variable.
    public static func unwrapStore(_ text: String, variable v: String) -> String {
        guard let start = text.fastRange(of: "(" + v + "=") else { return text }
        if text[start.upperBound...].hasPrefix("=") { return text }
        var depth = 0
        var index = start.lowerBound
        while index < text.endIndex {
            let c = text[index]
            if c == "(" { depth += 1 }
            if c == ")" {
                depth -= 1
                if depth == 0 {
                    return String(text[..<start.lowerBound]) + v + String(text[text.index(after: index)...])
                }
            }
            index = text.index(after: index)
        }
        return text
    }

    // MARK: Dereferences in text

    /// The line of an unguarded dereference of `v` in an expression's text (`v->`, `v[`, `*v`),
    /// nil when there is none, or when `v` is tested first in the same expression
    /// (`v && v->n`, `v ? v->n : 0`, `!v || v->n`).
    func dereferenceLine(of v: String, in expressionText: String, from line: Int) -> Int? {
        let text = Self.removingSizeof(ConditionFacts.atom(expressionText))
        guard let first = Self.firstMention(of: v, in: text) else { return nil }
        guard Self.isDereference(at: first.range, in: text) else { return nil }
        // Behind `&&`, `||` or `?` the dereference depends on another test, which may well be
        // tied to this pointer (`remove_next == 2 && end != next_next->vm_end`).
        let before = text[..<first.range.lowerBound]
        if before.contains("&&") || before.contains("||") || before.contains("?") { return nil }
        // Find the source line that shows it, for multi-line expressions.
        let pattern = text[first.context]
        for l in line..<(line + 12) {
            guard let source = model.sourceLines[l] else { continue }
            if Self.removingSizeof(ConditionFacts.atom(source)).contains(pattern) { return l }
        }
        return line
    }

    /// The first whole-word mention of `v`, with a little text around it for finding its line.
    static func firstMention(of v: String, in text: String) -> (range: Range<String.Index>, context: Range<String.Index>)? {
        guard let range = ResultFlow.firstMention(of: v, in: text) else { return nil }
        let start = text.index(range.lowerBound, offsetBy: -1, limitedBy: text.startIndex) ?? text.startIndex
        let end = text.index(range.upperBound, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
        return (range, start..<end)
    }

    /// `v->`, `v[`, or unary `*v` (not `a*v`). `&v->m` only reads memory when it is handed to a
    /// call or an iteration macro (`list_for_each_entry(p, &v->head, …)`); stored, it is address
    /// arithmetic (`page = &folio->page;` before `if (folio)`).
    static func isDereference(at range: Range<String.Index>, in text: String) -> Bool {
        let rest = text[range.upperBound...]
        if rest.hasPrefix("->") || rest.hasPrefix("[") {
            guard range.lowerBound > text.startIndex else { return true }
            let amp = text.index(before: range.lowerBound)
            guard text[amp] == "&" else { return true }
            guard amp > text.startIndex else { return false }
            let prior = text[text.index(before: amp)]
            return prior == "(" || prior == ","
        }
        if range.lowerBound > text.startIndex {
            let star = text.index(before: range.lowerBound)
            if text[star] == "*" {
                if star == text.startIndex { return true }
                let prior = text[text.index(before: star)]
                return !(ConditionFacts.isIdentifierCharacter(prior) || prior == ")" || prior == "]")
            }
        }
        return false
    }

    /// `sizeof(*p)` and `typeof(p->x)` read no memory.
    static func removingSizeof(_ text: String) -> String {
        var result = text
        for keyword in ["sizeof(", "typeof(", "__typeof__(", "offsetof("] {
            while let start = result.fastRange(of: keyword) {
                var depth = 0
                var index = result.index(before: start.upperBound)
                var end: String.Index?
                while index < result.endIndex {
                    if result[index] == "(" { depth += 1 }
                    if result[index] == ")" {
                        depth -= 1
                        if depth == 0 { end = index; break }
                    }
                    index = result.index(after: index)
                }
                guard let end else { break }
                result.replaceSubrange(start.lowerBound...end, with: "0")
            }
        }
        return result
    }
}
