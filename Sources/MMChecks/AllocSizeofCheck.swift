import MMCore
import MMFacts

/// `p = vmalloc(n * sizeof(T))` where `p` holds `T *` elements (or the reverse): the element size
/// does not match the pointer that receives the memory.
public struct AllocSizeofCheck: FunctionCheck {
    public init() {}

    public let description = RuleDescription(
        id: "alloc-sizeof",
        summary: "an allocation is sized with sizeof of the wrong level of indirection",
        rationale: """
            Nothing in C ties the sizeof in `vmalloc(n * sizeof(spinlock_t))` to the pointer that \
            receives the memory. When that pointer is `spinlock_t **`, each element is a pointer and \
            the allocation has the wrong size: too large (wasted memory) or, when the pointee is smaller \
            than a pointer, too small, and the writes run past its end. The reverse, `sizeof(T *)` for \
            an array of `T`, is always too small for structures. `sizeof(*p)` cannot go wrong.
            """,
        severity: .warning,
        triggering: [
            // The shape of seed 003: the member's type comes from a structure the patch defines.
            """
            struct mm_lock_data {
            	spinlock_t **i_mmap_locks;
            	unsigned long nr_i_mmap_locks;
            };

            struct mm_lock_data *mm_lock(struct mm_struct *mm, unsigned long n)
            {
            	struct mm_lock_data *data = kmalloc(sizeof(*data), GFP_KERNEL);
            	if (!data)
            		return NULL;
            	data->i_mmap_locks = vmalloc(n *
            ↓				     sizeof(spinlock_t));
            	data->nr_i_mmap_locks = n;
            	return data;
            }
            """,
            """
            int f(int n)
            {
            	struct page **pages;
            	pages = kcalloc(n,
            ↓			sizeof(struct page), GFP_KERNEL);
            	if (!pages)
            		return -ENOMEM;
            	g(pages, n);
            	return 0;
            }
            """,
            // The reverse: an array of structures sized as an array of pointers.
            """
            int f(int n)
            {
            ↓	struct vm_area_struct *vmas = kmalloc_array(n, sizeof(struct vm_area_struct *), GFP_KERNEL);
            	if (!vmas)
            		return -ENOMEM;
            	g(vmas, n);
            	return 0;
            }
            """,
            // The declaration is out of sight; the cast says what the pointer holds.
            """
            int f(struct card *card, int n)
            {
            ↓	if ((midihdr = (struct midi_hdr *) kmalloc(sizeof(struct midi_hdr *), GFP_KERNEL)) == NULL)
            		return -ENOMEM;
            	midihdr->len = n;
            	return 0;
            }
            """,
        ],
        nonTriggering: [
            """
            int f(int n)
            {
            	struct page **pages = kcalloc(n, sizeof(struct page *), GFP_KERNEL);
            	struct page **more = kcalloc(n, sizeof(*more), GFP_KERNEL);
            	if (!pages || !more)
            		return -ENOMEM;
            	g(pages, more);
            	return 0;
            }
            """,
            """
            struct lock_table {
            	spinlock_t *locks;
            };

            int f(struct lock_table *table, unsigned long n)
            {
            	table->locks = vmalloc(n * sizeof(spinlock_t));
            	return table->locks ? 0 : -ENOMEM;
            }
            """,
            // A header plus an array: the sizeof is not the element size of the target.
            """
            int f(int n)
            {
            	struct page **pages = kmalloc(sizeof(struct page) + n * sizeof(struct page *), GFP_KERNEL);
            	if (!pages)
            		return -ENOMEM;
            	g(pages);
            	return 0;
            }
            """,
            // The target's type is not visible: nothing to compare with.
            """
            int f(struct foo *foo, int n)
            {
            	foo->slots = kcalloc(n, sizeof(spinlock_t), GFP_KERNEL);
            	return foo->slots ? 0 : -ENOMEM;
            }
            """,
            // A byte buffer may hold anything.
            """
            int f(int n)
            {
            	void *buf = kmalloc(n * sizeof(struct page *), GFP_KERNEL);
            	if (!buf)
            		return -ENOMEM;
            	g(buf);
            	return 0;
            }
            """,
        ],
        advice: "Size the allocation by what the pointer points to: `kcalloc(n, sizeof(*p), GFP_KERNEL)`.",
        instead: """
            int f(struct data *data, int n)
            {
            	data->locks = kcalloc(n, sizeof(*data->locks), GFP_KERNEL);
            	if (!data->locks)
            		return -ENOMEM;
            	return 0;
            }
            """,
        references: [
            "Documentation/process/coding-style.rst, section 14: allocating memory",
            "Documentation/process/deprecated.rst (open-coded arithmetic in allocator arguments)",
        ])

    public func check(_ context: FunctionContext) -> [SideFinding] {
        let model = context.model
        var expressions: [Expression] = []
        model.body.visitExpressions { expressions.append($0) }
        let hasAllocation = expressions.contains { expression in
            expression.calls.contains { call in call.functionName.map { context.facts.allocators[$0] != nil } ?? false }
        }
        guard hasAllocation else { return [] }
        // Reading the structures of the whole patch costs a pass over every hunk: only when a member
        // receives an allocation.
        let membersNeeded = expressions.contains { expression in
            expression.assignments.contains { $0.target.contains("->") || $0.target.contains(".") }
        }
        let structs = membersNeeded ? PatchStructs(patch: context.patch.patch, side: model.side) : PatchStructs(patch: nil, side: model.side)
        let types = TypeScope(model: model, structs: structs)
        var findings: [SideFinding] = []
        for expression in expressions {
            for call in expression.calls {
                guard let name = call.functionName, let fact = context.facts.allocators[name],
                      let target = allocationTarget(of: call, in: expression),
                      let pointer = types.type(of: target) ?? Self.castType(of: call, in: expression),
                      pointer.pointerDepth >= 1 else { continue }
                let element = pointer.removingPointer()
                guard !element.isVoid else { continue }
                for index in fact.sizeArguments where index < call.arguments.count {
                    guard let operand = Self.sizeofFactor(of: call.arguments[index]),
                          let measured = types.sizeofType(operand.tokens, target: target, pointer: pointer)
                    else { continue }
                    let mistake: String
                    // Two pointer types have the same size: only a pointer against a pointee is wrong.
                    if element.pointerDepth >= 1, measured.pointerDepth == 0, measured == element.removingPointer() {
                        mistake = "but \(name)() is sized with sizeof(\(operand.text)), the size of what they point to"
                            + (measured.pointerDepth == 0 && !measured.isAggregate
                               ? " (too little memory when that is smaller than a pointer)" : "")
                    } else if element.pointerDepth == 0, measured == element.addingPointer() {
                        mistake = "but \(name)() is sized with sizeof(\(operand.text)), the size of a pointer: "
                            + "too little memory"
                    } else {
                        continue
                    }
                    let line = sizeofLine(operand.text, from: call.line, in: model)
                    var message = "'\(target)' holds '\(element.text)' elements\(types.origin(of: target)), "
                        + "\(mistake); sizeof(\(element.text)) or sizeof(*\(target)) was meant"
                    if let honesty = HeaderlessLines.remark(file: model.file, line: line, side: model.side,
                                                            patch: context.patch.patch) {
                        message += ". " + honesty
                    }
                    findings.append(SideFinding(
                        rule: description.id, severity: description.severity, line: line, column: 1,
                        message: message, notes: line == call.line ? [] : [SideNote(line: call.line, message: "allocated here")],
                        matchKey: "\(target)|\(name)|\(operand.text)"))
                }
            }
        }
        return findings
    }

    /// The variable or member that receives the allocation: `p = kmalloc(…)`, `T *p = kmalloc(…)`,
    /// also through a cast (`p = (T **)kmalloc(…)`).
    private func allocationTarget(of call: Call, in expression: Expression) -> String? {
        if case .assigned(let target) = call.resultUse { return target }
        let marker = call.callee + "("
        return expression.assignments.first { $0.value.contains(marker) }?.target
    }

    /// The pointer type the result is cast to, `(struct midi_hdr *) kmalloc(…)`: what the code says
    /// the target holds when its declaration is out of sight.
    static func castType(of call: Call, in expression: Expression) -> CType? {
        let tokens = CSyntax.tokens(expression.text)
        for index in tokens.indices where index >= 1 && index + 1 < tokens.count
            && tokens[index] == call.callee && tokens[index + 1] == "(" && tokens[index - 1] == ")" {
            // Back from the `)` to its `(`: a cast holds only a type.
            guard let open = tokens[..<(index - 1)].lastIndex(of: "("), open < index - 2,
                  let type = CType(tokens: Array(tokens[(open + 1)..<(index - 1)])), type.pointerDepth >= 1
            else { continue }
            return type
        }
        return nil
    }

    /// The single `sizeof` factor of a size that is a plain product (`n * sizeof(T)`,
    /// `sizeof(T) * n`, `sizeof(T)`); nil for sums such as a header plus an array, where the
    /// sizeof need not be the element size.
    static func sizeofFactor(of argument: String) -> (tokens: [String], text: String)? {
        var tokens = CSyntax.tokens(argument)
        while tokens.first == "(", tokens.last == ")", CSyntax.matchingClose(tokens, from: 0) == tokens.count - 1 {
            tokens = Array(tokens.dropFirst().dropLast())
        }
        var factors: [[String]] = [[]]
        var depth = 0
        for (index, token) in tokens.enumerated() {
            if token == "(" || token == "[" { depth += 1 }
            if token == ")" || token == "]" { depth -= 1 }
            if depth == 0 {
                let binaryStar = token == "*" && index > 0 && !CSyntax.isOperator(tokens[index - 1])
                    && tokens[index - 1] != "sizeof"
                if binaryStar {
                    factors.append([])
                    continue
                }
                if ["+", "-", "<<", ">>", "?", ":", "/", "%", "|", "&", ",", "==", "<", ">"].contains(token),
                   index > 0 {
                    return nil
                }
            }
            factors[factors.count - 1].append(token)
        }
        let sizes = factors.filter { $0.first == "sizeof" }
        guard sizes.count == 1, let factor = sizes.first, factor.count >= 2 else { return nil }
        var operand = Array(factor.dropFirst())
        if operand.first == "(", CSyntax.matchingClose(operand, from: 0) == operand.count - 1 {
            operand = Array(operand.dropFirst().dropLast())
        } else if operand.first == "(" {
            return nil
        }
        guard !operand.isEmpty else { return nil }
        return (operand, CSyntax.pretty(operand))
    }

    /// The line holding the `sizeof`, which may follow the call's line when the call is wrapped.
    private func sizeofLine(_ operand: String, from line: Int, in model: FunctionModel) -> Int {
        let wanted = CSyntax.join(CSyntax.tokens("sizeof(" + operand + ")"))
        for candidate in line..<(line + 6) {
            guard let text = model.sourceLines[candidate] else { break }
            if CSyntax.join(CSyntax.tokens(text)).contains(wanted) { return candidate }
        }
        return line
    }
}

/// A C type as normalised tokens (`spinlock_t * *`), qualifiers dropped.
struct CType: Hashable {
    var tokens: [String]

    private static let qualifiers: Set<String> = ["const", "volatile", "__rcu", "__user", "__iomem", "__percpu",
                                                  "__kernel", "__force", "restrict", "__restrict"]

    init?(tokens raw: [String]) {
        let kept = raw.filter { !Self.qualifiers.contains($0) }
        // Arrays, function pointers and anything else with brackets are not compared.
        guard !kept.isEmpty, kept.allSatisfy({ $0 == "*" || CSyntax.isIdentifier($0) }),
              kept.first != "*" else { return nil }
        tokens = kept
    }

    init?(text: String) { self.init(tokens: CSyntax.tokens(text)) }

    var text: String { CSyntax.pretty(tokens) }
    var pointerDepth: Int { tokens.reversed().prefix { $0 == "*" }.count }
    var isVoid: Bool { tokens == ["void"] }
    var isAggregate: Bool { ["struct", "union"].contains(tokens.first ?? "") }
    func removingPointer() -> CType { var copy = self; if copy.tokens.last == "*" { copy.tokens.removeLast() }; return copy }
    func addingPointer() -> CType { var copy = self; copy.tokens.append("*"); return copy }

    /// `struct NAME` for `struct NAME` with exactly `stars` pointer levels.
    func structName(stars: Int) -> String? {
        guard pointerDepth == stars, tokens.count == 2 + stars, ["struct", "union"].contains(tokens[0]) else { return nil }
        return tokens[1]
    }
}

/// Member types of the structures the patch defines (in any hunk, such as a header hunk), on one side.
struct PatchStructs {
    struct Member {
        var type: CType
        var structName: String
        var file: String
    }

    private(set) var members: [String: [Member]] = [:]
    private(set) var byStruct: [String: [String: Member]] = [:]

    init(patch: Patch?, side: Side) {
        guard let patch else { return }
        for file in patch.files {
            for hunk in file.hunks {
                let text = hunk.lines.filter { side == .after ? $0.kind != .removed : $0.kind != .added }
                    .map(\.text).joined(separator: "\n")
                collect(CSyntax.tokens(text), file: file.displayPath)
            }
        }
    }

    /// Finds `struct NAME { … }` and reads its member declarations.
    private mutating func collect(_ tokens: [String], file: String) {
        var index = 0
        while index + 2 < tokens.count {
            guard ["struct", "union"].contains(tokens[index]), CSyntax.isIdentifier(tokens[index + 1]),
                  tokens[index + 2] == "{", let close = CSyntax.matchingClose(tokens, from: index + 2) else {
                index += 1
                continue
            }
            let name = tokens[index + 1]
            var declaration: [String] = []
            for token in tokens[(index + 3)..<close] {
                if token == ";" {
                    add(declaration, to: name, file: file)
                    declaration = []
                } else if token == "{" || token == "}" {
                    // Members of a nested anonymous union are members of the outer structure.
                    declaration = []
                } else {
                    declaration.append(token)
                }
            }
            index = close + 1
        }
    }

    /// `spinlock_t **a, *b` → a: `spinlock_t * *`, b: `spinlock_t *`.
    private mutating func add(_ declaration: [String], to structName: String, file: String) {
        guard !declaration.contains("("), !declaration.contains("[") else { return }
        let parts = declaration.split(separator: ",", omittingEmptySubsequences: false).map(Array.init)
        guard let first = parts.first, let baseEnd = first.firstIndex(of: "*") ?? (first.count >= 2 ? first.count - 1 : nil)
        else { return }
        let base = Array(first[..<baseEnd])
        for (offset, part) in parts.enumerated() {
            let declarator = offset == 0 ? Array(first[baseEnd...]) : part
            let stars = declarator.prefix { $0 == "*" }.count
            let rest = declarator.dropFirst(stars)
            guard rest.count == 1, let member = rest.first, CSyntax.isIdentifier(member),
                  let type = CType(tokens: base + Array(repeating: "*", count: stars)) else { continue }
            let entry = Member(type: type, structName: structName, file: file)
            members[member, default: []].append(entry)
            byStruct[structName, default: [:]][member] = entry
        }
    }
}

/// Types of the names a function can see: its locals and parameters, and members of structures
/// the patch defines.
struct TypeScope {
    var variables: [String: CType] = [:]
    /// Every declared name, also those whose type is not one we compare (arrays, function pointers).
    var declared: Set<String> = []
    var structs: PatchStructs

    init(model: FunctionModel, structs: PatchStructs) {
        self.structs = structs
        var all = model.parameters
        model.body.visitDeclarationLines { name, type, _ in all.append((name, type)) }
        for (name, type) in all {
            declared.insert(name)
            variables[name] = CType(text: type)
        }
    }

    /// `p`, `data->locks`, `a.b->c`; nil when any step is unknown.
    func type(of target: String) -> CType? {
        let tokens = CSyntax.tokens(target)
        guard let root = tokens.first, CSyntax.isIdentifier(root) else { return nil }
        var steps: [(arrow: Bool, member: String)] = []
        var index = 1
        while index < tokens.count {
            guard index + 1 < tokens.count, tokens[index] == "->" || tokens[index] == ".",
                  CSyntax.isIdentifier(tokens[index + 1]) else { return nil }
            steps.append((tokens[index] == "->", tokens[index + 1]))
            index += 2
        }
        guard declared.contains(root) else {
            // The base is not declared where the patch shows it: the last member name alone, when
            // the structures the patch defines give it exactly one type.
            guard let member = steps.last?.member else { return nil }
            let candidates = Set((structs.members[member] ?? []).map(\.type))
            return candidates.count == 1 ? candidates.first : nil
        }
        var current = variables[root]
        for step in steps {
            // A structure this patch does not define: its members are unknown.
            guard let known = current, let name = known.structName(stars: step.arrow ? 1 : 0),
                  let members = structs.byStruct[name] else { return nil }
            current = members[step.member]?.type
        }
        return current
    }

    /// Where a member's type was learnt, for the message (` (struct mm_lock_data in include/linux/mm.h)`).
    func origin(of target: String) -> String {
        let tokens = CSyntax.tokens(target)
        guard tokens.count >= 3, let member = tokens.last, let entry = structs.members[member]?.first else { return "" }
        return " (struct \(entry.structName) in \(entry.file))"
    }

    /// The type a sizeof operand measures: a type name (`spinlock_t *`, `struct page`) or an
    /// expression over the target (`*p`, `p[0]`, `p`).
    func sizeofType(_ operand: [String], target: String, pointer: CType) -> CType? {
        var tokens = operand
        var derefs = 0
        while tokens.first == "*" { derefs += 1; tokens.removeFirst() }
        while tokens.count >= 3, Array(tokens.suffix(3)) == ["[", "0", "]"] { derefs += 1; tokens.removeLast(3) }
        let path = CSyntax.join(tokens)
        if path == CSyntax.join(CSyntax.tokens(target)) {
            var type = pointer
            for _ in 0..<derefs { type = type.removingPointer() }
            return derefs <= pointer.pointerDepth ? type : nil
        }
        if derefs > 0 || tokens.contains("->") || tokens.contains(".") { return nil }
        // A lone name that is a variable measures that variable, whose type we do not compare.
        if tokens.count == 1, variables[tokens[0]] != nil { return nil }
        return CType(tokens: operand)
    }
}

/// Quoted diff lines without a file header of their own are filed under the previous header's
/// path, numbered from 1. A finding there says so instead of pretending to know the file.
enum HeaderlessLines {
    static func remark(file: String, line: Int, side: Side, patch: Patch?) -> String? {
        guard let patch else { return nil }
        var seen: Set<String> = []
        for diff in patch.files {
            let path = diff.displayPath
            defer { seen.insert(path) }
            // The reader gives such lines a FileDiff of their own after the one whose name they borrow.
            guard path == file, seen.contains(path), diff.hunks.allSatisfy({ $0.repaired && $0.section.isEmpty })
            else { continue }
            let shown = diff.hunks.contains { hunk in
                hunk.lines.contains { (side == .after ? $0.newLine : $0.oldLine) == line }
            }
            if shown {
                return "These quoted lines had no file header: \(file) is only the file named before them, "
                    + "and the line number counts from the start of the quote"
            }
        }
        return nil
    }
}

/// A small C tokenizer for the normalised text of expressions and hunk lines.
enum CSyntax {
    private static let punctuators3: Set<String> = ["<<=", ">>=", "..."]
    private static let punctuators2: Set<String> = ["->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
                                                    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##"]

    static func tokens(_ text: String) -> [String] {
        // Called for every hunk of a patch and many expressions: ASCII text without carriage
        // returns (where every byte is a Character) is read as bytes, the same way.
        if !text.utf8.contains(where: { $0 >= 0x80 || $0 == 0x0D }) { return asciiTokens(text) }
        let chars = Array(text)
        var result: [String] = []
        var index = 0
        func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        while index < chars.count {
            let c = chars[index]
            if c.isWhitespace { index += 1; continue }
            if c == "/", index + 1 < chars.count, chars[index + 1] == "*" {
                index += 2
                while index + 1 < chars.count, !(chars[index] == "*" && chars[index + 1] == "/") { index += 1 }
                index += 2
                continue
            }
            if c == "/", index + 1 < chars.count, chars[index + 1] == "/" {
                while index < chars.count, chars[index] != "\n" { index += 1 }
                continue
            }
            if c == "\"" || c == "'" {
                // Literals matter only as "some value": keep an empty placeholder of the same quote.
                index += 1
                while index < chars.count, chars[index] != c { index += chars[index] == "\\" ? 2 : 1 }
                index += 1
                result.append(String(c) + String(c))
                continue
            }
            if isWord(c) {
                var end = index
                while end < chars.count, isWord(chars[end]) { end += 1 }
                result.append(String(chars[index..<end]))
                index = end
                continue
            }
            if index + 2 < chars.count, punctuators3.contains(String(chars[index...(index + 2)])) {
                result.append(String(chars[index...(index + 2)]))
                index += 3
                continue
            }
            if index + 1 < chars.count, punctuators2.contains(String(chars[index...(index + 1)])) {
                result.append(String(chars[index...(index + 1)]))
                index += 2
                continue
            }
            result.append(String(c))
            index += 1
        }
        return result
    }

    /// `tokens` for text whose bytes are all ASCII and none a carriage return.
    private static func asciiTokens(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var result: [String] = []
        var index = 0
        func isWord(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
        }
        // Character.isWhitespace on ASCII: tab, line feed, vertical tab, form feed, space (no CR here).
        func isSpace(_ b: UInt8) -> Bool { (b >= 0x09 && b <= 0x0C) || b == 0x20 }
        func string(_ start: Int, _ end: Int) -> String { String(decoding: bytes[start..<end], as: UTF8.self) }
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), newline = UInt8(ascii: "\n")
        let doubleQuote = UInt8(ascii: "\""), singleQuote = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")
        while index < bytes.count {
            let c = bytes[index]
            if isSpace(c) { index += 1; continue }
            if c == slash, index + 1 < bytes.count, bytes[index + 1] == star {
                index += 2
                while index + 1 < bytes.count, !(bytes[index] == star && bytes[index + 1] == slash) { index += 1 }
                index += 2
                continue
            }
            if c == slash, index + 1 < bytes.count, bytes[index + 1] == slash {
                while index < bytes.count, bytes[index] != newline { index += 1 }
                continue
            }
            if c == doubleQuote || c == singleQuote {
                index += 1
                while index < bytes.count, bytes[index] != c { index += bytes[index] == backslash ? 2 : 1 }
                index += 1
                result.append(c == doubleQuote ? "\"\"" : "''")
                continue
            }
            if isWord(c) {
                var end = index
                while end < bytes.count, isWord(bytes[end]) { end += 1 }
                result.append(string(index, end))
                index = end
                continue
            }
            if index + 2 < bytes.count {
                let three = string(index, index + 3)
                if punctuators3.contains(three) {
                    result.append(three)
                    index += 3
                    continue
                }
            }
            if index + 1 < bytes.count {
                let two = string(index, index + 2)
                if punctuators2.contains(two) {
                    result.append(two)
                    index += 2
                    continue
                }
            }
            result.append(string(index, index + 1))
            index += 1
        }
        return result
    }

    static func isIdentifier(_ token: String) -> Bool {
        guard let first = token.first, first.isLetter || first == "_" else { return false }
        return token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// A token after which `*` and `&` are unary.
    static func isOperator(_ token: String) -> Bool {
        !(isIdentifier(token) || token.first?.isNumber == true || token == ")" || token == "]"
          || token.hasPrefix("\"") || token.hasPrefix("'"))
    }

    /// The index of the bracket closing the one at `open`.
    static func matchingClose(_ tokens: [String], from open: Int) -> Int? {
        let pairs: [String: String] = ["(": ")", "[": "]", "{": "}"]
        guard open < tokens.count, let closer = pairs[tokens[open]] else { return nil }
        var depth = 0
        for index in open..<tokens.count {
            if tokens[index] == tokens[open] { depth += 1 }
            if tokens[index] == closer {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }

    /// Tokens as one canonical string (`sizeof ( spinlock_t * )`).
    static func join(_ tokens: [String]) -> String { tokens.joined(separator: " ") }

    /// Tokens as a person writes them: `spinlock_t **`, `*data`, `data->locks`, `n * size`.
    static func pretty(_ tokens: [String]) -> String {
        let binary: Set<String> = ["*", "+", "-", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "=", "?", ":",
                                   "&", "|", "<<", ">>"]
        var result = ""
        var spaceNext = false
        for (index, token) in tokens.enumerated() {
            let previous = index > 0 ? tokens[index - 1] : nil
            let valueBefore = previous.map { !isOperator($0) } ?? false
            let next = index + 1 < tokens.count ? tokens[index + 1] : nil
            let typeStar = token == "*" && (next == nil || next == "*" || next == ")")
            if typeStar {
                result += (previous == "*" ? "" : " ") + token
                spaceNext = false
            } else if valueBefore && binary.contains(token) {
                result += " " + token
                spaceNext = true
            } else {
                if spaceNext || (valueBefore && !isOperator(token) && token != "(" && token != "[") { result += " " }
                result += token
                spaceNext = token == ","
            }
        }
        return result
    }
}
