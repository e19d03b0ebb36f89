import MMCore
import MMFacts

/// Calls through function pointers whose documented contract releases the lock of an argument
/// (Rules/ `operations`): `mapping->a_ops->read_folio(file, folio)` returns with the folio
/// unlocked, so does a `filler_t` (Documentation/filesystems/locking.rst). The body behind the
/// pointer is never in the patch, so the contract is all there is; it is applied at the call site
/// like the summary of a function of the patch that releases its caller's lock.
enum OperationCalls {
    /// The effect of each call node of the graph that calls a documented operation.
    static func effects(in model: FunctionModel, graph: ControlFlowGraph, facts: KernelFacts) -> [Int: CalleeLockEffect] {
        guard !facts.operations.isEmpty else { return [:] }
        let types = declaredTypes(of: model)
        var result: [Int: CalleeLockEffect] = [:]
        for (index, node) in graph.nodes.enumerated() {
            guard case .call(let call) = node.action, let effect = effect(of: call, types: types, facts: facts) else { continue }
            result[index] = effect
        }
        return result
    }

    /// The effects of every call of the function that calls a documented operation.
    static func effects(in model: FunctionModel, facts: KernelFacts) -> [CalleeLockEffect] {
        guard !facts.operations.isEmpty else { return [] }
        let types = declaredTypes(of: model)
        return model.body.allCalls.compactMap { effect(of: $0, types: types, facts: facts) }
    }

    static func effect(of call: Call, types: [String: String], facts: KernelFacts) -> CalleeLockEffect? {
        // A plain function name is a function, not a pointer, unless the function declares it
        // (`filler_t filler` as a parameter).
        if let name = call.functionName, types[name] == nil { return nil }
        guard let operation = facts.operation(forCallee: call.callee, declaredType: { types[$0] }),
              case .argument(let index) = operation.operand else { return nil }
        let lock = ParameterLock(parameter: index, dereferenced: operation.member == nil,
                                 path: operation.member.map { "->" + $0 } ?? "")
        // Key, spelling and call are filled in per call site (LockStateAnalysis.applyCallee).
        let release = LockEvent(action: .release, key: "", display: "", className: operation.className,
                                kind: operation.kind, mode: .exclusive, nestable: false, call: call)
        return CalleeLockEffect(lock: lock, extent: operation.always ? .everyReturn : .someReturns, release: release)
    }

    /// Parameters and local variables with their declared types, parameters first.
    static func declaredTypes(of model: FunctionModel) -> [String: String] {
        var types: [String: String] = [:]
        for (name, type) in zip(model.parameterNames, model.parameterTypes) { types[name] = type }
        return types.merging(model.body.declaredTypes) { first, _ in first }
    }
}
