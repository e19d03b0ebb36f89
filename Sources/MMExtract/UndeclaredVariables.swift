/// Predicting, from the tokens alone, the variables a hunk uses but does not show the declaration
/// of (locals declared above the hunk, globals, parameters of a function whose header is not
/// shown).
///
/// Without this, every such name costs a whole second parse: clang reports "use of undeclared
/// identifier", FunctionExtractor stubs the name and parses the unit again. On list traffic that
/// second parse was about one unit in two. The prediction is deliberately one-sided: a name is
/// predicted only when no occurrence of it could be a declaration or a type, so a wrong guess
/// leaves the name to the diagnostic pass (as before) rather than adding a stub that clashes with
/// a declaration the hunk does show.
extension UnitBuilder {
    /// Stubs for the predicted names, typed and placed as the diagnostic pass would: globals for a
    /// job whose definition is shown (a parameter or local of the same name shadows them), locals
    /// of the wrapper otherwise.
    static func collectUndeclaredVariableStubs(_ jobs: [PreparedJob], into stubs: inout StubSet) {
        for job in jobs {
            for name in undeclaredVariables(in: job) {
                let t = usageType(of: name, in: job.tokens)
                if job.definedFunctionName != nil {
                    stubs.globals[name] = max(stubs.globals[name] ?? .long, t)
                } else {
                    stubs.locals[job.job.id, default: [:]][name] = max(stubs.locals[job.job.id]?[name] ?? .long, t)
                }
            }
        }
    }

    /// Names of `job` that are used as values, never possibly declared or used as a type, and not
    /// known to the prelude, the hunk's own macros or the lexical stubs.
    static func undeclaredVariables(in job: PreparedJob) -> [String] {
        let toks = job.tokens[...]
        let known = KernelPrelude.fileScopeNames
        let defines = Set(job.hunkDefines)
        var used = Set<String>()
        var excluded = Set<String>()
        // Enumerators the hunk defines (`enum { a, b };`) are declarations too.
        for i in toks.indices where toks[i].text == "enum" && toks[i].kind == .identifier {
            var open = i + 1
            if open < toks.endIndex, toks[open].kind == .identifier { open += 1 }
            guard open < toks.endIndex, toks[open].isPunct("{") else { continue }
            let close = TokenAnalysis.matchingClose(toks, from: open) ?? (toks.endIndex - 1)
            for k in open...close where toks[k].kind == .identifier { excluded.insert(toks[k].text) }
        }
        for i in toks.indices where toks[i].kind == .identifier {
            let name = toks[i].text
            if excluded.contains(name) { continue }
            if known.contains(name) || TokenAnalysis.keywords.contains(name) || defines.contains(name)
                || isAllCaps(name) || name.hasSuffix("_t") || name == job.definedFunctionName
                // `__func__` and the compiler's other reserved names are declared by clang itself.
                || name.hasPrefix("__") {
                continue
            }
            let prev = i > toks.startIndex ? toks[i - 1] : nil
            let next = i + 1 < toks.endIndex ? toks[i + 1] : nil
            // Members, tags, labels and calls are other namespaces or stubbed elsewhere.
            if let p = prev, p.isPunct("->") || p.isPunct(".") || p.text == "goto"
                || p.text == "struct" || p.text == "union" || p.text == "enum" {
                continue
            }
            if let n = next, n.isPunct("(") { continue }
            if let n = next, n.isPunct(":"), prev == nil || isBoundary(prev!) { continue }
            if mayBeDeclaredOrType(toks, i) {
                excluded.insert(name)
                continue
            }
            used.insert(name)
        }
        return used.subtracting(excluded).sorted()
    }

    private static func isBoundary(_ t: CToken) -> Bool {
        t.isPunct(";") || t.isPunct("{") || t.isPunct("}")
    }

    /// True when the identifier at i may declare a name (`T x`, `T *x`, `T a, *x`, `T (*x)(…)`) or
    /// name a type (`x y`, `x *y;` at a statement's start, `(x *)`). Errs towards true.
    private static func mayBeDeclaredOrType(_ toks: ArraySlice<CToken>, _ i: Int) -> Bool {
        let prev = i > toks.startIndex ? toks[i - 1] : nil
        let next = i + 1 < toks.endIndex ? toks[i + 1] : nil
        // Used as a type: followed by a declarator name, or by `*` where an expression cannot be.
        if let n = next, n.kind == .identifier, !TokenAnalysis.statementKeywords.contains(n.text) { return true }
        if let n = next, n.isPunct("*"), prev == nil || isBoundary(prev!) || prev!.isPunct("(") || prev!.isPunct(",") {
            return true
        }
        guard let p = prev else { return false }
        // `T x`: any identifier that is not an expression keyword before the name.
        if p.kind == .identifier { return !TokenAnalysis.statementKeywords.contains(p.text) }
        // `T *x`, `T (*x)(…)`, `T **x`: back over `*` and `(` to a type name at a statement's start.
        var j = i - 1
        var sawStar = false
        while j >= toks.startIndex, toks[j].isPunct("*") || toks[j].isPunct("(") {
            if toks[j].isPunct("*") { sawStar = true }
            j -= 1
        }
        if sawStar, j >= toks.startIndex, toks[j].kind == .identifier {
            var k = j
            while k >= toks.startIndex, toks[k].kind == .identifier {
                if TokenAnalysis.statementKeywords.contains(toks[k].text) { return false }
                k -= 1
            }
            // Only a statement or argument boundary makes it a declaration; `x = a * b` is not.
            return k < toks.startIndex || isBoundary(toks[k]) || toks[k].isPunct("(") || toks[k].isPunct(",")
        }
        // `T a = 1, *x;`: a comma inside a statement that starts like a declaration.
        if j >= toks.startIndex, toks[j].isPunct(",") {
            var depth = 0
            var k = j - 1
            while k >= toks.startIndex {
                let t = toks[k]
                if t.isPunct(")") || t.isPunct("]") || (t.isPunct("}") && depth > 0) {
                    depth += 1
                } else if t.isPunct("(") || t.isPunct("[") || (t.isPunct("{") && depth > 0) {
                    // An argument list: in a parameter list a type would stand before the name.
                    if depth == 0 { return false }
                    depth -= 1
                } else if depth == 0, isBoundary(t) { break }
                k -= 1
            }
            let start = k + 1
            guard start + 1 < toks.endIndex, toks[start].kind == .identifier,
                  !TokenAnalysis.statementKeywords.contains(toks[start].text) else { return false }
            let second = toks[start + 1]
            return second.kind == .identifier || second.isPunct("*")
        }
        return false
    }
}
