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
            // Other results folded into it before any test: the locked work runs either way.
            """
            static int powerup(struct dvb_usb_device *d, int onoff)
            {
            	int ret;
            ↓	ret = mutex_lock_interruptible(&d->i2c_mutex);
            	ret |= usb_talk(d, onoff);
            	mutex_unlock(&d->i2c_mutex);
            	return (ret < 0) ? -ENODEV : 0;
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
            // Tested before anything else is done.
            """
            int f(struct mutex *m)
            {
            	int ret = mutex_lock_interruptible(m);
            	if (ret < 0)
            		return ret;
            	ret |= g();
            	mutex_unlock(m);
            	return ret;
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
            var notes: [SideNote] = []
            switch call.resultUse {
            case .ignored:
                problem = "is ignored"
            case .assigned(let target):
                if let fold = firstUseFolds(target, after: call, in: context.model) {
                    problem = "is stored in '\(target)' and another result is folded into it before any test"
                    notes = [SideNote(line: fold, message: "folded here, while the lock may not be held")]
                } else if isRead(target, after: call, in: context.model) {
                    continue
                } else {
                    problem = "is stored in '\(target)' but never tested"
                }
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
                notes: notes,
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

    /// The line of the first statement after the store that uses the variable, when that statement
    /// only folds another result into it.
    private func firstUseFolds(_ target: String, after call: Call, in model: FunctionModel) -> Int? {
        let variable = ConditionFacts.atom(target)
        var first: Expression?
        model.body.visitExpressions { expression in
            guard expression.line > call.line, !expression.calls.contains(call),
                  ConditionFacts.mentions(ConditionFacts.atom(expression.text), variable: variable) else { return }
            if first == nil || expression.line < first!.line { first = expression }
        }
        guard let first, Self.onlyFoldsInto(variable, first) else { return nil }
        return first.line
    }

    /// `ret |= lme2510_usb_talk(...)`: the statement folds another result into the variable and
    /// tests nothing, so the locked work it does runs whether or not the lock was taken.
    static func onlyFoldsInto(_ variable: String, _ expression: Expression) -> Bool {
        let text = ConditionFacts.atom(expression.text)
        guard text.hasPrefix(variable),
              expression.assignments.allSatisfy({ ConditionFacts.atom($0.target) == variable }) else { return false }
        let rest = text.dropFirst(variable.count).drop { $0 == " " }
        guard let op = rest.first, "|&+-^".contains(op), rest.dropFirst().first == "=" else { return false }
        // The folded value must not read the variable again (`ret |= ret2 ? ret : 0` tests it).
        return !ConditionFacts.mentions(ConditionFacts.atom(String(rest.dropFirst(2))), variable: variable)
    }
}
