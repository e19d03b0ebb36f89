// Values produced by MMExtract: a function's statements as plain Swift values, with every call,
// assignment and branch tied to its line. Nothing here knows about libclang.

/// How the value a call returns is used.
public enum ResultUse: Sendable, Hashable, Codable {
    /// A bare call statement: the value is dropped.
    case ignored
    /// `(void)f()`: dropped on purpose.
    case discarded
    /// `x = f()` or `T x = f()`; the normalised text of the target.
    case assigned(to: String)
    /// Used in a condition (`if (f())`, `if (f() < 0)`, `while (!f())`, `f() && …`).
    case tested
    /// `return f();`
    case returned
    /// Passed to another call (`g(f())`); the other call's callee.
    case argument(of: String)
    /// Any other use (arithmetic, member access on the result, initialiser lists …).
    case other
}

public struct Call: Sendable, Hashable, Codable {
    /// The callee as written, normalised (`down_read`, `ctx->write`, `(*vma->vm_ops->checkpoint)`).
    public var callee: String
    /// Each argument's source text with whitespace collapsed (`&mm->mmap_sem`).
    public var arguments: [String]
    public var line: Int
    public var column: Int
    public var resultUse: ResultUse

    public init(callee: String, arguments: [String], line: Int, column: Int, resultUse: ResultUse) {
        self.callee = callee
        self.arguments = arguments
        self.line = line
        self.column = column
        self.resultUse = resultUse
    }

    /// The plain function name when the callee is an identifier, nil for calls through pointers.
    public var functionName: String? {
        // Bytes first: nearly every callee is ASCII, and checks ask for this on every call of
        // every function; Characters only when a non-ASCII byte makes the byte test unsure.
        var ascii = true
        for byte in callee.utf8 {
            if byte >= 0x80 { ascii = false; break }
            let isWordByte = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
            if !isWordByte { return nil }
        }
        if ascii { return callee }
        return callee.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? callee : nil
    }
}

/// `target = value` (also `T target = value` in a declaration, and compound `+=` etc.).
public struct Assignment: Sendable, Hashable, Codable {
    public var target: String
    public var value: String
    public var line: Int
    /// The callee when the value is a single call (`x = find_vma(...)`).
    public var valueCallee: String?

    public init(target: String, value: String, line: Int, valueCallee: String?) {
        self.target = target
        self.value = value
        self.line = line
        self.valueCallee = valueCallee
    }
}

/// An expression: a statement's expression, a declaration's initialiser, or a condition.
public struct Expression: Sendable, Hashable, Codable {
    /// Source text, whitespace collapsed.
    public var text: String
    public var line: Int
    /// Calls in evaluation order (arguments before the call that receives them).
    public var calls: [Call]
    public var assignments: [Assignment]
    /// Pointer expressions dereferenced by `->`, unary `*` or `[]` (`vma`, `vma->vm_ops`).
    public var dereferences: [String]

    public init(text: String, line: Int, calls: [Call] = [], assignments: [Assignment] = [],
                dereferences: [String] = []) {
        self.text = text
        self.line = line
        self.calls = calls
        self.assignments = assignments
        self.dereferences = dereferences
    }
}

public enum LoopKind: String, Sendable, Hashable, Codable {
    case whileLoop, doWhile, forLoop
    /// An iteration macro (`list_for_each_entry(...)`, `for_each_task(p)`).
    case macroLoop
}

public struct Loop: Sendable, Hashable, Codable {
    public var kind: LoopKind
    public var line: Int
    public var initializer: Expression?
    /// nil for `for (;;)`; `while (1)` keeps its condition text "1".
    public var condition: Expression?
    public var increment: Expression?
    public var body: Statement

    public init(kind: LoopKind, line: Int, initializer: Expression?, condition: Expression?,
                increment: Expression?, body: Statement) {
        self.kind = kind
        self.line = line
        self.initializer = initializer
        self.condition = condition
        self.increment = increment
        self.body = body
    }
}

public indirect enum Statement: Sendable, Hashable, Codable {
    case block([Statement])
    /// An expression statement, or a declaration (its initialiser, with an assignment to the variable).
    case expression(Expression)
    /// A local variable declaration: name, type text and line (its initialiser comes as a separate
    /// `.expression` right after).
    case declaration(name: String, type: String, line: Int)
    case ifElse(condition: Expression, then: Statement, otherwise: Statement?)
    case loop(Loop)
    case switchCase(condition: Expression, body: Statement)
    /// `case X:` or `default:` inside a switch body.
    case caseLabel(line: Int)
    case label(name: String, line: Int)
    case goto(label: String, line: Int)
    case returnStatement(value: Expression?, line: Int)
    case breakStatement(line: Int)
    case continueStatement(line: Int)
    /// Lines of the function the patch does not show lie here.
    case gap(line: Int)
}

/// One function as the patch shows it on one side.
public struct FunctionModel: Sendable, Hashable, Codable {
    public var name: String
    public var file: String
    public var side: Side
    /// Parameters as (name, type text), when the definition is visible.
    public var parameters: [(name: String, type: String)] {
        zip(parameterNames, parameterTypes).map { ($0, $1) }
    }
    public var parameterNames: [String]
    public var parameterTypes: [String]
    public var returnType: String?
    /// The definition (name, parameters, opening brace) is visible.
    public var startsAtDefinition: Bool
    public var body: Statement
    /// Source lines of this image by line number, for quoting in reports.
    public var sourceLines: [Int: String]
    /// Problems the parse reported inside this function (kept for diagnostics, not findings).
    public var parseDiagnostics: [String]

    public init(name: String, file: String, side: Side, parameterNames: [String] = [],
                parameterTypes: [String] = [], returnType: String? = nil, startsAtDefinition: Bool,
                body: Statement, sourceLines: [Int: String], parseDiagnostics: [String] = []) {
        self.name = name
        self.file = file
        self.side = side
        self.parameterNames = parameterNames
        self.parameterTypes = parameterTypes
        self.returnType = returnType
        self.startsAtDefinition = startsAtDefinition
        self.body = body
        self.sourceLines = sourceLines
        self.parseDiagnostics = parseDiagnostics
    }
}

extension Statement {
    /// Every call in the statement tree, in source order.
    public var allCalls: [Call] {
        var result: [Call] = []
        visitExpressions { result.append(contentsOf: $0.calls) }
        return result
    }

    /// Visits every expression (conditions, initialisers, increments, returns) in source order.
    public func visitExpressions(_ visit: (Expression) -> Void) {
        switch self {
        case .block(let items):
            for item in items { item.visitExpressions(visit) }
        case .expression(let e):
            visit(e)
        case .ifElse(let condition, let then, let otherwise):
            visit(condition)
            then.visitExpressions(visit)
            otherwise?.visitExpressions(visit)
        case .loop(let loop):
            if let e = loop.initializer { visit(e) }
            if loop.kind != .doWhile, let e = loop.condition { visit(e) }
            loop.body.visitExpressions(visit)
            if let e = loop.increment { visit(e) }
            if loop.kind == .doWhile, let e = loop.condition { visit(e) }
        case .switchCase(let condition, let body):
            visit(condition)
            body.visitExpressions(visit)
        case .returnStatement(let value, _):
            if let value { visit(value) }
        case .declaration, .caseLabel, .label, .goto, .breakStatement, .continueStatement, .gap:
            break
        }
    }
}

/// A touched function with the models of both sides (nil where that side does not exist or could
/// not be parsed at all).
public struct ExtractedFunction: Sendable, Hashable, Codable {
    public var touched: TouchedFunction
    public var before: FunctionModel?
    public var after: FunctionModel?

    public init(touched: TouchedFunction, before: FunctionModel?, after: FunctionModel?) {
        self.touched = touched
        self.before = before
        self.after = after
    }

    public func model(_ side: Side) -> FunctionModel? { side == .before ? before : after }
}
