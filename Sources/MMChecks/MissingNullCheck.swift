import MMAnalysis
import MMCore
import MMFacts

/// The result of a call that can return NULL is dereferenced on a path that never tested it; or an
/// ERR_PTR result is tested against NULL, or a NULL result with IS_ERR().
public struct MissingNullCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "missing-null-check",
        summary: "a result that can be NULL is dereferenced without a check",
        rationale: """
            Lookups (find_vma, find_get_page), allocations and get_task_mm return NULL when there is \
            nothing or no memory, and so do helpers a patch adds with a `return NULL` path. Using \
            the result without a test oopses exactly in the rare case nobody tried, whether the \
            function reads through it or hands it to a call that does: memset() and the others \
            Rules/ names, or one named after the object it works on (`vma_pages(vma)`, \
            `page_address(page)`), unless it is a teardown call that accepts NULL like kfree. \
            Functions that return an ERR_PTR never return NULL, so `if (!p)` lets the error \
            through, and IS_ERR() on a NULL result never fires.
            """,
        severity: .warning,
        triggering: [
            // A lookup used at once.
            """
            unsigned long f(struct mm_struct *mm, unsigned long addr)
            {
            	struct vm_area_struct *vma;
            	vma = find_vma(mm, addr);
            ↓	return vma->vm_end - addr;
            }
            """,
            // A helper of the patch returns NULL; its caller walks the list without a check.
            """
            struct anon_vma *lock_root(struct anon_vma *anon_vma)
            {
            	spin_lock(&anon_vma->lock);
            	if (list_empty(&anon_vma->head)) {
            		spin_unlock(&anon_vma->lock);
            		return NULL;
            	}
            	return anon_vma;
            }

            int walk(struct anon_vma *anon_vma)
            {
            	struct anon_vma_chain *avc;
            	int n = 0;
            	anon_vma = lock_root(anon_vma);
            ↓	list_for_each_entry(avc, &anon_vma->head, same_anon_vma)
            		n++;
            	spin_unlock(&anon_vma->lock);
            	return n;
            }
            """,
            // Handed to a call that writes through it (Rules/: `dereferences`).
            """
            static int dump_state(struct seq_file *m)
            {
            	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
            ↓	memset(buf, 0, PAGE_SIZE);
            	fill(buf);
            	seq_puts(m, buf);
            	kfree(buf);
            	return 0;
            }
            """,
            // A function named after the object it works on reads through its first argument.
            """
            static unsigned long vma_end(struct mm_struct *mm, unsigned long addr)
            {
            	struct vm_area_struct *vma;
            	vma = find_vma(mm, addr);
            ↓	return vma_pages(vma);
            }
            """,
            // Stored in a structure member and used through it; a NULL test of a thread
            // handle that kthread_run() returns as an ERR_PTR.
            """
            static int attach(struct state *state, struct dev *dev)
            {
            	state->internal = kmalloc(sizeof(struct internal), GFP_KERNEL);
            	add_internal(state->internal);
            ↓	state->internal->num_used = 1;
            	dev->kthread = kthread_run(worker, dev, "worker");
            ↓	if (!dev->kthread)
            		return -ENOMEM;
            	return 0;
            }
            """,
            // A page-table constructor sets up the page it is given.
            """
            static struct page *pte_alloc_one(struct mm_struct *mm)
            {
            	struct page *pte;
            	pte = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
            ↓	pgtable_page_ctor(pte);
            	return pte;
            }
            """,
            // Read through before the function's own NULL test of the same value (via a copy).
            """
            static int name_len(struct foo *foo)
            {
            	const char *name;
            ↓	size_t n = strlen(foo->name);
            	name = foo->name;
            	if (!name)
            		return -EINVAL;
            	return n;
            }
            """,
            // NULL test of an ERR_PTR result, IS_ERR test of a NULL one.
            """
            int f(struct path *p, char *buf, struct cpt_context *ctx)
            {
            	char *path;
            	void *v;
            	path = d_path(p, buf, PAGE_SIZE);
            ↓	if (!path)
            		return -ENOMEM;
            	v = kmalloc(64, GFP_KERNEL);
            ↓	if (IS_ERR(v))
            		return PTR_ERR(v);
            	ctx->write(path, v);
            	kfree(v);
            	return 0;
            }
            """,
        ],
        nonTriggering: [
            // Teardown calls named after the object accept NULL as kfree does; a helper of the
            // patch named after it that tests it itself.
            """
            static void foo_setup(struct foo *foo)
            {
            	if (!foo)
            		return;
            	foo->ready = 1;
            }

            static struct foo *make_foo(void)
            {
            	struct foo *foo = kzalloc(sizeof(*foo), GFP_KERNEL);
            	foo_setup(foo);
            	return foo;
            }

            static void try_foo(void)
            {
            	struct foo *foo = kzalloc(sizeof(*foo), GFP_KERNEL);
            	foo_free(foo);
            }
            """,
            // Calls that run only once the same expression has tested the pointer.
            """
            static void *first_address(struct mm_struct *mm, unsigned long addr, int nid)
            {
            	struct vm_area_struct *vma = find_vma(mm, addr);
            	struct page *page;
            	if (!vma || !vma_migratable(vma))
            		return NULL;
            	page = alloc_pages_node(nid, GFP_KERNEL, 0);
            	if (page && page_to_nid(page) != nid)
            		count_remote_page(nid);
            	return page ? page_address(page) : NULL;
            }
            """,
            // Tested before it is read through; read through on one path only; a new value before the test.
            """
            static int name_len(struct foo *foo, int quick)
            {
            	size_t n = 0;
            	if (!foo->name)
            		return -EINVAL;
            	n = strlen(foo->name);
            	if (quick)
            		n += strlen(foo->alias);
            	if (!foo->alias)
            		return n;
            	foo->name = lookup_name(foo);
            	if (!foo->name)
            		return -ENOENT;
            	return n;
            }
            """,
            // The test guards the read in its own condition; taking a member's address reads nothing.
            """
            static int check_name(const char *name, struct foo *foo)
            {
            	struct list_head *head = &foo->list;
            	if (!name || strlen(name) > 8)
            		return -EINVAL;
            	if (!foo)
            		return -ENOENT;
            	return list_empty(head);
            }
            """,
            // A member tested before use; a member whose structure is handed to a call, which
            // may set it up.
            """
            static int attach(struct state *state, struct dev *dev)
            {
            	state->internal = kmalloc(sizeof(struct internal), GFP_KERNEL);
            	if (!state->internal)
            		return -ENOMEM;
            	state->internal->num_used = 1;
            	dev->buf = kmalloc(64, GFP_KERNEL);
            	setup_buffers(dev);
            	dev->buf->len = 64;
            	return 0;
            }
            """,
            // Checked, in the usual shapes.
            """
            int f(struct mm_struct *mm, unsigned long addr, size_t n)
            {
            	struct vm_area_struct *vma = find_vma(mm, addr);
            	struct page *page;
            	char *buf;
            	if (!vma || vma->vm_start > addr)
            		return -EFAULT;
            	if ((page = alloc_page(GFP_KERNEL)) == NULL)
            		return -ENOMEM;
            	buf = kmalloc(n, GFP_KERNEL);
            	if (buf == NULL) {
            		__free_page(page);
            		return -ENOMEM;
            	}
            	buf[0] = vma->vm_flags;
            	page->index = addr;
            	kfree(buf);
            	__free_page(page);
            	return 0;
            }
            """,
            // The failure path ends in panic(), which does not return (Rules/: returns: never).
            """
            struct kmem_cache *f(const char *name)
            {
            	struct kmem_cache *s = kmem_cache_zalloc(kmem_cache, GFP_NOWAIT);
            	if (!s)
            		panic("Out of memory when creating slab %s\\n", name);
            	list_add(&s->list, &slab_caches);
            	return s;
            }
            """,
            // Returned, or stored in a structure: the caller or the owner checks.
            """
            struct foo *f(struct bar *b, size_t n)
            {
            	struct foo *x = kzalloc(sizeof(*x), GFP_KERNEL);
            	b->buf = kmalloc(n, GFP_KERNEL);
            	return x;
            }
            """,
            // A helper of the patch tests its argument for NULL itself.
            """
            static int vma_ok(struct vm_area_struct *vma, unsigned long addr)
            {
            	if (!vma)
            		return 0;
            	return vma->vm_start <= addr;
            }

            int f(struct mm_struct *mm, unsigned long addr)
            {
            	struct vm_area_struct *vma = find_vma(mm, addr);
            	if (!vma_ok(vma, addr))
            		return -EFAULT;
            	return vma->vm_flags & VM_WRITE;
            }
            """,
            // IS_ERR on an ERR_PTR result, a guarded ternary, and sizeof(*p), which reads nothing.
            """
            int f(struct path *p, char *buf, struct mm_struct *mm, unsigned long addr)
            {
            	char *path = d_path(p, buf, PAGE_SIZE);
            	struct vm_area_struct *vma = find_vma(mm, addr);
            	struct page *page;
            	if (IS_ERR(path))
            		return PTR_ERR(path);
            	page = kmalloc(sizeof(*page), GFP_KERNEL | __GFP_NOFAIL);
            	page->index = vma ? vma->vm_pgoff : 0;
            	return path[0];
            }
            """,
        ],
        advice: "Test the result before using it and return -ENOMEM (or the lookup's error) when it is NULL; use IS_ERR() only on ERR_PTR results.",
        instead: """
            int f(int n)
            {
            	struct foo *p = kmalloc(n, GFP_KERNEL);
            	if (!p)
            		return -ENOMEM;
            	p->n = n;
            	kfree(p);
            	return 0;
            }
            """,
        references: [
            "Documentation/core-api/memory-allocation.rst",
            "include/linux/err.h",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let model = context.model
        let side = model.side
        let helperFailure = context.patch.summaries.pointerFailures[side] ?? [:]
        let testingHelpers = context.patch.summaries.nullTestedParameters[side] ?? [:]
        let facts = context.facts
        let flow = NullFlow(model: model, endsAtClosingBrace: context.endsAtClosingBrace, kind: { name in
            switch helperFailure[name] {
            case .null?: return .null
            case .errPointer?: return .errPointer
            case .nullOrError?: return .nullOrError
            case nil: break
            }
            switch facts.call(named: name)?.returns {
            case .nullOnFailure?: return .null
            case .errPointer?: return .errPointer
            default: return nil
            }
        }, nullTestingHelpers: testingHelpers, noReturn: facts.noReturnCalls,
           dereferencingCalls: facts.dereferencingCalls)

        // One finding per dereference (or test) and pointer source: a pointer set from the same
        // call at two lines that both reach the dereference (`p = next_mnt(p, old)` before a loop
        // and in it) is one problem, with a note at each line.
        var findings: [SideFinding] = []
        var findingIndex: [String: Int] = [:]
        for incident in flow.incidents.sorted(by: { ($0.line, $0.source.line) < ($1.line, $1.source.line) }) {
            let source = incident.source
            // Which failure value a helper of the patch returns on its other paths is not certain
            // (it may pass on another call's ERR_PTR, or a value that is NULL by design): only
            // Rules/ are sure enough to call a NULL or IS_ERR test the wrong one.
            if incident.kind != .dereference, helperFailure[source.callee] != nil { continue }
            let callee = source.callee + "()"
            let variable = "'\(source.variable)'"
            let message: String
            switch incident.kind {
            case .dereference:
                let how = helperFailure[source.callee] != nil ? "returns NULL on some paths" : "can return NULL"
                let use = incident.callee.map { "is handed to \($0)(), which dereferences it," } ?? "is dereferenced"
                message = "can \(variable) be NULL here? \(callee) \(how) and \(variable) \(use) without a check"
            case .nullTestOfErrPointer:
                message = "\(callee) returns an ERR_PTR on failure, not NULL: this test lets the error through; use IS_ERR(\(source.variable))"
            case .errTestOfNull:
                message = "\(callee) returns NULL on failure, not an ERR_PTR: IS_ERR(\(source.variable)) never catches it"
            }
            let note = SideNote(line: source.line, message: "\(variable) is set from \(callee) here")
            let key = "\(incident.line)|\(incident.kind)|\(source.variable)|\(source.callee)"
            if let index = findingIndex[key] {
                if !findings[index].notes.contains(note) { findings[index].notes.append(note) }
                continue
            }
            findingIndex[key] = findings.count
            let notes = [note]
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: incident.line,
                message: message, notes: notes,
                matchKey: "\(source.variable)|\(source.callee)|\(context.code(at: incident.line))"))
        }
        return findings + removedNullTests(context) + dereferencesBeforeTests(context)
    }

    /// A pointer every path dereferences before the function tests it for NULL (itself or a copy):
    /// the test says it can be NULL, so the dereference above it oopses first.
    func dereferencesBeforeTests(_ context: FunctionContext) -> [SideFinding] {
        let analysis = DereferenceBeforeTest(model: context.model, endsAtClosingBrace: context.endsAtClosingBrace,
                                             dereferencingCalls: context.facts.dereferencingCalls,
                                             noReturn: context.facts.noReturnCalls)
        return analysis.incidents.map { incident in
            let how = incident.dereferencingCall.map { "\($0)() reads through '\(incident.pointer)'" }
                ?? "'\(incident.pointer)' is dereferenced"
            let copy = incident.testedAs == incident.pointer ? "" : " (as '\(incident.testedAs)')"
            return SideFinding(
                rule: description.id, severity: description.severity, line: incident.dereferenceLine,
                message: "can '\(incident.pointer)' be NULL here? \(how) before the function tests it for NULL\(copy): "
                    + "the test comes too late",
                notes: [SideNote(line: incident.testLine, message: "'\(incident.testedAs)' is tested for NULL here")],
                matchKey: "tested-after|\(incident.pointer)|\(context.code(at: incident.dereferenceLine))")
        }
    }

    /// A NULL test of a call's result that the patch removes while the new code still uses the
    /// result: the old code's own test says the call can fail (`if (map) { … }` dropped after
    /// `map = __alloc_bootmem_node_high(…)`). Reported at the first use after the call.
    func removedNullTests(_ context: FunctionContext) -> [SideFinding] {
        let model = context.model
        guard model.side == .after,
              let before = context.patch.models.first(where: { $0.side == .before && $0.name == model.name })
        else { return [] }
        let oldStores = Self.callResultStores(in: before.body)
        guard !oldStores.isEmpty else { return [] }
        let oldConditions = Self.conditions(in: before.body)
        let newConditions = Self.conditions(in: model.body)
        let newCalls = model.body.allCalls
        var findings: [SideFinding] = []
        var reported = Set<String>()
        for store in Self.callResultStores(in: model.body) {
            let v = ConditionFacts.atom(store.target)
            guard let callee = store.valueCallee, NullFlow.isIdentifier(v) || NullFlow.isMemberPath(v),
                  !reported.contains(v),
                  !store.value.contains("__GFP_NOFAIL"),
                  // The same call, unchanged: a call the patch rewrites may have stopped failing.
                  oldStores.contains(where: {
                      ConditionFacts.atom($0.target) == v && ConditionFacts.atom($0.value) == ConditionFacts.atom(store.value)
                  })
            else { continue }
            // The old code tested it against NULL …
            let oldTest = oldConditions.contains { condition in
                let text = NullFlow.unwrapStore(ConditionFacts.atom(condition.text), variable: v)
                return ConditionFacts.facts(condition: text, outcome: true).contains { $0.atom == v }
            }
            guard oldTest else { continue }
            // … and the new code tests it nowhere, not even with IS_ERR() or an assertion.
            if newConditions.contains(where: { ResultFlow.mentions(ConditionFacts.atom($0.text), v) }) { continue }
            let assertions = newCalls.filter { call in
                let name = call.callee
                return name.hasPrefix("IS_ERR") || name.contains("BUG_ON") || name.contains("WARN")
            }
            if assertions.contains(where: { $0.arguments.contains { ResultFlow.mentions(ConditionFacts.atom($0), v) } }) {
                continue
            }
            guard let use = Self.firstUse(of: v, after: store.line, in: model) else { continue }
            reported.insert(v)
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: use,
                message: "can '\(v)' be NULL here? The patch removes the NULL test of '\(v)' that the old code made "
                    + "after \(callee)(), and uses it without one",
                notes: [SideNote(line: store.line, message: "'\(v)' is set from \(callee)() here")],
                matchKey: "removed-test|\(v)|\(callee)|\(context.code(at: use))"))
        }
        return findings
    }

    /// Stores of a call's result: `p = f(…)`.
    static func callResultStores(in body: Statement) -> [Assignment] {
        var stores: [Assignment] = []
        body.visitExpressions { expression in
            stores += expression.assignments.filter { $0.valueCallee != nil }
        }
        return stores
    }

    /// The conditions of every if, loop and switch.
    static func conditions(in statement: Statement) -> [Expression] {
        switch statement {
        case .block(let items): return items.flatMap(conditions)
        case .ifElse(let condition, let then, let otherwise):
            return [condition] + conditions(in: then) + (otherwise.map(conditions) ?? [])
        case .loop(let loop): return (loop.condition.map { [$0] } ?? []) + conditions(in: loop.body)
        case .switchCase(let condition, let body): return [condition] + conditions(in: body)
        default: return []
        }
    }

    /// The first source line after the statement that ends on or after `line` which mentions `v`,
    /// comments aside.
    static func firstUse(of v: String, after line: Int, in model: FunctionModel) -> Int? {
        let lines = model.sourceLines.keys.sorted().filter { $0 >= line }
        guard let end = lines.first(where: { (model.sourceLines[$0] ?? "").trimmingBlanks().hasSuffix(";") }) else { return nil }
        for candidate in lines where candidate > end {
            let text = (model.sourceLines[candidate] ?? "").trimmingBlanks()
            if text.hasPrefix("/*") || text.hasPrefix("*") || text.hasPrefix("//") { continue }
            if ResultFlow.mentions(ConditionFacts.atom(text), v) { return candidate }
        }
        return nil
    }
}
