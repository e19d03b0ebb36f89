import MMAnalysis
import MMCore

/// A path from a lock's acquire to a return with the lock still held.
public struct LockLeakCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "lock-leak",
        summary: "a path returns with a lock still held",
        rationale: """
            A lock left held on an error path deadlocks the next task that takes it, or leaves \
            mmap_lock held across a return to user space. Error paths added by a patch are where \
            this happens: the early `return ret` that skips the unlock under the exit label.
            """,
        severity: .error,
        triggering: [
            """
            int f(struct mm_struct *mm)
            {
            	int ret;
            	mmap_read_lock(mm);
            	ret = g(mm);
            	if (ret)
            ↓		return ret;
            	mmap_read_unlock(mm);
            	return 0;
            }
            """,
            // Locked under a flag, and an early return between the lock and `if (locked) unlock`.
            """
            int scan(struct mm_struct *mm, unsigned long start, int want)
            {
            	int locked = 0;
            	if (want) {
            		mmap_read_lock(mm);
            		locked = 1;
            	}
            	if (!find_vma(mm, start))
            ↓		return -EFAULT;
            	if (locked)
            		mmap_read_unlock(mm);
            	return 0;
            }
            """,
            // A try-lock that succeeds falls through to the exit the failure path takes too: the
            // caller cannot know it holds the page lock.
            """
            int wp(struct vm_area_struct *vma, struct page *old_page, unsigned long address)
            {
            	if (page_mapcount(old_page) == 1) {
            		if (!trylock_page(old_page))
            			if (PageAnon(old_page))
            				page_move_anon_rmap(old_page, vma, address);
            		set_writable(vma, address);
            ↓		return 0;
            	}
            	return 1;
            }
            """,
            """
            static int f(struct ctx *ctx, struct mm_struct *mm)
            {
            	int ret;
            	down_read(&mm->mmap_sem);
            	ret = write_header(ctx);
            	if (ret < 0)
            ↓		return ret;
            	ret = write_body(ctx);
            out:
            	up_read(&mm->mmap_sem);
            	return ret;
            }
            """,
            // Returning NULL with the lock held is no hand-over to the caller.
            """
            struct page *f(struct mm_struct *mm, unsigned long addr)
            {
            	struct page *page;
            	spin_lock(&mm->page_table_lock);
            	page = lookup(mm, addr);
            	if (!page)
            ↓		return NULL;
            	get_page(page);
            	spin_unlock(&mm->page_table_lock);
            	return page;
            }
            """,
        ],
        nonTriggering: [
            // The error ladder releases on every path.
            """
            int f(struct mm_struct *mm)
            {
            	int err;
            	down_read(&mm->mmap_sem);
            	err = g(mm);
            	if (err)
            		goto out;
            	err = h(mm);
            out:
            	up_read(&mm->mmap_sem);
            	return err;
            }
            """,
            // Conditional locking guarded by the same condition.
            """
            void f(struct vm_area_struct *vma, int insert)
            {
            	struct anon_vma *anon_vma = NULL;
            	if (vma->anon_vma && insert) {
            		anon_vma = vma->anon_vma;
            		spin_lock(&anon_vma->lock);
            	}
            	g(vma);
            	if (anon_vma)
            		spin_unlock(&anon_vma->lock);
            }
            """,
            // A helper that returns with the lock held for its caller on success.
            """
            struct anon_vma *lock_root(struct anon_vma *anon_vma)
            {
            	struct anon_vma *root = anon_vma->root;
            	spin_lock(&root->lock);
            	if (list_empty(&root->head)) {
            		spin_unlock(&root->lock);
            		return NULL;
            	}
            	return root;
            }
            """,
            // Per-iteration locking in a loop.
            """
            int f(struct mm_struct *mm)
            {
            	while (1) {
            		down_read(&mm->mmap_sem);
            		if (!g(mm)) {
            			up_read(&mm->mmap_sem);
            			break;
            		}
            		up_read(&mm->mmap_sem);
            	}
            	return 0;
            }
            """,
            // A try-lock whose failure returns at once.
            """
            int f(struct mm_struct *mm)
            {
            	if (!mmap_read_trylock(mm))
            		return -EAGAIN;
            	g(mm);
            	mmap_read_unlock(mm);
            	return 0;
            }
            """,
            // A killable lock whose result is kept in a variable.
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
            // The page goes back to the caller locked, with the lock.
            """
            struct page *get_locked(struct address_space *mapping, pgoff_t index)
            {
            	struct page *page = find_get_page(mapping, index);
            	if (!page)
            		return NULL;
            	lock_page(page);
            	if (page->mapping != mapping) {
            		unlock_page(page);
            		put_page(page);
            		return NULL;
            	}
            	return page;
            }
            """,
            // A callee that is handed the lock itself releases it.
            """
            void wait_entry(struct mm_struct *mm, pmd_t *pmd, unsigned long address)
            {
            	spinlock_t *ptl;
            	pte_t *ptep = pte_offset_map_lock(mm, pmd, address, &ptl);
            	if (!is_swap_pte(*ptep)) {
            		pte_unmap_unlock(ptep, ptl);
            		return;
            	}
            	wait_on_locked_entry(ptep, ptl);
            }
            """,
            // A loop that locks each folio and moves on: the name changes meaning.
            """
            int walk(struct folio *folio)
            {
            	while (folio) {
            		folio_lock(folio);
            		if (done(folio)) {
            			folio_unlock(folio);
            			return 0;
            		}
            		folio_unlock(folio);
            		folio = next_folio(folio);
            	}
            	return 1;
            }
            """,
            // The lock is recorded in the caller's structure, which unlocks it: page_vma_mapped_walk()
            // returns true with pvmw->ptl held.
            """
            bool walk(struct pvmw *pvmw)
            {
            	pvmw->ptl = pte_lockptr(pvmw->mm, pvmw->pmd);
            	spin_lock(pvmw->ptl);
            	if (check_pte(pvmw))
            		return true;
            	spin_unlock(pvmw->ptl);
            	return false;
            }
            """,
            // A flag records the lock; a callee given the flag may drop the lock and clear it
            // (__mm_populate() and populate_vma_page_range(..., &locked)).
            """
            long populate(struct mm_struct *mm, unsigned long start, unsigned long end)
            {
            	struct vm_area_struct *vma;
            	unsigned long nstart;
            	int locked = 0;
            	long ret = 0;
            	for (nstart = start; nstart < end; nstart += PAGE_SIZE) {
            		if (!locked) {
            			locked = 1;
            			mmap_read_lock(mm);
            		}
            		vma = find_vma(mm, nstart);
            		if (!vma)
            			break;
            		ret = populate_range(vma, nstart, end, &locked);
            		if (ret < 0)
            			break;
            	}
            	if (locked)
            		mmap_read_unlock(mm);
            	return ret;
            }
            """,
            // A try-lock as the last operand of `&&`: the false branch never holds it. And pages
            // locked and queued on a list: the list's walker unlocks them.
            """
            int isolate(struct folio *folio, struct list_head *list, struct page **pages, int n)
            {
            	int i;
            	if (folio_test_swapcache(folio) && !folio_mapped(folio) && folio_trylock(folio)) {
            		folio_free_swap(folio);
            		folio_unlock(folio);
            	}
            	for (i = 0; i < n; i++) {
            		if (!trylock_page(pages[i]))
            			return -EAGAIN;
            		list_add_tail(&pages[i]->lru, list);
            	}
            	return 0;
            }
            """,
            // Locked and unlocked under the same comparison of two values (mremap's
            // `new_ptl != old_ptl`, ptdump's `mm != &init_mm`).
            """
            bool move_pmd(struct mm_struct *mm, pmd_t *old_pmd, pmd_t *new_pmd)
            {
            	spinlock_t *old_ptl, *new_ptl;
            	old_ptl = pmd_lock(mm, old_pmd);
            	new_ptl = pmd_lockptr(mm, new_pmd);
            	if (new_ptl != old_ptl)
            		spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING);
            	if (mm != &init_mm)
            		mmap_write_lock_nested(&init_mm, SINGLE_DEPTH_NESTING);
            	pmd_clear(old_pmd);
            	if (mm != &init_mm)
            		mmap_write_unlock(&init_mm);
            	if (new_ptl != old_ptl)
            		spin_unlock(new_ptl);
            	spin_unlock(old_ptl);
            	return true;
            }
            """,
            // A helper that drops the caller's lock and takes it again.
            """
            void f(struct mm_struct *mm)
            {
            	mmap_read_unlock(mm);
            	g();
            	mmap_read_lock(mm);
            }
            """,
        ],
        advice: "Release the lock on every exit: send the error paths through the exit label that unlocks (`goto out`) instead of returning early.",
        instead: """
            int f(struct mm_struct *mm)
            {
            	int ret;
            	mmap_read_lock(mm);
            	ret = g(mm);
            	if (ret)
            		goto out;
            	ret = h(mm);
            out:
            	mmap_read_unlock(mm);
            	return ret;
            }
            """,
        references: [
            "Documentation/mm/process_addrs.rst (mmap_lock rules)",
            "Documentation/kernel-hacking/locking.rst",
            "Documentation/process/coding-style.rst, section 7: centralized exiting of functions",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let analysis = context.locks
        let graph = analysis.graph
        let keysReleased = Set(analysis.events.values.filter { $0.action == .release }.map(\.key))

        // Exits where each lock is held, and exits where it was released.
        var heldAt: [String: [(node: Int, record: LockRecord)]] = [:]
        var presumedReleasedSomewhere = Set<String>()
        // Where the hunk stops before the function does, a path that got there after releasing
        // the lock shows the function's own habit as well as an exit would (the unlock after the
        // loop, when the early return inside it keeps the lock).
        for end in graph.nodes.indices {
            guard case .unknownEnd = graph.nodes[end].action else { continue }
            for state in analysis.statesAt[end] {
                for (key, record) in state.locks where record.status == .releasedPresumed {
                    presumedReleasedSomewhere.insert(key)
                }
            }
        }
        for exit in graph.exits {
            for state in analysis.statesAt[exit] {
                for (key, record) in state.locks {
                    switch record.status {
                    case .held, .presumedHeld:
                        heldAt[key, default: []].append((exit, record))
                    case .released, .releasedPresumed:
                        if record.status == .releasedPresumed { presumedReleasedSomewhere.insert(key) }
                    default:
                        break
                    }
                }
            }
        }

        // States at an exit form a set, iterated in a per-process hash order: the sites are put in
        // a fixed order (exit, then the earliest taking line) so that the same patch always gets
        // the same "taken here" note when paths that took the lock at different lines meet at one
        // exit (mm/memory.c apply_to_pte_range: pte_alloc_map_lock or pte_offset_map_lock).
        for key in heldAt.keys {
            heldAt[key]?.sort { a, b in
                (a.node, a.record.acquiredLine ?? Int.max, a.record.event.call.line, a.record.status == .held ? 0 : 1)
                    < (b.node, b.record.acquiredLine ?? Int.max, b.record.event.call.line, b.record.status == .held ? 0 : 1)
            }
        }

        // Kernel naming: lock_anon_vma_root(), find_lock_task_mm(), folio_lock_anon_vma_read()
        // return with a lock held by design.
        let name = context.model.name.lowercased()
        let namedAsLockHelper = name.contains("lock") && !name.contains("unlock")
        let handsLocksToCaller = namedAsLockHelper || returnsLockedOnSuccess(analysis)
        // Sparse's `__acquires(&cgroup_mutex)` on the definition: the function returns holding
        // that lock for its caller (cgroup_css_set_fork() takes it for cgroup_post_fork()).
        let annotatedAcquired = Set(LockAnnotation.of(context.model).filter { $0.kind == .acquires }.map(\.lock))
        var findings: [SideFinding] = []
        var reported = Set<String>()
        for (key, sites) in heldAt.sorted(by: { $0.key < $1.key }) {
            // A function that never releases the lock takes it for its caller, unless a try-lock
            // leaves it held on one path into an exit that other paths reach without it: the
            // caller cannot tell whether it holds the lock.
            guard keysReleased.contains(key) || sites.contains(where: { site in
                trylockSplitsExit(key: key, record: site.record, exit: site.node, analysis: analysis) })
            else { continue }
            if handsLocksToCaller || annotatedAcquired.contains(key) { continue }
            if let first = sites.first, locksThroughCallerState(first.record.event, model: context.model) { continue }
            let returnConvention = ReturnedLockConvention(analysis: analysis, model: context.model)
            for site in sites {
                if handsOver(site.record.event, at: graph.nodes[site.node]) { continue }
                if returnConvention.handsOver(key: key, event: site.record.event, exit: site.node) { continue }
                let exitLine = graph.nodes[site.node].line
                let dedupe = "\(key)@\(exitLine)"
                if reported.contains(dedupe) { continue }
                let event = site.record.event
                if site.record.status == .presumedHeld {
                    // Taken in code the patch does not show: only a leak when other exits release it,
                    // and not when the release depends only on what the caller passed.
                    guard presumedReleasedSomewhere.contains(key),
                          !releasedUnderCallerFlag(key: key, analysis: analysis, model: context.model)
                    else { continue }
                    reported.insert(dedupe)
                    let releaseLine = analysis.events.filter { $0.value.key == key && $0.value.action == .release }
                        .map { $0.value.call.line }.min()
                    var notes: [SideNote] = []
                    if let releaseLine {
                        notes.append(SideNote(line: releaseLine, message: "\(event.spoken) is released here on the other paths"))
                    }
                    findings.append(SideFinding(
                        rule: description.id, severity: description.severity, line: exitLine,
                        message: "\(context.spokenFunction) returns here with \(event.spoken) still held, "
                            + "while its other exits release it",
                        notes: notes, matchKey: "\(key)|\(context.code(at: exitLine))"))
                } else {
                    reported.insert(dedupe)
                    var notes: [SideNote] = []
                    if let line = site.record.acquiredLine {
                        notes.append(SideNote(line: line, message: "\(event.spoken) is taken here"))
                    }
                    findings.append(SideFinding(
                        rule: description.id, severity: description.severity, line: exitLine,
                        message: "\(context.spokenFunction) returns here with \(event.spoken) still held",
                        notes: notes, matchKey: "\(key)|\(context.code(at: exitLine))"))
                }
            }
        }
        return findings + releasesThePatchAdds(context)
    }

    /// In the pre-image, an exit before which the patch adds the release of a lock taken out of
    /// sight (PatchLockEdits): the author says the lock is held there, and the old code left
    /// without releasing it.
    private func releasesThePatchAdds(_ context: FunctionContext) -> [SideFinding] {
        PatchLockEdits.addedBeforeUnchangedExits(context)
            .filter { $0.event.action == .release && $0.replacedAcquireLine == nil }.map { added in
            let event = added.event
            let leaves = added.leavesLoop ? "leaves its loop" : "returns"
            return SideFinding(
                rule: description.id, severity: description.severity, line: added.exitLine,
                message: "\(context.spokenFunction) \(leaves) here with \(event.spoken) still held: the patch adds \(event.call.callee)() before this exit",
                matchKey: "\(event.key)|added-release|\(context.code(at: added.exitLine))")
        }
    }

    /// Every release of a lock the caller holds sits under an `if` that tests only the function's
    /// parameters (`if (kargs->flags & CLONE_INTO_CGROUP) mutex_unlock(&cgroup_mutex);` in
    /// cgroup_post_fork()): the caller holds the lock exactly when that flag says so, having taken
    /// it under the same flag, and the path around the release is the one where it does not.
    private func releasedUnderCallerFlag(key: String, analysis: LockStateAnalysis, model: FunctionModel) -> Bool {
        let releaseLines = Set(analysis.events.values.filter { $0.key == key && $0.action == .release }.map(\.call.line))
        guard !releaseLines.isEmpty else { return false }
        let parameters = Set(model.parameterNames)
        var guarded = Set<Int>()
        func visit(_ statement: Statement) {
            switch statement {
            case .block(let items):
                items.forEach(visit)
            case .ifElse(let condition, let then, let otherwise):
                if testsOnly(parameters, condition.text) {
                    let inside = Set(then.allCalls.map(\.line)).intersection(releaseLines)
                    let elsewhere = otherwise.map { Set($0.allCalls.map(\.line)).intersection(releaseLines) } ?? []
                    if elsewhere.isEmpty { guarded.formUnion(inside) }
                }
                visit(then)
                otherwise.map(visit)
            case .loop(let loop):
                visit(loop.body)
            case .switchCase(_, let body):
                visit(body)
            default:
                break
            }
        }
        visit(model.body)
        return guarded == releaseLines
    }

    /// A condition whose every name is a parameter (or a member reached from one), a constant in
    /// capitals, or a number, with no call: it says what the caller asked for, not what the
    /// function found.
    private func testsOnly(_ parameters: Set<String>, _ condition: String) -> Bool {
        func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        let text = Array(condition.filter { !$0.isWhitespace })
        var sawParameter = false
        var start = 0
        while start < text.count {
            guard isNameCharacter(text[start]) else { start += 1; continue }
            var end = start
            while end < text.count && isNameCharacter(text[end]) { end += 1 }
            let word = String(text[start..<end])
            let before: Character = start > 0 ? text[start - 1] : " "
            // A call in the condition asks something at run time.
            if end < text.count && text[end] == "(" { return false }
            // Numbers, and member names after `->` or `.`, say nothing of their own.
            if !(word.first!.isNumber || before == ">" || before == ".") {
                if parameters.contains(word) {
                    sawParameter = true
                } else if !word.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) {
                    return false
                }
            }
            start = end
        }
        return sawParameter
    }

    /// The lock was taken by a try-lock in sight and the same exit is also reached with it not
    /// held (`if (!trylock_page(page)) …; return 0;`).
    private func trylockSplitsExit(key: String, record: LockRecord, exit: Int, analysis: LockStateAnalysis) -> Bool {
        guard record.status == .held, case .tryAcquire = record.event.action else { return false }
        return analysis.statesAt[exit].contains { state in
            state.locks[key].map { $0.status != .held && $0.status != .presumedHeld } ?? true
        }
    }

    /// The lock is reached through a pointer the caller gave (`*vmf->ptl`, `*pvmw->ptl`): the
    /// function records which lock it holds where its caller will look, and the caller unlocks
    /// it (page_vma_mapped_walk() returns true with pvmw->ptl held).
    private func locksThroughCallerState(_ event: LockEvent, model: FunctionModel) -> Bool {
        let display = ConditionFacts.atom(event.display)
        guard display.hasPrefix("*"), display.contains("->") else { return false }
        let base = display.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return model.parameterNames.contains(String(base))
    }

    private func returnText(_ node: FlowNode) -> String {
        if case .exit(_, let value) = node.action, let value { return ConditionFacts.atom(value.text) }
        return ""
    }

    /// The exit gives the lock to the caller with the object: `return page;` with the page locked,
    /// `return ptl;`, or a fault handler's `return VM_FAULT_LOCKED`.
    private func handsOver(_ event: LockEvent, at exit: FlowNode) -> Bool {
        let value = returnText(exit)
        guard !value.isEmpty else { return false }
        if value.contains("_LOCKED") { return true }
        return ConditionFacts.dereferencedBases(of: event.display).contains { base in
            ConditionFacts.mentions(value, variable: ConditionFacts.atom(base))
        }
    }

    /// A helper that returns with a lock held for its caller: every exit that returns success (the
    /// locked object, true, 0) holds a lock it took, every exit that returns failure (NULL, false,
    /// an error code) holds none. anon_vma_lock_root() and page_lock_anon_vma_read() look like this.
    private func returnsLockedOnSuccess(_ analysis: LockStateAnalysis) -> Bool {
        var sawSuccess = false
        var sawFailure = false
        for exit in analysis.graph.exits where !analysis.statesAt[exit].isEmpty {
            let value = returnText(analysis.graph.nodes[exit])
            if value.isEmpty { return false }
            let failure = isFailureValue(value)
            for state in analysis.statesAt[exit] {
                let holdsOwnLock = state.locks.values.contains { $0.status == .held }
                if failure {
                    if holdsOwnLock { return false }
                    sawFailure = true
                } else {
                    if !holdsOwnLock { return false }
                    sawSuccess = true
                }
            }
        }
        return sawSuccess && sawFailure
    }

    private func isFailureValue(_ text: String) -> Bool {
        text == "NULL" || text == "false" || text.hasPrefix("-") || text.hasPrefix("ERR_PTR(")
    }
}
