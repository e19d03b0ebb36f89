import MMAnalysis
import MMCore

/// A lock taken again on a path where it is already held.
public struct DoubleLockCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "double-lock",
        summary: "a lock is taken while it is already held",
        rationale: """
            Taking a spinlock, mutex or rwsem that the same path already holds deadlocks at once; \
            a recursive down_read() deadlocks as soon as a writer queues between the two. This \
            often appears when a patch moves an unlock, or adds a loop around locked code.
            """,
        severity: .error,
        triggering: [
            """
            void f(struct mm_struct *mm)
            {
            	spin_lock(&mm->page_table_lock);
            	g(mm);
            ↓	spin_lock(&mm->page_table_lock);
            	spin_unlock(&mm->page_table_lock);
            }
            """,
            """
            void f(struct mm_struct *mm, int n)
            {
            	int i;
            	mmap_write_lock(mm);
            	for (i = 0; i < n; i++) {
            ↓		mmap_write_lock(mm);
            		g(mm);
            	}
            	mmap_write_unlock(mm);
            }
            """,
        ],
        nonTriggering: [
            """
            void f(struct mm_struct *mm, int n)
            {
            	int i;
            	for (i = 0; i < n; i++) {
            		mmap_read_lock(mm);
            		g(mm);
            		mmap_read_unlock(mm);
            	}
            }
            """,
            // RCU read-side sections nest.
            """
            void f(void)
            {
            	rcu_read_lock();
            	rcu_read_lock();
            	g();
            	rcu_read_unlock();
            	rcu_read_unlock();
            }
            """,
            // A loop that enters an RCU section per iteration and leaves it in a callee.
            """
            void kill_all(struct mount *m)
            {
            	while (1) {
            		struct hlist_node *p;
            		rcu_read_lock();
            		p = READ_ONCE(m->mnt_pins.first);
            		if (!p) {
            			rcu_read_unlock();
            			break;
            		}
            		pin_kill(p);
            	}
            }
            """,
            // handle_mm_fault() drops mmap_lock when it asks for a retry (Rules/returns.yaml, may_drop).
            """
            int fixup(struct mm_struct *mm, unsigned long address, unsigned int flags)
            {
            	struct vm_area_struct *vma;
            	vm_fault_t ret;
            retry:
            	vma = vma_lookup(mm, address);
            	if (!vma)
            		return -EFAULT;
            	ret = handle_mm_fault(vma, address, flags, NULL);
            	if (ret & VM_FAULT_RETRY) {
            		mmap_read_lock(mm);
            		flags |= FAULT_FLAG_TRIED;
            		goto retry;
            	}
            	return 0;
            }
            """,
            // Two different locks of the same class.
            """
            void f(struct anon_vma *a, struct anon_vma *b)
            {
            	spin_lock(&a->lock);
            	spin_lock_nested(&b->lock, SINGLE_DEPTH_NESTING);
            	spin_unlock(&b->lock);
            	spin_unlock(&a->lock);
            }
            """,
        ],
        advice: "Take the lock once: call a variant of the helper that expects the lock held (a `__helper()` that asserts it with lockdep_assert_held()), or drop the lock before calling the helper that takes it.",
        instead: """
            void f(struct mm_struct *mm)
            {
            	mmap_write_lock(mm);
            	__g_locked(mm);
            	mmap_write_unlock(mm);
            }
            """,
        references: [
            "Documentation/locking/lockdep-design.rst",
            "Documentation/mm/process_addrs.rst",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        var findings: [SideFinding] = []
        var seenNodes = Set<Int>()
        for incident in context.locks.incidents {
            guard case .doubleAcquire(let previous) = incident.kind, !seenNodes.contains(incident.node) else { continue }
            seenNodes.insert(incident.node)
            let event = incident.event
            let line = event.call.line
            var notes: [SideNote] = []
            if let previous { notes.append(SideNote(line: previous, message: "\(event.spoken) is already taken here")) }
            let readNote = event.mode == .read ? " (a recursive read lock deadlocks once a writer waits)" : ""
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: line, column: event.call.column,
                message: "\(event.call.callee)() takes \(event.spoken), which this path already holds\(readNote)",
                notes: notes, matchKey: "\(event.key)|\(context.code(at: line))"))
        }
        return findings + acquiresThePatchTurnsIntoReleases(context)
    }

    /// In the pre-image, an acquire right before an exit that the patch turns into the release
    /// of the same lock (PatchLockEdits): the author says the lock is held there, so the old code
    /// took it a second time (a typo'd unlock on an error path).
    private func acquiresThePatchTurnsIntoReleases(_ context: FunctionContext) -> [SideFinding] {
        PatchLockEdits.addedBeforeUnchangedExits(context).compactMap { added in
            guard let line = added.replacedAcquireLine,
                  let old = context.model.body.allCalls.first(where: { $0.line == line })?.callee else { return nil }
            let event = added.event
            return SideFinding(
                rule: description.id, severity: description.severity, line: line,
                message: "\(old)() takes \(event.spoken), which is already held here: the patch releases it with \(event.call.callee)() instead",
                matchKey: "\(event.key)|replaced-acquire|\(context.code(at: line))")
        }
    }
}
