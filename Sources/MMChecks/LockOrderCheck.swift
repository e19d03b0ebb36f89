import MMAnalysis
import MMCore
import MMFacts

/// A lock taken while holding one that must come after it: against the documented order
/// (Rules/order.yaml), against an order the patch itself states, or against the order another
/// function of the same patch nests the two in (ABBA).
public struct LockOrderCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "lock-order",
        summary: "a lock (or a call that takes one) is taken while holding a lock that must come after it",
        rationale: """
            Two paths that take the same two locks in opposite orders deadlock when they run at \
            once. mm documents its order in the mm/rmap.c and mm/filemap.c header comments: the \
            inode lock before mmap_lock, mmap_lock before the page lock, i_mmap_rwsem, the anon_vma \
            lock and the page-table lock. Calls count for the locks they take: writing a file takes \
            the inode lock, copying from user memory may fault and take mmap_lock, and a helper of \
            the patch takes what it locks. An order the patch states ("the lock ordering is A -> \
            B") binds the patch too.
            """,
        severity: .error,
        triggering: [
            // File I/O takes the inode lock, which comes before mmap_lock.
            """
            int dump(struct file *file, struct mm_struct *mm, char *buf, loff_t *pos)
            {
            	int ret;
            	mmap_read_lock(mm);
            ↓	ret = kernel_write(file, buf, mm->map_count, pos);
            	mmap_read_unlock(mm);
            	return ret;
            }
            """,
            // A user copy may fault and take mmap_lock: not under the page-table lock.
            """
            int peek(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, void __user *to)
            {
            	spinlock_t *ptl;
            	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
            	int ret = 0;
            	if (pte_present(*pte))
            ↓		ret = copy_to_user(to, pte, sizeof(*pte));
            	pte_unmap_unlock(pte, ptl);
            	return ret;
            }
            """,
            // A page lock taken under i_mmap_rwsem.
            """
            void f(struct address_space *mapping, struct page *page)
            {
            	i_mmap_lock_read(mapping);
            ↓	lock_page(page);
            	unlock_page(page);
            	i_mmap_unlock_read(mapping);
            }
            """,
            // ABBA inside one patch: g() nests the two the other way round.
            """
            void f(void)
            {
            	spin_lock(&alpha_lock);
            ↓	spin_lock(&beta_lock);
            	spin_unlock(&beta_lock);
            	spin_unlock(&alpha_lock);
            }
            void g(void)
            {
            	spin_lock(&beta_lock);
            ↓	spin_lock(&alpha_lock);
            	spin_unlock(&alpha_lock);
            	spin_unlock(&beta_lock);
            }
            """,
            // A helper of the patch takes the outer lock while the caller holds the inner one; the
            // order is stated in an added comment.
            """
            /* lock ordering: list_sem -> mmap_lock */
            static void add_to_list(struct mm_struct *mm)
            {
            	down(&list_sem);
            	list_add(&mm->list, &all_mms);
            	up(&list_sem);
            }
            void setup(struct mm_struct *mm)
            {
            	mmap_write_lock(mm);
            ↓	add_to_list(mm);
            	mmap_write_unlock(mm);
            }
            """,
            // A helper whose lock is only in its sparse annotation (taken through a macro).
            """
            /* all_mms_lock nests outside mmap_lock */
            static void lock_all_mms(void)
            	__acquires(all_mms_lock)
            {
            	LOCK_ALL_MMS();
            }
            void setup(struct mm_struct *mm)
            {
            	mmap_read_lock(mm);
            ↓	lock_all_mms();
            	unlock_all_mms();
            	mmap_read_unlock(mm);
            }
            """,
        ],
        nonTriggering: [
            // The documented order: inode lock, then mmap_lock, then the page lock.
            """
            void f(struct inode *inode, struct mm_struct *mm, struct page *page)
            {
            	inode_lock(inode);
            	mmap_read_lock(mm);
            	lock_page(page);
            	unlock_page(page);
            	mmap_read_unlock(mm);
            	inode_unlock(inode);
            }
            """,
            // The write comes after the unlock.
            """
            int dump(struct file *file, struct mm_struct *mm, char *buf, loff_t *pos)
            {
            	int n;
            	mmap_read_lock(mm);
            	n = mm->map_count;
            	mmap_read_unlock(mm);
            	return kernel_write(file, buf, n, pos);
            }
            """,
            // A trylock never waits: taking the outer lock with one is how the kernel inverts the order.
            """
            void f(struct page *page, struct mm_struct *mm)
            {
            	lock_page(page);
            	if (mmap_read_trylock(mm)) {
            		g(mm);
            		mmap_read_unlock(mm);
            	}
            	unlock_page(page);
            }
            """,
            // A helper that follows the order its patch states.
            """
            /* lock ordering: list_sem -> mmap_lock */
            static void visit(struct mm_struct *mm)
            {
            	mmap_read_lock(mm);
            	g(mm);
            	mmap_read_unlock(mm);
            }
            void walk(struct mm_struct *mm)
            {
            	down(&list_sem);
            	visit(mm);
            	up(&list_sem);
            }
            """,
            // Per-iteration locking: each write happens after the unlock.
            """
            int dump_all(struct file *file, struct mm_struct *mm, char *buf, loff_t *pos, int n)
            {
            	int i, ret = 0;
            	for (i = 0; i < n && ret >= 0; i++) {
            		mmap_read_lock(mm);
            		buf[0] = mm->map_count;
            		mmap_read_unlock(mm);
            		ret = kernel_write(file, buf, 1, pos);
            	}
            	return ret;
            }
            """,
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let side = context.model.side
        let helpers = context.patch.summaries.helperLocks[side] ?? [:]
        let own = LockOrderFacts.nestings(in: context.locks, function: context.model.name, helpers: helpers,
                                          facts: context.facts)
        let stated = context.patch.summaries.statedOrders
        let everywhere = context.patch.summaries.nestings[side] ?? []
        let releasing = context.patch.summaries.releasingHelpers[side] ?? []
        var findings: [SideFinding] = []
        var groups: [(key: String, reason: String, sites: [LockNesting])] = []
        for nesting in own {
            guard let heldName = LockOrderFacts.orderName(of: nesting.held.event), let takenName = nesting.inner.orderName,
                  heldName != takenName,
                  !LockOrderFacts.mayBeDroppedByHelper(nesting.held, before: nesting.node, in: context.locks, releasing: releasing)
            else { continue }
            let reason: String
            if let chain = context.facts.documentedOrder(outer: takenName, inner: heldName) {
                reason = "the documented order is \(takenName) -> \(heldName) (\(chain.source))"
            } else if let order = stated.first(where: { $0.outer == takenName && $0.inner == heldName }),
                      context.facts.documentedOrder(outer: heldName, inner: takenName) == nil {
                // A stated order never overrides the documented one: prose is easier to misread.
                reason = "the patch states the order \(takenName) -> \(heldName) (\"\(order.quote)\")"
            } else if context.facts.documentedOrder(outer: heldName, inner: takenName) != nil
                        || stated.contains(where: { $0.outer == heldName && $0.inner == takenName }) {
                continue
            } else if let other = everywhere.first(where: { isReverse($0, of: nesting) && !sameSite($0, nesting) }) {
                // ABBA: only between locks the patch names globally (a class or a global lock):
                // member locks without a class cannot be matched across functions.
                reason = "\(other.function)() takes them the other way round: \(other.inner.spoken) at line "
                    + "\(other.line) while holding \(other.held.event.spoken)"
            } else {
                continue
            }
            // One finding per held lock and lock taken: a function that holds mmap_lock across
            // every image write has one problem, shown at its first write, the others as notes.
            let key = "\(nesting.held.event.key)|\(takenName)"
            if let index = groups.firstIndex(where: { $0.key == key }) {
                if !groups[index].sites.contains(where: { $0.line == nesting.line }) { groups[index].sites.append(nesting) }
            } else {
                groups.append((key: key, reason: reason, sites: [nesting]))
            }
        }
        for group in groups {
            let sites = group.sites.sorted { $0.line < $1.line }
            guard let nesting = sites.first else { continue }
            let held = nesting.held
            let heldHow = held.status == .presumedHeld
                ? "taken before the code the patch shows"
                : "taken earlier in \(context.spokenFunction)"
            var notes: [SideNote] = []
            if held.status != .presumedHeld, let line = held.acquiredLine {
                notes.append(SideNote(line: line, message: "\(held.event.spoken) is taken here"))
            } else if held.event.call.line != nesting.line {
                notes.append(SideNote(line: held.event.call.line, message: "\(held.event.spoken) is held until it is released"))
            }
            for other in sites.dropFirst() {
                notes.append(SideNote(line: other.line, message: "\(other.inner.how) here too, still under \(held.event.spoken)"))
            }
            let more = sites.count > 1 ? " (and \(sites.count - 1) more call\(sites.count > 2 ? "s" : "") below)" : ""
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: nesting.line, column: nesting.column,
                message: "\(nesting.inner.how) while \(held.event.spoken) is held (\(heldHow))\(more); \(group.reason)",
                notes: notes,
                matchKey: group.key))
        }
        return findings
    }

    private func isReverse(_ other: LockNesting, of nesting: LockNesting) -> Bool {
        guard let a = LockOrderFacts.orderName(of: nesting.held.event), let b = nesting.inner.orderName,
              let otherHeld = LockOrderFacts.orderName(of: other.held.event) else { return false }
        return otherHeld == b && other.inner.orderName == a
    }

    private func sameSite(_ a: LockNesting, _ b: LockNesting) -> Bool {
        a.function == b.function && a.line == b.line
    }
}
