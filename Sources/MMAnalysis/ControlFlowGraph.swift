import MMCore

/// What happens at one node of a function's control-flow graph.
public enum FlowAction: Sendable, Hashable {
    case entry
    case call(Call)
    case assign(Assignment)
    /// The edge into this node is taken only when `condition` evaluated to `outcome`.
    case assume(condition: Expression, outcome: Bool)
    /// Code the patch does not show.
    case gap(line: Int)
    /// The function returns here (`return` or the closing brace).
    case exit(line: Int, value: Expression?)
    /// The visible code ends without the function ending (the image stops mid-function, or a goto
    /// leads to a label the patch does not show): nothing is known past here.
    case unknownEnd(line: Int)
    /// A join point or label.
    case join(line: Int)
}

public struct FlowNode: Sendable, Hashable {
    public var action: FlowAction
    public var successors: [Int]
    public var line: Int
}

/// A control-flow graph built from a FunctionModel's statement tree. Node 0 is the entry.
public struct ControlFlowGraph: Sendable {
    public private(set) var nodes: [FlowNode]
    /// Edges from unseen code to a label nothing visible jumps to (its gotos are out of sight),
    /// by source node: such a jump may come from before anything the unseen code took.
    public private(set) var hiddenGotos: [Int: Set<Int>] = [:]

    /// - Parameter noReturn: functions that never return (panic, BUG): a statement calling one
    ///   ends its path without reaching an exit.
    public init(model: FunctionModel, endsAtClosingBrace: Bool, noReturn: Set<String> = []) {
        var builder = Builder(noReturn: noReturn)
        let entry = builder.add(.entry, line: model.sourceLines.keys.min() ?? 0)
        let ends = builder.build(model.body, from: [entry])
        let lastLine = model.sourceLines.keys.max() ?? 0
        let end = endsAtClosingBrace
            ? builder.add(.exit(line: lastLine, value: nil), line: lastLine)
            : builder.add(.unknownEnd(line: lastLine), line: lastLine)
        builder.link(ends, to: end)
        builder.resolvePendingGotos()
        nodes = builder.nodes
        hiddenGotos = builder.hiddenGotos
    }

    public var exits: [Int] {
        nodes.indices.filter { if case .exit = nodes[$0].action { return true } else { return false } }
    }

    /// Where code the patch does not show runs: every gap, and the entry when the image starts
    /// mid-function. What such code took is presumed taken in the last of these before its use.
    public func unseenStretches(startsAtDefinition: Bool) -> [Int] {
        let gaps = nodes.indices.filter { if case .gap = nodes[$0].action { return true } else { return false } }
        return startsAtDefinition ? gaps : [0] + gaps
    }

    /// The nodes reachable from `start` without passing through a gap (`start` itself excluded):
    /// what follows one stretch of unseen code before the next one.
    public func reachableBeforeNextGap(from start: Int) -> [Int] {
        var seen: Set<Int> = [start]
        var reached: [Int] = []
        var stack = nodes[start].successors
        while let node = stack.popLast() {
            guard seen.insert(node).inserted else { continue }
            if case .gap = nodes[node].action { continue }
            reached.append(node)
            stack.append(contentsOf: nodes[node].successors)
        }
        return reached
    }

    public var predecessors: [[Int]] {
        var result = Array(repeating: [Int](), count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for successor in node.successors { result[successor].append(index) }
        }
        return result
    }
}

/// Builds the graph forward: each statement takes the nodes that flow into it and returns the nodes
/// that fall out of it.
private struct Builder {
    let noReturn: Set<String>
    var nodes: [FlowNode] = []
    var labels: [String: Int] = [:]
    var pendingGotos: [(from: Int, label: String, line: Int)] = []
    /// Innermost last: where `break` and `continue` go. Continue targets are nil inside a switch.
    var breakTargets: [[Int]] = []
    var continueTargets: [Int?] = []
    var switchDispatch: [Int] = []
    var hiddenGotos: [Int: Set<Int>] = [:]

    mutating func add(_ action: FlowAction, line: Int) -> Int {
        nodes.append(FlowNode(action: action, successors: [], line: line))
        return nodes.count - 1
    }

    mutating func link(_ from: [Int], to target: Int) {
        for source in from where !nodes[source].successors.contains(target) {
            nodes[source].successors.append(target)
        }
    }

    mutating func chain(_ action: FlowAction, line: Int, from: [Int]) -> [Int] {
        let node = add(action, line: line)
        link(from, to: node)
        return [node]
    }

    /// The calls of an expression, then its assignments (a value is stored after it is computed).
    mutating func evaluate(_ expression: Expression, from: [Int]) -> [Int] {
        var current = from
        for call in expression.calls { current = chain(.call(call), line: call.line, from: current) }
        for assignment in expression.assignments {
            current = chain(.assign(assignment), line: assignment.line, from: current)
        }
        return current
    }

    mutating func labelNode(_ name: String, line: Int) -> Int {
        if let node = labels[name] { return node }
        let node = add(.join(line: line), line: line)
        labels[name] = node
        return node
    }

    mutating func build(_ statement: Statement, from: [Int]) -> [Int] {
        switch statement {
        case .block(let items):
            var current = from
            for item in items { current = build(item, from: current) }
            return current
        case .expression(let expression):
            let after = evaluate(expression, from: from)
            if expression.calls.contains(where: { $0.resultUse == .ignored && noReturn.contains($0.functionName ?? "") }) {
                return []
            }
            return after
        case .declaration:
            return from
        case .ifElse(let condition, let then, let otherwise):
            let tested = evaluate(condition, from: from)
            let thenStart = chain(.assume(condition: condition, outcome: true), line: condition.line, from: tested)
            let thenEnd = build(then, from: thenStart)
            let elseStart = chain(.assume(condition: condition, outcome: false), line: condition.line, from: tested)
            let elseEnd = otherwise.map { build($0, from: elseStart) } ?? elseStart
            return thenEnd + elseEnd
        case .loop(let loop):
            return buildLoop(loop, from: from)
        case .switchCase(let condition, let body):
            let tested = evaluate(condition, from: from)
            let dispatch = add(.join(line: condition.line), line: condition.line)
            link(tested, to: dispatch)
            breakTargets.append([])
            continueTargets.append(nil)
            switchDispatch.append(dispatch)
            // The body is entered only through its case labels.
            let bodyEnd = build(body, from: [])
            switchDispatch.removeLast()
            continueTargets.removeLast()
            let breaks = breakTargets.removeLast()
            // Without knowing whether a default label exists, the switch may match no case.
            return bodyEnd + breaks + [dispatch]
        case .caseLabel(let line):
            let node = add(.join(line: line), line: line)
            link(from, to: node)
            if let dispatch = switchDispatch.last { link([dispatch], to: node) }
            return [node]
        case .label(let name, let line):
            let node = labelNode(name, line: line)
            nodes[node].line = line
            nodes[node].action = .join(line: line)
            link(from, to: node)
            return [node]
        case .goto(let label, let line):
            for source in from { pendingGotos.append((source, label, line)) }
            return []
        case .returnStatement(let value, let line):
            let evaluated = value.map { evaluate($0, from: from) } ?? from
            let node = add(.exit(line: line, value: value), line: line)
            link(evaluated, to: node)
            return []
        case .breakStatement:
            if breakTargets.isEmpty { return from }
            breakTargets[breakTargets.count - 1].append(contentsOf: from)
            return []
        case .continueStatement:
            guard let target = continueTargets.last(where: { $0 != nil }) ?? nil else { return from }
            link(from, to: target)
            return []
        case .gap(let line):
            return chain(.gap(line: line), line: line, from: from)
        }
    }

    mutating func buildLoop(_ loop: Loop, from: [Int]) -> [Int] {
        var current = from
        if let initializer = loop.initializer { current = evaluate(initializer, from: current) }
        let head = add(.join(line: loop.line), line: loop.line)
        let alwaysTrue = loop.condition.map { Self.isConstantTrue($0.text) } ?? (loop.kind != .macroLoop)
        let latch = add(.join(line: loop.line), line: loop.line)
        breakTargets.append([])
        continueTargets.append(latch)
        var exits: [Int] = []
        if loop.kind == .doWhile {
            link(current, to: head)
            let bodyEnd = build(loop.body, from: [head])
            link(bodyEnd, to: latch)
            let tested = loop.condition.map { evaluate($0, from: [latch]) } ?? [latch]
            if let condition = loop.condition, !alwaysTrue {
                let again = chain(.assume(condition: condition, outcome: true), line: condition.line, from: tested)
                link(again, to: head)
                exits = chain(.assume(condition: condition, outcome: false), line: condition.line, from: tested)
            } else {
                link(tested, to: head)
            }
        } else {
            link(current, to: head)
            var bodyStart = [head]
            if let condition = loop.condition, loop.kind != .macroLoop {
                let tested = evaluate(condition, from: [head])
                if alwaysTrue {
                    bodyStart = tested
                } else {
                    bodyStart = chain(.assume(condition: condition, outcome: true), line: condition.line, from: tested)
                    exits = chain(.assume(condition: condition, outcome: false), line: condition.line, from: tested)
                }
            } else if loop.kind == .macroLoop {
                // An iteration macro may run its body any number of times, including none.
                if let condition = loop.condition { bodyStart = evaluate(condition, from: [head]) }
                exits = bodyStart
            }
            let bodyEnd = build(loop.body, from: bodyStart)
            link(bodyEnd, to: latch)
            let stepped = loop.increment.map { evaluate($0, from: [latch]) } ?? [latch]
            link(stepped, to: head)
        }
        continueTargets.removeLast()
        return exits + breakTargets.removeLast()
    }

    static func isConstantTrue(_ text: String) -> Bool {
        let compact = text.filter { !$0.isWhitespace && $0 != "(" && $0 != ")" }
        return compact == "1" || compact == "true" || compact == "1UL"
    }

    mutating func resolvePendingGotos() {
        for pending in pendingGotos {
            if let target = labels[pending.label] {
                link([pending.from], to: target)
            } else {
                // A label the patch does not show: what happens after it is unknown.
                let end = add(.unknownEnd(line: pending.line), line: pending.line)
                link([pending.from], to: end)
            }
        }
        pendingGotos.removeAll()
        linkHiddenGotos()
    }

    /// A label nothing visible jumps to, after code the patch does not show: the gotos that reach
    /// it are in that code (`out_unlock:` after a `return`, its gotos in the lines between hunks).
    mutating func linkHiddenGotos() {
        var hasPredecessor = Array(repeating: false, count: nodes.count)
        for node in nodes { for successor in node.successors { hasPredecessor[successor] = true } }
        let gaps = nodes.indices.filter { if case .gap = nodes[$0].action { return true } else { return false } }
        for label in labels.values where !hasPredecessor[label] {
            let before = gaps.filter { nodes[$0].line < nodes[label].line }
            link(before, to: label)
            for gap in before { hiddenGotos[gap, default: []].insert(label) }
        }
    }
}
