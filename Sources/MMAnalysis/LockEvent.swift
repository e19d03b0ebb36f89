import Foundation
import MMCore
import MMFacts

/// A call recognised as a lock operation, with the lock it acts on.
public struct LockEvent: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case acquire
        case release
        case downgrade
        /// A try-lock whose success shows up as `resultAtom` having `heldValue`.
        case tryAcquire(resultAtom: String, heldValue: Bool)
    }

    public var action: Action
    /// Canonical identity of the lock (`mm->mmap_lock` for both `mm->mmap_sem` and `mm->mmap_lock`).
    public var key: String
    /// The lock as the code spells it, for messages (`mm->mmap_sem`).
    public var display: String
    public var className: String?
    public var kind: LockKind
    public var mode: LockMode
    public var nestable: Bool
    public var call: Call
    /// For a try-lock: a failure returns a negative errno (Rules/ `returns_errno`).
    public var failureIsNegative: Bool = false

    /// The lock and where the call stands tell events apart; hashing every string of the call
    /// as well was a large part of the lock walk's cost. Equality still compares everything.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(call.line)
        hasher.combine(call.column)
    }
}

/// Recognises lock operations among calls using the lock primitives of the kernel facts.
public struct LockEventResolver: Sendable {
    public var facts: KernelFacts

    public init(facts: KernelFacts) { self.facts = facts }

    public func event(for call: Call) -> LockEvent? {
        guard let name = call.functionName, let primitive = facts.primitive(named: name) else { return nil }
        guard let display = lockExpression(primitive, call: call) else { return nil }
        let action: LockEvent.Action
        switch primitive.action {
        case .acquire:
            action = .acquire
        case .release:
            action = .release
        case .downgrade:
            action = .downgrade
        case .try:
            guard let atom = resultAtom(of: call), let heldWhen = primitive.heldWhen else { return nil }
            action = .tryAcquire(resultAtom: atom, heldValue: heldWhen != .zero)
        }
        if primitive.operand == .returnValue, primitive.action == .acquire {
            // `ptl = pmd_lock(mm, pmd)`: held for sure; the lock is named by the variable.
            guard case .assigned = call.resultUse else { return nil }
        }
        let key = facts.canonicalLockExpression(display)
        let className = primitive.className ?? facts.lockClass(forExpression: display)?.name
        return LockEvent(action: action, key: ConditionFacts.atom(key), display: display, className: className,
                         kind: primitive.kind, mode: primitive.mode, nestable: primitive.nestable, call: call,
                         failureIsNegative: primitive.returnsErrno)
    }

    /// The lock expression of a primitive call: `mm->mmap_sem` for `down_read(&mm->mmap_sem)`,
    /// `*ptl` for `spin_unlock(ptl)` and `pte_offset_map_lock(..., &ptl)`, `mm->mmap_lock` for
    /// `mmap_read_lock(mm)`, the class name for `rcu_read_lock()`.
    func lockExpression(_ primitive: LockPrimitive, call: Call) -> String? {
        switch primitive.operand {
        case .none:
            return primitive.className ?? primitive.function
        case .argument(let index):
            guard index < call.arguments.count else { return nil }
            return objectLock(call.arguments[index], member: primitive.member)
        case .outArgument(let index):
            guard index < call.arguments.count else { return nil }
            let argument = stripParentheses(call.arguments[index])
            guard argument.hasPrefix("&") else { return nil }
            return "*" + stripParentheses(String(argument.dropFirst()))
        case .returnValue:
            guard case .assigned(let target) = call.resultUse else { return nil }
            if let member = primitive.member { return target + "->" + member }
            return "*" + target
        }
    }

    private func objectLock(_ argument: String, member: String?) -> String {
        let text = stripParentheses(argument)
        if let member {
            if text.hasPrefix("&") { return stripParentheses(String(text.dropFirst())) + "." + member }
            return text + "->" + member
        }
        if text.hasPrefix("&") { return stripParentheses(String(text.dropFirst())) }
        return "*" + text
    }

    private func resultAtom(of call: Call) -> String? {
        switch call.resultUse {
        case .assigned(let target): return ConditionFacts.atom(target)
        case .tested: return ConditionFacts.atom(callText(call))
        default: return nil
        }
    }

    func callText(_ call: Call) -> String {
        call.callee + "(" + call.arguments.joined(separator: ",") + ")"
    }
}

func stripParentheses(_ text: String) -> String {
    var result = text.trimmingCharacters(in: .whitespaces)
    while result.hasPrefix("("), result.hasSuffix(")"), ConditionFacts.isWrapped(result) {
        result = String(result.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
    }
    return result
}
