import MMAnalysis
import MMCore
import MMFacts

/// What a rule finds, why it matters and C examples that must and must not trigger it. The
/// examples are the rule's tests: a line marked with `↓` must be reported, nothing else may be.
/// The same description feeds `mmreview rules explain`, README's table of checks and the SARIF
/// rule metadata, so they cannot drift apart.
public struct RuleDescription: Sendable {
    public var id: String
    public var summary: String
    public var rationale: String
    public var severity: Severity
    public var triggering: [String]
    public var nonTriggering: [String]
    /// What to write instead, in one or two sentences.
    public var advice: String
    /// C code that does it right; it is also run as a non-triggering example.
    public var instead: String
    /// Kernel documentation and papers a reader can follow up with.
    public var references: [String]

    public init(id: String, summary: String, rationale: String, severity: Severity,
                triggering: [String], nonTriggering: [String],
                advice: String = "", instead: String = "", references: [String] = []) {
        self.id = id
        self.summary = summary
        self.rationale = rationale
        self.severity = severity
        self.triggering = triggering
        self.nonTriggering = nonTriggering
        self.advice = advice
        self.instead = instead
        self.references = references
    }

    /// The id as SARIF's `name` wants it: "lock-leak" → "LockLeak".
    public var name: String {
        id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// A note on a secondary line of the same function ("taken here").
public struct SideNote: Sendable, Hashable {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}

/// A finding on one side of the patch, before it is matched with the other side.
public struct SideFinding: Sendable, Hashable {
    public var rule: String
    public var severity: Severity
    public var line: Int
    public var column: Int
    public var message: String
    public var notes: [SideNote]
    /// Identifies the same problem on the other side regardless of line numbers.
    public var matchKey: String

    public init(rule: String, severity: Severity, line: Int, column: Int = 1, message: String,
                notes: [SideNote] = [], matchKey: String) {
        self.rule = rule
        self.severity = severity
        self.line = line
        self.column = column
        self.message = message
        self.notes = notes
        self.matchKey = matchKey
    }
}

/// Everything a check may look at for one side of one function.
public struct FunctionContext: Sendable {
    public var model: FunctionModel
    public var endsAtClosingBrace: Bool
    public var facts: KernelFacts
    public var locks: LockStateAnalysis
    /// Everything the same patch shows: every function model of both sides (for what the patch
    /// itself teaches, such as a helper that returns NULL, or a callee checked elsewhere) and the
    /// patch with its hunks (struct definitions in a header hunk).
    public var patch: PatchKnowledge

    /// How a message names the function: `hugetlb_cow()`, or "the function" when the hunk header
    /// names none (it may name a label, `retry_avoidcopy:`, or nothing).
    public var spokenFunction: String {
        let name = model.name
        let isIdentifier = name.first.map { $0.isLetter || $0 == "_" } ?? false
            && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        return isIdentifier ? name + "()" : "the function"
    }

    public init(model: FunctionModel, endsAtClosingBrace: Bool, facts: KernelFacts,
                patch: PatchKnowledge = PatchKnowledge()) {
        self.model = model
        self.endsAtClosingBrace = endsAtClosingBrace
        self.facts = facts
        self.patch = patch
        self.locks = LockStateAnalysis(model: model, endsAtClosingBrace: endsAtClosingBrace,
                                       resolver: LockEventResolver(facts: facts),
                                       calleeEffects: patch.summaries.calleeLockEffects[model.side] ?? [:])
    }

    /// The trimmed source text of a line, for match keys and messages.
    public func code(at line: Int) -> String {
        (model.sourceLines[line] ?? "").trimmingBlanks()
    }
}

/// What one patch shows beyond the function under check.
public struct PatchKnowledge: Sendable {
    /// Every function model of the patch, both sides.
    public var models: [FunctionModel]
    /// The patch itself (nil in tests that check a lone model).
    public var patch: Patch?

    /// Summaries of the patch's own functions, computed once.
    public var summaries: PatchSummaries

    public init(models: [FunctionModel] = [], patch: Patch? = nil, facts: KernelFacts? = nil) {
        self.models = models
        self.patch = patch
        self.summaries = facts.map { PatchSummaries(models: models, facts: $0, patch: patch) } ?? PatchSummaries()
    }

    /// The models of one side.
    public func models(_ side: Side) -> [FunctionModel] { models.filter { $0.side == side } }
}

public protocol FunctionCheck: Sendable {
    var description: RuleDescription { get }
    func check(_ context: FunctionContext) -> [SideFinding]
}

/// Every check mmreview runs, sorted by id. A test verifies each is here and documented.
public enum CheckRegistry {
    public static let all: [any FunctionCheck] = [
        AllocSizeofCheck(),
        DoubleLockCheck(),
        LockLeakCheck(),
        LockOrderCheck(),
        LoopNoProgressCheck(),
        MissingNullCheck(),
        NestedLockCheck(),
        ResourceLeakCheck(),
        SleepInAtomicCheck(),
        UnbalancedUnlockCheck(),
        UncheckedLockResultCheck(),
        UncheckedReturnCheck(),
        UseAfterUnlockCheck(),
    ]

    public static func check(id: String) -> (any FunctionCheck)? {
        all.first { $0.description.id == id }
    }
}

extension String {
    func trimmingBlanks() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}

extension LockEvent {
    /// How a reviewer names the lock: `'mm->mmap_sem'`, or the class for rcu and friends.
    var spoken: String {
        if key == className || display == className { return className ?? display }
        return "'\(display)'"
    }
}
