import Foundation
import MMAnalysis
import MMChecks
import MMCore
import MMExtract
import MMFacts
import MMPatch

/// One input as the user named it, with its bytes.
public struct ReviewInput: Sendable {
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

public struct ReviewOptions: Sendable {
    /// Also report findings present before and after the patch.
    public var showUnchanged: Bool
    /// Only these rule ids (nil: all).
    public var enabledRules: Set<String>?

    /// Threads the checks of different patches may run on at once. Parsing stays on one thread
    /// (one libclang index); a batch scan, whose workers each review their own patches, keeps 1.
    public var checkThreads: Int

    public init(showUnchanged: Bool = false, enabledRules: Set<String>? = nil, checkThreads: Int = 1) {
        self.showUnchanged = showUnchanged
        self.enabledRules = enabledRules
        self.checkThreads = max(1, checkThreads)
    }
}

public struct ReviewResult: Sendable {
    public var patches: [Patch]
    public var findings: [Finding]
    public var errors: [InputError]
    /// Every function reviewed, with its models (for `--dump-models` and tests).
    public var functions: [ExtractedFunction]
    /// Patches whose diff is the same as an earlier one's (a reply quoting the whole patch, a
    /// mailbox holding the same mail twice), each with the patch it repeats. They are not reviewed
    /// again: their findings would be the earlier patch's, reported twice.
    public var repeats: [(patch: PatchOrigin, repeats: PatchOrigin)]

    public init(patches: [Patch], findings: [Finding], errors: [InputError], functions: [ExtractedFunction],
                repeats: [(patch: PatchOrigin, repeats: PatchOrigin)] = []) {
        self.patches = patches
        self.findings = findings
        self.errors = errors
        self.functions = functions
        self.repeats = repeats
    }

    /// The command's exit status: 1 when a finding the patch leaves in place is at or above `failOn`;
    /// 2 when nothing could be reviewed (no input held a usable patch; the errors say why);
    /// 0 otherwise.
    public func exitStatus(failOn: Severity) -> Int32 {
        if findings.contains(where: { $0.status != .fixed && $0.severity >= failOn }) { return 1 }
        if patches.isEmpty { return 2 }
        return 0
    }
}

/// The whole pipeline for a set of inputs: read → fragments → libclang models → checks → before/after.
/// Not Sendable: it owns a libclang index; use one per thread.
public final class Reviewer {
    public let facts: KernelFacts
    public let options: ReviewOptions
    private let extractor: FunctionExtractor
    private let checker: PatchChecker

    /// `fullParsesBeforePrecompiling`: see FunctionExtractor (tests pass 0 and nil to compare the
    /// precompiled prelude with the prelude parsed in every unit).
    /// `preludeCache`: where the precompiled prelude is kept between runs (see PreludeCache).
    public init(facts: KernelFacts, options: ReviewOptions = ReviewOptions(),
                fullParsesBeforePrecompiling: Int? = FunctionExtractor.defaultFullParsesBeforePrecompiling,
                preludeCache: PreludeCache? = nil) throws(ExtractError) {
        self.facts = facts
        self.options = options
        extractor = try FunctionExtractor(fullParsesBeforePrecompiling: fullParsesBeforePrecompiling,
                                          preludeCache: preludeCache)
        checker = PatchChecker(facts: facts, checks: CheckRegistry.all.filter {
            options.enabledRules?.contains($0.description.id) ?? true
        })
    }

    /// A reviewer that parses with an extractor made before it (`mmreview serve` keeps one, with
    /// its libclang index and precompiled prelude, for every review it runs). The extractor keeps
    /// no model or finding from one review to the next.
    public init(facts: KernelFacts, options: ReviewOptions, extractor: FunctionExtractor) {
        self.facts = facts
        self.options = options
        self.extractor = extractor
        checker = PatchChecker(facts: facts, checks: CheckRegistry.all.filter {
            options.enabledRules?.contains($0.description.id) ?? true
        })
    }

    public var libclangVersion: String { extractor.libclangVersion }

    /// See FunctionExtractor.isPreludePrecompiled.
    public var isPreludePrecompiled: Bool { extractor.isPreludePrecompiled }

    /// `progress` is told after each patch how many of how many are done (for a progress line).
    public func review(_ inputs: [ReviewInput], progress: ((Int, Int) -> Void)? = nil) -> ReviewResult {
        var patches: [Patch] = []
        var errors: [InputError] = []
        for input in inputs {
            do {
                patches.append(contentsOf: try InputReader().read(bytes: input.bytes, name: input.name,
                                                                  firstIndex: patches.count))
            } catch {
                errors.append(error)
            }
        }
        var result = review(patches: patches, progress: progress)
        result.errors = errors
        return result
    }

    /// Reviews patches already read (a batch scan reads messages itself).
    public func review(patches: [Patch], progress: ((Int, Int) -> Void)? = nil) -> ReviewResult {
        var findings: [Finding] = []
        var functions: [ExtractedFunction] = []
        var firstWithDiff: [[FileDiff]: PatchOrigin] = [:]
        var repeats: [(patch: PatchOrigin, repeats: PatchOrigin)] = []
        // Patches go in batches: each batch is parsed in order on this thread, then its patches
        // are checked, on several threads when checkThreads allows; findings keep patch order.
        let batchSize = options.checkThreads == 1 ? 1 : 4 * options.checkThreads
        var parsed: [(patch: Patch, extracted: [ExtractedFunction])] = []
        for (number, patch) in patches.enumerated() {
            if let first = firstWithDiff[patch.files] {
                repeats.append((patch.origin, first))
            } else {
                firstWithDiff[patch.files] = patch.origin
                let extracted = extractor.extract(FragmentBuilder().touchedFunctions(in: patch))
                functions.append(contentsOf: extracted)
                parsed.append((patch, extracted))
            }
            if parsed.count == batchSize || number == patches.count - 1 {
                findings += check(parsed)
                parsed = []
                progress?(number + 1, patches.count)
            } else if parsed.isEmpty {
                progress?(number + 1, patches.count)
            }
        }
        if !options.showUnchanged { findings.removeAll { $0.status == .unchanged } }
        findings.sort(by: Finding.reportOrder)
        return ReviewResult(patches: patches, findings: findings, errors: [], functions: functions, repeats: repeats)
    }

    /// The findings of parsed patches, in their order. The checker holds only values (facts,
    /// checks) and every function's models are its own, so functions can be checked on several
    /// threads (a one-patch review of several functions too).
    private func check(_ parsed: [(patch: Patch, extracted: [ExtractedFunction])]) -> [Finding] {
        let checker = self.checker
        let knowledge = parsed.map { checker.knowledge(patch: $0.patch, extracted: $0.extracted) }
        let work = parsed.indices.flatMap { index in parsed[index].extracted.map { (patchIndex: index, function: $0) } }
        guard options.checkThreads > 1, work.count > 1 else {
            return work.flatMap { checker.review($0.function, patch: parsed[$0.patchIndex].patch,
                                                 knowledge: knowledge[$0.patchIndex]) }
        }
        let perFunction = PerIndexResults<[Finding]>(count: work.count)
        DispatchQueue.concurrentPerform(iterations: work.count) { index in
            let item = work[index]
            perFunction.set(index, checker.review(item.function, patch: parsed[item.patchIndex].patch,
                                                  knowledge: knowledge[item.patchIndex]))
        }
        return perFunction.all.flatMap { $0 }
    }
}

/// The checks of one patch: what its functions' models show before and after, labelled
/// introduced, fixed or unchanged.
struct PatchChecker: Sendable {
    let facts: KernelFacts
    let checks: [any FunctionCheck]

    /// What the checks of a patch's functions may know of the whole patch (its other functions,
    /// the lock orders it states).
    func knowledge(patch: Patch, extracted: [ExtractedFunction]) -> PatchKnowledge {
        PatchKnowledge(models: extracted.flatMap { [$0.before, $0.after].compactMap { $0 } }, patch: patch, facts: facts)
    }

    /// Runs every check on both sides and labels each finding introduced, fixed or unchanged.
    func review(_ function: ExtractedFunction, patch: Patch, knowledge: PatchKnowledge) -> [Finding] {
        var before: [SideFinding] = []
        var after: [SideFinding] = []
        for side in [Side.before, Side.after] {
            guard let model = function.model(side), let image = function.touched.image(side) else { continue }
            let context = FunctionContext(model: model, endsAtClosingBrace: image.endsAtClosingBrace, facts: facts,
                                          patch: knowledge)
            let found = checks.flatMap { $0.check(context) }
            if side == .before { before = found } else { after = found }
        }
        var unmatchedBefore = before
        var result: [Finding] = []
        for finding in after {
            if let index = unmatchedBefore.firstIndex(where: { $0.rule == finding.rule && $0.matchKey == finding.matchKey }) {
                unmatchedBefore.remove(at: index)
                result.append(makeFinding(finding, status: .unchanged, side: .after, function: function, patch: patch))
            } else {
                result.append(makeFinding(finding, status: .introduced, side: .after, function: function, patch: patch))
            }
        }
        for finding in unmatchedBefore {
            result.append(makeFinding(finding, status: .fixed, side: .before, function: function, patch: patch))
        }
        return result
    }

    private func makeFinding(_ finding: SideFinding, status: FindingStatus, side: Side,
                             function: ExtractedFunction, patch: Patch) -> Finding {
        let file = function.touched.path(side)
        let lines = function.model(side)?.sourceLines ?? [:]
        func code(_ line: Int) -> String { (lines[line] ?? "").trimmingCharacters(in: .whitespaces) }
        return Finding(
            rule: finding.rule, severity: finding.severity, status: status, file: file, line: finding.line,
            column: finding.column, function: function.touched.name, code: code(finding.line),
            message: finding.message,
            notes: finding.notes.map { FindingNote(file: file, line: $0.line, code: code($0.line), message: $0.message) },
            patch: patch.origin, matchKey: finding.matchKey)
    }
}

/// One result per index, filled from several threads (each index by one of them).
private final class PerIndexResults<Value>: @unchecked Sendable {
    private var values: [Value?]
    private let lock = NSLock()

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }

    var all: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return values.map { $0! }
    }
}
