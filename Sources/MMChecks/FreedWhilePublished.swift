import MMAnalysis
import MMCore

/// An object freed after a lock is dropped while a shared pointer still leads to it, the pointer
/// cleared only after the free:
///
///     	vc_cons[currcons].d = vc = kzalloc(sizeof(struct vc_data), GFP_NOWAIT);
///     	...
///     	console_unlock();
///     	kfree(vc);
///     	vc_cons[currcons].d = NULL;
///
/// Between the unlock and the clearing, another task that takes the lock finds the freed object
/// through the shared pointer. The code itself says the pointer is shared (it clears it), and that
/// it still points at the object when it frees it (the clearing comes after). Only straight-line
/// code in one block is considered: unlock, then free, then clear, with the lock not taken again.
struct FreedWhilePublished {
    /// The free call, the lock dropped before it, and the shared place that still holds the pointer.
    var free: Call
    var freed: String
    var lock: LockEvent
    var place: String
    var clearLine: Int

    static func find(in context: FunctionContext) -> [FreedWhilePublished] {
        let model = context.model
        let resolver = LockEventResolver(facts: context.facts)
        // Memory and references dropped through an argument (kfree(p), put_page(p)).
        var freeArgument: [String: Int] = [:]
        for pair in context.facts.pairs {
            guard case .argument(let index) = pair.releaseObject else { continue }
            for release in pair.releases { freeArgument[release] = index }
        }
        var locals = Set<String>()
        var stores: [(place: String, value: String)] = []
        model.body.visitStatements { statement in
            if case .declaration(let name, _, _) = statement { locals.insert(name) }
        }
        model.body.visitExpressions { expression in
            for assignment in expression.assignments {
                stores.append((ConditionFacts.atom(assignment.target), ConditionFacts.atom(assignment.value)))
            }
        }
        // `place = p` or `place = p = alloc(...)`, with `place` reached through something that is
        // not a local of this function (a global array, a parameter's member).
        func publishes(_ place: String, _ pointer: String) -> Bool {
            guard place != pointer, place.contains("->") || place.contains(".") || place.contains("[") else {
                return false
            }
            let base = String(place.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            if base.isEmpty || locals.contains(base) { return false }
            return stores.contains { $0.place == place && ($0.value == pointer || ($0.value.hasPrefix(pointer + "=") && !$0.value.hasPrefix(pointer + "=="))) }
        }
        var found: [FreedWhilePublished] = []
        model.body.visitBlocks { items in
            let expressions: [Expression?] = items.map { if case .expression(let e) = $0 { return e } else { return nil } }
            for (start, item) in expressions.enumerated() {
                guard let unlockCall = item?.calls.first(where: { resolver.event(for: $0)?.action == .release }),
                      let lock = resolver.event(for: unlockCall) else { continue }
                var position = start + 1
                while position < expressions.count, let expression = expressions[position] {
                    if expression.calls.contains(where: { resolver.event(for: $0).map { $0.key == lock.key } ?? false }) {
                        break
                    }
                    for call in expression.calls {
                        guard let name = call.functionName, let index = freeArgument[name],
                              index < call.arguments.count else { continue }
                        let pointer = ConditionFacts.atom(call.arguments[index])
                        // The clearing that follows the free in the same block.
                        for later in expressions[(position + 1)...] {
                            guard let later else { break }
                            if let clear = later.assignments.first(where: {
                                ConditionFacts.atom($0.value) == "NULL" && publishes(ConditionFacts.atom($0.target), pointer)
                            }) {
                                found.append(FreedWhilePublished(free: call, freed: pointer, lock: lock,
                                                                 place: ConditionFacts.atom(clear.target),
                                                                 clearLine: clear.line))
                                break
                            }
                        }
                    }
                    position += 1
                }
            }
        }
        return found
    }
}

extension Statement {
    /// Calls `visit` with every statement, depth first.
    func visitStatements(_ visit: (Statement) -> Void) {
        visit(self)
        switch self {
        case .block(let items):
            for item in items { item.visitStatements(visit) }
        case .ifElse(_, let then, let otherwise):
            then.visitStatements(visit)
            otherwise?.visitStatements(visit)
        case .loop(let loop):
            loop.body.visitStatements(visit)
        case .switchCase(_, let body):
            body.visitStatements(visit)
        default:
            break
        }
    }

    /// Calls `visit` with the items of every block.
    func visitBlocks(_ visit: ([Statement]) -> Void) {
        visitStatements { statement in
            if case .block(let items) = statement { visit(items) }
        }
    }
}
