import MMCore

/// Token-level safety net: the calls a C fragment contains (identifier followed by `(` that is not a
/// keyword such as if/while/for/switch/return/sizeof/typeof/__attribute__ and not a declaration),
/// with their line numbers. Used by tests to prove the parse lost no call.
///
/// Rules shared with the extractor (so both agree): the callee is the whole postfix chain before the
/// `(` (`ctx->write`), a parenthesised callee starting with `*` counts (`(*vma->vm_ops->checkpoint)`),
/// iteration macros (`list_for_each_entry(...) {`, `for_each_task(p) stmt`) are loops, not calls,
/// transparent prelude macros (`likely`, `container_of`, …) are not calls, directive lines and
/// inactive `#else` branches are skipped.
public enum TokenCallScanner {
    public static func calls(in lines: [SourceLine]) -> [(name: String, line: Int)] {
        let lexed = CLexer.lex(lines.map(\.text))
        return TokenAnalysis.calls(in: lexed.tokens[...]).map { call in
            (name: call.callee, line: lines[call.line].number)
        }
    }
}

/// A call found in tokens. `line`/`column` are those of the first token of the callee.
struct TokenCall {
    var callee: String
    var line: Int
    var column: Int
    /// Token index range of the callee chain and of the argument list (parentheses included).
    var calleeStart: Int
    var openParen: Int
    var closeParen: Int
}

enum TokenAnalysis {
    static let keywords: Set<String> = [
        "if", "while", "for", "switch", "return", "sizeof", "typeof", "__typeof__", "__typeof",
        "alignof", "_Alignof", "__alignof__", "__alignof", "__attribute__", "__attribute", "asm",
        "__asm__", "__asm", "volatile", "__volatile__", "_Static_assert", "defined", "case", "do",
        "else", "goto", "__builtin_offsetof", "__builtin_types_compatible_p", "_Generic", "__extension__",
        "int", "char", "long", "short", "unsigned", "signed", "void", "float", "double", "struct",
        "union", "enum", "const", "static", "inline", "__inline__", "__inline", "extern", "register",
        "_Bool", "auto", "typedef", "restrict", "__restrict", "break", "continue", "default",
    ]
    /// Keywords that can precede a call expression directly (they end a type-ish run).
    static let statementKeywords: Set<String> = ["return", "else", "case", "goto", "do", "sizeof", "typeof", "__typeof__"]

    static func matchingClose(_ tokens: ArraySlice<CToken>, from open: Int) -> Int? {
        guard open < tokens.endIndex else { return nil }
        let o = tokens[open].text
        let c: String = o == "(" ? ")" : (o == "[" ? "]" : "}")
        var depth = 0
        var i = open
        while i < tokens.endIndex {
            let t = tokens[i]
            if t.kind == .punct {
                if t.text == o { depth += 1 } else if t.text == c {
                    depth -= 1
                    if depth == 0 { return i }
                }
            }
            i += 1
        }
        return nil
    }

    static func matchingOpen(_ tokens: ArraySlice<CToken>, from close: Int) -> Int? {
        let c = tokens[close].text
        let o: String = c == ")" ? "(" : (c == "]" ? "[" : "{")
        var depth = 0
        var i = close
        while i >= tokens.startIndex {
            let t = tokens[i]
            if t.kind == .punct {
                if t.text == c { depth += 1 } else if t.text == o {
                    depth -= 1
                    if depth == 0 { return i }
                }
            }
            i -= 1
        }
        return nil
    }

    /// Previous active, non-directive token index.
    static func previous(_ tokens: ArraySlice<CToken>, _ i: Int) -> Int? {
        var j = i - 1
        while j >= tokens.startIndex {
            if tokens[j].active && tokens[j].kind != .directive { return j }
            if tokens[j].kind == .directive { return nil }
            j -= 1
        }
        return nil
    }

    static func next(_ tokens: ArraySlice<CToken>, _ i: Int) -> Int? {
        var j = i + 1
        while j < tokens.endIndex {
            if tokens[j].active && tokens[j].kind != .directive { return j }
            j += 1
        }
        return nil
    }

    /// `name(` at index i (identifier) is the declarator of a declaration or definition: only type-ish
    /// tokens (identifiers that are not statement keywords, `*`) precede it back to a boundary.
    static func isDeclarator(_ tokens: ArraySlice<CToken>, _ i: Int) -> Bool {
        var j = previous(tokens, i)
        var sawIdentifier = false
        while let k = j {
            let t = tokens[k]
            if t.kind == .identifier {
                if statementKeywords.contains(t.text) { return false }
                sawIdentifier = true
            } else if t.isPunct("*") {
                // pointer declarator
            } else {
                break
            }
            j = previous(tokens, k)
        }
        return sawIdentifier
    }

    /// `name(...)` at identifier index i is an iteration macro used as a loop header: the matching
    /// `)` is followed by `{` or by an identifier (the loop's single statement).
    static func isLoopMacro(_ tokens: ArraySlice<CToken>, _ i: Int) -> Bool {
        let name = tokens[i].text
        if KernelPrelude.loopMacros.contains(name) { return true }
        if keywords.contains(name) { return false }
        guard let open = next(tokens, i), tokens[open].isPunct("("),
              let close = matchingClose(tokens, from: open),
              let after = next(tokens, close) else { return false }
        let t = tokens[after]
        if t.isPunct("{") || (t.kind == .identifier && !["__attribute__", "__acquires", "__releases"].contains(t.text)) {
            return !isDeclarator(tokens, i)
        }
        return false
    }

    /// Start index of the postfix chain ending at the identifier `i` (`ctx->write`, `a[i].f`).
    static func chainStart(_ tokens: ArraySlice<CToken>, _ i: Int) -> Int {
        var start = i
        while let p = previous(tokens, start), tokens[p].isPunct("->") || tokens[p].isPunct("."),
              let q = previous(tokens, p), let s = postfixStart(tokens, q) {
            start = s
        }
        return start
    }

    /// Start of the postfix expression (identifier, call, subscript, parenthesised primary) ending at q.
    static func postfixStart(_ tokens: ArraySlice<CToken>, _ q: Int) -> Int? {
        var k = q
        while true {
            let t = tokens[k]
            if t.kind == .identifier { return keywords.contains(t.text) ? nil : k }
            guard t.isPunct(")") || t.isPunct("]"), let o = matchingOpen(tokens, from: k) else { return nil }
            guard let r = previous(tokens, o) else { return o }
            let u = tokens[r]
            if (u.kind == .identifier && !keywords.contains(u.text)) || u.isPunct(")") || u.isPunct("]") {
                k = r
                continue
            }
            return o
        }
    }

    static func calls(in tokens: ArraySlice<CToken>) -> [TokenCall] {
        var result: [TokenCall] = []
        var i = tokens.startIndex
        while i < tokens.endIndex {
            defer { i += 1 }
            let t = tokens[i]
            guard t.active else { continue }
            if t.kind == .identifier {
                guard let open = next(tokens, i), open == i + 1 || !tokens[(i + 1)..<open].contains(where: { $0.kind == .directive }),
                      tokens[open].isPunct("(") else { continue }
                if keywords.contains(t.text) || KernelPrelude.transparentMacros.contains(t.text) { continue }
                if isDeclarator(tokens, i) || isLoopMacro(tokens, i) { continue }
                let close = matchingClose(tokens, from: open) ?? (tokens.endIndex - 1)
                let s = chainStart(tokens, i)
                result.append(TokenCall(callee: CLexer.join(tokens[s...i]), line: tokens[s].line,
                                        column: tokens[s].column, calleeStart: s, openParen: open,
                                        closeParen: close))
            } else if t.isPunct("("), let star = next(tokens, i), tokens[star].isPunct("*"),
                      let close = matchingClose(tokens, from: i), let after = next(tokens, close),
                      tokens[after].isPunct("(") {
                if let p = previous(tokens, i), tokens[p].kind == .identifier,
                   !statementKeywords.contains(tokens[p].text) {
                    continue  // `name (*x)(...)`-like declarations and casts are not calls
                }
                let argClose = matchingClose(tokens, from: after) ?? (tokens.endIndex - 1)
                result.append(TokenCall(callee: CLexer.join(tokens[i...close]), line: t.line, column: t.column,
                                        calleeStart: i, openParen: after, closeParen: argClose))
            }
        }
        return result
    }
}
