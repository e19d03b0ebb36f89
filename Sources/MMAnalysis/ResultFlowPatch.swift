import Foundation
import MMCore

/// A place in the patch where a callee's result is tested.
public struct CheckedSite: Sendable, Hashable {
    public var function: String
    public var line: Int
    public var side: Side
    /// The site treats the result as an error code beyond doubt: it hands it on
    /// (`err = f(); if (err) goto out; … return err;`), compares it `< 0`, or returns -E… when it
    /// is set. A bare `if (f()) goto out;` may as well test a predicate.
    public var errorShaped: Bool
}

/// What the functions of one patch teach about results: where each callee's result is tested
/// (Engler's deviance: tested here, ignored there), which functions the patch defines that can fail,
/// return NULL or an ERR_PTR, and which of their parameters they test for NULL themselves.
public enum ResultFlowPatch {
    /// Sites where each callee (by CalleeKey) has its result checked as an error, over every model
    /// given: stored, tested and handed on (`err = f(); if (err) goto out; … return err;`), or tested
    /// in an `if` that leaves the function (`if (f()) return -EIO;`, `if (f()) goto out;`).
    /// A test alone is not enough: `if (!folio_batch_add(…))` or `if (atomic_cmpxchg(…) == x)`
    /// test a value, not a failure, and such calls are dropped on purpose elsewhere.
    /// Macros in capitals (WARN_ON_ONCE) are left out: their value is a convenience.
    public static func checkedSites(in models: [FunctionModel]) -> [String: [CheckedSite]] {
        var result: [String: [CheckedSite]] = [:]
        func add(_ call: Call, _ model: FunctionModel, errorShaped: Bool) {
            if isMacroName(call.callee) { return }
            result[CalleeKey.key(call.callee), default: []]
                .append(CheckedSite(function: model.name, line: call.line, side: model.side, errorShaped: errorShaped))
        }
        for model in models {
            let returned = returnValues(of: model.body).map(\.value)
            for call in model.body.allCalls {
                guard case .assigned(let target) = call.resultUse else { continue }
                let name = ConditionFacts.atom(target)
                if testsAsError(name, after: call.line, in: model.body)
                    && returned.contains(where: { ResultFlow.mentions($0, name) }) { add(call, model, errorShaped: true) }
            }
            visitIfs(model.body) { condition, then in
                guard leaves(then) else { return }
                let errorShaped = ConditionFacts.atom(condition.text).contains("<0") || returnsError(then)
                for call in condition.calls where call.resultUse == .tested { add(call, model, errorShaped: errorShaped) }
            }
        }
        return result
    }

    /// `if (v) goto out;`, `if (v < 0) return v;` (the failure side leaves), or `if (!v) …` (more
    /// work only on success): tests of an error code. `if (nr_updated) count_events();` is not.
    static func testsAsError(_ name: String, after line: Int, in body: Statement) -> Bool {
        var found = false
        visitIfs(body) { condition, then in
            guard !found, condition.line >= line else { return }
            let text = ConditionFacts.atom(condition.text)
            guard ResultFlow.mentions(text, name) else { return }
            if leaves(then) { found = true; return }
            let onTrue = ConditionFacts.facts(condition: text, outcome: true)
            if onTrue.contains(Fact(atom: name, value: false)) { found = true }
        }
        return found
    }

    static func isMacroName(_ callee: String) -> Bool {
        callee.contains { $0.isLetter } && !callee.contains { $0.isLowercase }
    }

    /// Every `if` with its condition and then-branch.
    static func visitIfs(_ statement: Statement, _ visit: (MMCore.Expression, Statement) -> Void) {
        switch statement {
        case .block(let items): for item in items { visitIfs(item, visit) }
        case .ifElse(let c, let then, let otherwise):
            visit(c, then)
            visitIfs(then, visit)
            if let otherwise { visitIfs(otherwise, visit) }
        case .loop(let loop): visitIfs(loop.body, visit)
        case .switchCase(_, let body): visitIfs(body, visit)
        default: break
        }
    }

    /// A then-branch that leaves for an error exit: a goto, or a return of an error value.
    static func leaves(_ statement: Statement) -> Bool {
        switch statement {
        case .block(let items): return items.contains(where: leaves)
        case .goto: return true
        case .returnStatement(let value, _):
            guard let value else { return false }
            let text = ConditionFacts.atom(value.text)
            return isNegativeErrno(text) || text.hasPrefix("PTR_ERR(") || text.hasPrefix("ERR_PTR(")
                || !value.calls.isEmpty
                || (ConditionFacts.isSimpleOperand(text) && !["NULL", "false", "true"].contains(text))
        default: return false
        }
    }

    /// A then-branch that returns a negative errno or an error pointer.
    static func returnsError(_ statement: Statement) -> Bool {
        switch statement {
        case .block(let items): return items.contains(where: returnsError)
        case .returnStatement(let value, _):
            guard let value else { return false }
            let text = ConditionFacts.atom(value.text)
            return isNegativeErrno(text) || text.hasPrefix("PTR_ERR(") || text.hasPrefix("ERR_PTR(")
        default: return false
        }
    }

    /// How many times each callee's result is dropped (a bare call or a `(void)` cast) over every
    /// model given: the other half of the deviance count.
    public static func droppedCounts(in models: [FunctionModel]) -> [String: Int] {
        var result: [String: Int] = [:]
        for model in models {
            for call in model.body.allCalls where call.resultUse == .ignored || call.resultUse == .discarded {
                result[CalleeKey.key(call.callee), default: 0] += 1
            }
        }
        return result
    }

    /// Conditions of `if`, loops and `switch`, with blanks removed.
    public static func conditionTexts(of statement: Statement) -> [(line: Int, text: String)] {
        var out: [(line: Int, text: String)] = []
        func visit(_ s: Statement) {
            switch s {
            case .block(let items): items.forEach(visit)
            case .ifElse(let c, let then, let otherwise):
                out.append((c.line, ConditionFacts.atom(c.text)))
                visit(then)
                if let otherwise { visit(otherwise) }
            case .loop(let loop):
                if let c = loop.condition { out.append((c.line, ConditionFacts.atom(c.text))) }
                visit(loop.body)
            case .switchCase(let c, let body):
                out.append((c.line, ConditionFacts.atom(c.text)))
                visit(body)
            default: break
            }
        }
        visit(statement)
        return out
    }

    /// Return statements of a model with their values, blanks removed.
    static func returnValues(of statement: Statement) -> [(line: Int, value: String)] {
        var out: [(line: Int, value: String)] = []
        func visit(_ s: Statement) {
            switch s {
            case .block(let items): items.forEach(visit)
            case .ifElse(_, let then, let otherwise):
                visit(then)
                if let otherwise { visit(otherwise) }
            case .loop(let loop): visit(loop.body)
            case .switchCase(_, let body): visit(body)
            case .returnStatement(let value, let line):
                if let value { out.append((line, ConditionFacts.atom(value.text))) }
            default: break
            }
        }
        visit(statement)
        return out
    }

    /// Texts of the values returned at or after `line`.
    public static func returnTexts(of statement: Statement, from line: Int) -> [String] {
        returnValues(of: statement).filter { $0.line >= line }.map(\.value)
    }

    /// Every assignment of a model (declaration initialisers included).
    static func assignments(of statement: Statement) -> [Assignment] {
        var out: [Assignment] = []
        statement.visitExpressions { out.append(contentsOf: $0.assignments) }
        return out
    }

    /// `-ENOMEM`, `-EFAULT`, `-1`: a negative error constant.
    static func isNegativeErrno(_ value: String) -> Bool {
        guard value.hasPrefix("-"), let first = value.dropFirst().first else { return false }
        return first == "E" || first.isNumber
    }

    static func isVoid(_ returnType: String?) -> Bool {
        guard let type = returnType else { return false }
        return type.split(separator: " ").last == "void" && !type.contains("*")
    }

    static func isPointer(_ returnType: String?) -> Bool { returnType?.contains("*") ?? false }

    /// Why a function the patch defines can fail in a way its callers must see: it returns a
    /// negative errno, or passes on the error of a call it made. nil when it cannot fail (void,
    /// returns only 0, or returns a pointer — that is missing-null-check's business).
    /// failureReason for every function of `models` (the first model of each name decides), to a
    /// fixpoint: a function that passes on the error of another one that fails, fails too.
    /// `fallible` says which other callees (by CalleeKey) fail: Rules/, or checked as errors.
    public static func failureReasons(of models: [FunctionModel], fallible: (String) -> Bool) -> [String: String] {
        var first: [FunctionModel] = []
        var names = Set<String>()
        for model in models where names.insert(model.name).inserted { first.append(model) }
        var reasons: [String: String] = [:]
        var changed = true
        while changed {
            changed = false
            for model in first where reasons[model.name] == nil {
                if let reason = failureReason(of: model, fallible: { reasons[$0] != nil || fallible($0) }) {
                    reasons[model.name] = reason
                    changed = true
                }
            }
        }
        return reasons
    }

    public static func failureReason(of model: FunctionModel, fallible: (String) -> Bool) -> String? {
        if isVoid(model.returnType) || isPointer(model.returnType) { return nil }
        // A bool says yes or no, not what went wrong.
        if let type = model.returnType, type.split(separator: " ").contains(where: { $0 == "bool" || $0 == "_Bool" }) {
            return nil
        }
        let returns = returnValues(of: model.body)
        if let errno = returns.first(where: { isNegativeErrno($0.value) }) {
            return "it returns \(errno.value)"
        }
        let stores = assignments(of: model.body)
        let calls = model.body.allCalls
        for ret in returns {
            let name = ret.value
            guard ConditionFacts.isSimpleOperand(name), !name.contains("->"), !name.contains(".") else { continue }
            if let negative = stores.first(where: { ConditionFacts.atom($0.target) == name && isNegativeErrno(ConditionFacts.atom($0.value)) }) {
                return "it returns \(ConditionFacts.atom(negative.value))"
            }
            // `err = g(); if (err) …; return err;`: the error of g() goes to the caller.
            let tested = testsAsError(name, after: 0, in: model.body)
            if tested, let source = calls.first(where: {
                if case .assigned(let target) = $0.resultUse {
                    return ConditionFacts.atom(target) == name && fallible(CalleeKey.key($0.callee))
                }
                return false
            }) {
                return "it passes on the error of \(CalleeKey.spoken(source.callee))"
            }
        }
        return nil
    }

    /// How a function the patch defines reports failure through a pointer: NULL (`return NULL;` on
    /// some path) or an ERR_PTR (`return ERR_PTR(…)` and never NULL). nil for neither.
    public static func pointerFailure(of model: FunctionModel) -> PointerFailure? {
        if isVoid(model.returnType) { return nil }
        let returns = returnValues(of: model.body)
        let null = returns.first { $0.value == "NULL" || $0.value == "(void*)0" }
        let err = returns.first { $0.value.hasPrefix("ERR_PTR(") || $0.value.hasPrefix("ERR_CAST(") }
        switch (null, err) {
        case (let null?, nil): return .null(line: null.line)
        case (nil, let err?): return .errPointer(line: err.line)
        case (let null?, _?): return .nullOrError(line: null.line)
        default: return nil
        }
    }

    public enum PointerFailure: Sendable, Hashable {
        case null(line: Int)
        case errPointer(line: Int)
        /// Both (get_ksm_page): NULL and IS_ERR tests are both right.
        case nullOrError(line: Int)
    }

    /// Parameters (by position) a function tests for NULL itself: `if (!p) return …;`, so a caller
    /// that hands it a result it did not test is still safe.
    public static func nullTestedParameters(of model: FunctionModel) -> Set<Int> {
        guard !model.parameterNames.isEmpty else { return [] }
        var result = Set<Int>()
        let conditions = conditionTexts(of: model.body)
        // What the conditions test, worked out once for all the parameters.
        var testedAtoms = Set<String>()
        for condition in conditions {
            for fact in ConditionFacts.facts(condition: condition.text, outcome: true)
                + ConditionFacts.facts(condition: condition.text, outcome: false) {
                testedAtoms.insert(fact.atom)
            }
        }
        for (index, name) in model.parameterNames.enumerated() where !name.isEmpty {
            if testedAtoms.contains(name) || conditions.contains(where: { $0.text.contains("IS_ERR_OR_NULL(\(name))") }) {
                result.insert(index)
            }
        }
        return result
    }
}
