import MMAnalysis
import MMCore
import MMFacts

/// The result of a call that can fail is dropped: a bare call statement, or stored in a variable
/// nothing reads before it is overwritten or the function returns.
public struct UncheckedReturnCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "unchecked-return",
        summary: "the result of a call that can fail is ignored",
        rationale: """
            A write, a user copy or a helper that returns an error code tells its caller that it \
            failed only through its result. Drop that result and the caller goes on as if the data \
            were written: a checkpoint image with a hole in it, a user buffer never filled. The \
            patch itself shows which calls can fail: a callee whose result is tested in one place \
            and ignored in another, or a function it defines that returns -E… or passes on an error.
            """,
        severity: .warning,
        triggering: [
            // Handed on as an error where the patch checks it, dropped here (also through a pointer).
            """
            static int dump_header(struct cpt_context *ctx, struct hdr *h)
            {
            	int err = ctx->emit(h, sizeof(*h), ctx);
            	if (err)
            		return err;
            	if (ctx->emit(&h->len, sizeof(h->len), ctx) < 0)
            		return -EIO;
            	return 0;
            }

            static int dump_body(struct cpt_context *ctx, void *buf, int len)
            {
            ↓	ctx->emit(buf, len, ctx);
            	return 0;
            }
            """,
            // A write operation through a pointer (Rules/: `->write`).
            """
            static int dump_body(struct cpt_context *ctx, void *buf, int len)
            {
            ↓	ctx->write(buf, len, ctx);
            	return 0;
            }
            """,
            // A helper of the patch that returns -EFAULT, called and dropped.
            """
            static int copy_block(void __user *dst, void *src, unsigned long len)
            {
            	if (copy_to_user(dst, src, len))
            		return -EFAULT;
            	return 0;
            }

            static int copy_all(void __user *dst, void *src, int n)
            {
            	int i;
            	for (i = 0; i < n; i++)
            ↓		copy_block(dst + i * 64, src + i * 64, 64);
            	return 0;
            }
            """,
            // A must-check kernel function whose result is stored and then overwritten unread.
            """
            long f(void __user *ubuf, struct kstat *st, struct file *file, loff_t *pos)
            {
            	long ret;
            ↓	ret = copy_to_user(ubuf, st, sizeof(*st));
            	ret = kernel_write(file, st, sizeof(*st), pos);
            	if (ret < 0)
            		return ret;
            	return 0;
            }
            """,
        ],
        nonTriggering: [
            // Passed straight to return, or stored and tested later.
            """
            static int dump_one(struct cpt_context *ctx, void *buf, int len)
            {
            	int err;
            	err = ctx->write(buf, len, ctx);
            	kfree(buf);
            	if (err)
            		return err;
            	return ctx->write(&len, sizeof(len), ctx);
            }
            """,
            // Deliberately discarded with a cast to void.
            """
            static void f(void __user *ubuf, struct stat *st)
            {
            	(void)copy_to_user(ubuf, st, sizeof(*st));
            }
            """,
            // Stored and handed on: the caller sees it.
            """
            static long f(struct file *file, void *buf, size_t len, loff_t *pos)
            {
            	long ret = kernel_write(file, buf, len, pos);
            	trace_write(file, ret);
            	return ret;
            }
            """,
            // Calls that cannot fail, and a callee never tested anywhere in the patch.
            """
            static void f(struct page **pages, int n, struct ctx *ctx)
            {
            	int i;
            	for (i = 0; i < n; i++) {
            		char *addr = kmap(pages[i]);
            		ctx->flush(addr);
            		kunmap(pages[i]);
            		put_page(pages[i]);
            	}
            	eprintk("done\\n");
            }
            """,
            // Dropped more often than checked: its callers may ignore it (giving back a
            // reservation cannot fail); and a function returning void has nowhere to send an error.
            """
            static int reserve(struct hstate *h, long delta)
            {
            	int ret = acct_memory(h, delta);
            	if (ret < 0)
            		return ret;
            	return 0;
            }

            static void unreserve(struct hstate *h, long a, long b)
            {
            	acct_memory(h, -a);
            	acct_memory(h, -b);
            }

            static int fill(struct page *p)
            {
            	if (!p)
            		return -EINVAL;
            	return 0;
            }

            static void work(struct page *p)
            {
            	fill(p);
            }
            """,
            // Accumulated with |= and tested at the end.
            """
            static int f(void __user *up, struct args *a)
            {
            	int err;
            	err = get_user(a->x, &((struct args __user *)up)->x);
            	err |= get_user(a->y, &((struct args __user *)up)->y);
            	if (err)
            		return -EFAULT;
            	return 0;
            }
            """,
        ],
        advice: "Test the result and pass the error on, or say in a comment why it cannot fail here.",
        instead: """
            int f(struct ctx *ctx, void *buf, int len)
            {
            	int err;
            	err = ctx->write(buf, len, ctx);
            	if (err)
            		return err;
            	return 0;
            }
            """,
        references: [
            "include/linux/compiler_attributes.h (__must_check)",
            "Engler et al., Bugs as Deviant Behavior, SOSP 2001",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let model = context.model
        let knowledge = MustCheckKnowledge(context: context)
        var flow: ResultFlow?
        var findings: [SideFinding] = []
        var seen = Set<String>()
        for call in model.body.allCalls {
            guard let reason = knowledge.reason(for: call) else { continue }
            if Self.saysIgnoredOnPurpose(model, before: call.line) { continue }
            var message: String
            switch call.resultUse {
            case .ignored:
                if Self.outcomeReadThroughPointer(call, in: model) { continue }
                message = reason.ignoredMessage(CalleeKey.spoken(call.callee))
            case .assigned(let target):
                // Stored into a structure or through a pointer: it outlives this function.
                let name = ConditionFacts.atom(target)
                guard let first = name.first, first.isLetter || first == "_",
                      name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
                if flow == nil { flow = ResultFlow(model: model, graph: context.locks.graph) }
                guard flow?.storedResultIsRead(variable: target, call: call) == false else { continue }
                message = reason.unreadMessage(CalleeKey.spoken(call.callee), variable: ConditionFacts.atom(target))
            default:
                continue
            }
            let code = context.code(at: call.line)
            let dedupe = "\(call.line):\(call.column)"
            guard seen.insert(dedupe).inserted else { continue }
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: call.line, column: call.column,
                message: message, notes: reason.notes(in: model),
                matchKey: "\(CalleeKey.key(call.callee))|\(code)"))
        }
        return findings
    }
}

extension UncheckedReturnCheck {
    /// A comment just above the call (or on its line) that says the result is dropped on purpose:
    /// `/* Ignore errors */`, `don't worry if some are still busy`. The author has answered the
    /// reviewer's question already.
    /// `shmem_get_folio(inode, index, &folio, SGP_READ); if (folio) …`: the caller learns the
    /// outcome from what the call stored through `&folio`, which it tests or returns.
    static func outcomeReadThroughPointer(_ call: Call, in model: FunctionModel) -> Bool {
        let outs = call.arguments.map(ConditionFacts.atom).filter { $0.hasPrefix("&") }.map { String($0.dropFirst()) }
            .filter { name in name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }
        guard !outs.isEmpty else { return false }
        var later: [String] = ResultFlowPatch.conditionTexts(of: model.body).filter { $0.line >= call.line }.map(\.text)
        later += ResultFlowPatch.returnTexts(of: model.body, from: call.line)
        return later.contains { text in outs.contains { ResultFlow.mentions(text, $0) } }
    }

    static func saysIgnoredOnPurpose(_ model: FunctionModel, before line: Int) -> Bool {
        let phrases = ["ignore", "don't worry", "do not worry", "don't care", "do not care", "doesn't matter",
                       "does not matter", "best effort", "best-effort", "not fatal", "harmless", "can fail"]
        for l in max(0, line - 3)...line {
            guard let text = model.sourceLines[l]?.lowercased() else { continue }
            guard let start = text.fastRange(of: "/*") ?? text.fastRange(of: "//")
                    ?? (text.trimmingBlanks().hasPrefix("*") ? text.fastRange(of: "*") : nil) else { continue }
            let comment = text[start.lowerBound...]
            if phrases.contains(where: { comment.contains($0) }) { return true }
        }
        return false
    }
}

/// Why a callee's result must be looked at, and how to say so.
struct MustCheckReason {
    enum Kind {
        /// Tested at these sites of the patch (other functions or this one).
        case deviance([CheckedSite])
        /// Defined in the patch; the text says how it fails ("it returns -EFAULT").
        case defined(String)
        /// A must-check function from Rules/, with the sites where the patch checks it.
        case rules([CheckedSite])
    }

    var kind: Kind

    func ignoredMessage(_ callee: String) -> String {
        switch kind {
        case .deviance(let sites):
            return "the result of \(callee) is ignored; it is checked in \(Self.functions(sites))"
        case .defined(let how):
            return "error handling? \(callee) can fail (\(how)) and its result is ignored"
        case .rules(let sites):
            return "error handling? \(callee) can fail and its result is ignored" + Self.checkedIn(sites)
        }
    }

    func unreadMessage(_ callee: String, variable: String) -> String {
        switch kind {
        case .deviance(let sites):
            return "the result of \(callee) is stored in '\(variable)' but never checked; it is checked in \(Self.functions(sites))"
        case .defined(let how):
            return "error handling? \(callee) can fail (\(how)) but '\(variable)' is never checked"
        case .rules(let sites):
            return "error handling? \(callee) can fail but '\(variable)' is never checked" + Self.checkedIn(sites)
        }
    }

    /// "; it is checked in cpt_dump_mm()", or nothing when the patch never checks it.
    static func checkedIn(_ sites: [CheckedSite]) -> String {
        sites.isEmpty ? "" : "; it is checked in \(functions(sites))"
    }

    /// Sites in this very function get a note on their line.
    func notes(in model: FunctionModel) -> [SideNote] {
        let sites: [CheckedSite]
        switch kind {
        case .deviance(let found), .rules(let found): sites = found
        case .defined: return []
        }
        return sites.filter { $0.function == model.name && $0.side == model.side }
            .map { SideNote(line: $0.line, message: "the result is checked here") }
    }

    /// "dump_page_block() and cpt_dump_mm()", in source order, at most three.
    static func functions(_ sites: [CheckedSite]) -> String {
        var names: [String] = []
        for site in sites.sorted(by: { $0.line < $1.line }) where !names.contains(site.function + "()") {
            names.append(site.function + "()")
        }
        let shown = Array(names.prefix(3))
        switch shown.count {
        case 0: return "other places"
        case 1: return shown[0]
        default:
            let head = shown.dropLast().joined(separator: ", ")
            return head + " and " + shown[shown.count - 1] + (names.count > 3 ? " (and elsewhere)" : "")
        }
    }
}

/// Which callees of one function side must have their result checked, from Rules/ and from the
/// patch: tested elsewhere in the patch, or defined by it with an error return.
struct MustCheckKnowledge {
    private let facts: KernelFacts
    private let checked: [String: [CheckedSite]]
    private let dropped: [String: Int]
    private let definedReasons: [String: String]
    /// The function under review returns nothing: an error from a callee has nowhere to go.
    private let returnsVoid: Bool

    init(context: FunctionContext) {
        facts = context.facts
        // Deviance counts tests before and after the patch alike; a helper's own definition on
        // this side decides, the other side's stands in when this side does not show it.
        checked = context.patch.summaries.checkedSites
        dropped = context.patch.summaries.droppedCounts
        definedReasons = context.patch.summaries.failureReasons[context.model.side] ?? [:]
        let type = context.model.returnType.map(ConditionFacts.atom) ?? ""
        returnsVoid = type == "void" || type.hasSuffix("void") && !type.contains("*")
    }

    func reason(for call: Call) -> MustCheckReason? {
        let key = CalleeKey.key(call.callee)
        // Locks have their own rule (unchecked-lock-result); a Rules entry that is not
        // must-check says ignoring the result is fine, whatever the patch does. Operations called
        // through a pointer are in Rules/ by member (`->write`).
        if let name = call.functionName, facts.primitive(named: name) != nil { return nil }
        if let fact = facts.call(named: call.functionName ?? key) {
            return fact.mustCheck ? MustCheckReason(kind: .rules(checked[key] ?? [])) : nil
        }
        // What the patch teaches is weaker than Rules/: in a function that returns nothing the
        // error has nowhere to go, and a callee the patch drops more often than it checks is
        // one whose failure its callers may ignore (hugetlb_acct_memory() giving back a
        // reservation cannot fail).
        if returnsVoid { return nil }
        let drops = dropped[key] ?? 0
        if let sites = checked[key], sites.count > drops, sites.contains(where: \.errorShaped) {
            return MustCheckReason(kind: .deviance(sites))
        }
        if let name = call.functionName, let how = definedReasons[name], drops - (checked[key]?.count ?? 0) < 2 {
            return MustCheckReason(kind: .defined(how))
        }
        return nil
    }
}
