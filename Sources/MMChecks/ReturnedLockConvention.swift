import MMAnalysis
import MMCore

/// Ways a function tells its caller that it returns holding a lock, beyond returning the locked
/// object itself (LockLeakCheck.handsOver):
/// - the returned variable carries a `*_LOCKED` flag on some path (`ret |= VM_FAULT_LOCKED;
///   return ret;` in a page_mkwrite handler);
/// - the exit returns named constants that no exit without the lock returns
///   (`return MIGRATEPAGE_UNMAP;` with src and dst locked, `return rc;` with rc an errno after
///   unlocking them): the caller tells the two apart by the value;
/// - the locked object is stored where the caller looks (`*foliop = folio; return 0;`).
struct ReturnedLockConvention {
    let analysis: LockStateAnalysis
    let model: FunctionModel
    let predecessors: [[Int]]

    init(analysis: LockStateAnalysis, model: FunctionModel) {
        self.analysis = analysis
        self.model = model
        predecessors = analysis.graph.predecessors
    }

    func handsOver(key: String, event: LockEvent, exit: Int) -> Bool {
        guard let values = returnedValues(at: exit) else { return false }
        if values.contains(where: { $0.contains("_LOCKED") }) { return true }
        if returnsDistinctConstants(values, key: key, exit: exit) { return true }
        // An error return leaves nothing for the caller to unlock, whatever was stored before.
        return !values.contains(where: isFailure) && storesObjectForCaller(event, before: exit)
    }

    /// What the exit returns: the literal, or for `return ret;` every value assigned to `ret` that
    /// reaches the exit ("?" for one the function does not show, a parameter or an uninitialised
    /// variable). nil when the exit returns nothing.
    func returnedValues(at exit: Int) -> [String]? {
        guard case .exit(_, let value?) = analysis.graph.nodes[exit].action else { return nil }
        let text = ConditionFacts.atom(value.text)
        guard text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), let first = text.first,
              first.isLetter || first == "_", !isNamedConstant(text) else { return [text] }
        return reachingValues(of: text, from: exit)
    }

    private func reachingValues(of variable: String, from node: Int) -> [String] {
        var values = Set<String>()
        var seen: Set<Int> = [node]
        var stack = predecessors[node]
        while let current = stack.popLast() {
            guard seen.insert(current).inserted else { continue }
            switch analysis.graph.nodes[current].action {
            case .assign(let assignment) where ConditionFacts.atom(assignment.target) == variable:
                values.insert(ConditionFacts.atom(assignment.value))
                continue
            case .entry, .gap:
                values.insert("?")
                continue
            default:
                break
            }
            stack.append(contentsOf: predecessors[current])
        }
        return values.sorted()
    }

    /// Every value the exit returns is a named constant that looks like success, and no exit that
    /// leaves without the lock returns any of them, while all of theirs are known.
    private func returnsDistinctConstants(_ held: [String], key: String, exit: Int) -> Bool {
        guard !held.isEmpty, held.allSatisfy({ isNamedConstant($0) && !isFailure($0) }) else { return false }
        var unheld = Set<String>()
        for other in analysis.graph.exits {
            let states = analysis.statesAt[other]
            guard states.contains(where: { state in
                state.locks[key].map { $0.status != .held && $0.status != .presumedHeld } ?? true
            }) else { continue }
            guard let values = returnedValues(at: other) else { return false }
            unheld.formUnion(values)
        }
        guard !unheld.isEmpty, unheld.allSatisfy(isKnownConstant) else { return false }
        return unheld.isDisjoint(with: held)
    }

    /// `*foliop = folio;` or `vmf->page = page;` on the way to the exit: the caller finds the
    /// locked object in its own variable or structure, and unlocks it there.
    private func storesObjectForCaller(_ event: LockEvent, before exit: Int) -> Bool {
        let bases = Set(ConditionFacts.dereferencedBases(of: event.display).map(ConditionFacts.atom))
        guard !bases.isEmpty else { return false }
        let parameters = Set(model.parameterNames)
        var seen: Set<Int> = [exit]
        var stack = predecessors[exit]
        while let current = stack.popLast() {
            guard seen.insert(current).inserted else { continue }
            if case .assign(let assignment) = analysis.graph.nodes[current].action,
               bases.contains(ConditionFacts.atom(assignment.value)) {
                var target = ConditionFacts.atom(assignment.target)
                let throughPointer = target.hasPrefix("*") || target.contains("->")
                if target.hasPrefix("*") { target.removeFirst() }
                let root = String(target.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                if throughPointer && parameters.contains(root) { return true }
            }
            stack.append(contentsOf: predecessors[current])
        }
        return false
    }

    /// `MIGRATEPAGE_UNMAP`, `SCAN_SUCCEED`, `VM_FAULT_LOCKED`: an all-capitals name.
    private func isNamedConstant(_ text: String) -> Bool {
        guard let first = text.first, first.isUppercase || first == "_" else { return false }
        return text.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } && text.contains(where: \.isUppercase)
    }

    private func isKnownConstant(_ text: String) -> Bool {
        let body = text.hasPrefix("-") ? String(text.dropFirst()) : text
        if isNamedConstant(body) { return true }
        return ["NULL", "true", "false"].contains(body) || (!body.isEmpty && body.allSatisfy(\.isNumber))
    }

    private func isFailure(_ text: String) -> Bool {
        text.hasPrefix("-") || text == "NULL" || text == "false" || text.hasPrefix("ERR_PTR(")
    }
}
