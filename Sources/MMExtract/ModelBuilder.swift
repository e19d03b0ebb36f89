import CClang
import MMCore

/// Turns the cursors of one parsed unit into FunctionModel values. Lives only as long as the unit.
final class ModelBuilder {
    let unit: TranslationUnit
    let composed: UnitBuilder.Composed
    let mainName: String
    let tokens: [CToken]
    private let keys: [Int]
    private var mainFileCache: [Int: Bool] = [:]
    /// Per function being built.
    private var notes: [String] = []
    private var seenCalls: Set<Int> = []

    init(unit: TranslationUnit, composed: UnitBuilder.Composed, mainName: String) {
        self.unit = unit
        self.composed = composed
        self.mainName = mainName
        tokens = CLexer.lex(composed.lines).tokens
        keys = tokens.map { Self.key($0.line, $0.column) }
    }

    @inline(__always) static func key(_ line: Int, _ column: Int) -> Int { line &* 1_000_000 &+ column }

    // MARK: Locations

    struct Position {
        var line: Int  // 0-based physical line of the main file
        var column: Int
        var key: Int { ModelBuilder.key(line, column) }
    }

    private func isMain(_ file: CXFile?) -> Bool {
        guard let file else { return false }
        let k = Int(bitPattern: file)
        if let cached = mainFileCache[k] { return cached }
        let result = takeString(clang_getFileName(file)) == mainName
        mainFileCache[k] = result
        return result
    }

    private func spelling(_ loc: CXSourceLocation) -> Position? {
        var file: CXFile?
        var line: UInt32 = 0, column: UInt32 = 0, offset: UInt32 = 0
        clang_getSpellingLocation(loc, &file, &line, &column, &offset)
        guard line > 0, isMain(file) else { return nil }
        return Position(line: Int(line) - 1, column: Int(column))
    }

    private func expansion(_ loc: CXSourceLocation) -> Position? {
        var file: CXFile?
        var line: UInt32 = 0, column: UInt32 = 0, offset: UInt32 = 0
        clang_getExpansionLocation(loc, &file, &line, &column, &offset)
        guard line > 0, isMain(file) else { return nil }
        return Position(line: Int(line) - 1, column: Int(column))
    }

    func origin(_ p: Position) -> LineOrigin {
        p.line >= 0 && p.line < composed.origins.count ? composed.origins[p.line] : .synthetic(job: nil)
    }

    /// True for positions on a line of the image that is code (not a directive, not synthetic).
    func isCode(_ p: Position) -> Bool {
        if case .code = origin(p) { return true }
        if case .gap = origin(p) { return true }
        return false
    }

    /// Where a node really is: its spelling when that is image code, otherwise the expansion point.
    func realPosition(_ loc: CXSourceLocation) -> Position? {
        if let s = spelling(loc), isCode(s) { return s }
        if let e = expansion(loc), isCode(e) { return e }
        return nil
    }

    /// True when the node is spelled in image code (not in a macro body or synthetic text).
    func spelledInCode(_ loc: CXSourceLocation) -> Bool {
        if let s = spelling(loc) { return isCode(s) }
        return false
    }

    func realLine(_ p: Position?) -> Int? {
        guard let p else { return nil }
        switch origin(p) {
        case .code(_, let l), .gap(_, let l), .directive(_, let l): return l
        case .synthetic: return nil
        }
    }

    /// Original column: the image text is kept unchanged, so the physical column is the real one.
    func realColumn(_ p: Position) -> Int { p.column }

    // MARK: Tokens of a cursor

    /// Like realPosition, but also accepts synthetic lines of the main file.
    func mainPosition(_ loc: CXSourceLocation) -> Position? {
        realPosition(loc) ?? expansion(loc)
    }

    func tokenRange(_ c: CXCursor) -> ClosedRange<Int>? {
        let extent = clang_getCursorExtent(c)
        guard let start = mainPosition(clang_getRangeStart(extent)) else { return nil }
        let end = mainPosition(clang_getRangeEnd(extent))
        let lo = lowerBound(start.key)
        guard lo < tokens.count else { return nil }
        var hi = lo
        if let end {
            let h = lowerBound(end.key) - 1
            hi = max(lo, h)
        }
        return lo...hi
    }

    private func lowerBound(_ key: Int) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func text(_ c: CXCursor) -> String {
        guard let r = tokenRange(c) else { return "" }
        return CLexer.join(tokens[r].filter { $0.active })
    }

    func tokenIndex(_ p: Position) -> Int? {
        let i = lowerBound(p.key)
        return i < tokens.count && keys[i] == p.key ? i : nil
    }

    func line(of c: CXCursor) -> Int {
        realLine(realPosition(clang_getRangeStart(clang_getCursorExtent(c)))) ?? 0
    }

    // MARK: Functions

    struct Found {
        var cursor: CXCursor
        var job: Int
    }

    /// Function definitions of the unit by job id.
    func definitions() -> [Int: CXCursor] {
        var result: [Int: CXCursor] = [:]
        for c in children(of: unit.cursor) where clang_getCursorKind(c) == CXCursor_FunctionDecl
            && clang_isCursorDefinition(c) != 0 {
            guard let p = expansion(clang_getCursorLocation(c)), let job = origin(p).job else { continue }
            if result[job] == nil { result[job] = c }
        }
        return result
    }

    func model(for job: Job, cursor: CXCursor?, diagnostics: [String], definitionVisible: Bool) -> FunctionModel {
        notes = []
        seenCalls = []
        var names: [String] = [], types: [String] = []
        var returnType: String? = nil
        var body = Statement.block([])
        if let fn = cursor {
            let kids = children(of: fn)
            if definitionVisible {
                for k in kids where clang_getCursorKind(k) == CXCursor_ParmDecl {
                    names.append(takeString(clang_getCursorSpelling(k)))
                    types.append(takeString(clang_getTypeSpelling(clang_getCursorType(k))))
                }
                returnType = takeString(clang_getTypeSpelling(clang_getResultType(clang_getCursorType(fn))))
            }
            if let compound = kids.last(where: { clang_getCursorKind($0) == CXCursor_CompoundStmt }) {
                body = .block(blockItems(compound))
            }
        } else {
            notes.append("libclang produced no definition for this function; statements recovered from tokens")
            body = .block(recoverAll(job: job.id))
        }
        var sourceLines: [Int: String] = [:]
        for l in job.image.allLines { sourceLines[l.number] = l.text }
        return FunctionModel(name: job.name, file: job.file, side: job.side, parameterNames: names,
                             parameterTypes: types, returnType: returnType,
                             startsAtDefinition: job.image.startsAtDefinition, body: body,
                             sourceLines: sourceLines, parseDiagnostics: diagnostics + notes)
    }

    // MARK: Statements

    private func isSyntheticNode(_ c: CXCursor) -> Bool {
        let start = clang_getRangeStart(clang_getCursorExtent(c))
        if let s = spelling(start), isCode(s) { return false }
        if let e = expansion(start), isCode(e) { return false }
        return true
    }

    /// The first real line at or after the physical line of a synthetic node (the gap it wraps).
    private func hiddenLine(_ c: CXCursor) -> Int {
        guard let e = expansion(clang_getCursorLocation(c)) else { return 0 }
        var i = e.line
        while i < composed.origins.count {
            switch composed.origins[i] {
            case .gap(_, let l), .code(_, let l): return l
            default: i += 1
            }
        }
        return 0
    }

    func blockItems(_ compound: CXCursor) -> [Statement] {
        let kids = children(of: compound)
        var items: [(order: Int, statements: [Statement])] = []
        var covered: [ClosedRange<Int>] = []
        for kid in kids {
            let r = tokenRange(kid)
            if let r { covered.append(r) }
            items.append((r?.lowerBound ?? Int.max, statements(kid)))
        }
        // Safety net: tokens of the block no statement covers were dropped by the parser.
        if let whole = blockTokenRange(compound) {
            covered.sort { $0.lowerBound < $1.lowerBound }
            var runStart: Int? = nil
            var ci = 0
            var i = whole.lowerBound
            func flush(_ end: Int) {
                if let s = runStart, s <= end { items.append((s, recover(s...end))) }
                runStart = nil
            }
            while i <= whole.upperBound {
                while ci < covered.count && covered[ci].upperBound < i { ci += 1 }
                if ci < covered.count && covered[ci].contains(i) {
                    flush(i - 1)
                    i = covered[ci].upperBound + 1
                    continue
                }
                let t = tokens[i]
                let real: Bool = {
                    if case .code = composed.origins[t.line] { return t.active && t.kind != .directive }
                    return false
                }()
                if !real || t.isPunct(";") || t.isPunct("{") || t.isPunct("}") {
                    flush(i - 1)
                } else if runStart == nil {
                    runStart = i
                }
                i += 1
            }
            flush(whole.upperBound)
        }
        items.sort { $0.order < $1.order }
        return items.flatMap(\.statements)
    }

    /// Tokens strictly inside the braces of a compound statement.
    private func blockTokenRange(_ compound: CXCursor) -> ClosedRange<Int>? {
        let extent = clang_getCursorExtent(compound)
        guard let start = spelling(clang_getRangeStart(extent)) ?? expansion(clang_getRangeStart(extent)),
              let end = spelling(clang_getRangeEnd(extent)) ?? expansion(clang_getRangeEnd(extent)) else { return nil }
        let lo = lowerBound(start.key) + 1
        let hi = lowerBound(end.key) - 2
        return lo <= hi && hi < tokens.count ? lo...hi : nil
    }

    /// Statements for a run of tokens the parser dropped.
    private func recover(_ range: ClosedRange<Int>) -> [Statement] {
        let slice = tokens[range]
        guard slice.contains(where: { $0.kind == .identifier || $0.kind == .number }) else { return [] }
        let first = slice.first!
        let line = lineOfToken(first)
        notes.append("line \(line): statement not parsed, recovered from tokens: \(CLexer.join(slice))")
        if first.text == "return" {
            let rest = range.lowerBound + 1 <= range.upperBound ? (range.lowerBound + 1)...range.upperBound : nil
            return [.returnStatement(value: rest.map { tokenExpression($0, topUse: .returned) }, line: line)]
        }
        if first.text == "goto", slice.count >= 2 { return [.goto(label: slice[range.lowerBound + 1].text, line: line)] }
        if first.text == "break" && slice.count == 1 { return [.breakStatement(line: line)] }
        if first.text == "continue" && slice.count == 1 { return [.continueStatement(line: line)] }
        return [.expression(tokenExpression(range, topUse: .ignored))]
    }

    private func lineOfToken(_ t: CToken) -> Int {
        realLine(Position(line: t.line, column: t.column)) ?? 0
    }

    /// An expression built from tokens only (calls from the token scanner).
    private func tokenExpression(_ range: ClosedRange<Int>, topUse: ResultUse) -> Expression {
        let slice = tokens[range]
        var calls: [Call] = []
        var assignments: [Assignment] = []
        let eq = slice.firstIndex(where: { $0.isPunct("=") })
        if let eq, eq > range.lowerBound, eq < range.upperBound {
            let target = Self.assignmentTarget(tokens[range.lowerBound..<eq])
            let valueRange = (eq + 1)...range.upperBound
            let valueCalls = TokenAnalysis.calls(in: tokens[valueRange])
            let single = valueCalls.first.flatMap { c in c.calleeStart == eq + 1 && c.closeParen == range.upperBound ? c.callee : nil }
            assignments.append(Assignment(target: target, value: CLexer.join(tokens[valueRange]),
                                          line: lineOfToken(slice.first!), valueCallee: single))
        }
        for c in TokenAnalysis.calls(in: slice) {
            var use = ResultUse.other
            if c.calleeStart == range.lowerBound && c.closeParen == range.upperBound {
                use = topUse
            } else if let eq, c.calleeStart == eq + 1, c.closeParen == range.upperBound {
                use = .assigned(to: Self.assignmentTarget(tokens[range.lowerBound..<eq]))
            }
            let p = Position(line: tokens[c.calleeStart].line, column: tokens[c.calleeStart].column)
            let args = arguments(open: c.openParen, close: c.closeParen)
            guard seenCalls.insert(p.key).inserted else { continue }
            calls.append(Call(callee: c.callee, arguments: args, line: lineOfToken(tokens[c.calleeStart]),
                              column: p.column, resultUse: use))
        }
        return Expression(text: CLexer.join(slice), line: lineOfToken(slice.first!), calls: calls,
                          assignments: assignments)
    }

    private func arguments(open: Int, close: Int) -> [String] {
        guard close > open + 1 else { return [] }
        var args: [String] = []
        var depth = 0
        var start = open + 1
        for i in (open + 1)..<close {
            let t = tokens[i]
            if t.isPunct("(") || t.isPunct("[") || t.isPunct("{") { depth += 1 }
            if t.isPunct(")") || t.isPunct("]") || t.isPunct("}") { depth -= 1 }
            if depth == 0 && t.isPunct(",") {
                args.append(CLexer.join(tokens[start..<i]))
                start = i + 1
            }
        }
        args.append(CLexer.join(tokens[start..<close]))
        return args
    }

    /// Everything a job shows, recovered from tokens (when libclang gave no definition).
    private func recoverAll(job: Int) -> [Statement] {
        var out: [Statement] = []
        var runStart: Int? = nil
        for (i, t) in tokens.enumerated() {
            let mine: Bool
            switch composed.origins[t.line] {
            case .code(let j, _): mine = j == job && t.active
            default: mine = false
            }
            if !mine || t.isPunct(";") || t.isPunct("{") || t.isPunct("}") {
                if let s = runStart, s < i { out += recover(s...(i - 1)) }
                runStart = nil
            } else if runStart == nil {
                runStart = i
            }
        }
        if let s = runStart { out += recover(s...(tokens.count - 1)) }
        return out
    }

    func statements(_ c: CXCursor) -> [Statement] {
        let kind = clang_getCursorKind(c)
        let synthetic = isSyntheticNode(c)
        switch kind {
        case CXCursor_CompoundStmt:
            let items = blockItems(c)
            return synthetic ? items : [.block(items)]
        case CXCursor_NullStmt:
            return []
        case CXCursor_IfStmt:
            let kids = children(of: c)
            guard kids.count >= 2 else { return kids.flatMap(statements) }
            let condition = synthetic ? Expression(text: "", line: hiddenLine(c)) : expression(kids[0], use: .tested)
            let then = block(kids[1])
            let otherwise = kids.count > 2 ? block(kids[2]) : nil
            return [.ifElse(condition: condition, then: then, otherwise: otherwise)]
        case CXCursor_WhileStmt:
            let kids = children(of: c)
            guard kids.count >= 2 else { return kids.flatMap(statements) }
            return [.loop(Loop(kind: .whileLoop, line: line(of: c), initializer: nil,
                               condition: expression(kids[0], use: .tested), increment: nil, body: block(kids[1])))]
        case CXCursor_DoStmt:
            let kids = children(of: c)
            guard kids.count >= 2 else { return kids.flatMap(statements) }
            if synthetic {
                return [.loop(Loop(kind: .doWhile, line: hiddenLine(c), initializer: nil,
                                   condition: expression(kids[1], use: .tested), increment: nil, body: block(kids[0])))]
            }
            return [.loop(Loop(kind: .doWhile, line: line(of: c), initializer: nil,
                               condition: expression(kids[1], use: .tested), increment: nil, body: block(kids[0])))]
        case CXCursor_ForStmt:
            return [forLoop(c, synthetic: synthetic)]
        case CXCursor_SwitchStmt:
            let kids = children(of: c)
            guard kids.count >= 2 else { return kids.flatMap(statements) }
            let condition = synthetic ? Expression(text: "", line: hiddenLine(c)) : expression(kids[0], use: .tested)
            return [.switchCase(condition: condition, body: block(kids[kids.count - 1]))]
        case CXCursor_CaseStmt, CXCursor_DefaultStmt:
            let kids = children(of: c)
            let sub = kids.last.map { k -> [Statement] in
                kind == CXCursor_CaseStmt && kids.count == 1 ? [] : statements(k)
            } ?? []
            return [.caseLabel(line: line(of: c))] + sub
        case CXCursor_LabelStmt:
            let kids = children(of: c)
            let sub = kids.last.map(statements) ?? []
            if synthetic { return sub }
            return [.label(name: takeString(clang_getCursorSpelling(c)), line: line(of: c))] + sub
        case CXCursor_GotoStmt:
            if synthetic { return [] }
            var label = ""
            if let r = tokenRange(c), r.lowerBound + 1 < tokens.count { label = tokens[r.lowerBound + 1].text }
            return [.goto(label: label, line: line(of: c))]
        case CXCursor_ReturnStmt:
            if synthetic { return [] }
            let kids = children(of: c)
            return [.returnStatement(value: kids.first.map { expression($0, use: .returned) }, line: line(of: c))]
        case CXCursor_BreakStmt:
            return synthetic ? [] : [.breakStatement(line: line(of: c))]
        case CXCursor_ContinueStmt:
            return synthetic ? [] : [.continueStatement(line: line(of: c))]
        case CXCursor_DeclStmt:
            if synthetic { return [] }
            var out: [Statement] = []
            for v in children(of: c) where clang_getCursorKind(v) == CXCursor_VarDecl {
                out += declaration(v)
            }
            return out
        default:
            if synthetic { return [] }
            if let p = realPosition(clang_getRangeStart(clang_getCursorExtent(c))), case .gap(_, let l) = origin(p) {
                return [.gap(line: l)]
            }
            if clang_isExpression(kind) != 0 {
                return [.expression(expression(c, use: .ignored))]
            }
            // Statements the model has no case for (asm, …): keep their calls from tokens.
            if let r = tokenRange(c) { return [.expression(tokenExpression(r, topUse: .ignored))] }
            return []
        }
    }

    private func block(_ c: CXCursor) -> Statement {
        let s = statements(c)
        if s.count == 1, case .block = s[0] { return s[0] }
        return .block(s)
    }

    private func declaration(_ v: CXCursor) -> [Statement] {
        let name = takeString(clang_getCursorSpelling(v))
        let type = takeString(clang_getTypeSpelling(clang_getCursorType(v)))
        let line = realLine(realPosition(clang_getCursorLocation(v))) ?? line(of: v)
        var out: [Statement] = [.declaration(name: name, type: type, line: line)]
        let initializer = clang_Cursor_getVarDeclInitializer(v)
        if clang_Cursor_isNull(initializer) == 0 {
            var acc = Accumulator()
            let value = text(initializer)
            walk(initializer, .assigned(to: name), &acc)
            acc.assignments.insert(Assignment(target: name, value: value, line: line,
                                              valueCallee: callee(of: initializer)), at: 0)
            out.append(.expression(Expression(text: "\(name) = \(value)", line: line, calls: acc.calls,
                                              assignments: acc.assignments, dereferences: acc.dereferences)))
        }
        return out
    }

    private func forLoop(_ c: CXCursor, synthetic: Bool) -> Statement {
        let kids = children(of: c)
        let body = kids.last.map(block) ?? .block([])
        if synthetic {
            return .loop(Loop(kind: .forLoop, line: hiddenLine(c), initializer: nil,
                              condition: Expression(text: "", line: hiddenLine(c)), increment: nil, body: body))
        }
        let startLoc = clang_getRangeStart(clang_getCursorExtent(c))
        let startToken = realPosition(startLoc).flatMap(tokenIndex)
        if let t = startToken, tokens[t].text != "for" {
            // An iteration macro: its header comes from tokens.
            let line = line(of: c)
            var condition: Expression? = nil
            if let p = realPosition(startLoc), let nameIndex = tokenIndex(p),
               nameIndex + 1 < tokens.count, tokens[nameIndex + 1].isPunct("("),
               let close = TokenAnalysis.matchingClose(tokens[...], from: nameIndex + 1) {
                var e = tokenExpression(nameIndex...close, topUse: .other)
                // The macro itself is a loop, not a call: keep only the calls in its arguments.
                e.calls.removeAll { $0.line == lineOfToken(tokens[nameIndex]) && $0.column == tokens[nameIndex].column }
                e.assignments = []
                condition = e
            }
            return .loop(Loop(kind: .macroLoop, line: line, initializer: nil, condition: condition,
                              increment: nil, body: body))
        }
        // Real `for (init; cond; inc)`: assign children to the header parts by the `;` positions.
        var initializer: Expression? = nil, condition: Expression? = nil, increment: Expression? = nil
        if let r = tokenRange(c), r.lowerBound + 1 < tokens.count, tokens[r.lowerBound + 1].isPunct("("),
           let close = TokenAnalysis.matchingClose(tokens[...], from: r.lowerBound + 1) {
            var semis: [Int] = []
            var depth = 0
            for i in (r.lowerBound + 1)...close {
                let t = tokens[i]
                if t.isPunct("(") { depth += 1 } else if t.isPunct(")") { depth -= 1 } else if t.isPunct(";") && depth == 1 { semis.append(i) }
            }
            for k in kids.dropLast() {
                guard let kr = tokenRange(k) else { continue }
                let part = semis.firstIndex(where: { kr.lowerBound < $0 }) ?? 2
                switch part {
                case 0:
                    if clang_getCursorKind(k) == CXCursor_DeclStmt {
                        let decls = children(of: k).filter { clang_getCursorKind($0) == CXCursor_VarDecl }
                        if let v = decls.first, case .expression(let e)? = declaration(v).dropFirst().first { initializer = e }
                    } else {
                        initializer = expression(k, use: .ignored)
                    }
                case 1: condition = expression(k, use: .tested)
                default: increment = expression(k, use: .ignored)
                }
            }
        }
        return .loop(Loop(kind: .forLoop, line: line(of: c), initializer: initializer, condition: condition,
                          increment: increment, body: body))
    }

    // MARK: Expressions

    struct Accumulator {
        var calls: [Call] = []
        var assignments: [Assignment] = []
        var dereferences: [String] = []
        mutating func deref(_ s: String) {
            if !s.isEmpty && !dereferences.contains(s) { dereferences.append(s) }
        }
    }

    func expression(_ c: CXCursor, use: ResultUse) -> Expression {
        var acc = Accumulator()
        walk(c, use, &acc)
        return Expression(text: text(c), line: line(of: c), calls: acc.calls, assignments: acc.assignments,
                          dereferences: acc.dereferences)
    }

    /// The callee when the expression (through parentheses and casts) is a single call.
    private func callee(of c: CXCursor) -> String? {
        var cur = c
        while true {
            let k = clang_getCursorKind(cur)
            if k == CXCursor_CallExpr {
                guard spelledInCode(clang_getRangeStart(clang_getCursorExtent(cur))),
                      let first = children(of: cur).first else { return nil }
                return text(first)
            }
            if k == CXCursor_ParenExpr || k == CXCursor_UnexposedExpr || k == CXCursor_CStyleCastExpr {
                guard let last = children(of: cur).last else { return nil }
                cur = last
                continue
            }
            return nil
        }
    }

    /// The operator token between two operands.
    private func binaryOperator(_ lhs: CXCursor, _ rhs: CXCursor) -> String {
        guard let l = tokenRange(lhs) else { return "" }
        var i = l.upperBound + 1
        let limit = tokenRange(rhs)?.lowerBound ?? (i + 1)
        while i < limit && i < tokens.count {
            if tokens[i].kind == .punct && tokens[i].text != ")" { return tokens[i].text }
            i += 1
        }
        return ""
    }

    private static let assignmentOperators: Set<String> = ["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="]
    private static let testOperators: Set<String> = ["==", "!=", "<", ">", "<=", ">=", "&&", "||", "&", "|", "^"]

    func walk(_ c: CXCursor, _ use: ResultUse, _ acc: inout Accumulator) {
        let kind = clang_getCursorKind(c)
        switch kind {
        case CXCursor_CallExpr:
            let kids = children(of: c)
            guard let calleeCursor = kids.first else { return }
            let startLoc = clang_getRangeStart(clang_getCursorExtent(c))
            let calleeText = text(calleeCursor)
            let real = spelledInCode(startLoc) && calleeText != "__mm_gap"
            walk(calleeCursor, .other, &acc)
            for arg in kids.dropFirst() { walk(arg, real ? .argument(of: calleeText) : .other, &acc) }
            guard real, let p = spelling(startLoc), seenCalls.insert(p.key).inserted else { return }
            acc.calls.append(Call(callee: calleeText, arguments: kids.dropFirst().map(text),
                                  line: realLine(p) ?? 0, column: realColumn(p), resultUse: use))
        case CXCursor_ParenExpr:
            for k in children(of: c) { walk(k, use, &acc) }
        case CXCursor_UnexposedExpr:
            let kids = children(of: c)
            for k in kids { walk(k, kids.count == 1 ? use : .other, &acc) }
        case CXCursor_CStyleCastExpr:
            let isVoid = clang_getCursorType(c).kind == CXType_Void
            for k in children(of: c) where clang_isExpression(clang_getCursorKind(k)) != 0 {
                walk(k, isVoid ? .discarded : use, &acc)
            }
        case CXCursor_BinaryOperator, CXCursor_CompoundAssignOperator:
            let kids = children(of: c)
            guard kids.count == 2 else { for k in kids { walk(k, .other, &acc) }; return }
            let op = binaryOperator(kids[0], kids[1])
            if Self.assignmentOperators.contains(op) || kind == CXCursor_CompoundAssignOperator {
                let target = text(kids[0])
                let rhsUse: ResultUse = use == .tested ? .tested : (op == "=" ? .assigned(to: target) : .other)
                walk(kids[1], rhsUse, &acc)
                walk(kids[0], .other, &acc)
                acc.assignments.append(Assignment(target: target, value: text(kids[1]), line: line(of: c),
                                                  valueCallee: op == "=" ? callee(of: kids[1]) : nil))
            } else if op == "," {
                walk(kids[0], .ignored, &acc)
                walk(kids[1], use, &acc)
            } else {
                let childUse: ResultUse = (use == .tested && Self.testOperators.contains(op)) ? .tested : .other
                walk(kids[0], childUse, &acc)
                walk(kids[1], childUse, &acc)
            }
        case CXCursor_UnaryOperator:
            let kids = children(of: c)
            guard let operand = kids.first else { return }
            var op = ""
            if let r = tokenRange(c), let o = tokenRange(operand) {
                op = r.lowerBound < o.lowerBound ? tokens[r.lowerBound].text : tokens[r.upperBound].text
            }
            if op == "*" { acc.deref(text(operand)) }
            walk(operand, (op == "!" && use == .tested) ? .tested : .other, &acc)
        case CXCursor_ConditionalOperator:
            let kids = children(of: c)
            guard kids.count == 3 else { for k in kids { walk(k, .other, &acc) }; return }
            walk(kids[0], .tested, &acc)
            walk(kids[1], use, &acc)
            walk(kids[2], use, &acc)
        case CXCursor_MemberRefExpr:
            let kids = children(of: c)
            // The access clang adds through a stub tag's anonymous __mm_any member is not in the
            // source: the base is what it accesses.
            if isAnonymousMemberAccess(c) {
                for k in kids { walk(k, use, &acc) }
                return
            }
            if let base = kids.first.map(skippingAnonymousMemberAccess) {
                if let p = realPosition(clang_getCursorLocation(c)), let i = tokenIndex(p), i > 0,
                   tokens[i - 1].isPunct("->") {
                    acc.deref(text(base))
                }
                walk(base, .other, &acc)
            }
        case CXCursor_ArraySubscriptExpr:
            let kids = children(of: c)
            if let base = kids.first { acc.deref(text(base)) }
            for k in kids { walk(k, .other, &acc) }
        default:
            for k in children(of: c) { walk(k, .other, &acc) }
        }
    }
}

extension ModelBuilder {
    /// A member access clang made up to reach a member of an anonymous struct member (the stub
    /// tags embed `struct __mm_any;`): it has no name of its own.
    func isAnonymousMemberAccess(_ c: CXCursor) -> Bool {
        clang_getCursorKind(c) == CXCursor_MemberRefExpr && takeString(clang_getCursorSpelling(c)).isEmpty
    }

    /// The expression an access goes through once made-up anonymous member accesses are removed.
    func skippingAnonymousMemberAccess(_ c: CXCursor) -> CXCursor {
        var current = c
        while isAnonymousMemberAccess(current), let inner = children(of: current).first { current = inner }
        return current
    }

    /// What `=` assigns to: the variable of a declaration (`int i = …`, `struct page *p = …`, whose
    /// type words are not part of the name), else the whole left-hand side (`vma->vm_file = …`).
    static func assignmentTarget(_ tokens: ArraySlice<CToken>) -> String {
        guard let last = tokens.last, last.isIdentifier, tokens.count >= 2 else { return CLexer.join(tokens) }
        var index = tokens.index(before: tokens.endIndex)
        while index > tokens.startIndex, tokens[tokens.index(before: index)].isPunct("*") {
            index = tokens.index(before: index)
        }
        // Stars alone in front (`*p = …`) are a dereference; a type word before them makes a declaration.
        guard index > tokens.startIndex, tokens[tokens.index(before: index)].isIdentifier else {
            return CLexer.join(tokens)
        }
        return last.text
    }
}
