import MMAnalysis
import MMCore
import MMFacts

/// What the whole patch teaches about its own functions, computed once per patch: the checks ask
/// for it for every function, and recomputing it each time is quadratic in the patch's size.
public struct PatchSummaries: Sendable {
    /// Functions of the patch that return NULL or an ERR_PTR, per side (this side's definition
    /// first, the other side's when this side does not show it).
    public var pointerFailures: [Side: [String: ResultFlowPatch.PointerFailure]] = [:]
    /// Parameters that a function of the patch tests for NULL itself, per side.
    public var nullTestedParameters: [Side: [String: Set<Int>]] = [:]
    /// Where each callee's result is checked as an error, both sides.
    public var checkedSites: [String: [CheckedSite]] = [:]
    /// How often each callee's result is dropped, both sides.
    public var droppedCounts: [String: Int] = [:]
    /// Why a function the patch defines can fail, per side.
    public var failureReasons: [Side: [String: String]] = [:]
    /// The locks each function of the patch takes (itself or through its callees), per side.
    public var helperLocks: [Side: [String: [ImpliedLock]]] = [:]
    /// Lock orders the patch states in its description or in comments it adds.
    public var statedOrders: [StatedOrder] = []
    /// Every lock held while another is taken, in every function of the patch, per side (for ABBA
    /// pairs across functions).
    public var nestings: [Side: [LockNesting]] = [:]
    /// Functions of the patch that drop a lock their caller holds, per side.
    public var releasingHelpers: [Side: Set<String>] = [:]
    /// Functions of the patch that may sleep, and why, per side.
    public var helperSleeps: [Side: [String: String]] = [:]
    /// What the functions of the patch do to locks their callers hold (drop them on every return,
    /// or on some), per side: the lock walk applies it at their call sites.
    public var calleeLockEffects: [Side: CalleeLockEffects] = [:]

    public init() {}

    public init(models: [FunctionModel], facts: KernelFacts, patch: Patch? = nil) {
        if let patch { statedOrders = LockOrderFacts.statedOrders(in: patch, facts: facts) }
        let resolver = LockEventResolver(facts: facts)
        for side in [Side.before, Side.after] {
            let ordered = models.filter { $0.side == side } + models.filter { $0.side != side }
            let summary = LockOrderFacts.helperSummaries(models: ordered, facts: facts)
            let helpers = summary.locks
            helperLocks[side] = helpers
            helperSleeps[side] = summary.sleeps
            releasingHelpers[side] = summary.releasing
            calleeLockEffects[side] = CalleeLockSummaries.compute(models: ordered, resolver: resolver)
            var found: [LockNesting] = []
            let sideModels = models.filter { $0.side == side }
            // A lock walk only for functions that can be half of an ABBA pair: it is the
            // costliest part of a review after parsing.
            let candidates = LockOrderFacts.abbaCandidates(models: sideModels, helpers: helpers, facts: facts)
            for (index, model) in sideModels.enumerated() where candidates.contains(index) {
                let analysis = LockStateAnalysis(model: model, endsAtClosingBrace: true, resolver: resolver)
                found += LockOrderFacts.nestings(in: analysis, function: model.name, helpers: helpers, facts: facts)
            }
            nestings[side] = found
        }
        checkedSites = ResultFlowPatch.checkedSites(in: models)
        droppedCounts = ResultFlowPatch.droppedCounts(in: models)
        let checked = checkedSites
        for side in [Side.before, Side.after] {
            let ordered = models.filter { $0.side == side } + models.filter { $0.side != side }
            var failures: [String: ResultFlowPatch.PointerFailure] = [:]
            var tested: [String: Set<Int>] = [:]
            var decided = Set<String>()
            for helper in ordered where !decided.contains(helper.name) {
                decided.insert(helper.name)
                if let failure = ResultFlowPatch.pointerFailure(of: helper) { failures[helper.name] = failure }
                let parameters = ResultFlowPatch.nullTestedParameters(of: helper)
                if !parameters.isEmpty { tested[helper.name] = parameters }
            }
            pointerFailures[side] = failures
            nullTestedParameters[side] = tested
            failureReasons[side] = ResultFlowPatch.failureReasons(of: ordered) { key in
                // A named function merely tested somewhere may return a status or a count; an
                // operation called through a pointer and checked as an error (ctx->write) fails.
                if key.hasPrefix("->"), checked[key] != nil { return true }
                guard let fact = facts.call(named: key) else { return false }
                return fact.mustCheck || fact.returns == .errno || fact.returns == .errPointer
            }
        }
    }
}
