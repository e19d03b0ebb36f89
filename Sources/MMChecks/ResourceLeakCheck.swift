import MMAnalysis
import MMCore
import MMFacts

/// A path from a reference or allocation (a pair in Rules/pairs.yaml) to a return without the
/// matching release, where the object is neither returned nor stored somewhere that outlives the
/// function.
public struct ResourceLeakCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "resource-leak",
        summary: "a path returns without dropping a reference or freeing memory it took",
        rationale: """
            A reference taken with get_file(), get_page(), mmget() … or memory from kmalloc() and \
            friends must be dropped on every path that does not hand it on. Error paths added by a \
            patch are where this goes wrong: an early `return ret` that skips the fput() or kfree() \
            under the exit label leaks the file, the page or the memory each time the error happens.
            """,
        severity: .warning,
        triggering: [
            """
            static int f(struct ctx *ctx, struct mm_struct *mm)
            {
            	struct file *exe_file = NULL;
            	int ret;
            	if (mm->exe_file) {
            		exe_file = mm->exe_file;
            		get_file(exe_file);
            	}
            	ret = write_header(ctx, exe_file);
            	if (ret < 0)
            ↓		return ret;
            	ret = write_body(ctx);
            out:
            	if (exe_file)
            		fput(exe_file);
            	return ret;
            }
            """,
            """
            int f(struct foo *foo, int n)
            {
            	struct bar *buf;
            	buf = kmalloc(n, GFP_KERNEL);
            	if (!buf)
            		return -ENOMEM;
            	if (n > foo->max)
            ↓		return -EINVAL;
            	foo->count = fill(foo, n);
            	kfree(buf);
            	return 0;
            }
            """,
            // A copy of the pointer is the same object; the release must come on every path.
            """
            void f(struct vm_area_struct *vma)
            {
            	struct page *page = vma->page;
            	struct page *p;
            	get_page(page);
            	p = page;
            	if (vma->vm_flags & VM_LOCKED)
            ↓		return;
            	put_page(p);
            }
            """,
            // Memory kept in a member of a structure the function frees itself: freeing the
            // structure on the error path loses it.
            """
            static struct dev *attach(struct cfg *cfg)
            {
            	struct dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
            	if (!dev)
            		return NULL;
            	dev->priv = kmalloc(sizeof(*dev->priv), GFP_KERNEL);
            	if (!dev->priv)
            		goto err;
            	if (register_priv(dev->priv) < 0) {
            		kfree(dev->priv);
            		goto err;
            	}
            	if (setup(dev, cfg) < 0)
            		goto err;
            	return dev;
            err:
            	kfree(dev);
            ↓	return NULL;
            }
            """,
            // An error return that skips the exit label named after the object in use, whose
            // acquire and release lie outside the code shown.
            """
            static int g(struct ctx *ctx)
            {
            	struct buf *buf = ctx_buf(ctx);
            	if (mutex_lock_killable(&buf->lock))
            ↓		return -EINTR;
            	fill(buf);
            	mutex_unlock(&buf->lock);
            	goto out_buf;
            """,
        ],
        nonTriggering: [
            // The allocation failed on the early return: nothing to free.
            """
            int f(struct foo *foo)
            {
            	struct bar *b = kzalloc(sizeof(*b), GFP_KERNEL);
            	if (!b)
            		return -ENOMEM;
            	g(foo, b->x);
            	kfree(b);
            	return 0;
            }
            """,
            // Handed to the caller.
            """
            struct file *f(struct vm_area_struct *vma)
            {
            	struct file *file = vma->vm_file;
            	if (file)
            		get_file(file);
            	return file;
            }
            """,
            // Stored where it outlives the function, and through an out-parameter.
            """
            int f(struct foo *foo, struct bar **out)
            {
            	struct bar *b = kmalloc(sizeof(*b), GFP_KERNEL);
            	struct bar *c;
            	if (!b)
            		return -ENOMEM;
            	foo->bar = b;
            	c = kmalloc(sizeof(*c), GFP_KERNEL);
            	if (!c)
            		return -ENOMEM;
            	*out = c;
            	return 0;
            }
            """,
            // Taken and dropped once per iteration; the last one dropped after the loop.
            """
            int f(struct mm_struct *mm)
            {
            	struct vm_area_struct *vma, *next;
            	int ret = 0;
            	vma = kzalloc(sizeof(*vma), GFP_KERNEL);
            	if (!vma)
            		return -ENOMEM;
            	while (1) {
            		next = find_vma(mm, vma->vm_end);
            		if (!next)
            			break;
            		if (vma->vm_file)
            			fput(vma->vm_file);
            		*vma = *next;
            		if (vma->vm_file)
            			get_file(vma->vm_file);
            		ret = g(vma);
            		if (ret < 0)
            			break;
            	}
            	if (vma->vm_file)
            		fput(vma->vm_file);
            	kfree(vma);
            	return ret;
            }
            """,
            // Passed to a function that keeps it on success, freed when that fails.
            """
            int f(struct foo *foo)
            {
            	int err;
            	struct bar *b = kmalloc(sizeof(*b), GFP_KERNEL);
            	if (!b)
            		return -ENOMEM;
            	err = register_bar(foo, b);
            	if (err) {
            		kfree(b);
            		return err;
            	}
            	return 0;
            }
            """,
            // The visible code stops mid-function: what follows may release it.
            """
            int f(struct file *file)
            {
            	get_file(file);
            	g(file);
            """,
        ],
        advice: "Drop the reference or free the memory on every exit: route the error paths through labels that undo what was taken, in reverse order.",
        instead: """
            int f(struct ctx *ctx, struct mm_struct *mm)
            {
            	struct file *file = mm->exe_file;
            	int ret;
            	get_file(file);
            	ret = write_file(ctx, file);
            	if (ret < 0)
            		goto out;
            	ret = write_more(ctx);
            out:
            	fput(file);
            	return ret;
            }
            """,
        references: [
            "Documentation/process/coding-style.rst, section 7: centralized exiting of functions",
            "Documentation/core-api/kref.rst",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let skipped = skippedCleanupLabels(context)
        let pairs = context.facts.pairs
        guard !pairs.isEmpty else { return skipped }
        let calls = context.model.body.allCalls
        let taught = TaughtRelease.find(context: context, pairs: pairs)
        // Cheap exit: most functions take or drop nothing the pairs know, and the patch adds no
        // release to them.
        let facts = context.facts
        guard !taught.isEmpty || calls.contains(where: { call in
            facts.pairsByRelease[call.callee] != nil || call.functionName.map { facts.pairsByAcquire[$0] != nil } == true
        }) else { return skipped }
        var walk = ResourceWalk(context: context, taught: taught)
        walk.run()
        return walk.findings(check: self, context: context) + skipped
    }

    /// Error returns that bypass an unseen exit label named after an object in use (SkippedCleanupLabel).
    func skippedCleanupLabels(_ context: FunctionContext) -> [SideFinding] {
        SkippedCleanupLabel.find(in: context.model).map { skip in
            SideFinding(
                rule: description.id, severity: description.severity, line: skip.returnLine,
                message: "\(context.spokenFunction) returns here without going through '\(skip.label)', "
                    + "where its other exits drop '\(skip.object)': is '\(skip.object)' leaked?",
                notes: [SideNote(line: skip.firstUseLine, message: "'\(skip.object)' is in use from here")],
                matchKey: "skips-label|\(skip.label)|\(context.code(at: skip.returnLine))")
        }
    }
}

/// One reference or allocation held on a path.
private struct HeldResource: Hashable {
    /// The object as acquired (`exe_file`, `vma->vm_file`, `buf`).
    var object: String
    /// Every name the object goes by on this path (simple copies `p = obj`).
    var aliases: Set<String>
    var acquireLine: Int
    var acquireCallee: String
    var pairIndex: Int
    /// Given to another call, which may have kept it: only a leak on an error return.
    var passed = false
    /// Code the patch does not show ran since the acquire, which may have stored or released it.
    var throughGap = false
    /// Taken in code the patch does not show: presumed from a release in sight, in the last
    /// stretch of unseen code before it.
    var presumed = false
    /// Owned here because the patch adds its release at this point (see TaughtRelease).
    var taught = false

    /// The walk hashes every resource of every path at every merge: the object and where it
    /// was taken tell resources apart without hashing the aliases. Equality still compares
    /// everything.
    func hash(into hasher: inout Hasher) {
        hasher.combine(object)
        hasher.combine(acquireLine)
        hasher.combine(pairIndex)
        hasher.combine(passed)
        hasher.combine(throughGap)
        hasher.combine(presumed)
        hasher.combine(taught)
    }

    /// The variable whose structure holds a member object: `new` for `new->vm_file`.
    var holder: String? {
        let name = object.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return name.isEmpty || name.count == object.count ? nil : String(name)
    }
}

private struct ResourceState: Hashable {
    var held: [String: HeldResource] = [:]
    var facts: Set<Fact> = []
    /// Objects the patch teaches are owned (TaughtRelease) that this path already released: the
    /// point where the patch adds a release owes nothing more on this path.
    var released: Set<String> = []

    /// What path merging keeps apart.
    struct MergeKey: Hashable {
        var held: [String: HeldResource]
        var released: Set<String>
    }
    var mergeKey: MergeKey { MergeKey(held: held, released: released) }

    /// What is held and the number of facts: paths at one node that hold the same resources are
    /// merged, so hashing every fact's text rarely tells more. Equality still compares the facts.
    func hash(into hasher: inout Hasher) {
        hasher.combine(held)
        hasher.combine(released)
        hasher.combine(facts.count)
    }
}

/// A release the patch adds, mapped to the pre-image: `kfree(buf)` added before an existing
/// `return -EFAULT;`, or `return err;` turned into `goto out;` where every path from `out:` drops
/// the reference. The patch says the object is owned at that point, so a pre-image path from
/// there that neither releases, stores, hands on nor returns it leaked it: the leak the patch
/// fixes, even when the allocation is out of sight or was handed to a call earlier.
private struct TaughtRelease: Hashable {
    var object: String
    var pairIndex: Int
    /// The pre-image line the post-image's release (or the goto that leads to it) stands before.
    var anchorLine: Int

    static func find(context: FunctionContext, pairs: [ResourcePair]) -> [TaughtRelease] {
        let model = context.model
        // The same function of the same file after the patch (two files may define one name).
        guard model.side == .before, let patch = context.patch.patch,
              let fileDiff = patch.files.first(where: { $0.oldPath == model.file || ($0.oldPath == nil && $0.newPath == model.file) }),
              let after = context.patch.models.first(where: {
                  $0.side == .after && $0.name == model.name && $0.file == (fileDiff.newPath ?? model.file)
              })
        else { return [] }
        // Cheap exit: the new code releases nothing the pairs know and jumps nowhere.
        let releaseNames = Set(pairs.flatMap(\.releases))
        guard after.body.allCalls.contains(where: { releaseNames.contains($0.callee) }) else { return [] }
        // Each added line of the post-image → the pre-image line it stands before. Within a change
        // block (the changed lines between two context lines) an added line that repeats the next
        // removed one (`if (err)` → `if (err) {`) keeps that line; any other added line stands
        // where the next unmatched removed line was (`return 0;` → `goto put_out;`), or before the
        // context line after the block (`kfree(buf);` inserted before `return -EFAULT;`).
        var anchorOf: [Int: Int] = [:]
        // Each added line → the lines its block removes and adds.
        // (Blocks are kept once and named by index: a block may hold thousands of lines.)
        var blocks: [(removed: [String], added: [String])] = []
        var blockOf: [Int: Int] = [:]
        for hunk in fileDiff.hunks {
            var removed: [DiffLine] = []
            var added: [DiffLine] = []
            for line in hunk.lines + [DiffLine(kind: .context, text: "", oldLine: nil, newLine: nil)] {
                switch line.kind {
                case .removed: removed.append(line)
                case .added: added.append(line)
                case .context:
                    if !added.isEmpty { blocks.append((removed.map(\.text), added.map(\.text))) }
                    var cursor = 0
                    for addition in added {
                        guard let new = addition.newLine else { continue }
                        if cursor < removed.count, Self.sameStatement(removed[cursor].text, addition.text) {
                            cursor += 1
                            continue
                        }
                        if let old = cursor < removed.count ? removed[cursor].oldLine : line.oldLine { anchorOf[new] = old }
                        blockOf[new] = blocks.count - 1
                    }
                    removed = []
                    added = []
                }
            }
        }
        guard !anchorOf.isEmpty else { return [] }
        // The object must be something the pre-image works with: a release of a variable the
        // patch introduces teaches nothing about the code before it. Array elements are left out.
        func knownBefore(_ object: String) -> Bool {
            // An array element names a different object each time its index changes.
            if object.contains("[") { return false }
            let root = String(object.drop { !($0.isLetter || $0 == "_") }.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            return !root.isEmpty && model.sourceLines.values.contains { LifetimeText.mentions($0, root) }
        }
        // A release that replaces a call the block removes, on the same object
        // (`free_unref_page(page)` → `__free_page(page)`), swaps one release for another.
        // `alsoCalled`: what the added goto's label still calls (`unlock_page(page); goto out;`
        // → `goto out_page;` where out_page unlocks it too moves the call, it replaces nothing).
        func replacesCall(_ object: String, newLine: Int, alsoCalled: Set<String> = []) -> Bool {
            guard let index = blockOf[newLine] else { return false }
            let block = blocks[index]
            let addedCallees = Set(block.added.flatMap(Self.callees)).union(alsoCalled)
            return block.removed.contains { line in
                LifetimeText.mentions(line, object) && Self.callees(line).contains { !addedCallees.contains($0) }
            }
        }
        let graph = ControlFlowGraph(model: after, endsAtClosingBrace: context.endsAtClosingBrace,
                                     noReturn: context.facts.noReturnCalls)
        let releasedAt: [[String: Int]] = graph.nodes.map { node in
            guard case .call(let call) = node.action else { return [:] }
            var result: [String: Int] = [:]
            for (index, pair) in pairs.enumerated() where pair.releases.contains(call.callee) {
                if let object = ResourceWalk.object(pair.releaseObject, of: call) { result[object] = index }
            }
            return result
        }
        var taught = Set<TaughtRelease>()
        for (index, node) in graph.nodes.enumerated() {
            guard let anchor = anchorOf[node.line] else { continue }
            for (object, pairIndex) in releasedAt[index]
            where knownBefore(object) && !replacesCall(object, newLine: node.line) {
                taught.insert(TaughtRelease(object: object, pairIndex: pairIndex, anchorLine: anchor))
            }
        }
        // An added goto: what every path from its label releases.
        let addedGotos = after.body.gotos.filter { anchorOf[$0.line] != nil }
        if !addedGotos.isEmpty {
            let must = mustRelease(graph: graph, releasedAt: releasedAt)
            let labels = after.body.labels
            for jump in addedGotos {
                guard let anchor = anchorOf[jump.line], let labelLine = labels[jump.label],
                      let labelNode = graph.nodes.indices.first(where: { index in
                          if case .join = graph.nodes[index].action { return graph.nodes[index].line == labelLine }
                          return false
                      }),
                      let released = must[labelNode] else { continue }
                // The calls from the label to the next return.
                var labelCalls = Set<String>()
                for line in after.sourceLines.keys.sorted() where line > labelLine {
                    let text = after.sourceLines[line] ?? ""
                    labelCalls.formUnion(Self.callees(text))
                    if CSyntax.tokens(text).contains("return") { break }
                }
                for (object, pairIndex) in released
                where knownBefore(object) && !replacesCall(object, newLine: jump.line, alsoCalled: labelCalls) {
                    taught.insert(TaughtRelease(object: object, pairIndex: pairIndex, anchorLine: anchor))
                }
            }
        }
        return taught.sorted { ($0.anchorLine, $0.object) < ($1.anchorLine, $1.object) }
    }

    /// Two lines that say the same, but for blanks and an opening brace: `if (err)`, `if (err) {`.
    static func sameStatement(_ a: String, _ b: String) -> Bool {
        func normal(_ text: String) -> String {
            var text = text.filter { !$0.isWhitespace }
            if text.hasSuffix("{") { text.removeLast() }
            return text
        }
        return normal(a) == normal(b)
    }

    /// The names called on a line: `kfree` and `put_page` in `kfree(a); put_page(b);`.
    static func callees(_ line: String) -> [String] {
        let tokens = CSyntax.tokens(line)
        return tokens.indices.compactMap { index in
            index + 1 < tokens.count && tokens[index + 1] == "(" && CSyntax.isIdentifier(tokens[index])
                && !["if", "while", "for", "switch", "return", "sizeof"].contains(tokens[index]) ? tokens[index] : nil
        }
    }

    /// For each node, the objects every path from it to an exit releases; nil when no path from it
    /// ends (so far). Unseen code and the end of sight release nothing we know of.
    static func mustRelease(graph: ControlFlowGraph, releasedAt: [[String: Int]]) -> [[String: Int]?] {
        var must: [[String: Int]?] = Array(repeating: nil, count: graph.nodes.count)
        var changed = true
        var rounds = 0
        while changed && rounds < 200 {
            changed = false
            rounds += 1
            for index in graph.nodes.indices.reversed() {
                var value: [String: Int]?
                switch graph.nodes[index].action {
                case .exit, .unknownEnd, .gap:
                    value = [:]
                default:
                    for successor in graph.nodes[index].successors {
                        guard let next = must[successor] else { continue }
                        value = value.map { $0.filter { next[$0.key] != nil } } ?? next
                    }
                }
                if var known = value {
                    known.merge(releasedAt[index]) { first, _ in first }
                    value = known
                }
                if value != must[index] {
                    must[index] = value
                    changed = true
                }
            }
        }
        return must
    }
}

extension Statement {
    /// Every `goto` in the statement, with its line.
    fileprivate var gotos: [(label: String, line: Int)] {
        var result: [(label: String, line: Int)] = []
        visit { if case .goto(let label, let line) = $0 { result.append((label, line)) } }
        return result
    }

    /// Every label in the statement, by name.
    fileprivate var labels: [String: Int] {
        var result: [String: Int] = [:]
        visit { if case .label(let name, let line) = $0 { result[name] = line } }
        return result
    }

    private func visit(_ body: (Statement) -> Void) {
        body(self)
        switch self {
        case .block(let items):
            for item in items { item.visit(body) }
        case .ifElse(_, let then, let otherwise):
            then.visit(body)
            otherwise?.visit(body)
        case .loop(let loop):
            loop.body.visit(body)
        case .switchCase(_, let inner):
            inner.visit(body)
        default:
            break
        }
    }
}

private struct LeakSite: Hashable {
    var exitNode: Int
    var resource: HeldResource
}

/// A forward walk over the CFG, merging paths that hold the same resources (keeping shared facts),
/// as LockStateAnalysis does for locks.
private struct ResourceWalk {
    let graph: ControlFlowGraph
    let pairs: [ResourcePair]
    let variables: LifetimeVariables
    /// Calls that only lock, unlock or read through what they are given (Rules/ lock primitives and
    /// `dereferences`): handing them the object keeps nothing. A try-lock that fails keeps nothing
    /// either: mm/migrate_device.c migrate_vma_collect_pmd() takes a page reference, fails
    /// trylock_page() and returns without dropping it (on mm/*.c this adds that one finding only;
    /// the cgroups archive and fs/, kernel/ are unchanged).
    let nonKeepingCalls: Set<String>
    let model: FunctionModel
    var statesAt: [PathStates<ResourceState, ResourceState.MergeKey>]
    var leaks = Set<LeakSite>()
    /// Objects (by name) a visible release call drops somewhere in the function: evidence that the
    /// function owns them.
    let releasedNames: Set<String>

    static let stateLimit = 64

    /// By node: the pairs whose release the node's call is, and the pairs whose acquire it is
    /// (indices into `pairs`, ascending). Looked up once, not for every path through the node.
    let releasingPairs: [[Int]]
    let acquiringPairs: [[Int]]
    /// Assignment nodes that store the result of an acquire returning the object
    /// (`p = kmalloc(...)`).
    let storesAcquiredResult: [Bool]

    /// Where the patch teaches that an object is owned (TaughtRelease), by pre-image node.
    let taughtAt: [Int: [(object: String, pairIndex: Int)]]
    let taughtObjects: Set<String>

    /// The pairs are the facts' (`context.facts.pairs`), looked up through their name indices.
    init(context: FunctionContext, taught: [TaughtRelease] = []) {
        let pairs = context.facts.pairs
        let graph = context.locks.graph
        self.graph = graph
        var taughtAt: [Int: [(object: String, pairIndex: Int)]] = [:]
        for release in taught {
            // The first statement at or after the anchor: every node of that line.
            let candidates = graph.nodes.indices.filter { index in
                switch graph.nodes[index].action {
                case .entry, .gap, .unknownEnd: return false
                default: return graph.nodes[index].line >= release.anchorLine
                }
            }
            guard let line = candidates.map({ graph.nodes[$0].line }).min() else { continue }
            for index in candidates where graph.nodes[index].line == line {
                taughtAt[index, default: []].append((release.object, release.pairIndex))
            }
        }
        self.taughtAt = taughtAt
        taughtObjects = Set(taught.map(\.object))
        self.pairs = pairs
        releasingPairs = graph.nodes.map { node in
            guard case .call(let call) = node.action else { return [] }
            return context.facts.pairsByRelease[call.callee] ?? []
        }
        acquiringPairs = graph.nodes.map { node in
            guard case .call(let call) = node.action, let name = call.functionName else { return [] }
            return context.facts.pairsByAcquire[name] ?? []
        }
        storesAcquiredResult = graph.nodes.map { node in
            guard case .assign(let assignment) = node.action, let callee = assignment.valueCallee else { return false }
            return pairs.contains { $0.acquire == callee && $0.acquireObject == .returnValue }
        }
        model = context.model
        variables = LifetimeVariables(model: context.model)
        nonKeepingCalls = Set(context.facts.primitives.values.map(\.function))
            .union(context.facts.dereferencingCalls.keys)
        statesAt = Array(repeating: PathStates(), count: graph.nodes.count)
        var released = Set<String>()
        for call in context.model.body.allCalls {
            for index in context.facts.pairsByRelease[call.callee] ?? [] {
                if let object = Self.object(pairs[index].releaseObject, of: call) { released.insert(object) }
            }
        }
        releasedNames = released
        presumedAt = Self.presumedResources(graph: graph, facts: context.facts, model: context.model,
                                            variables: variables)
    }

    /// Where a reference or allocation released in sight but taken nowhere in sight was taken:
    /// the entry (for an image that starts mid-function) or a gap, whichever is the last stretch
    /// of unseen code before the release. Only plain local names are followed.
    let presumedAt: [Int: [(object: String, pairIndex: Int)]]

    static func presumedResources(graph: ControlFlowGraph, facts: KernelFacts, model: FunctionModel,
                                  variables: LifetimeVariables) -> [Int: [(object: String, pairIndex: Int)]] {
        let pairs = facts.pairs
        var releases: [Int: (object: String, pairIndex: Int)] = [:]
        var acquired = Set<String>()
        for (index, node) in graph.nodes.enumerated() {
            guard case .call(let call) = node.action else { continue }
            if let name = call.functionName {
                for pairIndex in facts.pairsByAcquire[name] ?? [] {
                    if let object = object(pairs[pairIndex].acquireObject, of: call) { acquired.insert(object) }
                }
            }
            // Ascending, so that the last pair releasing through this call is the one kept.
            for pairIndex in facts.pairsByRelease[call.callee] ?? [] {
                if let object = object(pairs[pairIndex].releaseObject, of: call),
                   LifetimeText.isIdentifier(object), !model.parameterNames.contains(object) {
                    releases[index] = (object, pairIndex)
                }
            }
        }
        releases = releases.filter { !acquired.contains($0.value.object) }
        // A release under a condition about something else (`if (freeit) put_page(page);`) says the
        // function owns the object only sometimes: no evidence of what the other exits owe.
        let predecessors = graph.predecessors
        releases = releases.filter { node, release in
            !predecessors[node].contains { predecessor in
                guard case .assume(let condition, _) = graph.nodes[predecessor].action else { return false }
                return !LifetimeText.mentions(condition.text, release.object)
            }
        }
        guard !releases.isEmpty else { return [:] }
        var result: [Int: [(object: String, pairIndex: Int)]] = [:]
        for start in graph.unseenStretches(startsAtDefinition: model.startsAtDefinition) {
            var found: [String: Int] = [:]
            for node in graph.reachableBeforeNextGap(from: start) {
                if let release = releases[node] { found[release.object] = release.pairIndex }
            }
            if !found.isEmpty { result[start] = found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        }
        return result
    }

    /// A member of a local structure the function frees itself (`state->internal` when it calls
    /// kfree(state) and kfree(state->internal)): memory stored there dies with the structure unless
    /// the structure is handed on, so it is followed like a local.
    func ownedMember(_ object: String) -> Bool {
        let holder = String(object.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        guard !holder.isEmpty, object.hasPrefix(holder + "->"),
              LifetimeText.isIdentifier(String(object.dropFirst(holder.count + 2))),
              variables.isLocal(holder), !variables.parameters.contains(holder)
        else { return false }
        return releasedNames.contains(holder) && releasedNames.contains(object)
    }

    /// Adds the resources presumed taken in the unseen code at `node`.
    func presume(at node: Int, into state: inout ResourceState) {
        for (object, pairIndex) in presumedAt[node] ?? [] where state.held[object] == nil {
            state.held[object] = HeldResource(object: object, aliases: [object], acquireLine: graph.nodes[node].line,
                                              acquireCallee: pairs[pairIndex].acquire, pairIndex: pairIndex,
                                              presumed: true)
        }
    }

    static func object(_ where: PairObject, of call: Call) -> String? {
        switch `where` {
        case .argument(let index):
            guard index < call.arguments.count else { return nil }
            return LifetimeText.core(call.arguments[index])
        case .returnValue:
            guard case .assigned(let target) = call.resultUse else { return nil }
            return LifetimeText.core(target)
        }
    }

    mutating func run() {
        var entry = ResourceState()
        presume(at: 0, into: &entry)
        statesAt[0] = PathStates([entry], key: \.mergeKey)
        // What each assume node teaches, parsed once rather than whenever a predecessor changes.
        let learnedAt = graph.nodes.map(ConditionFacts.learned(at:))
        // First in, first out, with `head` walking the array rather than inserting at its front.
        var worklist = [0]
        var head = 0
        var queued = Array(repeating: false, count: graph.nodes.count)
        queued[0] = true
        var iterations = 0
        while head < worklist.count {
            let node = worklist[head]
            head += 1
            if head > 4_096 && head * 2 > worklist.count {
                worklist.removeFirst(head)
                head = 0
            }
            queued[node] = false
            iterations += 1
            if iterations > 200_000 { break }  // a safety net; real functions converge far sooner
            var outgoing = Set<ResourceState>()
            for state in statesAt[node].states {
                if let next = transfer(state, node: node) { outgoing.insert(next) }
            }
            for successor in graph.nodes[node].successors {
                var incoming = assume(outgoing, learned: learnedAt[successor])
                if graph.hiddenGotos[node]?.contains(successor) == true {
                    // An unseen goto may leave before the unseen code took what is presumed.
                    incoming = Set(incoming.map { state in
                        var state = state
                        state.held = state.held.filter { !$0.value.presumed }
                        return state
                    })
                }
                if statesAt[successor].add(incoming, key: \.mergeKey, facts: \.facts, limit: Self.stateLimit),
                   !queued[successor] {
                    worklist.append(successor)
                    queued[successor] = true
                }
            }
        }
    }

    /// Drops paths the branch condition contradicts and records what it teaches.
    func assume(_ states: Set<ResourceState>, learned: [Fact]) -> Set<ResourceState> {
        if learned.isEmpty { return states }
        var result = Set<ResourceState>()
        for var state in states where ConditionFacts.assume(learned, into: &state.facts) { result.insert(state) }
        return result
    }

    /// Marks what the patch teaches is owned at `node`, unless this path released it already.
    func teach(at node: Int, into state: inout ResourceState) {
        for (object, pairIndex) in taughtAt[node] ?? [] where !state.released.contains(object) {
            if let key = state.held.first(where: { $0.value.aliases.contains(object) })?.key {
                state.held[key]?.taught = true
            } else {
                state.held[object] = HeldResource(object: object, aliases: [object], acquireLine: graph.nodes[node].line,
                                                  acquireCallee: pairs[pairIndex].acquire, pairIndex: pairIndex,
                                                  taught: true)
            }
        }
    }

    mutating func transfer(_ input: ResourceState, node: Int) -> ResourceState? {
        var state = input
        teach(at: node, into: &state)
        switch graph.nodes[node].action {
        case .call(let call):
            apply(call, to: &state, node: node)
        case .assign(let assignment):
            apply(assignment, to: &state, node: node)
        case .gap:
            // Unseen code may change any variable and may store or release what is held.
            state.facts = []
            for key in state.held.keys { state.held[key]?.throughGap = true }
            presume(at: node, into: &state)
        case .exit(_, let value):
            for resource in state.held.values where isLeak(resource, state: state, value: value) {
                leaks.insert(LeakSite(exitNode: node, resource: resource))
            }
            return nil
        case .unknownEnd:
            // The visible code ends, or jumps to a label out of sight, still owing what the patch
            // releases at a point this path passed: the patch adding that release says nothing
            // further along drops it (or the release would be a second one).
            for resource in state.held.values where resource.taught && isTaughtLeak(resource, state: state, value: nil) {
                leaks.insert(LeakSite(exitNode: node, resource: resource))
            }
            return nil
        default:
            break
        }
        return state
    }

    mutating func apply(_ call: Call, to state: inout ResourceState, node: Int) {
        var handled = Set<String>()
        // A release drops the object whatever name it goes by.
        let isRelease = !releasingPairs[node].isEmpty
        for pair in releasingPairs[node].map({ pairs[$0] }) {
            guard let object = Self.object(pair.releaseObject, of: call) else { continue }
            if taughtObjects.contains(object) { state.released.insert(object) }
            for (key, resource) in state.held where resource.aliases.contains(object) {
                state.held[key] = nil
                handled.insert(key)
            }
        }
        for index in acquiringPairs[node] {
            let pair = pairs[index]
            switch pair.acquireObject {
            case .argument:
                guard let object = Self.object(pair.acquireObject, of: call) else { continue }
                var aliases: Set<String> = [object]
                switch call.resultUse {
                case .assigned(let target):
                    // `vma->vm_file = get_file(file)` stores the reference; `f = get_file(file)`
                    // gives it another name.
                    let target = LifetimeText.core(target)
                    if !variables.isLocal(target) { continue }
                    aliases.insert(target)
                case .returned:
                    continue
                default:
                    break
                }
                state.held[object] = HeldResource(object: object, aliases: aliases, acquireLine: call.line,
                                                  acquireCallee: pair.acquire, pairIndex: index)
                handled.insert(object)
            case .returnValue:
                // Only a result kept in a local is followed; one stored in a structure outlives us,
                // unless that structure is itself owned here (ownedMember).
                guard let object = Self.object(.returnValue, of: call),
                      variables.isLocal(object) || ownedMember(object) else { continue }
                forget(object, in: &state, node: node)
                state.held[object] = HeldResource(object: object, aliases: [object], acquireLine: call.line,
                                                  acquireCallee: pair.acquire, pairIndex: index)
                handled.insert(object)
            }
        }
        // Any other call that is given the object, or the structure holding it (`new` for
        // `new->vm_file`), may keep it; an unlock or a call that only reads through its arguments
        // (unlock_page(page), memset(buf, …)) does not.
        if let name = call.functionName, nonKeepingCalls.contains(name) { return }
        for (key, resource) in state.held where !handled.contains(key) {
            // Freeing the structure that holds an owned reference (`kfree(ctx)` holding
            // `ctx->mm`) loses the reference; it hands nothing on.
            if resource.taught, isRelease,
               !call.arguments.contains(where: { argument in resource.aliases.contains { LifetimeText.mentions(argument, $0) } }) {
                continue
            }
            let names = resource.aliases.union(resource.holder.map { [$0] } ?? [])
            if call.arguments.contains(where: { argument in names.contains { LifetimeText.mentions(argument, $0) } }) {
                state.held[key]?.passed = true
            }
        }
    }

    mutating func apply(_ assignment: Assignment, to state: inout ResourceState, node: Int) {
        let target = LifetimeText.core(assignment.target)
        // `p = kmalloc(...)`: the call node already started following `p`.
        if storesAcquiredResult[node] {
            state.facts = state.facts.filter { !ConditionFacts.mentions($0.atom, variable: target) && $0.atom != target }
            return
        }
        let value = LifetimeText.core(assignment.value)
        let stored = state.held.filter { _, resource in
            resource.aliases.contains { LifetimeText.storesObject(assignment.value, $0) }
        }
        // The structure holding a member object stored or copied: the member goes with it.
        for (key, resource) in state.held where stored[key] == nil {
            if let holder = resource.holder, LifetimeText.storesObject(assignment.value, holder) {
                state.held[key]?.passed = true
            }
        }
        forget(target, in: &state, node: node)
        for (key, resource) in stored where state.held[key] != nil {
            if variables.isLocal(target) {
                // A plain copy into a local is a second name for the same object; `l = &p->list`
                // is neither a copy nor a store.
                if resource.aliases.contains(value) { state.held[key]?.aliases.insert(target) }
            } else {
                // Stored in a structure, a global or through an out-parameter: it outlives us.
                state.held[key] = nil
            }
        }
        if LifetimeText.isZero(assignment.value) {
            state.facts.insert(Fact(atom: target, value: false))
        }
    }

    /// The variable `name` gets a new value: facts about it and its use as an alias end.
    mutating func forget(_ name: String, in state: inout ResourceState, node: Int) {
        state.facts = state.facts.filter { !ConditionFacts.mentions($0.atom, variable: name) && $0.atom != name }
        for (key, resource) in state.held where resource.aliases.contains(name) {
            var updated = resource
            updated.aliases.remove(name)
            // An owned object (the patch releases it here) losing its last name is lost for good
            // (`*pagep = NULL;` without the put_page() the patch adds), unless it is NULL here.
            if resource.taught, updated.aliases.isEmpty, !resource.passed, !resource.throughGap,
               !state.facts.contains(Fact(atom: name, value: false)) {
                leaks.insert(LeakSite(exitNode: node, resource: resource))
            }
            // Overwriting the only name it had: whether that leaks is not for a path walk to say.
            state.held[key] = updated.aliases.isEmpty ? nil : updated
        }
    }

    func isLeak(_ resource: HeldResource, state: ResourceState, value: Expression?) -> Bool {
        if resource.taught && isTaughtLeak(resource, state: state, value: value) { return true }
        if resource.presumed {
            // Taken out of sight, dropped in sight on other paths: this exit skips the drop. A NULL
            // or handed-back object, or one given away since, is not for a path walk to judge.
            if resource.passed { return false }
            if state.facts.contains(Fact(atom: resource.object, value: false)) { return false }
            if let value, LifetimeText.mentions(value.text, resource.object) { return false }
            return true
        }
        if acquireFailed(resource, state: state) || handedBack(resource, value: value) { return false }
        let owned = resource.aliases.contains { releasedNames.contains($0) }
        let memberObject = !LifetimeText.isIdentifier(resource.object)
        // Without a visible release of its own, the function may mean to keep what it took in a
        // structure, or code we cannot see may release it.
        if (resource.passed || resource.throughGap || memberObject) && !owned { return false }
        // A reference taken and never dropped anywhere in the function is taken for someone else
        // (__ksm_enter's mmgrab() for its mm_slot), as a lock never released is taken for the caller.
        if pairs[resource.pairIndex].acquireObject != .returnValue && !owned { return false }
        // Something was given the object and may keep it on success; failing returns still leak.
        if resource.passed && !isErrorReturn(value, state: state) { return false }
        return true
    }

    /// Owned here by what the patch adds (TaughtRelease), and neither given away since, nor past
    /// unseen code that may release it, nor NULL, nor handed back: leaked. Otherwise the usual
    /// rules decide.
    func isTaughtLeak(_ resource: HeldResource, state: ResourceState, value: Expression?) -> Bool {
        if resource.passed || resource.throughGap { return false }
        return !acquireFailed(resource, state: state) && !handedBack(resource, value: value)
    }

    /// The acquire failed on this path (`if (!p) return -ENOMEM;`, `if (IS_ERR(p))`).
    func acquireFailed(_ resource: HeldResource, state: ResourceState) -> Bool {
        resource.aliases.contains { alias in
            state.facts.contains(Fact(atom: alias, value: false))
                || state.facts.contains(Fact(atom: "IS_ERR(\(alias))", value: true))
                || state.facts.contains(Fact(atom: "IS_ERR_OR_NULL(\(alias))", value: true))
        }
    }

    /// Handed to the caller by the return value, alone or inside the structure holding it.
    func handedBack(_ resource: HeldResource, value: Expression?) -> Bool {
        guard let value else { return false }
        let names = resource.aliases.union(resource.holder.map { [$0] } ?? [])
        return names.contains { LifetimeText.mentions(value.text, $0) }
    }

    /// `return -ENOMEM`, `return NULL`, `return ERR_PTR(...)`, or `return ret` where this path knows
    /// the integer `ret` is non-zero.
    func isErrorReturn(_ value: Expression?, state: ResourceState) -> Bool {
        guard let value else { return false }
        let text = LifetimeText.core(value.text)
        if text.hasPrefix("-"), text.dropFirst().first.map({ $0.isLetter || $0.isNumber || $0 == "_" }) == true {
            return true
        }
        if text == "NULL" || text == "false" || text.hasPrefix("ERR_PTR(") { return true }
        return variables.isIntegerLocal(text) && state.facts.contains(Fact(atom: text, value: true))
    }

    func findings(check: ResourceLeakCheck, context: FunctionContext) -> [SideFinding] {
        var findings: [SideFinding] = []
        var reported = Set<String>()
        for site in leaks.sorted(by: { ($0.exitNode, $0.resource.object) < ($1.exitNode, $1.resource.object) }) {
            var exitLine = graph.nodes[site.exitNode].line
            var leavesSight = false
            if case .unknownEnd = graph.nodes[site.exitNode].action {
                leavesSight = true
                exitLine = lastStatementLine(atOrBefore: exitLine, context: context)
            }
            let resource = site.resource
            let dedupe = "\(resource.object)@\(exitLine)"
            if !reported.insert(dedupe).inserted { continue }
            let pair = pairs[resource.pairIndex]
            let isReference = pair.acquireObject != .returnValue
            let releases = pair.releases.map { $0 + "()" }.joined(separator: " or ")
            let what = isReference ? "the reference to '\(resource.object)'" : "'\(resource.object)'"
            var notes: [SideNote] = []
            if !resource.presumed && !resource.taught {
                notes.append(SideNote(line: resource.acquireLine,
                                      message: isReference ? "\(resource.acquireCallee)() takes the reference here"
                                                           : "\(resource.acquireCallee)() allocates it here"))
            }
            if let releaseLine = releaseLine(of: resource, pair: pair, context: context) {
                notes.append(SideNote(line: releaseLine, message: "it is released here on other paths"))
            }
            // A leak away from an exit: the only name of an owned object gets a new value.
            var isExit = false
            if case .exit = graph.nodes[site.exitNode].action { isExit = true }
            let happens = isExit ? "returns here"
                : leavesSight ? "leaves the code the patch shows here" : "overwrites its only pointer here"
            findings.append(SideFinding(
                rule: check.description.id, severity: check.description.severity, line: exitLine,
                message: "\(context.spokenFunction) \(happens) without \(releases) on \(what)"
                    + (resource.presumed ? ", which its other exits drop (it is taken before the code the patch shows)" : "")
                    + (resource.taught && !resource.presumed ? ", which the patch releases on this path" : "")
                    + ": is it leaked?",
                notes: notes, matchKey: "\(resource.object)|\(context.code(at: exitLine))"))
        }
        return findings
    }

    /// The last line at or before `line` that holds a statement: where the visible code ends is
    /// often a blank line or a closing brace.
    private func lastStatementLine(atOrBefore line: Int, context: FunctionContext) -> Int {
        var candidate = line
        while let text = context.model.sourceLines[candidate] {
            let trimmed = text.trimmingBlanks()
            let isStatement = !trimmed.isEmpty && trimmed != "}" && !trimmed.hasSuffix(":")
                && !trimmed.hasPrefix("/*") && !trimmed.hasPrefix("*") && !trimmed.hasPrefix("//")
            if isStatement { return candidate }
            candidate -= 1
        }
        return line
    }

    private func releaseLine(of resource: HeldResource, pair: ResourcePair, context: FunctionContext) -> Int? {
        context.model.body.allCalls.first { call in
            pair.releases.contains(call.callee)
                && Self.object(pair.releaseObject, of: call).map { resource.aliases.contains($0) || $0 == resource.object } == true
        }?.line
    }
}
