import MMAnalysis
import MMCore
import MMFacts

/// A second lock of one class taken while one of that class is held, without telling lockdep.
public struct NestedLockCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "nested-lock",
        summary: "a second lock of the same class is taken without a nesting annotation",
        rationale: """
            Two locks of one class (two mms' mmap_lock, two anon_vmas' locks) held at once \
            deadlock when another path takes the same two in the opposite order, and lockdep \
            reports the second as recursive locking. Code that nests them on purpose says so: \
            mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING), down_write_nested(), \
            spin_lock_nested(), down_write_nest_lock(); and it explains why the order is fixed. \
            Taking the very same lock again is double-lock.
            """,
        severity: .warning,
        triggering: [
            // The parent's mmap_lock taken while holding the child's.
            """
            int dup(struct mm_struct *mm, struct mm_struct *oldmm)
            {
            	int ret;
            	mmap_write_lock(mm);
            ↓	mmap_read_lock(oldmm);
            	ret = copy_vmas(mm, oldmm);
            	mmap_read_unlock(oldmm);
            	mmap_write_unlock(mm);
            	return ret;
            }
            """,
            // A helper of the patch takes the second one.
            """
            static void lock_root(struct anon_vma *anon_vma)
            {
            	spin_lock(&anon_vma->root->lock);
            }
            void walk(struct anon_vma *anon_vma, struct anon_vma *next_anon_vma)
            {
            	spin_lock(&anon_vma->lock);
            ↓	lock_root(next_anon_vma);
            	g(anon_vma);
            	unlock_root(next_anon_vma);
            	spin_unlock(&anon_vma->lock);
            }
            """,
        ],
        nonTriggering: [
            // Annotated, as dup_mmap() does.
            """
            int dup(struct mm_struct *mm, struct mm_struct *oldmm)
            {
            	int ret;
            	mmap_write_lock(oldmm);
            	mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING);
            	ret = copy_vmas(mm, oldmm);
            	mmap_write_unlock(mm);
            	mmap_write_unlock(oldmm);
            	return ret;
            }
            """,
            // One at a time.
            """
            void f(struct mm_struct *a, struct mm_struct *b)
            {
            	mmap_read_lock(a);
            	g(a);
            	mmap_read_unlock(a);
            	mmap_read_lock(b);
            	g(b);
            	mmap_read_unlock(b);
            }
            """,
            // Two locks of different classes.
            """
            void f(struct mm_struct *mm, struct address_space *mapping)
            {
            	mmap_read_lock(mm);
            	i_mmap_lock_read(mapping);
            	g(mm);
            	i_mmap_unlock_read(mapping);
            	mmap_read_unlock(mm);
            }
            """,
            // A trylock never waits.
            """
            void f(struct mm_struct *a, struct mm_struct *b)
            {
            	mmap_read_lock(a);
            	if (mmap_read_trylock(b)) {
            		g(a, b);
            		mmap_read_unlock(b);
            	}
            	mmap_read_unlock(a);
            }
            """,
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let helpers = context.patch.summaries.helperLocks[context.model.side] ?? [:]
        let nestings = LockOrderFacts.nestings(in: context.locks, function: context.model.name, helpers: helpers,
                                               facts: context.facts)
        let releasing = context.patch.summaries.releasingHelpers[context.model.side] ?? []
        var findings: [SideFinding] = []
        var reported = Set<Int>()
        for nesting in nestings {
            let held = nesting.held.event
            guard let className = held.className, nesting.inner.className == className,
                  // Either side annotated: lockdep was told the subclasses (I_MUTEX_PARENT, then a child).
                  !nesting.inner.annotatedNested, !LockOrderFacts.isNestingAnnotated(held.call.callee),
                  !nesting.inner.fromEffect, nesting.inner.depth == 0,
                  // lockdep does not see bit locks (PG_locked): there is nothing to annotate.
                  held.kind != .all, held.kind != .bitlock,
                  // The same lock again is double-lock's finding.
                  nesting.inner.key != held.key,
                  !LockOrderFacts.mayBeDroppedByHelper(nesting.held, before: nesting.node, in: context.locks, releasing: releasing),
                  reported.insert(nesting.line).inserted else { continue }
            let heldWhere = nesting.held.status == .presumedHeld
                ? "taken before the code the patch shows"
                : "taken earlier in \(context.spokenFunction)"
            var notes: [SideNote] = []
            if nesting.held.status != .presumedHeld, let line = nesting.held.acquiredLine {
                notes.append(SideNote(line: line, message: "\(held.spoken) is taken here"))
            } else if held.call.line != nesting.line {
                notes.append(SideNote(line: held.call.line, message: "\(held.spoken) is held until it is released"))
            }
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: nesting.line, column: nesting.column,
                message: "\(nesting.inner.how) while \(held.spoken) of the same class (\(className)) is held "
                    + "(\(heldWhere)), without a nesting annotation (a _nested or _nest_lock variant): "
                    + "what keeps another path from taking the two in the other order?",
                notes: notes,
                matchKey: "\(held.key)|\(nesting.inner.spoken)|\(context.code(at: nesting.line))"))
        }
        return findings
    }
}
