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
            the result without a test oopses exactly in the rare case nobody tried. Functions that \
            return an ERR_PTR never return NULL, so `if (!p)` lets the error through, and IS_ERR() \
            on a NULL result never fires.
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

        var findings: [SideFinding] = []
        for incident in flow.incidents {
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
                message = "can \(variable) be NULL here? \(callee) \(how) and \(variable) is dereferenced without a check"
            case .nullTestOfErrPointer:
                message = "\(callee) returns an ERR_PTR on failure, not NULL: this test lets the error through; use IS_ERR(\(source.variable))"
            case .errTestOfNull:
                message = "\(callee) returns NULL on failure, not an ERR_PTR: IS_ERR(\(source.variable)) never catches it"
            }
            var notes = [SideNote(line: source.line, message: "\(variable) is set from \(callee) here")]
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: incident.line,
                message: message, notes: notes,
                matchKey: "\(source.variable)|\(source.callee)|\(context.code(at: incident.line))"))
        }
        return findings
    }
}
