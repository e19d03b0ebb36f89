import MMAnalysis
import MMCore
import MMFacts

/// A pointer read out of a lock-protected object while the lock is held, then used after that lock
/// is dropped on the same path, with nothing in between that could pin it.
public struct UseAfterUnlockCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "use-after-unlock",
        summary: "a pointer read under a lock is used after the lock is dropped",
        rationale: """
            A pointer read from an object while its lock is held (`file = vma->vm_file`, \
            `root = avc->anon_vma`) is only guaranteed to point at a live object while the lock is \
            held. Once the lock is dropped another task may unmap, free or reuse it, so using the \
            pointer afterwards needs a reference taken under the lock (get_file(), get_page(), a \
            refcount increment) or a reason the object cannot go away. What keeps it alive?
            """,
        severity: .warning,
        triggering: [
            """
            struct anon_vma *f(struct anon_vma *anon_vma)
            {
            	struct anon_vma *root;
            	spin_lock(&anon_vma->lock);
            	root = anon_vma->root;
            	spin_unlock(&anon_vma->lock);
            ↓	spin_lock(&root->lock);
            	return root;
            }
            """,
            """
            int f(struct mm_struct *mm, unsigned long addr)
            {
            	struct vm_area_struct *vma;
            	struct file *file;
            	mmap_read_lock(mm);
            	vma = find_vma(mm, addr);
            	if (!vma) {
            		mmap_read_unlock(mm);
            		return -EFAULT;
            	}
            	file = vma->vm_file;
            	mmap_read_unlock(mm);
            ↓	return file->f_flags & O_APPEND;
            }
            """,
            // Freed after the unlock while a shared pointer still leads to it; cleared only after.
            """
            static int init_consoles(void)
            {
            	struct vc_data *vc;
            	vc_cons[0].d = vc = kzalloc(sizeof(struct vc_data), GFP_NOWAIT);
            	if (!vc)
            		goto err;
            	vc->screenbuf = kzalloc(vc->size, GFP_NOWAIT);
            	if (!vc->screenbuf)
            		goto err_screenbuf;
            	console_unlock();
            	return 0;
            err_screenbuf:
            	console_unlock();
            ↓	kfree(vc);
            	vc_cons[0].d = NULL;
            err:
            	return -ENOMEM;
            }
            """,
        ],
        nonTriggering: [
            // Cleared and freed while the lock is held.
            """
            static int init_consoles(void)
            {
            	struct vc_data *vc;
            	vc_cons[0].d = vc = kzalloc(sizeof(struct vc_data), GFP_NOWAIT);
            	if (!vc)
            		return -ENOMEM;
            	if (setup(vc)) {
            		vc_cons[0].d = NULL;
            		kfree(vc);
            		console_unlock();
            		return -ENOMEM;
            	}
            	console_unlock();
            	return 0;
            }
            """,
            // A local structure is no shared place.
            """
            static void drop(struct foo *foo)
            {
            	struct holder h;
            	struct bar *bar = alloc_bar();
            	h.bar = bar;
            	spin_unlock(&foo->lock);
            	kfree(bar);
            	h.bar = NULL;
            }
            """,
            // A reference is taken before the lock is dropped.
            """
            int f(struct ctx *ctx, struct mm_struct *mm)
            {
            	struct file *exe_file = NULL;
            	down_read(&mm->mmap_sem);
            	if (mm->exe_file) {
            		exe_file = mm->exe_file;
            		get_file(exe_file);
            	}
            	up_read(&mm->mmap_sem);
            	if (exe_file) {
            		write_file(ctx, exe_file);
            		fput(exe_file);
            	}
            	return 0;
            }
            """,
            // The object is copied under the lock; only the copy is used afterwards.
            """
            int f(struct mm_struct *mm, struct vm_area_struct *vma)
            {
            	struct vm_area_struct *next;
            	down_read(&mm->mmap_sem);
            	next = find_vma(mm, vma->vm_end);
            	if (!next) {
            		up_read(&mm->mmap_sem);
            		return 0;
            	}
            	*vma = *next;
            	if (vma->vm_file)
            		get_file(vma->vm_file);
            	up_read(&mm->mmap_sem);
            	return g(vma);
            }
            """,
            // Used only while the lock is held.
            """
            void f(struct anon_vma *anon_vma)
            {
            	struct anon_vma *root;
            	spin_lock(&anon_vma->lock);
            	root = anon_vma->root;
            	root->degree++;
            	spin_unlock(&anon_vma->lock);
            }
            """,
            // Detached from the object under the lock: the function owns it now.
            """
            void f(struct foo *foo)
            {
            	struct bar *old;
            	spin_lock(&foo->lock);
            	old = foo->bar;
            	foo->bar = NULL;
            	spin_unlock(&foo->lock);
            	kfree(old);
            }
            """,
            // Detached only when there is one; on the other path it is NULL and nothing is used.
            """
            void f(struct node *n)
            {
            	struct array_cache *shared;
            	spin_lock_irq(&n->list_lock);
            	shared = n->shared;
            	if (shared) {
            		drain(shared);
            		n->shared = NULL;
            	}
            	spin_unlock_irq(&n->list_lock);
            	kfree(shared);
            }
            """,
            // Returned with a reference (`*_get`) or unlinked from the structure (`remove_*`).
            """
            int f(struct tree *tree, pgoff_t offset, struct pool *pool)
            {
            	struct entry *entry;
            	void *element;
            	spin_lock(&tree->lock);
            	entry = entry_find_get(&tree->root, offset);
            	spin_unlock(&tree->lock);
            	if (!entry)
            		return -1;
            	spin_lock(&pool->lock);
            	element = remove_element(pool);
            	spin_unlock(&pool->lock);
            	pool->free(element);
            	return entry->length;
            }
            """,
            // Returned by a function that is not a lookup (it may come with a reference, or be the
            // caller's own), or swapped out of the structure with xchg().
            """
            struct super_block *f(struct block_device *bdev, struct ns *ns, struct pin *new)
            {
            	struct super_block *s;
            	struct pin *old;
            	mutex_lock(&bdev->bd_fsfreeze_mutex);
            	s = sget(bdev->type, bdev);
            	old = xchg(&bdev->pin, new);
            	mutex_unlock(&bdev->bd_fsfreeze_mutex);
            	pin_kill(old);
            	if (s->s_root)
            		return s;
            	return NULL;
            }
            """,
            // The lock is taken again before the pointer is used.
            """
            void f(struct foo *foo)
            {
            	struct bar *bar;
            	spin_lock(&foo->lock);
            	bar = foo->bar;
            	spin_unlock(&foo->lock);
            	cond_resched();
            	spin_lock(&foo->lock);
            	bar->count++;
            	spin_unlock(&foo->lock);
            }
            """,
        ],
        advice: "Use the pointer before dropping the lock, or pin the object (get_page(), mmget(), get_file() ...) while the lock is held and drop that reference when done.",
        instead: """
            void f(struct mm_struct *mm)
            {
            	struct vm_area_struct *vma;
            	mmap_read_lock(mm);
            	vma = find_vma(mm, 0);
            	if (vma)
            		g(vma->vm_start);
            	mmap_read_unlock(mm);
            }
            """,
        references: [
            "Documentation/mm/process_addrs.rst",
            "Documentation/RCU/whatisRCU.rst",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let analysis = context.locks
        guard analysis.events.values.contains(where: { $0.action == .release }) else { return [] }
        var walk = BorrowWalk(context: context)
        walk.run()
        var findings = freedWhilePublished(context)
        var reportedLines = Set<String>()
        // One finding per pointer read under a lock: its first use after the drop is where a
        // reviewer asks what keeps it alive; the later uses only repeat the question.
        var reportedBorrows = Set<String>()
        for use in walk.uses.sorted(by: { ($0.line, $0.borrow.variable) < ($1.line, $1.borrow.variable) }) {
            let borrow = use.borrow
            if !reportedLines.insert("\(borrow.variable)@\(use.line)").inserted { continue }
            if !reportedBorrows.insert("\(borrow.variable)@\(borrow.readLine)|\(borrow.lockKey)").inserted { continue }
            var notes = [SideNote(line: borrow.readLine,
                                  message: "'\(borrow.variable)' is read here under \(borrow.lockSpoken)")]
            if let released = borrow.releasedLine {
                notes.append(SideNote(line: released, message: "\(borrow.lockSpoken) is dropped here"))
            }
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: use.line,
                message: "'\(borrow.variable)' is used here after \(borrow.lockSpoken) was dropped, with no "
                    + "reference taken on it: what keeps it alive?",
                notes: notes,
                matchKey: "\(borrow.variable)|\(borrow.lockKey)|\(context.code(at: use.line))"))
        }
        return findings
    }

    private func freedWhilePublished(_ context: FunctionContext) -> [SideFinding] {
        FreedWhilePublished.find(in: context).map { found in
            let line = found.free.line
            return SideFinding(
                rule: description.id, severity: description.severity, line: line, column: found.free.column,
                message: "\(found.free.callee)() frees '\(found.freed)' after \(found.lock.spoken) was dropped, while "
                    + "'\(found.place)' still points to it: another task that takes the lock can find it there. "
                    + "Clear '\(found.place)' and free it before dropping the lock",
                notes: [SideNote(line: found.lock.call.line, message: "\(found.lock.spoken) is dropped here"),
                        SideNote(line: found.clearLine, message: "'\(found.place)' is cleared only here")],
                matchKey: "\(found.freed)|\(found.lock.key)|freed-published|\(context.code(at: line))")
        }
    }
}

/// A local pointer read from an object protected by a held lock.
private struct Borrow: Hashable {
    var variable: String
    var lockKey: String
    var lockSpoken: String
    var readLine: Int
    /// Where the lock was dropped on this path; nil while it is still held.
    var releasedLine: Int?
}

private struct BorrowUse: Hashable {
    var line: Int
    var borrow: Borrow
}

/// A forward may-analysis: the borrows each path carries, joined by union.
private struct BorrowWalk {
    let graph: ControlFlowGraph
    let locks: LockStateAnalysis
    let variables: LifetimeVariables
    var statesAt: [Set<Borrow>]
    var uses = Set<BorrowUse>()
    /// Functions that take a reference and return it (Rules/pairs.yaml, `object: return`).
    let pairs: Set<String>
    let lockPrimitives: Set<String>

    init(context: FunctionContext) {
        locks = context.locks
        graph = context.locks.graph
        variables = LifetimeVariables(model: context.model)
        statesAt = Array(repeating: [], count: graph.nodes.count)
        lockPrimitives = Set(context.facts.primitives.keys)
        pairs = Set(context.facts.pairs.filter { $0.acquireObject == .returnValue }.map(\.acquire))
    }

    mutating func run() {
        var worklist = [0]
        var queued: Set<Int> = [0]
        var visited: Set<Int> = []
        var iterations = 0
        while let node = worklist.popLast() {
            queued.remove(node)
            iterations += 1
            if iterations > 200_000 { break }  // a safety net; the lattice is finite
            let outgoing = transfer(statesAt[node], node: node)
            for successor in graph.nodes[node].successors {
                let merged = statesAt[successor].union(outgoing)
                if merged != statesAt[successor] || !visited.contains(successor) {
                    visited.insert(successor)
                    statesAt[successor] = merged
                    if !queued.contains(successor) {
                        worklist.insert(successor, at: 0)
                        queued.insert(successor)
                    }
                }
            }
        }
    }

    /// Locks every path into `node` holds, by key.
    func locksHeld(at node: Int) -> [String: LockEvent] {
        // In a fixed order: the event kept for a key is the first state's.
        let states = locks.orderedStates(at: node)
        guard let first = states.first else { return [:] }
        var result: [String: LockEvent] = [:]
        for (key, record) in first.locks where record.status == .held || record.status == .presumedHeld {
            let everywhere = states.allSatisfy { state in
                state.locks[key].map { $0.status == .held || $0.status == .presumedHeld } ?? false
            }
            if everywhere { result[key] = record.event }
        }
        return result
    }

    mutating func transfer(_ input: Set<Borrow>, node: Int) -> Set<Borrow> {
        var state = input
        let line = graph.nodes[node].line
        switch graph.nodes[node].action {
        case .call(let call):
            for borrow in state {
                guard call.arguments.contains(where: { LifetimeText.mentions($0, borrow.variable) }) else { continue }
                if borrow.releasedLine != nil {
                    uses.insert(BorrowUse(line: call.line, borrow: borrow))
                } else {
                    // Handed to a call under the lock: it may take a reference (get_file,
                    // atomic_inc(&x->count)) or detach the object (list_del): pinned either way.
                    state.remove(borrow)
                }
            }
            if let event = locks.events[node] {
                switch event.action {
                case .release:
                    state = Set(state.map { borrow in
                        var updated = borrow
                        if borrow.lockKey == event.key && borrow.releasedLine == nil { updated.releasedLine = call.line }
                        return updated
                    })
                case .acquire, .tryAcquire:
                    // Taken again: the code may revalidate what it read; not for this check to judge.
                    state = state.filter { !($0.lockKey == event.key && $0.releasedLine != nil) }
                case .downgrade:
                    break
                }
            }
        case .assign(let assignment):
            for borrow in state where borrow.releasedLine != nil {
                if LifetimeText.dereferences(assignment.value, borrow.variable)
                    || LifetimeText.dereferences(assignment.target, borrow.variable) {
                    uses.insert(BorrowUse(line: assignment.line, borrow: borrow))
                }
            }
            let target = LifetimeText.core(assignment.target)
            // Writing the field it came from (`foo->bar = NULL`) detaches the object under the lock.
            let detachedFrom = state.filter { borrow in
                borrow.releasedLine == nil && LifetimeText.core(assignment.value) != borrow.variable
                    && readSource(of: borrow) == target
            }
            state.subtract(detachedFrom)
            guard LifetimeText.isIdentifier(target) else { break }
            state = state.filter { $0.variable != target }
            guard variables.isPointerLocal(target) else { break }
            let value = LifetimeText.core(assignment.value)
            // A lookup or member read that reaches into the locked object (`vma = find_vma(mm, a)`,
            // `root = anon_vma->root`); a reference-taking call (get_task_mm) is no borrow.
            if let callee = assignment.valueCallee, pairs.contains(callee) || Self.handsOverObject(callee) { break }
            // `pte = pte_offset_map_lock(mm, pmd, addr, &ptl)` takes the lock; it reads nothing under it.
            if let callee = assignment.valueCallee, lockPrimitives.contains(callee) { break }
            // What an unknown function returns may come with a reference or be the caller's own
            // (`s = sget(…)`, `file = pick_file(files, fd)`, `old = install(…)`); only a call named
            // like a lookup is known to hand back a pointer into the locked structure.
            if let callee = assignment.valueCallee, !Self.looksUp(callee) { break }
            guard value.contains("->") || assignment.valueCallee != nil else { break }
            for (key, event) in locksHeld(at: node) {
                let bases = ConditionFacts.dereferencedBases(of: event.display).map(ConditionFacts.atom)
                let fromLocked = bases.contains { LifetimeText.mentions(value, $0) }
                let fromBorrowed = state.contains { $0.lockKey == key && $0.releasedLine == nil
                    && value.contains($0.variable + "->") && LifetimeText.mentions(value, $0.variable) }
                if fromLocked || fromBorrowed {
                    state.insert(Borrow(variable: target, lockKey: key, lockSpoken: event.spoken, readLine: assignment.line,
                                        releasedLine: nil))
                    reads[target + "@\(assignment.line)"] = value
                }
            }
        case .assume(let condition, let outcome):
            for borrow in state where borrow.releasedLine != nil {
                if condition.dereferences.contains(where: { LifetimeText.core($0) == borrow.variable || LifetimeText.dereferences($0, borrow.variable) }) {
                    uses.insert(BorrowUse(line: line, borrow: borrow))
                }
            }
            // On the edge where the pointer is NULL there is nothing to keep alive
            // (`shared = n->shared; if (shared) { …; n->shared = NULL; } unlock; kfree(shared);`).
            let known = ConditionFacts.facts(condition: ConditionFacts.atom(condition.text), outcome: outcome)
            state = state.filter { !known.contains(Fact(atom: $0.variable, value: false)) }
        case .exit(_, let value):
            if let value {
                for borrow in state where borrow.releasedLine != nil && LifetimeText.dereferences(value.text, borrow.variable) {
                    uses.insert(BorrowUse(line: line, borrow: borrow))
                }
            }
            return []
        case .gap:
            // Unseen code may take a reference or the lock again.
            return []
        case .unknownEnd:
            return []
        default:
            break
        }
        return state
    }

    /// A call whose name says the object it returns is the caller's to keep: by the kernel's
    /// naming, `*_get*` / `*_tryget*` / `*grab*` return it with a reference held
    /// (`zswap_entry_find_get`, `find_get_page`), and `remove` / `del` / `pop` / `dequeue` /
    /// `detach` / `steal` / `isolate` unlink it from the shared structure (`remove_element(pool)`),
    /// and `xchg` swaps it out (`old = xchg(&ns->bacct, new)`).
    static func handsOverObject(_ callee: String) -> Bool {
        let words = nameWords(callee)
        let owning: Set<String> = ["get", "tryget", "grab", "remove", "del", "delete", "pop", "dequeue", "detach",
                                   "unlink", "steal", "isolate", "take", "xchg"]
        return !words.isDisjoint(with: owning)
    }

    /// A call whose name says it finds an object in a structure and returns it as it is there
    /// (`find_vma`, `idr_find`, `xa_load`, `radix_tree_lookup`, `rb_first`, `vma_next`).
    static func looksUp(_ callee: String) -> Bool {
        let words = nameWords(callee)
        let lookup: Set<String> = ["find", "lookup", "search", "load", "first", "last", "next", "prev",
                                   "peek", "entry", "walk", "locate", "intersection", "deref", "dereference"]
        return !words.isDisjoint(with: lookup)
    }

    /// The words of a kernel function name: `zswap_entry_find_get` → zswap, entry, find, get.
    static func nameWords(_ callee: String) -> Set<String> {
        Set(callee.lowercased().split(separator: "_").map(String.init))
    }

    /// The expression each borrow was read from, by variable and line.
    var reads: [String: String] = [:]

    func readSource(of borrow: Borrow) -> String? {
        reads[borrow.variable + "@\(borrow.readLine)"]
    }
}
