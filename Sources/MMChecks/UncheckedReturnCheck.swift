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
            // Checked in one function of the patch, ignored in another (also through a pointer).
            """
            static int dump_header(struct cpt_context *ctx, struct hdr *h)
            {
            	int err = ctx->write(h, sizeof(*h), ctx);
            	if (err)
            		return err;
            	return 0;
            }

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
            guard let start = text.range(of: "/*") ?? text.range(of: "//")
                    ?? (text.trimmingBlanks().hasPrefix("*") ? text.range(of: "*") : nil) else { continue }
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
        /// A must-check function from Rules/.
        case rules
    }

    var kind: Kind

    func ignoredMessage(_ callee: String) -> String {
        switch kind {
        case .deviance(let sites):
            return "the result of \(callee) is ignored; it is checked in \(Self.functions(sites))"
        case .defined(let how):
            return "error handling? \(callee) can fail (\(how)) and its result is ignored"
        case .rules:
            return "error handling? \(callee) can fail and its result is ignored"
        }
    }

    func unreadMessage(_ callee: String, variable: String) -> String {
        switch kind {
        case .deviance(let sites):
            return "the result of \(callee) is stored in '\(variable)' but never checked; it is checked in \(Self.functions(sites))"
        case .defined(let how):
            return "error handling? \(callee) can fail (\(how)) but '\(variable)' is never checked"
        case .rules:
            return "error handling? \(callee) can fail but '\(variable)' is never checked"
        }
    }

    /// Sites in this very function get a note on their line.
    func notes(in model: FunctionModel) -> [SideNote] {
        guard case .deviance(let sites) = kind else { return [] }
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
    private let definedReasons: [String: String]

    init(context: FunctionContext) {
        facts = context.facts
        // Deviance counts tests before and after the patch alike; a helper's own definition on
        // this side decides, the other side's stands in when this side does not show it.
        checked = context.patch.summaries.checkedSites
        definedReasons = context.patch.summaries.failureReasons[context.model.side] ?? [:]
    }

    func reason(for call: Call) -> MustCheckReason? {
        let key = CalleeKey.key(call.callee)
        if let name = call.functionName {
            // Locks have their own rule (unchecked-lock-result); a Rules entry that is not
            // must-check says ignoring the result is fine, whatever the patch does.
            if facts.primitive(named: name) != nil { return nil }
            if let fact = facts.call(named: name) {
                return fact.mustCheck ? MustCheckReason(kind: .rules) : nil
            }
        }
        if let sites = checked[key], !sites.isEmpty { return MustCheckReason(kind: .deviance(sites)) }
        if let name = call.functionName, let how = definedReasons[name] { return MustCheckReason(kind: .defined(how)) }
        return nil
    }
}
