import Foundation
import MMCore

/// Where a value stored from a call goes: whether anything reads the variable before it is
/// overwritten or the function returns. unchecked-return asks this about `err = ctx->write(...)`.
public struct ResultFlow: Sendable {
    public let graph: ControlFlowGraph
    private let model: FunctionModel
    /// Headers that have no node of their own in the graph (switch and iteration-macro headers),
    /// by line: the join node at that line stands for them.
    private let headerTexts: [Int: [String]]
    /// Expression statements without calls or assignments (`n++;`): the graph has no node for them,
    /// so a mention there counts as a read wherever it is.
    private let bareTexts: [(line: Int, text: String)]

    public init(model: FunctionModel, graph: ControlFlowGraph) {
        self.graph = graph
        self.model = model
        var headers: [Int: [String]] = [:]
        var bare: [(line: Int, text: String)] = []
        Self.collect(model.body, headers: &headers, bare: &bare)
        headerTexts = headers
        bareTexts = bare
    }

    private static func collect(_ statement: Statement, headers: inout [Int: [String]],
                                bare: inout [(line: Int, text: String)]) {
        switch statement {
        case .block(let items):
            for item in items { collect(item, headers: &headers, bare: &bare) }
        case .expression(let e):
            if e.calls.isEmpty && e.assignments.isEmpty { bare.append((e.line, ConditionFacts.atom(e.text))) }
        case .ifElse(_, let then, let otherwise):
            collect(then, headers: &headers, bare: &bare)
            if let otherwise { collect(otherwise, headers: &headers, bare: &bare) }
        case .loop(let loop):
            if loop.kind == .macroLoop, let c = loop.condition {
                headers[loop.line, default: []].append(ConditionFacts.atom(c.text))
            }
            collect(loop.body, headers: &headers, bare: &bare)
        case .switchCase(let condition, let body):
            headers[condition.line, default: []].append(ConditionFacts.atom(condition.text))
            collect(body, headers: &headers, bare: &bare)
        default:
            break
        }
    }

    /// Whether the value `call` stored into `variable` is read on some path: in a condition, an
    /// argument, another assignment's value, a return. Paths that reach code the patch does not
    /// show count as reading it (nothing is known there). nil when the store is not in the graph.
    public func storedResultIsRead(variable: String, call: Call) -> Bool? {
        let name = ConditionFacts.atom(variable)
        guard let callNode = graph.nodes.indices.first(where: {
            if case .call(let c) = graph.nodes[$0].action { return c == call }
            return false
        }) else { return nil }
        // The store follows the call node, after the other calls of the same expression.
        var store: Int?
        var frontier = graph.nodes[callNode].successors
        var seen = Set<Int>()
        while store == nil, let next = frontier.first {
            frontier.removeFirst()
            guard seen.insert(next).inserted, seen.count < 32 else { continue }
            switch graph.nodes[next].action {
            case .assign(let a) where ConditionFacts.atom(a.target) == name:
                store = next
            case .call, .assign:
                frontier.append(contentsOf: graph.nodes[next].successors)
            default:
                break
            }
        }
        guard let store else { return nil }
        // A statement recovered from tokens (`switch (result)` the parser dropped) hides its
        // control flow, so it may be reached from anywhere, backward gotos included.
        if bareTexts.contains(where: { ($0.line >= call.line || NullFlow.isRecoveredStatement($0.text))
                                        && Self.mentions($0.text, name) }) {
            return true
        }
        var visited = Set<Int>()
        var work = graph.nodes[store].successors
        while let node = work.popLast() {
            guard visited.insert(node).inserted else { continue }
            switch reads(node, name) {
            case .read: return true
            case .overwritten: continue
            case .end: continue
            case .passes: work.append(contentsOf: graph.nodes[node].successors)
            }
        }
        return false
    }

    private enum Outcome { case read, overwritten, end, passes }

    /// True when `text` (blanks removed) names the variable `name` as a whole identifier, not as a
    /// member (`x->name`, `x.name`); `a>>name` and `a>name` do name it.
    public static func mentions(_ text: String, _ name: String) -> Bool {
        firstMention(of: name, in: text) != nil
    }

    /// The first whole-identifier occurrence of `name` in `text`.
    public static func firstMention(of name: String, in text: String) -> Range<String.Index>? {
        guard !name.isEmpty else { return nil }
        var search = text.startIndex
        while let range = text.fastRange(of: name, from: search) {
            var boundaryBefore = true
            if range.lowerBound > text.startIndex {
                let before = text.index(before: range.lowerBound)
                let c = text[before]
                if c.isLetter || c.isNumber || c == "_" || c == "." {
                    boundaryBefore = false
                } else if c == ">", before > text.startIndex, text[text.index(before: before)] == "-" {
                    boundaryBefore = false
                }
            }
            let boundaryAfter = range.upperBound == text.endIndex
                || !(text[range.upperBound].isLetter || text[range.upperBound].isNumber || text[range.upperBound] == "_")
            if boundaryBefore && boundaryAfter { return range }
            search = range.upperBound
        }
        return nil
    }

    private func reads(_ index: Int, _ name: String) -> Outcome {
        let node = graph.nodes[index]
        func mentions(_ text: String) -> Bool { Self.mentions(ConditionFacts.atom(text), name) }
        switch node.action {
        case .call(let call):
            if mentions(call.callee) || call.arguments.contains(where: mentions) { return .read }
            return .passes
        case .assign(let a):
            if mentions(a.value) { return .read }
            let target = ConditionFacts.atom(a.target)
            if target == name {
                return isPlainStore(line: a.line, target: a.target) ? .overwritten : .read
            }
            // `v->x = 1`, `buf[v] = 0`: the target expression reads v.
            return mentions(a.target) ? .read : .passes
        case .assume(let condition, _):
            return mentions(condition.text) ? .read : .passes
        case .exit(_, let value):
            if let value, mentions(value.text) { return .read }
            return .end
        case .unknownEnd, .gap:
            return .read
        case .join(let line):
            if headerTexts[line]?.contains(where: { Self.mentions($0, name) }) == true { return .read }
            return .passes
        case .entry:
            return .passes
        }
    }

    /// `v = …` rather than `v += …`: the source line shows the operator the model does not keep.
    private func isPlainStore(line: Int, target: String) -> Bool {
        guard let text = model.sourceLines[line] else { return true }
        let compact = ConditionFacts.atom(text)
        let wanted = ConditionFacts.atom(target)
        guard let range = compact.fastRange(of: wanted) else { return true }
        let after = compact[range.upperBound...]
        for op in ["+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="] where after.hasPrefix(op) {
            return false
        }
        return true
    }
}

/// The key under which calls count as the same callee: the name for plain calls, the member for
/// calls through a function pointer (`ctx->write`, `(*vma->vm_ops->close)` → `->write`, `->close`),
/// since the same operation table entry is the same contract wherever it is called from.
public enum CalleeKey {
    public static func key(_ callee: String) -> String {
        var text = ConditionFacts.atom(callee)
        while text.hasPrefix("(") || text.hasPrefix("*") { text.removeFirst() }
        while text.hasSuffix(")") { text.removeLast() }
        if let range = text.fastLastRange(of: "->") { return "->" + text[range.upperBound...] }
        // On ASCII text the last "." byte is the last "." Character.
        let dot = text.isAllASCII ? text.lastByteRange(of: ".")?.lowerBound : text.lastIndex(of: ".")
        if let dot { return "->" + text[text.index(after: dot)...] }
        return text
    }

    /// How a message names the callee: `ctx->write()`, `dump_page_block()`.
    public static func spoken(_ callee: String) -> String {
        var text = ConditionFacts.atom(callee)
        if text.hasPrefix("("), text.hasSuffix(")") { text = String(text.dropFirst().dropLast()) }
        return text + "()"
    }
}
