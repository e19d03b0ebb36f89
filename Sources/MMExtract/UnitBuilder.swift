import MMCore

/// Where a line of the generated main file comes from.
enum LineOrigin: Sendable, Equatable {
    /// Prelude include, stubs, wrappers, closers: nothing in the model may come from here.
    case synthetic(job: Int?)
    /// A source line of the image (after directive rewriting).
    case code(job: Int, line: Int)
    /// A preprocessor directive line of the image (macro bodies are not real code locations).
    case directive(job: Int, line: Int)
    /// The gap marker `__mm_gap();`; `line` is the first hidden line.
    case gap(job: Int, line: Int)

    var job: Int? {
        switch self {
        case .synthetic(let j): return j
        case .code(let j, _), .directive(let j, _), .gap(let j, _): return j
        }
    }
}

/// The type a stub gives an unknown variable or struct member, chosen from how the hunk uses it.
enum StubType: Int, Comparable, Sendable {
    case long = 0, longPointer, anyPointerPointer, function, structValue, anyPointer

    static func < (a: StubType, b: StubType) -> Bool { a.rawValue < b.rawValue }

    /// Declaration text for a variable or member named `name`; `level` picks the by-value struct.
    func declaration(_ name: String, valueStruct: String) -> String {
        switch self {
        case .long: return "long \(name)"
        case .longPointer: return "long *\(name)"
        case .anyPointerPointer: return "struct __mm_any **\(name)"
        case .function: return "long (*\(name))()"
        case .structValue: return "struct \(valueStruct) \(name)"
        case .anyPointer: return "struct __mm_any *\(name)"
        }
    }
}

/// One side of one function to put into a translation unit.
struct Job {
    var id: Int
    var functionIndex: Int
    var side: Side
    var name: String
    var file: String
    var image: FunctionImage
}

/// A job after wrapping analysis: everything but the stubs, which depend on the whole unit.
struct PreparedJob {
    enum Piece {
        case synthetic(String)
        case code(line: Int, text: String, directive: Bool)
        case lineMarker(Int)
        case gap(line: Int)
        case localStubs
        case labels
    }
    var job: Job
    var pieces: [Piece]
    /// Tokens of the image's rewritten lines (for stub usage analysis).
    var tokens: [CToken]
    var missingLabels: [String]
    var hunkDefines: [String]
    var definedFunctionName: String?
}

/// Stubs shared by one translation unit.
struct StubSet {
    var members: [String: StubType] = [:]
    var tags: [String: String] = [:]  // name -> struct/union/enum
    var typedefs: [String: Bool] = [:]  // name -> is struct
    /// Typedef names whose variables are called (`filler_t filler` … `filler(file, folio)`):
    /// function types, or the call is dropped as "called object type 'long' is not a function".
    var functionTypedefs: Set<String> = []
    var constants: Set<String> = []
    /// ALL_CAPS names written right before a string literal (`printk(KERN_ERR "…")`): string
    /// macros, defined as "" so the call parses (as an enum constant it is a syntax error that
    /// drops the whole statement).
    var stringMacros: Set<String> = []
    var loopMacros: Set<String> = []
    var pointerFunctions: Set<String> = []
    var globals: [String: StubType] = [:]
    var locals: [Int: [String: StubType]] = [:]  // job id -> name -> type
    /// Exact types for stub variables learnt from diagnostics (`struct task_struct *`).
    var overrides: [String: String] = [:]

    func declaration(_ name: String, _ t: StubType) -> String {
        if let o = overrides[name] { return "\(o)\(name)" }
        return t.declaration(name, valueStruct: "__mm_any")
    }

    var count: Int {
        members.count + tags.count + typedefs.count + constants.count + stringMacros.count + loopMacros.count
            + pointerFunctions.count + globals.count + locals.values.reduce(0) { $0 + $1.count } + overrides.count
    }

    func text() -> [String] {
        var out: [String] = []
        let memberNames = members.keys.sorted()
        func body(_ level: Int) -> String {
            var s = ""
            for m in memberNames {
                let t = members[m] ?? .long
                let valueStruct = level == 0 ? "__mm_v1" : (level == 1 ? "__mm_v2" : "")
                let decl = (t == .structValue && level >= 2) ? "long \(m)" : t.declaration(m, valueStruct: valueStruct)
                s += decl + "; "
            }
            return s + "long __mm_pad;"
        }
        out.append("struct __mm_any; struct __mm_v1; struct __mm_v2;")
        out.append("struct __mm_v2 { \(body(2)) };")
        out.append("struct __mm_v1 { \(body(1)) };")
        let anyBody = body(0)
        out.append("struct __mm_any { \(anyBody) };")
        // Every other tag gets the same members by embedding __mm_any as an anonymous member (a
        // Microsoft extension, `-fms-extensions`), not by a copy of the member list: with forty
        // tags and a hundred members the copies were two thirds of a unit's text.
        var completed = Set<String>()
        for tag in KernelPrelude.forwardTags.sorted() {
            completed.insert(tag)
            out.append("struct \(tag) { struct __mm_any; };")
        }
        for (name, kind) in tags.sorted(by: { $0.key < $1.key }) where !completed.contains(name) {
            switch kind {
            case "enum": out.append("enum \(name) { __mm_enum_\(name) };")
            case "union": out.append("union \(name) { struct __mm_any; };")
            default: out.append("struct \(name) { struct __mm_any; };")
            }
        }
        for (name, isStruct) in typedefs.sorted(by: { $0.key < $1.key }) {
            if functionTypedefs.contains(name) {
                // `filler_t filler` and `filler_t *filler` are then both callable.
                out.append("typedef long \(name)();")
            } else {
                out.append(isStruct ? "typedef struct __mm_any \(name);" : "typedef long \(name);")
            }
        }
        for name in stringMacros.sorted() { out.append("#define \(name) \"\"") }
        let enumConstants = constants.subtracting(stringMacros)
        if !enumConstants.isEmpty {
            // Distinct non-zero values: `case VMA_NEEDS_RESV:` and `case VMA_COMMIT_RESV:` of one
            // switch would otherwise be duplicate case values, and clang drops the whole switch.
            out.append("enum { " + enumConstants.sorted().enumerated().map { "\($1) = \($0 + 1)" }
                .joined(separator: ", ") + " };")
        }
        for name in loopMacros.sorted() { out.append("#define \(name)(...) for (;;)") }
        for name in pointerFunctions.sorted() { out.append("struct __mm_any *\(name)();") }
        for (name, t) in globals.sorted(by: { $0.key < $1.key }) {
            out.append("extern " + declaration(name, t) + ";")
        }
        return out
    }
}

enum UnitBuilder {
    static func isAllCaps(_ s: String) -> Bool {
        // Asked for every identifier of every hunk: ASCII names are decided on their bytes.
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            guard s.utf8.count >= 2, s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return false }
            return s.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
        }
        guard s.count >= 2, s.contains(where: { $0.isUppercase }) else { return false }
        return s.allSatisfy { ($0.isUppercase && $0.isASCII) || $0.isNumber || $0 == "_" }
    }

    // MARK: Preparing one job

    static func prepare(_ job: Job) -> PreparedJob {
        var pieces: [PreparedJob.Piece] = []
        var allTokens: [CToken] = []
        var gotoTargets: [String] = []
        var definedLabels = Set<String>()
        var hunkDefines: [String] = []
        var conditionalDepth = 0
        var depth = 0  // open blocks (real or synthetic) before the current segment
        let segments = job.image.segments.filter { !$0.lines.isEmpty }
        // An image that does start with a definition even though it was not marked so is wrapped as one.
        let partial = !job.image.startsAtDefinition && !looksLikeDefinition(segments.first)
        if partial {
            pieces.append(.synthetic("long __mm_fn_\(job.id)(void) {"))
            pieces.append(.localStubs)
            pieces.append(.labels)
            depth = 1
        }
        var lastLine: Int? = nil
        var labelsPlaced = partial

        for (segmentIndex, segment) in segments.enumerated() {
            let isLast = segmentIndex == segments.count - 1
            // 1. Rewrite directives, keeping the line count.
            var texts = segment.lines.map(\.text)
            var isDirective = Array(repeating: false, count: texts.count)
            let raw = CLexer.lex(texts)
            var rewritten = false
            for t in raw.tokens where t.kind == .directive {
                rewritten = true
                let continuation = t.text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
                let keyword = CLexer.directiveKeyword(t.text)
                var replacement: String? = ""
                switch keyword {
                case "if", "ifdef", "ifndef":
                    replacement = "#if 1"; conditionalDepth += 1
                case "elif":
                    replacement = conditionalDepth > 0 ? "#elif 0" : ""
                case "else":
                    replacement = conditionalDepth > 0 ? "#else" : ""
                case "endif":
                    if conditionalDepth > 0 { replacement = "#endif"; conditionalDepth -= 1 } else { replacement = "" }
                case "define":
                    replacement = nil
                    let rest = t.text.drop(while: { $0 != "e" }).dropFirst(5)  // after "define"
                    let name = rest.drop(while: { $0 == " " || $0 == "\t" }).prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
                    if !name.isEmpty { hunkDefines.append(String(name)) }
                case "undef":
                    replacement = nil
                default:
                    replacement = ""
                }
                for k in 0...continuation where t.line + k < texts.count {
                    isDirective[t.line + k] = true
                    if let r = replacement { texts[t.line + k] = k == 0 ? r : "" }
                }
            }
            // A segment that starts inside a comment gets a synthetic comment opener.
            var commentPrefix = false
            let joined = texts.joined(separator: "\n")
            // Byte search on ASCII text finds what Foundation's range(of:) finds, for far less.
            let ascii = joined.isAllASCII
            if let close = ascii ? joined.byteRange(of: "*/") : joined.range(of: "*/") {
                let open = ascii ? joined.byteRange(of: "/*") : joined.range(of: "/*")
                if let open { commentPrefix = close.lowerBound < open.lowerBound } else { commentPrefix = true }
            }
            // Without a directive or a comment opener to add the text is what `raw` lexed.
            let lexed = rewritten || commentPrefix ? CLexer.lex((commentPrefix ? ["/*"] : []) + texts) : raw
            var tokens = lexed.tokens.filter { $0.active && $0.kind != .directive }
            if commentPrefix { for k in tokens.indices { tokens[k].line -= 1 } }
            let tokenSlice = tokens[...]

            // 2. Brace analysis.
            var start = 0
            var headerEndLine: Int? = nil
            if segmentIndex == 0 && !partial {
                var parens = 0
                var k = 0
                while k < tokens.count {
                    let t = tokens[k]
                    if t.isPunct("(") { parens += 1 } else if t.isPunct(")") { parens -= 1 } else if t.isPunct("{") && parens <= 0 {
                        headerEndLine = t.line
                        break
                    } else if t.isPunct(";") && parens <= 0 {
                        break  // a prototype, not a definition
                    }
                    k += 1
                }
                if headerEndLine != nil { start = k + 1; depth = 1 } else { start = tokens.count }
            }
            enum Kind { case loop, switchBlock, other }
            var stack: [Kind] = []
            var sawLoopUse = false, sawCase = false
            var openers: [String] = []
            var parenDepth = 0
            let finalBraceIndex: Int? = (isLast && job.image.endsAtClosingBrace)
                ? tokens.lastIndex(where: { $0.isPunct("}") }) : nil
            var k = start
            while k < tokens.count {
                let t = tokens[k]
                if t.isPunct("(") { parenDepth += 1 } else if t.isPunct(")") { parenDepth = max(0, parenDepth - 1) }
                if t.isPunct("{") {
                    var kind = Kind.other
                    if let p = TokenAnalysis.previous(tokenSlice, k) {
                        if tokens[p].text == "do" { kind = .loop }
                        if tokens[p].isPunct(")"), let o = TokenAnalysis.matchingOpen(tokenSlice, from: p),
                           let q = TokenAnalysis.previous(tokenSlice, o) {
                            let w = tokens[q].text
                            if w == "for" || w == "while" || TokenAnalysis.isLoopMacro(tokenSlice, q) { kind = .loop }
                            if w == "switch" { kind = .switchBlock }
                        }
                    }
                    stack.append(kind)
                } else if t.isPunct("}") {
                    if !stack.isEmpty {
                        stack.removeLast()
                    } else if depth > 1 || (k == finalBraceIndex && depth >= 1) {
                        depth -= 1
                    } else {
                        let after = TokenAnalysis.next(tokenSlice, k).map { tokens[$0].text }
                        let opener: String
                        // A plain block closed in the first hunk was opened before it, nearly always
                        // by an `if` whose condition is out of sight: paths that skipped it reach the
                        // code after the brace too (the model keeps a synthetic `if` with no
                        // condition). After a gap between hunks the block may as well belong to
                        // another function than the one continued, so it stays a plain block there.
                        let skippable = segmentIndex == 0 ? "if (1) {" : "{"
                        if after == "else" { opener = "if (1) {" } else if after == "while" { opener = "do {" } else if sawCase { opener = "switch (0) {" } else if sawLoopUse { opener = "for (;;) {" } else { opener = skippable }
                        openers.append(opener)
                        sawLoopUse = false; sawCase = false
                    }
                } else if t.kind == .identifier {
                    switch t.text {
                    case "break":
                        if !stack.contains(where: { $0 != .other }) { sawLoopUse = true }
                    case "continue":
                        if !stack.contains(.loop) { sawLoopUse = true }
                    case "case":
                        if !stack.contains(.switchBlock) { sawCase = true }
                    case "default":
                        if !stack.contains(.switchBlock), let n = TokenAnalysis.next(tokenSlice, k), tokens[n].isPunct(":") { sawCase = true }
                    case "goto":
                        if let n = TokenAnalysis.next(tokenSlice, k), tokens[n].isIdentifier { gotoTargets.append(tokens[n].text) }
                    default:
                        if let n = TokenAnalysis.next(tokenSlice, k), tokens[n].isPunct(":"),
                           !TokenAnalysis.keywords.contains(t.text) {
                            let p = TokenAnalysis.previous(tokenSlice, k)
                            if p == nil || [";", "{", "}", ":"].contains(tokens[p!].text) { definedLabels.insert(t.text) }
                        }
                    }
                }
                k += 1
            }

            // 3. Emit the segment.
            if segmentIndex > 0 || partial {
                for opener in openers.reversed() { pieces.append(.synthetic(opener)) }
                let gapLine = lastLine.map { $0 + 1 } ?? max(1, segment.firstLine - 1)
                pieces.append(.gap(line: gapLine))
            } else if !openers.isEmpty {
                // Unmatched closers in the first segment of a full function: open them right after
                // the header (emitted below).
            }
            if commentPrefix { pieces.append(.synthetic("/*")) }
            pieces.append(.lineMarker(segment.firstLine))
            for (idx, line) in segment.lines.enumerated() {
                pieces.append(.code(line: line.number, text: texts[idx], directive: isDirective[idx]))
                if let h = headerEndLine, idx == h, segmentIndex == 0, !labelsPlaced {
                    labelsPlaced = true
                    pieces.append(.labels)
                    for opener in openers.reversed() { pieces.append(.synthetic(opener)) }
                    if idx + 1 < segment.lines.count { pieces.append(.lineMarker(segment.lines[idx + 1].number)) }
                }
            }
            if lexed.endsInsideComment { pieces.append(.synthetic("*/")) }
            if parenDepth > 0 {
                let dangling = tokens.last.map { $0.kind == .punct && $0.text != ")" && $0.text != "]" } ?? false
                pieces.append(.synthetic((dangling ? "0" : "") + String(repeating: ")", count: parenDepth) + ";"))
            }
            depth += stack.count
            lastLine = segment.lastLine
            allTokens.append(contentsOf: tokens)
        }
        if !labelsPlaced { pieces.append(.labels) }
        for _ in 0..<conditionalDepth { pieces.append(.synthetic("#endif")) }
        if depth > 0 {
            pieces.append(.synthetic(";"))
            for _ in 0..<depth { pieces.append(.synthetic("}")) }
        }
        let missing = Array(Set(gotoTargets).subtracting(definedLabels)).sorted()
        return PreparedJob(job: job, pieces: pieces, tokens: allTokens, missingLabels: missing,
                           hunkDefines: hunkDefines, definedFunctionName: partial ? nil : job.name)
    }

    /// The first code of the segment is a function header: `type name(params) {`.
    static func looksLikeDefinition(_ segment: Segment?) -> Bool {
        guard let segment else { return false }
        let toks = CLexer.lex(segment.lines.map(\.text)).tokens.filter { $0.active && $0.kind != .directive }
        let slice = toks[...]
        guard let brace = toks.firstIndex(where: { $0.isPunct("{") || $0.isPunct(";") }), toks[brace].isPunct("{"),
              brace > 0, toks[brace - 1].isPunct(")"),
              let open = TokenAnalysis.matchingOpen(slice, from: brace - 1), open > 0,
              toks[open - 1].isIdentifier, open - 1 > 0 else { return false }
        // Everything before the name is type-ish and the header is the first statement.
        return toks[..<(open - 1)].allSatisfy { $0.isIdentifier || $0.isPunct("*") }
            && TokenAnalysis.isDeclarator(slice, open - 1)
    }

    // MARK: Lexical stubs

    static func collectLexicalStubs(_ jobs: [PreparedJob], into stubs: inout StubSet) {
        let known = KernelPrelude.knownNames
        for job in jobs {
            let toks = job.tokens[...]
            let defines = Set(job.hunkDefines)
            var declaredTags = Set<String>()
            for i in toks.indices where ["struct", "union", "enum"].contains(toks[i].text) && toks[i].isIdentifier {
                if i + 2 < toks.endIndex, toks[i + 1].isIdentifier, toks[i + 2].isPunct("{") { declaredTags.insert(toks[i + 1].text) }
            }
            for i in toks.indices {
                let t = toks[i]
                guard t.kind == .identifier else { continue }
                let prev = i > toks.startIndex ? toks[i - 1] : nil
                let next = i + 1 < toks.endIndex ? toks[i + 1] : nil
                if let p = prev, p.isPunct("->") || p.isPunct(".") {
                    let use = usage(toks, i, member: true)
                    stubs.members[t.text] = max(stubs.members[t.text] ?? .long, use)
                    continue
                }
                if let p = prev, ["struct", "union", "enum"].contains(p.text) {
                    if !KernelPrelude.definedTags.contains(t.text) && !declaredTags.contains(t.text) {
                        stubs.tags[t.text] = p.text
                    }
                    continue
                }
                if known.contains(t.text) || TokenAnalysis.keywords.contains(t.text) || defines.contains(t.text) { continue }
                if t.text.hasSuffix("_t"), t.text.count > 2 {
                    let isStruct = next?.isPunct("*") ?? false
                    stubs.typedefs[t.text] = (stubs.typedefs[t.text] ?? false) || isStruct
                    if Self.declaresCalledVariable(toks, i) { stubs.functionTypedefs.insert(t.text) }
                    continue
                }
                if let n = next, n.isPunct("(") {
                    if TokenAnalysis.isLoopMacro(toks, i), t.text != job.definedFunctionName {
                        stubs.loopMacros.insert(t.text)
                    } else if let close = TokenAnalysis.matchingClose(toks, from: i + 1), close + 1 < toks.endIndex,
                              toks[close + 1].isPunct("->") {
                        stubs.pointerFunctions.insert(t.text)
                    }
                    continue
                }
                if isAllCaps(t.text), let n = next, n.kind == .string {
                    stubs.stringMacros.insert(t.text)
                    continue
                }
                if isAllCaps(t.text) {
                    if let n = next, n.isPunct(":"), prev == nil || [";", "{", "}"].contains(prev!.text) { continue }
                    if let p = prev, p.text == "goto" { continue }
                    stubs.constants.insert(t.text)
                }
            }
        }
    }

    /// How the identifier at i is used (the type a stub should give it).
    /// `T v` or `T *v` at `i`, and `v(` or `(*v)(` elsewhere in the same tokens: T is called
    /// through, so it is a function type (mm/filemap.c `filler_t filler` … `filler(file, folio)`).
    static func declaresCalledVariable(_ toks: ArraySlice<CToken>, _ i: Int) -> Bool {
        var j = i + 1
        if j < toks.endIndex, toks[j].isPunct("*") { j += 1 }
        guard j < toks.endIndex, toks[j].kind == .identifier else { return false }
        let name = toks[j].text
        for k in toks.indices where k != j && toks[k].kind == .identifier && toks[k].text == name {
            let next = k + 1 < toks.endIndex ? toks[k + 1] : nil
            if let next, next.isPunct("(") { return true }
            // `(*v)(`
            if k + 2 < toks.endIndex, k - 2 >= toks.startIndex, toks[k - 1].isPunct("*"), toks[k - 2].isPunct("("),
               toks[k + 1].isPunct(")"), toks[k + 2].isPunct("(") { return true }
        }
        return false
    }

    static func usage(_ toks: ArraySlice<CToken>, _ i: Int, member: Bool) -> StubType {
        let next = i + 1 < toks.endIndex ? toks[i + 1] : nil
        if let n = next {
            if n.isPunct("->") { return .anyPointer }
            if n.isPunct(".") { return .structValue }
            if n.isPunct("(") { return member ? .function : .long }
            if n.isPunct("["), let close = TokenAnalysis.matchingClose(toks, from: i + 1) {
                let after = close + 1 < toks.endIndex ? toks[close + 1] : nil
                if after?.isPunct("->") == true { return .anyPointerPointer }
                if after?.isPunct(".") == true { return .anyPointer }
                return .longPointer
            }
            if n.isPunct(")"), i + 2 < toks.endIndex, toks[i + 2].isPunct("("), member { return .function }
        }
        // Unary `*` applied to the chain this identifier starts or ends.
        var s = i
        if member { s = TokenAnalysis.chainStart(toks, i) }
        if s > toks.startIndex, toks[s - 1].isPunct("*") {
            let pp = s - 1 > toks.startIndex ? toks[s - 2] : nil
            let unary = pp == nil || (pp!.kind == .punct && !pp!.isPunct(")") && !pp!.isPunct("]")) || pp!.text == "return"
            // `*pagep = NULL;`, `put_page(*pagep)`: what it points to is used as a pointer far
            // more often than as a structure by value.
            if unary { return .anyPointerPointer }
        }
        return .long
    }

    /// Stub type for an undeclared identifier from all its uses in a job.
    static func usageType(of name: String, in tokens: [CToken]) -> StubType {
        var best = StubType.long
        let toks = tokens[...]
        for i in toks.indices where toks[i].kind == .identifier && toks[i].text == name {
            if i > toks.startIndex, toks[i - 1].isPunct("->") || toks[i - 1].isPunct(".") { continue }
            var u = usage(toks, i, member: false)
            if u == .function { u = .long }
            best = max(best, u)
        }
        return best
    }

    // MARK: Composition

    struct Composed {
        var lines: [String]
        var origins: [LineOrigin]
    }

    /// The first line of every unit (FunctionExtractor swaps it for the precompiled prelude).
    static let preludeInclude = "#include \"\(KernelPrelude.fileName)\""

    static func compose(_ jobs: [PreparedJob], stubs: StubSet) -> Composed {
        var lines: [String] = []
        var origins: [LineOrigin] = []
        func add(_ s: String, _ o: LineOrigin) { lines.append(s); origins.append(o) }
        add(preludeInclude, .synthetic(job: nil))
        for s in stubs.text() { add(s, .synthetic(job: nil)) }
        for p in jobs {
            let id = p.job.id
            if let name = p.definedFunctionName, isIdentifier(name) {
                add("#define \(name) __mm_fn_\(id)", .synthetic(job: id))
            }
            for piece in p.pieces {
                switch piece {
                case .synthetic(let s): add(s, .synthetic(job: id))
                case .code(let line, let text, let directive):
                    add(text, directive ? .directive(job: id, line: line) : .code(job: id, line: line))
                case .lineMarker(let n): add("#line \(n)", .synthetic(job: id))
                case .gap(let line): add("__mm_gap();", .gap(job: id, line: line))
                case .localStubs:
                    for (name, t) in (stubs.locals[id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                        add(stubs.declaration(name, t) + ";", .synthetic(job: id))
                    }
                case .labels:
                    for label in p.missingLabels { add("\(label): ;", .synthetic(job: id)) }
                }
            }
            if let name = p.definedFunctionName, isIdentifier(name) { add("#undef \(name)", .synthetic(job: id)) }
            for d in p.hunkDefines { add("#undef \(d)", .synthetic(job: id)) }
        }
        return Composed(lines: lines, origins: origins)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
    }
}
