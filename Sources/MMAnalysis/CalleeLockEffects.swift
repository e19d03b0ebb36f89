import MMCore
import MMFacts

/// A lock named in terms of a function's parameters, so that a call site can say which of its own
/// locks it is: `$0->lock` for `resv->lock` in allocate_file_region_entries(resv, …), `*$1` for
/// `*ptl` with `ptl` the second parameter, or a global lock spelt the same everywhere
/// (`hugetlb_fault_mutex_table[hash]`).
public struct ParameterLock: Sendable, Hashable {
    /// The parameter the lock expression starts from; nil for a global.
    public var parameter: Int?
    /// `*` when the expression dereferences the parameter itself (`*ptl`).
    public var dereferenced: Bool
    /// What follows the parameter (`->page->PG_locked`), or the whole expression of a global.
    public var path: String

    /// The lock as the caller names it, given the call's arguments; nil when the argument is not
    /// a plain object expression (a call, arithmetic) and so cannot be matched with a lock.
    public func instantiate(arguments: [String]) -> String? {
        guard let parameter else { return path }
        guard parameter < arguments.count else { return nil }
        let argument = ConditionFacts.atom(stripParentheses(arguments[parameter]))
        if argument.hasPrefix("&") {
            // `f(&n->list_lock)` for `spin_unlock(lock)`: the object is the argument's operand.
            let object = stripParentheses(String(argument.dropFirst()))
            guard ConditionFacts.isSimpleOperand(object) else { return nil }
            if dereferenced && path.isEmpty { return object }
            if path.hasPrefix("->") { return object + "." + path.dropFirst(2) }
            return nil
        }
        guard ConditionFacts.isSimpleOperand(argument) else { return nil }
        if dereferenced { return path.isEmpty ? "*" + argument : nil }
        return argument + path
    }
}

/// What a function of the patch does to a lock its caller holds, learnt from its body.
/// allocate_file_region_entries() drops the caller's `resv->lock` on the return that reports a
/// failed allocation; fault_dirty_shared_page() unlocks `vmf->page` before every return.
public struct CalleeLockEffect: Sendable, Hashable {
    public enum Extent: Sendable, Hashable {
        /// Every return of the callee has released the lock.
        case everyReturn
        /// Some returns have released it and others have not (or have taken it again).
        case someReturns
    }

    public var lock: ParameterLock
    public var extent: Extent
    /// The callee's release, for the lock's class, kind and mode at the call site.
    public var release: LockEvent
}

/// Summaries of the functions of one side of a patch: name → what each does to its callers' locks.
public typealias CalleeLockEffects = [String: [CalleeLockEffect]]

public enum CalleeLockSummaries {
    /// Summaries for every function the patch shows whole (its definition and every line of its
    /// body, so that every return is seen). Pass this side's models first: the first definition
    /// of a name wins. A helper that calls a releasing helper releases too, so the summaries are
    /// computed again for the callers of the functions that changed, a few rounds deep.
    public static func compute(models: [FunctionModel], resolver: LockEventResolver) -> CalleeLockEffects {
        var whole: [String: FunctionModel] = [:]
        for model in models where whole[model.name] == nil && model.startsAtDefinition && !model.body.containsGap {
            whole[model.name] = model
        }
        var result: CalleeLockEffects = [:]
        // A summary starts from a lock released before the function takes it, in source order
        // (allocate_file_region_entries() drops `resv->lock`, allocates, and takes it again).
        var pending = Set(whole.values.filter { model in
            // filemap_read_folio() hands its caller's folio to `filler()`, which unlocks it.
            if !OperationCalls.effects(in: model, facts: resolver.facts).isEmpty { return true }
            var seen = Set<String>()
            for event in model.body.allCalls.compactMap(resolver.event(for:)) where seen.insert(event.key).inserted {
                if event.action == .release { return true }
            }
            return false
        }.map(\.name))
        var rounds = 0
        while !pending.isEmpty && rounds < 4 {
            rounds += 1
            var changed = Set<String>()
            for name in pending.sorted() {
                guard let model = whole[name] else { continue }
                let effects = summary(of: model, resolver: resolver, callees: result)
                if effects != (result[name] ?? []) {
                    result[name] = effects.isEmpty ? nil : effects
                    changed.insert(name)
                }
            }
            // Their callers may now release through them.
            pending = Set(whole.values.filter { model in
                model.body.allCalls.contains { call in call.functionName.map(changed.contains) ?? false }
            }.map(\.name))
        }
        return result
    }

    /// What one function does to its caller's locks: the locks released without being taken,
    /// at every return or at some, named by parameter.
    static func summary(of model: FunctionModel, resolver: LockEventResolver,
                        callees: CalleeLockEffects) -> [CalleeLockEffect] {
        let analysis = LockStateAnalysis(model: model, endsAtClosingBrace: true, resolver: resolver,
                                         calleeEffects: callees)
        var exitStates: [LockState] = []
        // In a fixed order: the release event kept for a key is the first state's.
        for exit in analysis.graph.exits { exitStates += analysis.orderedStates(at: exit) }
        if exitStates.isEmpty { return [] }
        var releases: [String: LockEvent] = [:]
        for state in exitStates {
            for (key, record) in state.locks where record.status == .releasedFromEntry && !record.event.nestable {
                releases[key] = releases[key] ?? record.event
            }
        }
        let aliases = singleAliases(in: model)
        var effects: [CalleeLockEffect] = []
        for (key, event) in releases.sorted(by: { $0.key < $1.key }) {
            guard let lock = parameterLock(key, model: model, aliases: aliases) else { continue }
            let everywhere = exitStates.allSatisfy { $0.locks[key]?.status == .releasedFromEntry }
            effects.append(CalleeLockEffect(lock: lock, extent: everywhere ? .everyReturn : .someReturns, release: event))
        }
        return effects
    }

    /// Local variables assigned once, from a plain path rooted at a parameter:
    /// `struct page *page = vmf->page;` lets `page->PG_locked` be named `vmf->page->PG_locked`.
    static func singleAliases(in model: FunctionModel) -> [String: String] {
        var values: [String: [String]] = [:]
        model.body.visitExpressions { expression in
            for assignment in expression.assignments {
                values[ConditionFacts.atom(assignment.target), default: []].append(ConditionFacts.atom(assignment.value))
            }
        }
        let parameters = Set(model.parameterNames)
        var result: [String: String] = [:]
        for (name, assigned) in values where assigned.count == 1 && !parameters.contains(name) {
            let value = assigned[0]
            guard ConditionFacts.isSimpleOperand(value), !value.hasPrefix("*"),
                  let root = rootIdentifier(of: value), parameters.contains(root), root != value else { continue }
            result[name] = value
        }
        return result
    }

    /// The lock key in terms of a parameter, a global, or nil for a lock of a local variable the
    /// caller cannot name.
    static func parameterLock(_ key: String, model: FunctionModel, aliases: [String: String]) -> ParameterLock? {
        var text = key
        let dereferenced = text.hasPrefix("*")
        if dereferenced { text.removeFirst() }
        guard let root = rootIdentifier(of: text) else { return nil }
        var rest = String(text.dropFirst(root.count))
        var base = root
        if let alias = aliases[root] {
            guard !dereferenced, let aliasRoot = rootIdentifier(of: alias) else { return nil }
            rest = String(alias.dropFirst(aliasRoot.count)) + rest
            base = aliasRoot
        }
        if let index = model.parameterNames.firstIndex(of: base) {
            return ParameterLock(parameter: index, dereferenced: dereferenced, path: rest)
        }
        // A global: neither a parameter nor a variable the function declares or assigns.
        if dereferenced || model.body.declaredNames.contains(base) || aliases[base] != nil { return nil }
        var assigned = false
        model.body.visitExpressions { expression in
            if expression.assignments.contains(where: { rootIdentifier(of: ConditionFacts.atom($0.target)) == base }) {
                assigned = true
            }
        }
        return assigned ? nil : ParameterLock(parameter: nil, dereferenced: false, path: key)
    }

    static func rootIdentifier(of text: String) -> String? {
        let root = text.prefix { ConditionFacts.isIdentifierCharacter($0) }
        guard let first = root.first, first.isLetter || first == "_" else { return nil }
        return String(root)
    }
}

extension Statement {
    /// The body has a stretch the patch does not show.
    var containsGap: Bool {
        switch self {
        case .gap: return true
        case .block(let items): return items.contains { $0.containsGap }
        case .ifElse(_, let then, let otherwise): return then.containsGap || (otherwise?.containsGap ?? false)
        case .loop(let loop): return loop.body.containsGap
        case .switchCase(_, let body): return body.containsGap
        default: return false
        }
    }

    /// The local variables the statement declares, with their types.
    var declaredTypes: [String: String] {
        switch self {
        case .declaration(let name, let type, _): return [name: type]
        case .block(let items):
            return items.reduce(into: [:]) { $0.merge($1.declaredTypes) { first, _ in first } }
        case .ifElse(_, let then, let otherwise):
            return then.declaredTypes.merging(otherwise?.declaredTypes ?? [:]) { first, _ in first }
        case .loop(let loop): return loop.body.declaredTypes
        case .switchCase(_, let body): return body.declaredTypes
        default: return [:]
        }
    }

    /// Names of the local variables the statement declares.
    var declaredNames: Set<String> {
        switch self {
        case .declaration(let name, _, _): return [name]
        case .block(let items): return items.reduce(into: Set<String>()) { $0.formUnion($1.declaredNames) }
        case .ifElse(_, let then, let otherwise): return then.declaredNames.union(otherwise?.declaredNames ?? [])
        case .loop(let loop): return loop.body.declaredNames
        case .switchCase(_, let body): return body.declaredNames
        default: return []
        }
    }
}
