/// The states a path walk has at one node, merged as they arrive: paths with the same key merge,
/// keeping the facts they share, and past `limit` states every path forgets its facts. The result
/// is the one `mergePathStates` gives for the node's states and the new ones together, but each
/// arrival costs only its own hashing instead of re-merging and rehashing every state the node
/// already has (the lock and resource walks spent most of their time there).
public struct PathStates<State: Hashable, Key: Hashable> {
    // Inlinable, so that the walks in other modules get a version specialised for their states:
    // the generic one pays for every hash and key path through witness tables.
    @usableFromInline var storage: Set<State> = []
    /// Each state by its key; keys are unique among `states`.
    @usableFromInline var byKey: [Key: State] = [:]
    /// No state has facts (they were dropped when the node went past the limit). It may say
    /// false when merges emptied every state's facts: that costs one needless visit at most.
    @usableFromInline var factsDropped = true

    public var states: Set<State> { storage }

    public init() {}

    public init(_ states: Set<State>, key: (State) -> Key) {
        storage = states
        byKey = Dictionary(states.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        factsDropped = false
    }

    /// Adds `incoming`; true when the node's states changed.
    @inlinable
    public mutating func add<Incoming: Sequence<State>>(
        _ incoming: Incoming, key: (State) -> Key, facts: WritableKeyPath<State, Set<Fact>>, limit: Int
    ) -> Bool {
        let countBefore = storage.count
        let hadFacts = !factsDropped
        var changed = false
        for state in incoming where !storage.contains(state) {
            let stateKey = key(state)
            if let existing = byKey[stateKey] {
                var merged = existing
                merged[keyPath: facts].formIntersection(state[keyPath: facts])
                // The intersection is a subset of the facts it started from: equal counts, nothing lost.
                if merged[keyPath: facts].count == existing[keyPath: facts].count { continue }
                storage.remove(existing)
                storage.insert(merged)
                byKey[stateKey] = merged
                if !merged[keyPath: facts].isEmpty { factsDropped = false }
            } else {
                storage.insert(state)
                byKey[stateKey] = state
                if !state[keyPath: facts].isEmpty { factsDropped = false }
            }
            changed = true
        }
        guard changed, storage.count > limit else { return changed }
        // Too many paths: they merge by what they hold alone.
        var bare = Set<State>()
        for var state in storage {
            state[keyPath: facts] = []
            bare.insert(state)
        }
        storage = bare
        byKey = Dictionary(bare.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        factsDropped = true
        // States that had facts before are gone now. Without facts before, every earlier state
        // is still here, so only the count can tell whether new ones stayed.
        return hadFacts || storage.count != countBefore
    }
}
