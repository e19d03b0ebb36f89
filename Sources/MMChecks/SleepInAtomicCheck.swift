import MMAnalysis
import MMCore
import MMFacts

/// A call that may sleep while a spinlock or rwlock is held, inside an RCU read-side section, or
/// with preemption or interrupts disabled.
public struct SleepInAtomicCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "sleep-in-atomic",
        summary: "a call that may sleep is made in atomic context",
        rationale: """
            Under a spinlock or rwlock, in an RCU read-side section, or with preemption or \
            interrupts off, the CPU must not schedule: a sleeping lock (mutex, rwsem, lock_page), \
            a GFP_KERNEL allocation, a user copy that may fault, msleep() or cond_resched() there \
            is "BUG: sleeping function called from invalid context", and can deadlock or corrupt \
            RCU. Allocate with GFP_ATOMIC / GFP_NOWAIT, or move the call out of the section.
            """,
        severity: .error,
        triggering: [
            // Any call handed flags that allow reclaim may sleep in the allocator (idr_alloc).
            """
            int add_req(struct cache *cache, struct req *req)
            {
            	int ret;
            	spin_lock(&cache->lock);
            ↓	ret = idr_alloc(&cache->reqs, req, 0, 0, GFP_KERNEL);
            	spin_unlock(&cache->lock);
            	return ret;
            }
            """,
            """
            void f(struct mm_struct *mm, size_t n)
            {
            	void *p;
            	spin_lock(&mm->page_table_lock);
            ↓	p = kmalloc(n, GFP_KERNEL);
            	spin_unlock(&mm->page_table_lock);
            	kfree(p);
            }
            """,
            """
            void f(struct mm_struct *mm)
            {
            	rcu_read_lock();
            ↓	mmap_read_lock(mm);
            	g(mm);
            	mmap_read_unlock(mm);
            	rcu_read_unlock();
            }
            """,
            // A helper of the patch sleeps.
            """
            static void wait_a_bit(void)
            {
            	msleep(10);
            }
            void f(spinlock_t *lock)
            {
            	spin_lock(lock);
            ↓	wait_a_bit();
            	spin_unlock(lock);
            }
            """,
            // Held on entry, as the annotation says (spin_lock(&pool_lock) elsewhere makes it a
            // spinlock); and so the caller's call sleeps under it too.
            """
            static void *grow_pool(size_t n)
            	__must_hold(&pool_lock)
            {
            ↓	return kmalloc(n, GFP_KERNEL);
            }
            void *get(size_t n)
            {
            	void *p;
            	spin_lock(&pool_lock);
            ↓	p = grow_pool(n);
            	spin_unlock(&pool_lock);
            	return p;
            }
            """,
        ],
        nonTriggering: [
            // The function drops the lock its caller holds before it allocates.
            """
            static void *grow_pool(size_t n)
            	__must_hold(&pool_lock)
            {
            	void *p;
            	spin_unlock(&pool_lock);
            	p = kmalloc(n, GFP_KERNEL);
            	spin_lock(&pool_lock);
            	return p;
            }
            """,
            """
            void f(struct mm_struct *mm, size_t n)
            {
            	void *p;
            	spin_lock(&mm->page_table_lock);
            	p = kmalloc(n, GFP_ATOMIC);
            	spin_unlock(&mm->page_table_lock);
            	kfree(p);
            }
            """,
            // The sleeping call comes after the unlock; the gfp of a variable says nothing.
            """
            void f(struct mm_struct *mm, size_t n, gfp_t gfp)
            {
            	void *p, *q;
            	spin_lock(&mm->page_table_lock);
            	q = kmalloc(n, gfp);
            	spin_unlock(&mm->page_table_lock);
            	p = kmalloc(n, GFP_KERNEL);
            	cond_resched();
            	kfree(p);
            	kfree(q);
            }
            """,
            // A mutex and an rwsem are sleeping locks: sleeping under them is fine.
            """
            void f(struct mm_struct *mm, struct mutex *m)
            {
            	mutex_lock(m);
            	mmap_read_lock(mm);
            	msleep(1);
            	mmap_read_unlock(mm);
            	mutex_unlock(m);
            }
            """,
            // A trylock does not sleep.
            """
            void f(spinlock_t *lock, struct mm_struct *mm)
            {
            	spin_lock(lock);
            	if (mmap_read_trylock(mm)) {
            		g(mm);
            		mmap_read_unlock(mm);
            	}
            	spin_unlock(lock);
            }
            """,
            // A helper annotated as dropping its caller's lock (sparse's __releases) before it sleeps.
            """
            static void drop_and_wait(spinlock_t *ptl)
            	__releases(ptl)
            {
            	finish_and_unlock(ptl);
            	msleep(1);
            }
            void f(spinlock_t *ptl)
            {
            	spin_lock(ptl);
            	drop_and_wait(ptl);
            }
            """,
            // A helper that drops its caller's lock around the sleep.
            """
            static void relax(spinlock_t *lock)
            {
            	spin_unlock(lock);
            	cond_resched();
            	spin_lock(lock);
            }
            void f(spinlock_t *lock, int n)
            {
            	int i;
            	spin_lock(lock);
            	for (i = 0; i < n; i++)
            		relax(lock);
            	spin_unlock(lock);
            }
            """,
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let helpers = context.patch.summaries.helperSleeps[context.model.side] ?? [:]
        let asserted = assertedLocks(context.model)
        let entryHeld = atomicLocksHeldOnEntry(context)
        let releasing = context.patch.summaries.releasingHelpers[context.model.side] ?? []
        var findings: [SideFinding] = []
        let analysis = context.locks
        for (index, node) in analysis.graph.nodes.enumerated() {
            guard case .call(let call) = node.action,
                  let reason = LockOrderFacts.sleepReason(of: call, facts: context.facts, helpers: helpers) else { continue }
            // A try-lock of a sleeping lock never sleeps when it fails; killable ones do.
            if let event = analysis.events[index], case .tryAcquire = event.action,
               context.facts.primitive(named: call.callee)?.sleeps != true { continue }
            guard let atomic = atomicLock(at: index, in: analysis, asserted: asserted)
                    ?? heldOnEntry(at: index, in: analysis, entryHeld: entryHeld) else { continue }
            // A helper of the patch handed the lock itself may drop it before it sleeps.
            if isHelperSleep(call, context: context, helpers: helpers), hands(atomic.event, to: call) { continue }
            if LockOrderFacts.mayBeDroppedByHelper(atomic, before: index, in: analysis, releasing: releasing) { continue }
            let held = atomic.event
            let context2 = held.kind == .rcu ? "inside an RCU read-side section"
                : held.kind == .preempt ? "with preemption disabled"
                : held.kind == .irq ? "with interrupts disabled"
                : "while \(held.spoken) (a \(held.kind.rawValue)) is held"
            var notes: [SideNote] = []
            if let line = atomic.acquiredLine, atomic.status != .presumedHeld {
                notes.append(SideNote(line: line, message: "\(held.spoken) is taken here"))
            }
            let onEntry = atomic.acquiredLine == nil && atomic.status == .presumedHeld ? " (held on entry, as the function asserts)" : ""
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: call.line, column: call.column,
                message: "\(reason) \(context2)\(onEntry)", notes: notes,
                matchKey: "\(held.key)|\(call.callee)|\(context.code(at: call.line))"))
        }
        return findings
    }

    private func isHelperSleep(_ call: Call, context: FunctionContext, helpers: [String: String]) -> Bool {
        guard let name = call.functionName, helpers[name] != nil else { return false }
        return context.facts.primitive(named: name) == nil
            && !context.facts.callSleeps(callee: call.callee, arguments: call.arguments)
    }

    /// `relax(ptl)` for the lock `*ptl`, `relax(&mm->page_table_lock)` for `mm->page_table_lock`.
    private func hands(_ lock: LockEvent, to call: Call) -> Bool {
        let display = ConditionFacts.atom(lock.display)
        let asArgument = display.hasPrefix("*") ? String(display.dropFirst()) : "&" + display
        return call.arguments.contains { ConditionFacts.atom($0) == asArgument }
    }

    /// An atomic-context lock held on some path into the node. A lock presumed held (taken in code
    /// the patch does not show) counts only when the function asserts it is held.
    private func atomicLock(at node: Int, in analysis: LockStateAnalysis, asserted: Set<String>) -> LockRecord? {
        var best: LockRecord?
        for state in analysis.orderedStates(at: node) {
            for record in state.locks.values.sorted(by: { $0.event.key < $1.event.key }) where record.event.kind.isAtomic {
                switch record.status {
                case .held, .releasedFromEntryRetaken:
                    return record
                case .presumedHeld:
                    if asserted.contains(record.event.key) { best = record }
                default:
                    break
                }
            }
        }
        return best
    }

    /// Spinlocks the function says its caller holds (`__must_hold(&hugetlb_lock)`, or an assertion
    /// before its first lock call), with the kind learned from a lock call on the same lock
    /// elsewhere in the patch: without one, whether it is a spinlock or a mutex is unknown.
    private func atomicLocksHeldOnEntry(_ context: FunctionContext) -> [String: LockEvent] {
        var keys = Set(LockAnnotation.of(context.model).filter { $0.kind == .mustHold }.map(\.lock))
        let calls = context.model.body.allCalls
        let firstLock = context.locks.events.values.map(\.call.line).min() ?? Int.max
        for call in calls where call.line < firstLock
            && LockAnnotation.assertsHeld(callee: call.callee) {
            guard let argument = call.arguments.first else { continue }
            let text = ConditionFacts.atom(argument)
            keys.insert(text.hasPrefix("&") ? String(text.dropFirst()) : "*" + text)
        }
        if keys.isEmpty { return [:] }
        let resolver = LockEventResolver(facts: context.facts)
        var result: [String: LockEvent] = [:]
        for model in context.patch.models(context.model.side) + [context.model] {
            for call in model.body.allCalls {
                guard let event = resolver.event(for: call), keys.contains(event.key), result[event.key] == nil,
                      event.kind.isAtomic, !event.nestable else { continue }
                result[event.key] = event
            }
        }
        return result
    }

    /// A lock held on entry is held at a node unless every path there has released it.
    private func heldOnEntry(at node: Int, in analysis: LockStateAnalysis, entryHeld: [String: LockEvent]) -> LockRecord? {
        for (key, event) in entryHeld.sorted(by: { $0.key < $1.key }) {
            let held = analysis.statesAt[node].contains { state in
                guard let record = state.locks[key] else { return true }
                return record.status == .releasedFromEntryRetaken || record.status == .held
            }
            if held {
                return LockRecord(status: .presumedHeld, depth: 1, acquiredLine: nil, releasedLine: nil, event: event)
            }
        }
        return nil
    }

    /// Locks the function asserts it holds: `lockdep_assert_held(&mm->page_table_lock)`,
    /// `assert_spin_locked(ptl)`, `__must_hold(&hugetlb_lock)`.
    private func assertedLocks(_ model: FunctionModel) -> Set<String> {
        var result = Set<String>()
        for call in model.body.allCalls where LockAnnotation.assertsHeld(callee: call.callee) {
            guard let argument = call.arguments.first else { continue }
            let text = ConditionFacts.atom(argument)
            result.insert(text.hasPrefix("&") ? String(text.dropFirst()) : "*" + text)
        }
        // `__must_hold(&resv->lock)` says the same on the definition.
        for annotation in LockAnnotation.of(model) where annotation.kind == .mustHold {
            result.insert(annotation.lock)
        }
        return result
    }
}
