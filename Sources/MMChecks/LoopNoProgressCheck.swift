import MMCore

/// A `while` or `for` loop whose condition reads only local variables that nothing in the loop
/// changes, and that nothing leaves: once entered, it never ends.
public struct LoopNoProgressCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "loop-no-progress",
        summary: "a loop never changes what its condition reads and has no other way out",
        rationale: """
            A loop ends when its condition changes or a break, return or goto leaves it. When the \
            condition reads only local variables that the body never assigns, increments or hands out \
            by address, and nothing leaves the loop, the first iteration repeats forever: a hang, or a \
            soft lockup with a lock held. It usually means a forgotten `p = p->next`.
            """,
        severity: .error,
        triggering: [
            // The shape of seed 002.
            """
            static void walk(unsigned long entry, unsigned long page)
            {
            	struct mm_struct *mm;
            	down(&mm_sem);
            	mm = init_mm.next;
            ↓	while (mm != &init_mm) {
            		unuse_mm(mm, entry, page);
            	}
            	up(&mm_sem);
            }
            """,
            """
            int f(struct page **pages, int n)
            {
            	int i;
            	int done = 0;
            ↓	for (i = 0; i < n; ) {
            		put_page(pages[i]);
            		done++;
            	}
            	return done;
            }
            """,
        ],
        nonTriggering: [
            // The condition changes through a pointer the body hands out.
            """
            void f(void)
            {
            	int done = 0;
            	while (!done)
            		wait_for(&done);
            }
            """,
            """
            void f(struct page *p)
            {
            	while (p) {
            		g(p);
            		p = next_page(p);
            	}
            }
            """,
            // A condition with a call may change by itself.
            """
            void f(struct list_head *q)
            {
            	while (list_empty(q))
            		schedule();
            }
            """,
            """
            int f(struct mm_struct *mm)
            {
            	int tries = 0;
            	for (;;) {
            		if (g(mm))
            			break;
            		tries++;
            	}
            	while (1) {
            		if (h(mm))
            			return tries;
            	}
            }
            """,
            // A global, or memory reached through a pointer, can change elsewhere.
            """
            void f(struct mm_struct *mm, int n)
            {
            	while (nr_waiting > n)
            		cpu_relax();
            	while (mm->map_count > n)
            		cpu_relax();
            }
            """,
            """
            void f(struct task_struct *p, int n)
            {
            	int left = n;
            	while (left > 0) {
            		if (g(p))
            			goto out;
            	}
            out:
            	h(p);
            }
            """,
        ],
        advice: "Advance what the condition reads inside the loop (`mm = mm->next`), or use the list iterator (list_for_each_entry()) that does.",
        instead: """
            void f(void)
            {
            	struct mm_struct *mm;
            	mm = init_mm.next;
            	while (mm != &init_mm) {
            		g(mm);
            		mm = mm->next;
            	}
            }
            """,
        references: [
            "include/linux/list.h",
        ])

    /// Kernel macros that assign to an argument passed by name (`do_div(n, base)` changes `n`).
    private static let assigningMacros: Set<String> = ["do_div", "swap", "get_user", "__get_user",
                                                       "unsafe_get_user", "rcu_assign_pointer"]

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let model = context.model
        var loops: [Loop] = []
        collectLoops(model.body, into: &loops)
        guard !loops.isEmpty else { return [] }
        var locals: [String: (type: String, line: Int?)] = [:]
        for (name, type) in model.parameters { locals[name] = (type, nil) }
        model.body.visitDeclarationLines { name, type, line in locals[name] = (type, line) }
        // A local whose address is taken anywhere may change behind the loop's back.
        var addressTaken: Set<String> = []
        model.body.visitExpressions { expression in
            let tokens = CSyntax.tokens(expression.text)
            for (index, token) in tokens.enumerated() where token == "&" && index + 1 < tokens.count {
                if index == 0 || CSyntax.isOperator(tokens[index - 1]) { addressTaken.insert(tokens[index + 1]) }
            }
        }

        var findings: [SideFinding] = []
        for loop in loops where loop.kind == .whileLoop || loop.kind == .forLoop {
            guard let condition = loop.condition,
                  let variables = trackedVariables(condition, locals: locals, model: model),
                  variables.isDisjoint(with: addressTaken),
                  !modelShowsProgress(loop, variables: variables, noReturn: context.facts.noReturnCalls),
                  !sourceShowsProgress(loop, variables: variables, model: model,
                                       noReturn: context.facts.noReturnCalls) else { continue }
            let names = variables.sorted().map { "'\($0)'" }.joined(separator: " and ")
            findings.append(SideFinding(
                rule: description.id, severity: description.severity, line: loop.line, column: 1,
                message: "this loop never ends once entered: its condition '\(condition.text)' reads only \(names), "
                    + "which nothing in the loop changes, and no break, return or goto leaves it",
                matchKey: "\(context.code(at: loop.line))|\(condition.text)"))
        }
        return findings
    }

    private func collectLoops(_ statement: Statement, into loops: inout [Loop]) {
        switch statement {
        case .block(let items): for item in items { collectLoops(item, into: &loops) }
        case .ifElse(_, let then, let otherwise):
            collectLoops(then, into: &loops)
            if let otherwise { collectLoops(otherwise, into: &loops) }
        case .loop(let loop):
            loops.append(loop)
            collectLoops(loop.body, into: &loops)
        case .switchCase(_, let body): collectLoops(body, into: &loops)
        case .expression, .declaration, .caseLabel, .label, .goto, .returnStatement, .breakStatement,
             .continueStatement, .gap:
            break
        }
    }

    /// The locals and parameters the condition reads, or nil when it reads anything that may change
    /// without the loop's help: a call, a global, memory through a pointer, a volatile or static local.
    private func trackedVariables(_ condition: Expression, locals: [String: (type: String, line: Int?)],
                                  model: FunctionModel) -> Set<String>? {
        guard condition.calls.isEmpty, condition.dereferences.isEmpty, condition.assignments.isEmpty else { return nil }
        let tokens = CSyntax.tokens(condition.text)
        let changing: Set<String> = ["->", "[", "++", "--", "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
                                     "<<=", ">>="]
        var result: Set<String> = []
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            let previous = index > 0 ? tokens[index - 1] : nil
            let unary = previous.map(CSyntax.isOperator) ?? true
            if changing.contains(token) || (token == "*" && unary) { return nil }
            if token == "&" && unary {
                // An address is a constant: skip the object named after it (`&init_mm`, `&s.field`).
                index += 2
                while index + 1 < tokens.count, tokens[index] == "." { index += 2 }
                continue
            }
            defer { index += 1 }
            guard CSyntax.isIdentifier(token), previous != "." else { continue }
            if index + 1 < tokens.count, tokens[index + 1] == "(" { return nil }
            if Self.keywords.contains(token) || Self.isConstantName(token) { continue }
            guard let local = locals[token] else { return nil }
            if local.type.contains("volatile") { return nil }
            if let line = local.line, let text = model.sourceLines[line],
               CSyntax.tokens(text).contains(where: { $0 == "static" || $0 == "volatile" }) { return nil }
            result.insert(token)
        }
        return result.isEmpty ? nil : result
    }

    private static let keywords: Set<String> = ["sizeof", "unsigned", "signed", "int", "long", "short", "char",
                                                "void", "const", "struct", "union", "enum", "true", "false", "_Bool", "bool"]

    /// `NULL`, `MAX_ORDER`, `PAGE_SIZE`: constants by kernel convention.
    private static func isConstantName(_ name: String) -> Bool {
        name.contains { $0.isLetter } && !name.contains { $0.isLowercase }
    }

    /// What the model shows: an exit, a gap, or a change to one of the variables.
    /// `noReturn`: calls that do not return (Rules/ `returns: never`); a loop that reaches one is left.
    private func modelShowsProgress(_ loop: Loop, variables: Set<String>, noReturn: Set<String>) -> Bool {
        var leaves = false
        var labels: Set<String> = []
        var gotos: Set<String> = []
        scan(loop.body, breakLeaves: true, leaves: &leaves, labels: &labels, gotos: &gotos)
        if leaves || !gotos.subtracting(labels).isEmpty { return true }
        // A declaration in the body may shadow a variable of the condition: do not guess.
        var changes = false
        loop.body.visitDeclarationLines { name, _, _ in if variables.contains(name) { changes = true } }
        func inspect(_ expression: Expression) {
            for assignment in expression.assignments {
                let target = CSyntax.tokens(assignment.target)
                if let root = target.first, variables.contains(root), target.count == 1 || [".", "["].contains(target[1]) {
                    changes = true
                }
            }
            for call in expression.calls {
                guard let name = call.functionName else { continue }
                if noReturn.contains(name) { changes = true }
                let byName = Self.assigningMacros.contains(name) || Self.isConstantName(name)
                if byName, call.arguments.contains(where: { !Set(CSyntax.tokens($0)).isDisjoint(with: variables) }) {
                    changes = true
                }
            }
        }
        loop.body.visitExpressions(inspect)
        if let increment = loop.increment { inspect(increment) }
        return changes
    }

    /// Walks a loop body for ways out: `return`, a `break` of this loop (not of a nested loop or
    /// switch), labels defined inside, gotos taken, and gaps where the patch hides lines.
    private func scan(_ statement: Statement, breakLeaves: Bool, leaves: inout Bool, labels: inout Set<String>,
                      gotos: inout Set<String>) {
        switch statement {
        case .block(let items):
            for item in items { scan(item, breakLeaves: breakLeaves, leaves: &leaves, labels: &labels, gotos: &gotos) }
        case .ifElse(_, let then, let otherwise):
            scan(then, breakLeaves: breakLeaves, leaves: &leaves, labels: &labels, gotos: &gotos)
            if let otherwise { scan(otherwise, breakLeaves: breakLeaves, leaves: &leaves, labels: &labels, gotos: &gotos) }
        case .loop(let inner):
            scan(inner.body, breakLeaves: false, leaves: &leaves, labels: &labels, gotos: &gotos)
        case .switchCase(_, let body):
            scan(body, breakLeaves: false, leaves: &leaves, labels: &labels, gotos: &gotos)
        case .returnStatement, .gap:
            leaves = true
        case .breakStatement:
            if breakLeaves { leaves = true }
        case .label(let name, _): labels.insert(name)
        case .goto(let label, _): gotos.insert(label)
        case .expression, .declaration, .caseLabel, .continueStatement:
            break
        }
    }

    /// A second look at the source text of the loop, so that a statement the parse lost cannot make
    /// a loop look stuck: any exit keyword, preprocessor line, hidden line, or change to a variable
    /// (assignment, `++`/`--`, `&var`, a macro that takes it by name) counts as progress.
    private func sourceShowsProgress(_ loop: Loop, variables: Set<String>, model: FunctionModel,
                                     noReturn: Set<String>) -> Bool {
        var text: [String] = []
        var line = loop.line
        while let source = model.sourceLines[line], line < loop.line + 400 {
            if source.trimmingBlanks().hasPrefix("#") { return true }
            text.append(source)
            line += 1
        }
        let tokens = CSyntax.tokens(text.joined(separator: "\n"))
        let keyword = loop.kind == .forLoop ? "for" : "while"
        // The keyword must be on the loop's own line: an iteration macro parsed as a `for` has none.
        let firstLineTokens = CSyntax.tokens(text.first ?? "").count
        guard let start = tokens.firstIndex(of: keyword), start < firstLineTokens, start + 1 < tokens.count,
              let headerEnd = CSyntax.matchingClose(tokens, from: start + 1) else { return true }
        var inspected: [String] = []
        if loop.kind == .forLoop {
            // Only the increment part of the header runs on every iteration.
            let header = Array(tokens[(start + 2)..<headerEnd])
            let parts = header.split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return true }
            inspected.append(contentsOf: parts[2])
        }
        let bodyStart = headerEnd + 1
        guard bodyStart < tokens.count else { return true }
        if tokens[bodyStart] == "{" {
            // The body must end where the patch shows it.
            guard let bodyEnd = CSyntax.matchingClose(tokens, from: bodyStart) else { return true }
            inspected.append(contentsOf: tokens[bodyStart...bodyEnd])
        } else {
            if ["if", "for", "while", "do", "switch"].contains(tokens[bodyStart]) { return true }
            guard let end = tokens[bodyStart...].firstIndex(of: ";") else { return true }
            inspected.append(contentsOf: tokens[bodyStart...end])
        }
        let assignments: Set<String> = ["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "++", "--"]
        for (index, token) in inspected.enumerated() {
            if ["break", "return", "goto", "asm", "__asm__", "longjmp"].contains(token) { return true }
            guard variables.contains(token), index == 0 || ![".", "->"].contains(inspected[index - 1]) else { continue }
            let previous = index > 0 ? inspected[index - 1] : ""
            let next = index + 1 < inspected.count ? inspected[index + 1] : ""
            if previous == "&" || previous == "++" || previous == "--" { return true }
            if assignments.contains(next) || next == "." || next == "[" {
                // `v = …`, `v++`; and members or elements of a local aggregate, which this check does
                // not follow.
                return true
            }
            // Passed by name to a macro (ALL_CAPS or a known assigning one) that may assign it.
            if let call = enclosingCallee(inspected, at: index),
               Self.assigningMacros.contains(call) || Self.isConstantName(call) || noReturn.contains(call) {
                return true
            }
        }
        return inspected.contains { noReturn.contains($0) }
    }

    /// The callee whose argument list holds the token at `index`, if any.
    private func enclosingCallee(_ tokens: [String], at index: Int) -> String? {
        var depth = 0
        var position = index - 1
        while position > 0 {
            if tokens[position] == ")" { depth += 1 }
            if tokens[position] == "(" {
                if depth == 0 { return CSyntax.isIdentifier(tokens[position - 1]) ? tokens[position - 1] : nil }
                depth -= 1
            }
            position -= 1
        }
        return nil
    }
}

extension Statement {
    /// Calls `visit` with every local declaration's name, type and line.
    func visitDeclarationLines(_ visit: (String, String, Int) -> Void) {
        switch self {
        case .block(let items): for item in items { item.visitDeclarationLines(visit) }
        case .declaration(let name, let type, let line): visit(name, type, line)
        case .ifElse(_, let then, let otherwise):
            then.visitDeclarationLines(visit)
            otherwise?.visitDeclarationLines(visit)
        case .loop(let loop): loop.body.visitDeclarationLines(visit)
        case .switchCase(_, let body): body.visitDeclarationLines(visit)
        case .expression, .caseLabel, .label, .goto, .returnStatement, .breakStatement, .continueStatement, .gap:
            break
        }
    }
}
