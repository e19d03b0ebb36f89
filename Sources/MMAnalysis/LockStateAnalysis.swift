import MMCore
import MMFacts

/// How one lock stands on one path.
public enum LockStatus: Sendable, Hashable {
    /// Taken in the visible code.
    case held
    /// Released in the visible code after being taken there.
    case released
    /// Presumably taken in code the patch does not show (it is released later but never taken in
    /// sight, and a gap came before).
    case presumedHeld
    /// Released although this path never took it: the caller held it (a helper that drops its
    /// caller's lock), or it was taken in unseen code.
    case releasedFromEntry
    /// A try-lock that failed on this path.
    case failed
    /// A lock presumed taken in unseen code, released in sight.
    case releasedPresumed
    /// The caller's lock, dropped and taken again (the function leaves it as it found it).
    case releasedFromEntryRetaken
}

public struct LockRecord: Sendable, Hashable {
    public var status: LockStatus
    /// Nesting depth for nestable locks (rcu_read_lock inside rcu_read_lock).
    public var depth: Int
    /// The acquire (or for presumed locks, the gap) and the last release on this path.
    public var acquiredLine: Int?
    public var releasedLine: Int?
    public var event: LockEvent

    public init(status: LockStatus, depth: Int, acquiredLine: Int?, releasedLine: Int?, event: LockEvent) {
        self.status = status
        self.depth = depth
        self.acquiredLine = acquiredLine
        self.releasedLine = releasedLine
        self.event = event
    }

    /// The walk hashes every record of every path at every merge: the lines and the call that
    /// made the record tell records apart as well as the strings of the whole event would, at a
    /// fraction of the cost. Equality still compares everything.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        hasher.combine(depth)
        hasher.combine(acquiredLine)
        hasher.combine(releasedLine)
        hasher.combine(event.call.line)
        hasher.combine(event.call.column)
    }
}

/// The locks and facts of one path through the function. Paths with the same locks are merged,
/// keeping only the facts they share, so the number of states stays small.
public struct LockState: Sendable, Hashable {
    public var locks: [String: LockRecord] = [:]
    public var facts: Set<Fact> = []

    public var lockPart: [String: LockRecord] { locks }

    /// The locks and the number of facts: paths at one node that hold the same locks are merged,
    /// so hashing every fact's text (the walk's main cost on functions with many conditions)
    /// rarely tells more. Equality still compares the facts.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(locks)
        hasher.combine(facts.count)
    }
}

/// A problem the walk met at one node.
public struct LockIncident: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Taken again while held; `previousLine` is where it was taken.
        case doubleAcquire(previousLine: Int?)
        /// Released while not held; `previousLine` is where it was released before on this path
        /// (nil when a failed try-lock is released).
        case doubleRelease(previousLine: Int?)
        /// A reader-writer lock taken in sight for one side and released for the other (taken
        /// with down_read(), released with up_write()); `acquiredLine` is where it was taken.
        case modeMismatch(acquiredLine: Int?, acquiredWith: LockEvent)
    }

    public var kind: Kind
    public var node: Int
    public var event: LockEvent

    /// The order incidents are reported in: by node, then kind, then the earlier line (a known
    /// line before an unknown one, the earliest first), then where the event is. Paths reaching
    /// one node with different histories give one incident each, collected in a set whose order
    /// changes with every process's hash seed; checks report the first incident of a node.
    var reportOrder: (Int, Int, Int, Int, Int) {
        let (rank, earlier): (Int, Int?) = switch kind {
        case .doubleAcquire(let line): (0, line)
        case .doubleRelease(let line): (1, line)
        case .modeMismatch(let line, _): (2, line)
        }
        return (node, rank, earlier ?? Int.max, event.call.line, event.call.column)
    }
}

/// The lock states at each node, computed once per function side and shared by the lock checks.
public struct LockStateAnalysis: Sendable {
    public let graph: ControlFlowGraph
    /// States on entry to each node.
    public private(set) var statesAt: [Set<LockState>]

    /// The states at a node in a fixed order, for checks that report what the first state holding
    /// a lock says (where it was taken): a Set's order changes from one process to the next, and
    /// so would the line a note quotes when paths that took the lock at different lines meet.
    /// Ordered by each state's records taken by key: earliest acquiring line first, then release
    /// line, status, depth.
    public func orderedStates(at node: Int) -> [LockState] {
        statesAt[node].map { (state: $0, records: $0.locks.sorted { $0.key < $1.key }) }
            .sorted { Self.precedes($0.records, $1.records) }
            .map(\.state)
    }

    private static func precedes(_ a: [(key: String, value: LockRecord)], _ b: [(key: String, value: LockRecord)]) -> Bool {
        for (x, y) in zip(a, b) {
            if x.key != y.key { return x.key < y.key }
            let left = (x.value.acquiredLine ?? Int.max, x.value.releasedLine ?? Int.max,
                        Self.rank(x.value.status), x.value.depth)
            let right = (y.value.acquiredLine ?? Int.max, y.value.releasedLine ?? Int.max,
                         Self.rank(y.value.status), y.value.depth)
            if left != right { return left < right }
        }
        return a.count < b.count
    }

    private static func rank(_ status: LockStatus) -> Int {
        switch status {
        case .held: return 0
        case .presumedHeld: return 1
        case .releasedFromEntryRetaken: return 2
        case .released: return 3
        case .releasedPresumed: return 4
        case .releasedFromEntry: return 5
        case .failed: return 6
        }
    }
    public private(set) var incidents: [LockIncident] = []
    /// Nodes the walk visited, counting repeats: what the walk cost.
    public private(set) var iterations = 0
    /// Every lock event by node.
    public private(set) var events: [Int: LockEvent] = [:]
    /// Keys released somewhere but never taken anywhere in the visible code.
    public private(set) var releasedOnlyKeys: Set<String> = []
    /// Assignment nodes that store a try-lock's result.
    private var resultStores: Set<Int> = []
    private let resolver: LockEventResolver
    /// What the functions of the patch do to their callers' locks (CalleeLockSummaries).
    private let calleeEffects: CalleeLockEffects
    /// Calls through function pointers whose documented contract releases an argument's lock
    /// (Rules/ `operations`), by node.
    private var operationEffects: [Int: CalleeLockEffect] = [:]

    /// A bound on states per node; beyond it facts are dropped (paths merge by lock state alone).
    static let stateLimit = 64
    /// Nesting depths beyond this are not told apart.
    static let nestingLimit = 3

    public init(model: FunctionModel, endsAtClosingBrace: Bool, resolver: LockEventResolver,
                calleeEffects: CalleeLockEffects = [:]) {
        graph = ControlFlowGraph(model: model, endsAtClosingBrace: endsAtClosingBrace,
                                 noReturn: resolver.facts.noReturnCalls)
        self.resolver = resolver
        self.calleeEffects = calleeEffects
        statesAt = Array(repeating: [], count: graph.nodes.count)
        var acquired = Set<String>()
        var released = Set<String>()
        for (index, node) in graph.nodes.enumerated() {
            guard case .call(let call) = node.action, let event = resolver.event(for: call) else { continue }
            events[index] = event
            switch event.action {
            case .acquire, .tryAcquire: acquired.insert(event.key)
            case .release: released.insert(event.key)
            case .downgrade: break
            }
        }
        releasedOnlyKeys = released.subtracting(acquired)
        operationEffects = OperationCalls.effects(in: model, graph: graph, facts: resolver.facts)
        // `ret = mmap_write_lock_killable(mm)`, `ptl = pmd_lock(mm, pmd)`: the store of a lock
        // call's result must not forget what the call just said about the variable.
        for (index, event) in events {
            guard case .assigned(let target) = event.call.resultUse else { continue }
            for successor in graph.nodes[index].successors {
                if case .assign(let assignment) = graph.nodes[successor].action,
                   ConditionFacts.atom(assignment.target) == ConditionFacts.atom(target) {
                    resultStores.insert(successor)
                }
            }
        }
        tryGuards = Self.tryGuards(graph: graph, events: events)
        presumedAt = Self.latestGaps(graph: graph, events: events, keys: releasedOnlyKeys,
                                     startsAtDefinition: model.startsAtDefinition)
        releaseGuards = Self.releaseGuards(graph: graph, events: events)
        assumeFacts = Self.assumeFacts(graph: graph)
        var entryState = LockState()
        if !model.startsAtDefinition { presumeHidden(&entryState, node: 0, line: graph.nodes.first?.line ?? 0) }
        if entryState.locks.isEmpty && Self.touchesNoLock(model: model, graph: graph, events: events,
                                                          operationEffects: operationEffects, calleeEffects: calleeEffects) {
            // Nothing for the walk to follow: every node the entry reaches holds no lock. (The
            // walk would also prune paths whose conditions contradict each other, which only a
            // lock held on entry could make matter: functions that assert or annotate one walk.)
            statesAt = Self.reachable(graph).map { $0 ? [LockState()] : [] }
            return
        }
        run(entry: entryState)
    }

    /// No lock event, no call whose contract or summary touches a caller's lock, and no lock the
    /// function says is held on entry (`__must_hold`, `lockdep_assert_held()`).
    private static func touchesNoLock(model: FunctionModel, graph: ControlFlowGraph, events: [Int: LockEvent],
                                      operationEffects: [Int: CalleeLockEffect],
                                      calleeEffects: CalleeLockEffects) -> Bool {
        guard events.isEmpty, operationEffects.isEmpty else { return false }
        for node in graph.nodes {
            guard case .call(let call) = node.action else { continue }
            if let name = call.functionName, !(calleeEffects[name] ?? []).isEmpty { return false }
            if LockAnnotation.assertsHeld(callee: call.callee) { return false }
        }
        return LockAnnotation.of(model).isEmpty
    }

    /// Nodes reachable from the entry along successors.
    private static func reachable(_ graph: ControlFlowGraph) -> [Bool] {
        var seen = Array(repeating: false, count: graph.nodes.count)
        guard !seen.isEmpty else { return seen }
        var stack = [0]
        seen[0] = true
        while let node = stack.popLast() {
            for successor in graph.nodes[node].successors where !seen[successor] {
                seen[successor] = true
                stack.append(successor)
            }
        }
        return seen
    }

    /// Try-lock nodes that are the last operand of an `&&` condition, with the operands before it:
    /// C runs the try-lock only when those are true (`if (need_lock && !folio_trylock(folio))`).
    private var tryGuards: [Int: [String]] = [:]

    static func tryGuards(graph: ControlFlowGraph, events: [Int: LockEvent]) -> [Int: [String]] {
        var result: [Int: [String]] = [:]
        for (index, event) in events {
            guard case .tryAcquire(let atom, _) = event.action, event.call.resultUse == .tested else { continue }
            // The condition's calls run first, then its assume nodes: find the first of those.
            var node = index
            var steps = 0
            while steps < 16, let next = graph.nodes[node].successors.first {
                steps += 1
                if case .assume(let condition, _) = graph.nodes[next].action {
                    let text = ConditionFacts.stripOuter(ConditionFacts.atom(condition.text))
                    guard let parts = ConditionFacts.splitTopLevel(text, separator: "&&"), parts.count > 1,
                          let last = parts.last else { break }
                    var tail = ConditionFacts.stripOuter(last)
                    if tail.hasPrefix("!") { tail = ConditionFacts.stripOuter(String(tail.dropFirst())) }
                    if tail == atom { result[index] = Array(parts.dropLast()) }
                    break
                }
                guard case .call = graph.nodes[next].action else { break }
                node = next
            }
        }
        return result
    }

    /// For the entry (when the image starts mid-function) and each gap: the released-only locks
    /// whose release it reaches without passing another gap.
    private var presumedAt: [Int: Set<String>] = [:]

    static func latestGaps(graph: ControlFlowGraph, events: [Int: LockEvent], keys: Set<String>,
                           startsAtDefinition: Bool) -> [Int: Set<String>] {
        guard !keys.isEmpty else { return [:] }
        var result: [Int: Set<String>] = [:]
        for start in graph.unseenStretches(startsAtDefinition: startsAtDefinition) {
            let found = Set(graph.reachableBeforeNextGap(from: start).compactMap { node -> String? in
                guard let event = events[node], event.action == .release, keys.contains(event.key) else { return nil }
                return event.key
            })
            if !found.isEmpty { result[start] = found }
        }
        return result
    }

    private mutating func run(entry: LockState) {
        var pathStates = Array(repeating: PathStates<LockState, MergeKey>(), count: graph.nodes.count)
        pathStates[0] = PathStates([entry], key: Self.mergeKey)
        // First in, first out: `head` walks the array instead of inserting at its front, which
        // costs a copy of the whole queue per node on a long function.
        var worklist: [Int] = [0]
        var head = 0
        var queued = Array(repeating: false, count: graph.nodes.count)
        queued[0] = true
        var mergeLevels = Array(repeating: MergeLevel.exact, count: graph.nodes.count)
        var seenIncidents = Set<LockIncident>()
        while head < worklist.count {
            let node = worklist[head]
            head += 1
            if head > 4_096 && head * 2 > worklist.count {
                worklist.removeFirst(head)
                head = 0
            }
            queued[node] = false
            iterations += 1
            // A safety net: the lattice is finite, but a bound keeps a pathological function from
            // stalling a whole archive scan.
            if iterations > 2_000 + graph.nodes.count * 200 { break }
            var outgoing = Set<LockState>()
            for state in pathStates[node].states {
                for next in transfer(state, node: node, incidents: &seenIncidents) { outgoing.insert(next) }
            }
            for successor in graph.nodes[node].successors {
                let incoming = filterAssume(outgoing, at: successor)
                var changed: Bool
                if mergeLevels[successor] == .exact {
                    changed = pathStates[successor].add(incoming, key: Self.mergeKey, facts: \.facts, limit: Self.stateLimit)
                    if pathStates[successor].states.count > Self.stateLimit {
                        // Too many paths even without their facts: the node merges coarser from now on.
                        var level = MergeLevel.byStatus
                        let widened = Self.merge(pathStates[successor].states, level: &level)
                        mergeLevels[successor] = level
                        pathStates[successor] = PathStates(widened, key: Self.mergeKey)
                        changed = true
                    }
                } else {
                    let before = pathStates[successor].states
                    if incoming.isSubset(of: before) { continue }
                    let merged = Self.merge(before.union(incoming), level: &mergeLevels[successor])
                    changed = merged != before
                    if changed { pathStates[successor] = PathStates(merged, key: Self.mergeKey) }
                }
                if changed && !queued[successor] {
                    worklist.append(successor)
                    queued[successor] = true
                }
            }
        }
        statesAt = pathStates.map(\.states)
        incidents = seenIncidents.sorted { $0.reportOrder < $1.reportOrder }
    }

    /// What an assume node's condition says, parsed once: the walk applies it every time a
    /// predecessor changes.
    struct AssumeFacts {
        /// Facts that, all known on a path, rule the edge out (shortCircuitContradiction).
        var ruledOut: [Fact]?
        /// Facts the edge teaches.
        var learned: [Fact]
        /// The atoms the edge says are NULL or zero.
        var nullHere: Set<String>
    }

    /// AssumeFacts by node, nil for nodes that are not assume nodes.
    private var assumeFacts: [AssumeFacts?] = []

    static func assumeFacts(graph: ControlFlowGraph) -> [AssumeFacts?] {
        graph.nodes.map { node in
            guard case .assume(let condition, let outcome) = node.action else { return nil }
            let learned = ConditionFacts.learned(at: node)
            return AssumeFacts(
                ruledOut: ConditionFacts.shortCircuitContradiction(condition: condition.text, outcome: outcome),
                learned: learned, nullHere: Set(learned.filter { !$0.value }.map(\.atom)))
        }
    }

    /// Applies an assume node's condition to the states flowing into it; contradicted paths vanish.
    private func filterAssume(_ states: Set<LockState>, at node: Int) -> Set<LockState> {
        guard case .assume(let condition, let outcome) = graph.nodes[node].action,
              let assumed = assumeFacts[node] else { return states }
        var states = states
        if let ruledOut = assumed.ruledOut {
            states = states.filter { state in !ruledOut.allSatisfy { state.facts.contains($0) } }
        }
        // A path that knows the constants the condition compares cannot take the other edge.
        states = states.filter { state in
            ConditionFacts.evaluate(condition.text, knowing: ConditionFacts.knownValues(state.facts)).map { $0 == outcome } ?? true
        }
        // `ret < 0` after a killable lock: ConditionFacts' `ret<0` facts meet the ones the try-lock
        // set from Rules/ `returns_errno` (not down_trylock(), which fails with 1).
        let learned = assumed.learned
        if learned.isEmpty { return states }
        let nullHere = assumed.nullHere
        var result = Set<LockState>()
        for var state in states where ConditionFacts.assume(learned, into: &state.facts) {
            // A lock presumed taken in unseen code was not taken through a NULL pointer:
            // `if (nested_anon_vma) spin_unlock(&nested_anon_vma->lock);` holds nothing when it is NULL.
            if !nullHere.isEmpty {
                state.locks = state.locks.filter { _, record in
                    record.status != .presumedHeld || !ConditionFacts.dereferencedBases(of: record.event.display)
                        .contains { nullHere.contains(ConditionFacts.atom($0)) }
                }
            }
            result.insert(state)
        }
        return result
    }

    private func transfer(_ input: LockState, node: Int, incidents: inout Set<LockIncident>) -> [LockState] {
        var state = input
        switch graph.nodes[node].action {
        case .assign(let assignment):
            if resultStores.contains(node) { return [state] }
            let target = ConditionFacts.atom(assignment.target)
            state.facts = state.facts.filter { !ConditionFacts.mentions($0.atom, variable: target) && $0.atom != target }
            // `folio = next_folio(...)` while `folio`'s lock is held: the name now means another
            // object, and what this path did to the old one can no longer be followed by name.
            state.locks = state.locks.filter { !ConditionFacts.mentions($0.key, variable: target) }
            let value = ConditionFacts.atom(assignment.value)
            if ConditionFacts.isZero(value) { state.facts.insert(Fact(atom: target, value: false)) }
            // `locked = 1;` / `mapping_locked = true;` beside the lock: `if (locked) unlock` later
            // follows the same path.
            if value == "1" || value == "true" { state.facts.insert(Fact(atom: target, value: true)) }
            // `mode = M_PARTIAL;` beside the lock: `if (mode == M_PARTIAL || mode == M_FULL) unlock`
            // later follows the same path (slub's deactivate_slab()).
            if let fact = ConditionFacts.valueFact(variable: target, constant: value) { state.facts.insert(fact) }
            return [state]
        case .gap(let line):
            // Unseen code may change any variable, but not the owner of a lock it leaves held.
            let heldBases = Set(state.locks.values.filter { $0.status == .held || $0.status == .presumedHeld }
                .flatMap { ConditionFacts.dereferencedBases(of: $0.event.display) }.map(ConditionFacts.atom))
            state.facts = state.facts.filter { heldBases.contains($0.atom) }
            // A lock only presumed held (taken in unseen code) may as well be released in unseen
            // code: past a gap whose code reaches none of its releases, nothing is known of it
            // (con_init()'s console_unlock() between the hunks, before `return 0`).
            state.locks = state.locks.filter { key, record in
                record.status != .presumedHeld || presumedAt[node]?.contains(key) == true
            }
            presumeHidden(&state, node: node, line: line)
            return [state]
        case .call(let call):
            guard let event = events[node] else {
                let before = state
                forgetLocksHandedTo(call, in: &state)
                forgetLocksGuardedBy(call, in: &state)
                var effects = call.functionName.flatMap { calleeEffects[$0] } ?? []
                if let operation = operationEffects[node] { effects.append(operation) }
                if !effects.isEmpty {
                    return applyCallee(effects, call: call, before: before, after: state)
                }
                return [state]
            }
            return apply(event, to: state, node: node, incidents: &incidents)
        default:
            return [state]
        }
    }

    /// A function that receives the lock itself (`wait_on_locked(entry, ptep, ptl)`,
    /// `unlock_helper(&n->list_lock)`) may release it: what it does is unknown, so this path stops
    /// following the lock rather than guess.
    private func forgetLocksHandedTo(_ call: Call, in state: inout LockState) {
        guard !state.locks.isEmpty else { return }
        if let name = call.functionName, let dropped = resolver.facts.call(named: name)?.mayDrop, !dropped.isEmpty {
            state.locks = state.locks.filter { _, record in !dropped.contains(record.event.className ?? "") }
        }
        // Put into a collection with its lock held (`list_add(&page->lru, &pagelist)` after
        // trylock_page()): whoever walks the collection unlocks it.
        if let name = call.functionName, resolver.facts.call(named: name)?.storesObject == true,
           let stored = call.arguments.first {
            state.locks = state.locks.filter { _, record in
                !ConditionFacts.dereferencedBases(of: record.event.display).contains { base in
                    ConditionFacts.mentions(ConditionFacts.atom(stored), variable: ConditionFacts.atom(base))
                }
            }
        }
        let arguments = Set(call.arguments.map(ConditionFacts.atom))
        state.locks = state.locks.filter { _, record in
            let display = ConditionFacts.atom(record.event.display)
            let asArgument = display.hasPrefix("*") ? String(display.dropFirst()) : "&" + display
            return !arguments.contains(asArgument)
        }
    }

    /// A call of a function of the patch that releases its caller's lock (CalleeLockSummaries):
    /// released on every return, the lock is released here; on some returns only, the path cannot
    /// tell and stops following it. A lock this path does not hold (its caller's) is recorded as
    /// released from entry, on one of two paths when only some returns release it, so that a
    /// helper calling such a helper is summarised in turn. `before` is the state ahead of the
    /// call, `after` the state once the guesses about unknown callees are made.
    private func applyCallee(_ effects: [CalleeLockEffect], call: Call, before: LockState,
                             after: LockState) -> [LockState] {
        var state = after
        var alternatives: [LockState] = []
        for effect in effects {
            guard let text = effect.lock.instantiate(arguments: call.arguments) else { continue }
            let key = ConditionFacts.atom(resolver.facts.canonicalLockExpression(text))
            var event = effect.release
            event.key = key
            event.display = text
            event.call = call
            let line = call.line
            switch before.locks[key]?.status {
            case .held?, .presumedHeld?, .releasedFromEntryRetaken?:
                guard effect.extent == .everyReturn, var record = before.locks[key] else {
                    state.locks[key] = nil
                    continue
                }
                record.status = record.status == .releasedFromEntryRetaken ? .releasedFromEntry
                    : (record.status == .presumedHeld ? .releasedPresumed : .released)
                record.depth = 0
                record.releasedLine = line
                state.locks[key] = record
            case nil:
                let released = LockRecord(status: .releasedFromEntry, depth: 0, acquiredLine: nil,
                                          releasedLine: line, event: event)
                if effect.extent == .everyReturn {
                    state.locks[key] = released
                } else {
                    var other = state
                    other.locks[key] = released
                    alternatives.append(other)
                }
            default:
                // Already released or failed on this path: what the callee does then is its own
                // business, and no verdict is drawn from a summary.
                break
            }
        }
        return [state] + alternatives
    }

    /// `ret = populate_vma_page_range(vma, start, end, &locked);` with `if (locked) unlock(mm)`
    /// later: the callee may drop the lock and clear the flag (get_user_pages_remote(), faultin_page()
    /// work that way). What it did is unknown here, so the path forgets the lock and the flag.
    private func forgetLocksGuardedBy(_ call: Call, in state: inout LockState) {
        for argument in call.arguments {
            let text = ConditionFacts.atom(argument)
            guard text.hasPrefix("&") else { continue }
            let variable = String(text.dropFirst())
            guard let keys = releaseGuards[variable] else { continue }
            state.locks = state.locks.filter { !keys.contains($0.key) }
            state.facts = state.facts.filter { !ConditionFacts.mentions($0.atom, variable: variable) && $0.atom != variable }
        }
    }

    /// Variables whose truth guards a release (`if (locked) mmap_read_unlock(mm);`), with the locks.
    private var releaseGuards: [String: Set<String>] = [:]

    static func releaseGuards(graph: ControlFlowGraph, events: [Int: LockEvent]) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for node in graph.nodes {
            guard case .assume(let condition, true) = node.action else { continue }
            let variable = ConditionFacts.atom(condition.text)
            guard ConditionFacts.isSimpleOperand(variable), !variable.contains("->"), !variable.contains(".") else { continue }
            // The release is the first thing the branch does.
            for successor in node.successors {
                if let event = events[successor], event.action == .release {
                    result[variable, default: []].insert(event.key)
                }
            }
        }
        return result
    }

    /// Locks released later but never taken in sight were taken in code the patch does not show:
    /// in the last stretch of unseen code before the release, so a path that leaves through an
    /// earlier stretch (`goto out_page` in the first hunk, the lock taken between the hunks) does
    /// not carry it.
    private func presumeHidden(_ state: inout LockState, node: Int, line: Int) {
        for key in presumedAt[node] ?? [] where state.locks[key] == nil {
            // The earliest event on the lock, not whichever the dictionary yields first: its line
            // ends up in notes, which must not change from one run to the next.
            let onThisLock = events.values.filter { $0.key == key }
            let releases = onThisLock.filter { $0.action == .release }
            guard let event = (releases.isEmpty ? onThisLock : releases)
                .min(by: { ($0.call.line, $0.call.column) < ($1.call.line, $1.call.column) }) else { continue }
            state.locks[key] = LockRecord(status: .presumedHeld, depth: 1, acquiredLine: line, releasedLine: nil,
                                          event: event)
        }
    }

    private func apply(_ event: LockEvent, to input: LockState, node: Int,
                       incidents: inout Set<LockIncident>) -> [LockState] {
        var state = input
        let line = event.call.line
        let current = state.locks[event.key]
        let nonNull = ConditionFacts.dereferencedBases(of: event.display).map { Fact(atom: ConditionFacts.atom($0), value: true) }
        switch event.action {
        case .acquire:
            if let current, current.status == .held || current.status == .presumedHeld {
                if event.nestable {
                    // Saturate: a loop that nests once more per iteration must still reach a fixpoint.
                    if current.depth < Self.nestingLimit { state.locks[event.key]?.depth += 1 }
                    return [state]
                }
                incidents.insert(LockIncident(kind: .doubleAcquire(previousLine: current.acquiredLine), node: node, event: event))
                return [state]
            }
            let restored = current?.status == .releasedFromEntry
            state.locks[event.key] = LockRecord(status: restored ? .releasedFromEntryRetaken : .held, depth: 1,
                                                acquiredLine: line, releasedLine: nil, event: event)
            state.facts.formUnion(nonNull)
            return [state]
        case .tryAcquire(let atom, let heldValue):
            if let current, current.status == .held || current.status == .presumedHeld, !event.nestable {
                incidents.insert(LockIncident(kind: .doubleAcquire(previousLine: current.acquiredLine), node: node, event: event))
            }
            // `ret < 0` tests a failure as well as `ret` does when failures are negative errnos.
            let negativeAtom = ConditionFacts.negativeAtom(atom)
            var held = state
            held.facts = held.facts.filter { $0.atom != atom && $0.atom != negativeAtom }
            held.facts.insert(Fact(atom: atom, value: heldValue))
            if event.failureIsNegative { held.facts.insert(Fact(atom: negativeAtom, value: false)) }
            held.facts.formUnion(nonNull)
            let restored = current?.status == .releasedFromEntry
            held.locks[event.key] = LockRecord(status: restored ? .releasedFromEntryRetaken : .held, depth: 1,
                                               acquiredLine: line, releasedLine: nil, event: event)
            var failed = state
            failed.facts = failed.facts.filter { $0.atom != atom && $0.atom != negativeAtom }
            failed.facts.insert(Fact(atom: atom, value: !heldValue))
            if event.failureIsNegative { failed.facts.insert(Fact(atom: negativeAtom, value: true)) }
            if current == nil || current?.status == .released || current?.status == .failed {
                failed.locks[event.key] = LockRecord(status: .failed, depth: 0, acquiredLine: line, releasedLine: nil,
                                                     event: event)
            }
            guard let guards = tryGuards[node] else { return [held, failed] }
            // `need_lock && !folio_trylock(folio)`: the try-lock ran only where every operand
            // before it was true; where one was false nothing was tried and no lock is held.
            let ran = guards.flatMap { ConditionFacts.facts(condition: $0, outcome: true) }
            var ranFacts = input.facts
            // An operand known false on this path: the try-lock did not run here.
            guard ConditionFacts.assume(ran, into: &ranFacts) else { return [input] }
            held.facts.formUnion(ran)
            failed.facts.formUnion(ran)
            var untried = input
            if guards.count == 1 {
                let skipped = ConditionFacts.facts(condition: guards[0], outcome: false)
                // Known true here: the try-lock ran.
                guard ConditionFacts.assume(skipped, into: &untried.facts) else { return [held, failed] }
            }
            return [held, failed, untried]
        case .release:
            guard let current else {
                state.locks[event.key] = LockRecord(status: .releasedFromEntry, depth: 0, acquiredLine: nil,
                                                    releasedLine: line, event: event)
                return [state]
            }
            switch current.status {
            case .held, .presumedHeld, .releasedFromEntryRetaken:
                let sides: Set<LockMode> = [.read, .write]
                if current.status == .held, sides.contains(current.event.mode), sides.contains(event.mode),
                   current.event.mode != event.mode {
                    incidents.insert(LockIncident(kind: .modeMismatch(acquiredLine: current.acquiredLine,
                                                                      acquiredWith: current.event),
                                                  node: node, event: event))
                }
                if event.nestable && current.depth > 1 {
                    state.locks[event.key]?.depth -= 1
                } else {
                    var record = current
                    record.status = current.status == .releasedFromEntryRetaken ? .releasedFromEntry
                        : (current.status == .presumedHeld ? .releasedPresumed : .released)
                    record.depth = 0
                    record.releasedLine = line
                    state.locks[event.key] = record
                }
            case .released, .releasedPresumed:
                // Nestable sections (rcu_read_lock) are entered and left conditionally on state
                // that facts cannot follow (read_seqbegin_or_lock's `seq & 1`): no verdict.
                if event.nestable { break }
                incidents.insert(LockIncident(kind: .doubleRelease(previousLine: current.releasedLine), node: node, event: event))
            case .failed:
                incidents.insert(LockIncident(kind: .doubleRelease(previousLine: nil), node: node, event: event))
            case .releasedFromEntry:
                break  // a lock of the caller's, released and not retaken: nothing known
            }
            return [state]
        case .downgrade:
            // downgrade_write(): the lock stays held, for read from here on.
            if let current, current.status == .held, current.event.mode == .write {
                state.locks[event.key]?.event.mode = .read
            }
            return [state]
        }
    }

    /// How coarsely the states reaching one node are merged. A node starts `exact` and only ever
    /// gets coarser, so the walk reaches a fixpoint in work linear in the function's size even
    /// where paths multiply (two thousand nested `if (!trylock_page(page))` from a fuzzer): real
    /// functions stay `exact`, and their findings do not change.
    enum MergeLevel {
        /// Paths with the same lock records (and known constants) merge, keeping shared facts.
        case exact
        /// Paths whose locks stand the same (status and depth) merge, whatever lines they were
        /// taken on: the earliest line stands for them all.
        case byStatus
        /// Every path merges into one that keeps only the locks all of them agree on.
        case single
    }

    /// Merges `states` at the node's level, raising the level while more than `stateLimit`
    /// states remain.
    static func merge(_ states: Set<LockState>, level: inout MergeLevel) -> Set<LockState> {
        if level == .exact {
            let merged = merge(states)
            if merged.count <= stateLimit { return merged }
            level = .byStatus
        }
        if level == .byStatus {
            let merged = mergeByStatus(states)
            if merged.count <= stateLimit { return merged }
            level = .single
        }
        return [mergeIntoOne(states)]
    }

    /// The record that stands for several of one lock with the same status: the earliest, so the
    /// choice does not depend on the order a set yields them.
    static func earlier(_ a: LockRecord, _ b: LockRecord) -> LockRecord {
        let left = (a.acquiredLine ?? -1, a.releasedLine ?? -1, a.event.call.line, a.event.call.column)
        let right = (b.acquiredLine ?? -1, b.releasedLine ?? -1, b.event.call.line, b.event.call.column)
        return right < left ? b : a
    }

    struct StatusKey: Hashable {
        var key: String
        var status: LockStatus
        var depth: Int
    }

    static func mergeByStatus(_ states: Set<LockState>) -> Set<LockState> {
        var byStatus: [Set<StatusKey>: LockState] = [:]
        for state in states {
            let group = Set(state.locks.map { StatusKey(key: $0.key, status: $0.value.status, depth: $0.value.depth) })
            guard var existing = byStatus[group] else {
                byStatus[group] = state
                continue
            }
            existing.facts.formIntersection(state.facts)
            for (key, record) in state.locks {
                if let other = existing.locks[key] { existing.locks[key] = earlier(other, record) }
            }
            byStatus[group] = existing
        }
        return Set(byStatus.values)
    }

    static func mergeIntoOne(_ states: Set<LockState>) -> LockState {
        var iterator = states.makeIterator()
        guard var result = iterator.next() else { return LockState() }
        while let state = iterator.next() {
            result.facts.formIntersection(state.facts)
            result.locks = result.locks.filter { key, record in
                guard let other = state.locks[key] else { return false }
                return other.status == record.status && other.depth == record.depth
            }
            for (key, record) in result.locks {
                if let other = state.locks[key] { result.locks[key] = earlier(record, other) }
            }
        }
        return result
    }

    /// Merges states with equal locks, keeping the facts they share; caps the number of states.
    static func merge(_ states: Set<LockState>) -> Set<LockState> {
        mergePathStates(states, key: mergeKey, facts: \.facts, limit: stateLimit)
    }

    /// Paths that set a state variable to different constants stay apart: the variable is what
    /// later decides the unlock.
    static func mergeKey(_ state: LockState) -> MergeKey {
        MergeKey(locks: state.locks, values: ConditionFacts.knownValues(state.facts))
    }

    struct MergeKey: Hashable {
        var locks: [String: LockRecord]
        var values: [String: String]
    }
}
