import MMAnalysis
import MMCore
import MMFacts

/// The result of a try, killable or interruptible lock is dropped, so the code goes on as if it
/// held the lock when it may not.
public struct UncheckedLockResultCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "unchecked-lock-result",
        summary: "the result of a try, killable or interruptible lock is ignored",
        rationale: """
            mmap_read_lock_killable(), down_interruptible(), mutex_lock_killable() and every \
            trylock can return without the lock: on a fatal signal, or when it is contended. Code \
            that ignores the result runs unlocked and later releases a lock it does not hold. \
            Test the result and leave on failure (`if (mmap_read_lock_killable(mm)) return -EINTR;`), \
            or take the plain lock.
            """,
        severity: .error,
        triggering: [
            """
            int f(struct mm_struct *mm)
            {
            ↓	mmap_read_lock_killable(mm);
            	g(mm);
            	mmap_read_unlock(mm);
            	return 0;
            }
            """,
            """
            void f(struct semaphore *sem)
            {
            ↓	down_interruptible(sem);
            	g();
            	up(sem);
            }
            """,
            // Stored, but never looked at.
            """
            int f(struct mm_struct *mm)
            {
            	int ret;
            ↓	ret = mmap_write_lock_killable(mm);
            	g(mm);
            	mmap_write_unlock(mm);
            	return 0;
            }
            """,
        ],
        nonTriggering: [
            """
            int f(struct mm_struct *mm)
            {
            	if (mmap_read_lock_killable(mm))
            		return -EINTR;
            	g(mm);
            	mmap_read_unlock(mm);
            	return 0;
            }
            """,
            """
            int f(struct mm_struct *mm)
            {
            	int ret = mmap_write_lock_killable(mm);
            	if (ret)
            		return ret;
            	g(mm);
            	mmap_write_unlock(mm);
            	return 0;
            }
            """,
            // Returned to the caller, which tests it.
            """
            static int lock_it(struct mm_struct *mm)
            {
            	return mmap_write_lock_killable(mm);
            }
            """,
            // The plain lock.
            """
            void f(struct mm_struct *mm)
            {
            	mmap_read_lock(mm);
            	g(mm);
            	mmap_read_unlock(mm);
            }
            """,
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let calls = context.model.body.allCalls
        var findings: [SideFinding] = []
        for call in calls {
            guard let name = call.functionName, let primitive = context.facts.primitive(named: name),
                  primitive.action == .try, let heldWhen = primitive.heldWhen else { continue }
            let problem: String
            switch call.resultUse {
            case .ignored:
                problem = "is ignored"
            case .assigned(let target):
                if isRead(target, after: call, in: context.model) { continue }
                problem = "is stored in '\(target)' but never tested"
            default:
                continue
            }
            let held = heldWhen == .zero ? "0" : (heldWhen == .nonnull ? "non-NULL" : "true")
            let why = primitive.sleeps
                ? "it returns without the lock when a signal arrives"
                : "it returns without the lock when the lock is contended"
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: call.line, column: call.column,
                message: "the result of \(name)() \(problem): \(why), and the lock is held only when it returns \(held)",
                matchKey: "\(name)|\(context.code(at: call.line))"))
        }
        return findings
    }

    /// Whether a variable that stores the result is read anywhere else in the function: tested,
    /// returned, passed on.
    private func isRead(_ target: String, after call: Call, in model: FunctionModel) -> Bool {
        let variable = ConditionFacts.atom(target)
        var read = false
        model.body.visitExpressions { expression in
            if read { return }
            // The statement that stores the result mentions the variable as its target only.
            let isStore = expression.calls.contains(call)
            if isStore {
                let others = expression.assignments.filter { ConditionFacts.atom($0.target) != variable }
                if others.contains(where: { ConditionFacts.mentions(ConditionFacts.atom($0.value), variable: variable) }) {
                    read = true
                }
                return
            }
            if ConditionFacts.mentions(ConditionFacts.atom(expression.text), variable: variable) { read = true }
        }
        return read
    }
}
