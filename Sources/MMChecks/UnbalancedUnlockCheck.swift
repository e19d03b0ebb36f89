import MMAnalysis
import MMCore

/// A lock released on a path that already released it, or after its try-lock failed.
public struct UnbalancedUnlockCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "unbalanced-unlock",
        summary: "a lock is released on a path where it is not held",
        rationale: """
            Releasing a lock twice corrupts its state (an rwsem count goes negative, a spinlock is \
            opened under another CPU's feet). It typically comes from a patch that adds an unlock \
            before a goto to an exit label that unlocks again, or unlocks after a failed trylock.
            """,
        severity: .error,
        triggering: [
            """
            int f(struct mm_struct *mm)
            {
            	int err;
            	mmap_read_lock(mm);
            	err = g(mm);
            	if (err) {
            		mmap_read_unlock(mm);
            		goto out;
            	}
            	h(mm);
            out:
            ↓	mmap_read_unlock(mm);
            	return err;
            }
            """,
            """
            void f(struct mutex *m)
            {
            	if (!mutex_trylock(m))
            		g();
            ↓	mutex_unlock(m);
            }
            """,
            // Taken for read, released for write: the rwsem's count goes wrong.
            """
            void f(struct address_space *mapping)
            {
            	i_mmap_lock_read(mapping);
            	g(mapping);
            ↓	i_mmap_unlock_write(mapping);
            }
            """,
        ],
        nonTriggering: [
            // Downgraded, then released for read.
            """
            void f(struct mm_struct *mm)
            {
            	mmap_write_lock(mm);
            	g(mm);
            	mmap_write_downgrade(mm);
            	h(mm);
            	mmap_read_unlock(mm);
            }
            """,
            // A callee downgrades the lock and reports it by its return value.
            """
            static int unmap(unsigned long start, size_t len, bool downgrade)
            {
            	int ret;
            	struct mm_struct *mm = current->mm;
            	if (mmap_write_lock_killable(mm))
            		return -EINTR;
            	ret = do_munmap_range(mm, start, len, downgrade);
            	if (ret == 1) {
            		mmap_read_unlock(mm);
            		ret = 0;
            	} else
            		mmap_write_unlock(mm);
            	return ret;
            }
            """,
            // The side chosen by a flag, released under the same flag.
            """
            void f(struct rw_semaphore *sem, int write)
            {
            	if (write)
            		down_write(sem);
            	else
            		down_read(sem);
            	g();
            	if (write)
            		up_write(sem);
            	else
            		up_read(sem);
            }
            """,
            // Releases the caller's lock: held on entry.
            """
            void f(struct mm_struct *mm)
            {
            	g(mm);
            	mmap_read_unlock(mm);
            }
            """,
            """
            int f(struct mm_struct *mm)
            {
            	int err;
            	mmap_read_lock(mm);
            	err = g(mm);
            	if (err)
            		goto out;
            	h(mm);
            out:
            	mmap_read_unlock(mm);
            	return err;
            }
            """,
        ],
        advice: "Release only what this path holds: test the try-lock's result before unlocking, and let exactly one exit release the lock.",
        instead: """
            int f(struct mm_struct *mm)
            {
            	if (!mmap_read_trylock(mm))
            		return -EAGAIN;
            	g(mm);
            	mmap_read_unlock(mm);
            	return 0;
            }
            """,
        references: [
            "Documentation/locking/locktypes.rst",
            "Documentation/locking/lockdep-design.rst",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        var findings: [SideFinding] = []
        var seenNodes = Set<Int>()
        for incident in context.locks.incidents {
            if case .modeMismatch(let acquiredLine, let acquiredWith) = incident.kind, !seenNodes.contains(incident.node) {
                seenNodes.insert(incident.node)
                // A function that also releases the lock for the side it took knows the side can
                // change on the way: a callee that downgrades it and says so by its return value
                // (`if (ret == 1) mmap_read_unlock(mm); else mmap_write_unlock(mm);`).
                if context.locks.events.values.contains(where: {
                    $0.key == incident.event.key && $0.action == .release && $0.mode == acquiredWith.mode
                }) { continue }
                let event = incident.event
                let line = event.call.line
                var notes: [SideNote] = []
                if let acquiredLine {
                    notes.append(SideNote(line: acquiredLine, message: "\(acquiredWith.call.callee)() takes it for \(acquiredWith.mode.rawValue) here"))
                }
                findings.append(SideFinding(
                    rule: description.id, severity: description.severity, line: line, column: event.call.column,
                    message: "\(event.call.callee)() releases \(event.spoken) for \(event.mode.rawValue), but this path took it for \(acquiredWith.mode.rawValue) with \(acquiredWith.call.callee)()",
                    notes: notes, matchKey: "\(event.key)|mode|\(context.code(at: line))"))
                continue
            }
            guard case .doubleRelease(let previous) = incident.kind, !seenNodes.contains(incident.node) else { continue }
            seenNodes.insert(incident.node)
            let event = incident.event
            let line = event.call.line
            let message: String
            var notes: [SideNote] = []
            if let previous {
                message = "\(event.call.callee)() releases \(event.spoken) again; this path already released it"
                notes.append(SideNote(line: previous, message: "\(event.spoken) is released here first"))
            } else {
                message = "\(event.call.callee)() releases \(event.spoken) on a path where the try-lock failed"
            }
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: line, column: event.call.column,
                message: message, notes: notes, matchKey: "\(event.key)|\(context.code(at: line))"))
        }
        return findings + acquiresThePatchAdds(context) + releasesThePatchSwitchesMode(context)
    }

    /// In the pre-image, a release the patch swaps for the other side of the same reader-writer
    /// lock (PatchLockEdits): the lock was held in the other mode, so the old call released a
    /// side it did not hold (up_write() on a rwsem held for read corrupts its count).
    private func releasesThePatchSwitchesMode(_ context: FunctionContext) -> [SideFinding] {
        PatchLockEdits.releasesWithChangedMode(context).map { swap in
            let line = swap.old.call.line
            return SideFinding(
                rule: description.id, severity: description.severity, line: line, column: swap.old.call.column,
                message: "\(swap.old.call.callee)() releases \(swap.old.spoken) for \(swap.old.mode.rawValue), but it is held for \(swap.new.mode.rawValue) here: the patch releases it with \(swap.new.call.callee)()",
                matchKey: "\(swap.old.key)|mode|\(context.code(at: line))")
        }
    }

    /// In the pre-image, an exit before which the patch re-takes a lock the function dropped out of
    /// sight (PatchLockEdits): its caller holds the lock across the call and releases it after, so
    /// the old exit sent the caller on to release a lock it no longer held.
    private func acquiresThePatchAdds(_ context: FunctionContext) -> [SideFinding] {
        PatchLockEdits.addedBeforeUnchangedExits(context).filter { PatchLockEdits.isAcquire($0.event) }.map { added in
            let event = added.event
            return SideFinding(
                rule: description.id, severity: description.severity, line: added.exitLine,
                message: "\(context.spokenFunction) returns here without \(event.spoken), which its caller holds and will release: the patch takes it again with \(event.call.callee)() before this exit",
                matchKey: "\(event.key)|added-acquire|\(context.code(at: added.exitLine))")
        }
    }
}
