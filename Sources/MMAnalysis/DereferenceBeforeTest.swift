import MMCore

/// A pointer that every path dereferences before the function tests it (or a copy of it) for
/// NULL: the test says the author expects NULL there, so the dereference above it oopses first
/// ("dereferenced before check", as smatch and Coverity's REVERSE_INULL call it).
/// `get_task_struct(mm->owner); tsk = mm->owner; if (!tsk) return -EINVAL;`
public struct DereferenceBeforeTest: Sendable {
    public struct Incident: Sendable, Hashable {
        /// The pointer as dereferenced (`mm->owner`).
        public var pointer: String
        /// The name the test uses (`tsk`, or the pointer itself).
        public var testedAs: String
        public var dereferenceLine: Int
        /// The call that reads through it, nil for `p->`, `*p`, `p[]`.
        public var dereferencingCall: String?
        public var testLine: Int
    }

    /// A dereference every path to here has made, with no store to the pointer since.
    private struct Dereference: Hashable {
        var pointer: String
        var line: Int
        var call: String?
    }

    public private(set) var incidents: [Incident] = []

    /// - Parameter dereferencingCalls: calls that read or write through some arguments (Rules/:
    ///   `dereferences`), by argument index.
    public init(model: FunctionModel, endsAtClosingBrace: Bool, dereferencingCalls: [String: Set<Int>],
                noReturn: Set<String> = []) {
        var marked = model
        marked.body = NullFlow.mark(model.body)
        let graph = ControlFlowGraph(model: marked, endsAtClosingBrace: endsAtClosingBrace, noReturn: noReturn)
        // Must-analysis: what every path to a node dereferenced (nil: not reached yet).
        var states: [[String: Dereference]?] = Array(repeating: nil, count: graph.nodes.count)
        states[0] = [:]
        // What a node does depends on the node alone: worked out on its first visit, not on each.
        var steps: [Step?] = Array(repeating: nil, count: graph.nodes.count)
        var worklist = [0]
        var iterations = 0
        while let node = worklist.popLast() {
            iterations += 1
            if iterations > 100_000 { break }  // a safety net; states only shrink, so this converges
            guard let input = states[node] else { continue }
            let step: Step
            if let known = steps[node] {
                step = known
            } else {
                step = Self.step(for: graph.nodes[node], dereferencingCalls: dereferencingCalls)
                steps[node] = step
            }
            let output = Self.transfer(input, step: step)
            for successor in graph.nodes[node].successors {
                let merged = states[successor].map { Self.intersect($0, output) } ?? output
                if merged != states[successor] {
                    states[successor] = merged
                    worklist.append(successor)
                }
            }
        }
        // Tests are judged on the final states: during the walk a state may still be too large.
        // A test no dereference reaches has nothing to report: its atoms are not worked out.
        var found = Set<Incident>()
        for (index, node) in graph.nodes.enumerated() {
            guard case .assume(let condition, _) = node.action, let state = states[index], !state.isEmpty else { continue }
            let text = ConditionFacts.atom(condition.text)
            let atoms = Set((ConditionFacts.facts(condition: text, outcome: true)
                + ConditionFacts.facts(condition: text, outcome: false)).map(\.atom))
            // A dereference inside the test's own condition (`!p || strlen(p)`) is guarded by it:
            // the graph evaluates every call of a condition before its outcome.
            let conditionCallLines = Set(condition.calls.map(\.line))
            for (name, dereference) in state where atoms.contains(name) {
                if dereference.line == condition.line || conditionCallLines.contains(dereference.line) { continue }
                found.insert(Incident(pointer: dereference.pointer, testedAs: name, dereferenceLine: dereference.line,
                                      dereferencingCall: dereference.call, testLine: condition.line))
            }
        }
        // One report per dereference: its first test.
        var seen = Set<Int>()
        incidents = found.sorted { ($0.dereferenceLine, $0.testLine, $0.testedAs) < ($1.dereferenceLine, $1.testLine, $1.testedAs) }
            .filter { seen.insert($0.dereferenceLine).inserted }
    }

    private static func intersect(_ a: [String: Dereference], _ b: [String: Dereference]) -> [String: Dereference] {
        var result: [String: Dereference] = [:]
        for (name, first) in a {
            guard let second = b[name], second.pointer == first.pointer else { continue }
            result[name] = first.line <= second.line ? first : second
        }
        return result
    }

    /// A node's effect on the dereferences, with the texts it needs already normalised.
    private enum Step {
        /// Forgets everything: unseen code, or a statement whose tests the parser dropped.
        case forget
        /// An expression statement dereferencing `pointers` at `line`.
        case dereference(pointers: [String], line: Int)
        /// A call with its arguments as atoms; `dereferenced` are the (index-ordered) arguments a
        /// `dereferences` rule reads through.
        case call(arguments: [String], line: Int, name: String?, dereferenced: [String])
        case assign(target: String, value: String)
        case none
    }

    private static func step(for node: FlowNode, dereferencingCalls: [String: Set<Int>]) -> Step {
        switch node.action {
        case .call(let call) where call.callee == NullFlow.marker:
            // A statement the parser dropped and the tokens kept: its tests are invisible.
            if NullFlow.isRecoveredStatement(call.arguments.first ?? "") { return .forget }
            let text = NullFlow.removingSizeof(ConditionFacts.atom(call.arguments.first ?? ""))
            return .dereference(pointers: dereferencedPointers(in: text), line: call.line)
        case .call(let call):
            let arguments = call.arguments.map(ConditionFacts.atom)
            var dereferenced: [String] = []
            let name = call.functionName
            if let name, let indices = dereferencingCalls[name] {
                for index in indices.sorted() where index < arguments.count {
                    let pointer = arguments[index]
                    guard NullFlow.isIdentifier(pointer) || NullFlow.isMemberPath(pointer) else { continue }
                    dereferenced.append(pointer)
                }
            }
            return .call(arguments: arguments, line: call.line, name: name, dereferenced: dereferenced)
        case .assign(let assignment):
            return .assign(target: ConditionFacts.atom(assignment.target), value: ConditionFacts.atom(assignment.value))
        case .gap:
            return .forget
        default:
            return .none
        }
    }

    private static func transfer(_ input: [String: Dereference], step: Step) -> [String: Dereference] {
        var state = input
        switch step {
        case .forget:
            // Unseen code may store to anything.
            return [:]
        case .dereference(let pointers, let line):
            for pointer in pointers where state[pointer] == nil {
                state[pointer] = Dereference(pointer: pointer, line: line, call: nil)
            }
        case .call(let arguments, let line, let name, let dereferenced):
            // `&p` handed on may change `p`; the structure holding a member may change the member.
            if !state.isEmpty {
                state = state.filter { name, _ in
                    !arguments.contains("&" + name)
                        && !(NullFlow.isMemberPath(name) && arguments.contains { argument in
                            ResultFlow.mentions(argument, NullFlow.root(of: name)) && !argument.contains(name)
                        })
                }
            }
            if let name {
                for pointer in dereferenced where state[pointer] == nil {
                    state[pointer] = Dereference(pointer: pointer, line: line, call: name)
                }
            }
        case .assign(let target, let value):
            let copied = state[value]
            state = state.filter { name, dereference in
                !NullFlow.overwrites(target, name) && !NullFlow.overwrites(target, dereference.pointer)
            }
            // `tsk = mm->owner;` after the dereference: a test of `tsk` tests the same value.
            if let copied, NullFlow.isIdentifier(target) { state[target] = copied }
        case .none:
            break
        }
        return state
    }

    /// Pointers an expression reads through unguarded: `p` and `p->q` in `x = p->q->r;`.
    static func dereferencedPointers(in text: String) -> [String] {
        var result: [String] = []
        var index = text.startIndex
        while let arrow = text.fastRange(of: "->", from: index) {
            index = arrow.upperBound
            // The member path that ends at this arrow.
            var start = arrow.lowerBound
            while start > text.startIndex {
                let previous = text.index(before: start)
                let c = text[previous]
                if ConditionFacts.isIdentifierCharacter(c) || c == "." {
                    start = previous
                } else if c == ">", previous > text.startIndex, text[text.index(before: previous)] == "-" {
                    start = text.index(before: previous)
                } else {
                    break
                }
            }
            let pointer = String(text[start..<arrow.lowerBound])
            // `&p->member` computes an address (XA_STATE(xas, &mapping->i_pages, …)): it reads nothing.
            if start > text.startIndex, text[text.index(before: start)] == "&" { continue }
            guard NullFlow.isIdentifier(pointer) || NullFlow.isMemberPath(pointer),
                  let first = NullFlow.firstMention(of: pointer, in: text),
                  first.range.lowerBound == start,
                  NullFlow.isDereference(at: first.range, in: text) else { continue }
            // Behind `&&`, `||` or `?` the dereference depends on another test.
            let before = text[..<start]
            if before.contains("&&") || before.contains("||") || before.contains("?") { continue }
            if !result.contains(pointer) { result.append(pointer) }
        }
        return result
    }
}
