import MMCore

/// What the lifetime checks (resource-leak, use-after-unlock) need to know about a function's
/// variables: which names are locals (so a copy into them is an alias, not a store that outlives
/// the function) and which hold pointers.
public struct LifetimeVariables: Sendable {
    /// Declared locals by name, with their type text.
    public let localTypes: [String: String]
    public let parameters: Set<String>
    /// The declarations may lie in code the patch does not show.
    public let declarationsMayBeHidden: Bool

    public init(model: FunctionModel) {
        var types: [String: String] = [:]
        Self.collect(model.body, into: &types)
        localTypes = types
        parameters = Set(model.parameterNames)
        declarationsMayBeHidden = !model.startsAtDefinition
    }

    private static func collect(_ statement: Statement, into types: inout [String: String]) {
        switch statement {
        case .block(let items):
            for item in items { collect(item, into: &types) }
        case .declaration(let name, let type, _):
            types[name] = type
        case .ifElse(_, let then, let otherwise):
            collect(then, into: &types)
            if let otherwise { collect(otherwise, into: &types) }
        case .loop(let loop):
            collect(loop.body, into: &types)
        case .switchCase(_, let body):
            collect(body, into: &types)
        default:
            break
        }
    }

    /// A plain identifier whose storage ends with the function: a declared local or a parameter, or
    /// any identifier when the declarations are not visible (a hidden local is far more likely than
    /// a global).
    public func isLocal(_ text: String) -> Bool {
        guard LifetimeText.isIdentifier(text) else { return false }
        if localTypes[text] != nil || parameters.contains(text) { return true }
        return declarationsMayBeHidden
    }

    /// A declared local of pointer type.
    public func isPointerLocal(_ name: String) -> Bool {
        localTypes[name].map { $0.contains("*") } ?? false
    }

    /// A declared local of integer type (`int ret`, `long err`): an error code when non-zero.
    public func isIntegerLocal(_ name: String) -> Bool {
        guard let type = localTypes[name], !type.contains("*") else { return false }
        return ["int", "long", "short", "ssize_t", "vm_fault_t"].contains { type.contains($0) }
    }
}

/// Text helpers shared by the lifetime checks. Expressions are compared as atoms (no blanks).
public enum LifetimeText {
    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// The atom of an expression with outer parentheses and leading casts removed:
    /// `(struct file *)(f)` → `f`.
    public static func core(_ text: String) -> String {
        var result = ConditionFacts.atom(text)
        while true {
            let before = result
            result = ConditionFacts.stripOuter(result)
            if result.hasPrefix("("), let close = matchingParenthesis(result), close < result.count - 1 {
                let inside = result.dropFirst().prefix(close - 1)
                // A cast's parentheses hold only a type: identifiers, blanks (gone here) and stars.
                if !inside.isEmpty, inside.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "*" }) {
                    result = String(result.dropFirst(close + 1))
                }
            }
            if result == before { return result }
        }
    }

    private static func matchingParenthesis(_ text: String) -> Int? {
        var depth = 0
        for (offset, c) in text.enumerated() {
            if c == "(" { depth += 1 }
            if c == ")" {
                depth -= 1
                if depth == 0 { return offset }
            }
        }
        return nil
    }

    /// True when `text` names `variable` as a whole identifier (not as a member `a->variable`).
    public static func mentions(_ text: String, _ variable: String) -> Bool {
        ConditionFacts.mentions(ConditionFacts.atom(text), variable: variable)
    }

    /// True when `text` dereferences the pointer `variable`: `variable->…`, `*variable`, `variable[…]`.
    public static func dereferences(_ text: String, _ variable: String) -> Bool {
        let atom = ConditionFacts.atom(text)
        var search = atom.startIndex
        while let range = atom.fastRange(of: variable, from: search) {
            search = range.upperBound
            let before = range.lowerBound == atom.startIndex ? nil : atom[atom.index(before: range.lowerBound)]
            if let before, before.isLetter || before.isNumber || before == "_" || before == "." || before == ">" {
                continue
            }
            let rest = atom[range.upperBound...]
            if rest.hasPrefix("->") || rest.hasPrefix("[") { return true }
            if let next = rest.first, next.isLetter || next.isNumber || next == "_" { continue }
            if before == "*" { return true }
        }
        return false
    }

    /// `0`, `NULL` and their spellings: storing it means the variable holds nothing.
    public static func isZero(_ text: String) -> Bool { ConditionFacts.isZero(ConditionFacts.atom(text)) }

    /// `&x->member`, `&x.member` or `x` itself: the value stores the object `x`.
    public static func storesObject(_ value: String, _ object: String) -> Bool {
        let value = core(value)
        if value == object { return true }
        guard value.hasPrefix("&") else { return false }
        let rest = ConditionFacts.stripOuter(String(value.dropFirst()))
        return rest.hasPrefix(object + "->") || rest.hasPrefix(object + ".")
    }
}
