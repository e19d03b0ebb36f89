import CClang
import MMCore

/// Builds function models for both sides of touched functions with libclang.
///
/// Not Sendable: one per thread; it owns one CXIndex, and every translation unit it parses is
/// disposed before `extract` returns.
public final class FunctionExtractor {
    private let index: ClangIndex
    private static let mainName = "/mmreview/unit.c"
    /// At most this many function sides (and about this many lines) share one translation unit.
    private let maxJobsPerUnit = 24
    private let maxLinesPerUnit = 4000
    /// Passes that add stubs for what the previous parse reported undeclared.
    private let maxPasses = 4

    /// Units parsed with the prelude in their text before the prelude is precompiled (see
    /// PrecompiledPrelude); nil never precompiles it. Building the PCH costs about 32M instructions
    /// (nearly all in clang_saveTranslationUnit) and then saves about 11M per unit, so a review of
    /// one patch (one to three units on the seeds) is cheaper without it and a scan (hundreds of
    /// units per worker) with it.
    public static let defaultFullParsesBeforePrecompiling = 8
    private let fullParsesBeforePrecompiling: Int?
    private var fullParses = 0
    /// Translation units parsed so far, every pass counted (for tests and benchmarks: a unit whose
    /// stubs were all predicted is parsed once).
    public private(set) var unitParses = 0
    /// Built once; nil when not yet, when it could not be built, or when a unit failed to load it.
    private var precompiled: PrecompiledPrelude? = nil
    private var precompiledTried = false
    /// Where the PCH is kept between runs; with one, it is used from the first unit on.
    private let preludeCache: PreludeCache?

    public init(fullParsesBeforePrecompiling: Int? = FunctionExtractor.defaultFullParsesBeforePrecompiling,
                preludeCache: PreludeCache? = nil) throws(ExtractError) {
        index = try ClangIndex()
        self.fullParsesBeforePrecompiling = fullParsesBeforePrecompiling
        self.preludeCache = preludeCache
    }

    /// The precompiled prelude: from the cache when there is one, else built once enough units
    /// have been parsed in full.
    private func prelude() -> PrecompiledPrelude? {
        guard let threshold = fullParsesBeforePrecompiling else { return nil }
        if let preludeCache {
            if !precompiledTried {
                precompiledTried = true
                precompiled = PrecompiledPrelude.cached(in: preludeCache, index: index, libclangVersion: libclangVersion)
            }
            return precompiled
        }
        guard fullParses >= threshold else { return nil }
        if !precompiledTried {
            precompiledTried = true
            precompiled = PrecompiledPrelude.build(index: index)
        }
        return precompiled
    }

    /// Parses one composed unit, with the prelude precompiled when possible. The unit text keeps
    /// its first line (the prelude's `#include`) as a comment, so unit lines and `origins` agree.
    private func parse(_ composed: UnitBuilder.Composed) throws(ExtractError) -> TranslationUnit {
        unitParses += 1
        let preludeFile = (KernelPrelude.fileName, KernelPrelude.text)
        if let pch = prelude(), composed.lines.first == UnitBuilder.preludeInclude {
            var lines = composed.lines
            lines[0] = "/* prelude: precompiled */"
            let text = lines.joined(separator: "\n") + "\n"
            // A PCH that clang refuses shows as a failed parse or a fatal diagnostic: this unit is
            // then parsed again in full, and so is every later one if that parse is clean.
            if let unit = try? TranslationUnit(index: index, mainName: Self.mainName,
                                               files: [(Self.mainName, text), preludeFile],
                                               arguments: TranslationUnit.arguments + ["-include-pch", pch.path]),
               !unit.hasFatalDiagnostic {
                return unit
            }
            let full = try parseInFull(composed, preludeFile)
            if !full.hasFatalDiagnostic {
                pch.discardIfCached()
                precompiled = nil
            }
            return full
        }
        return try parseInFull(composed, preludeFile)
    }

    private func parseInFull(_ composed: UnitBuilder.Composed,
                             _ preludeFile: (String, String)) throws(ExtractError) -> TranslationUnit {
        fullParses += 1
        let text = composed.lines.joined(separator: "\n") + "\n"
        return try TranslationUnit(index: index, mainName: Self.mainName, files: [(Self.mainName, text), preludeFile])
    }

    public var libclangVersion: String { takeString(clang_getClangVersion()) }

    /// True once units load the prelude from the PCH (for tests: a fallback is silent).
    public var isPreludePrecompiled: Bool { precompiled != nil }

    /// Models for both sides of each function. A side that fails to parse gets a model with an
    /// empty body (or statements recovered from tokens) and parseDiagnostics saying why.
    public func extract(_ functions: [TouchedFunction]) -> [ExtractedFunction] {
        var jobs: [Job] = []
        for (i, f) in functions.enumerated() {
            for side in [Side.before, .after] {
                guard let image = f.image(side) else { continue }
                jobs.append(Job(id: jobs.count, functionIndex: i, side: side, name: f.name,
                                file: f.path(side), image: image))
            }
        }
        var models: [Int: FunctionModel] = [:]
        var chunk: [Job] = []
        var lines = 0
        for job in jobs {
            let n = job.image.allLines.count
            if !chunk.isEmpty && (chunk.count >= maxJobsPerUnit || lines + n > maxLinesPerUnit) {
                extractChunk(chunk, into: &models)
                chunk = []
                lines = 0
            }
            chunk.append(job)
            lines += n
        }
        if !chunk.isEmpty { extractChunk(chunk, into: &models) }

        var result = functions.map { ExtractedFunction(touched: $0, before: nil, after: nil) }
        for job in jobs {
            let model = models[job.id] ?? emptyModel(job, reason: "not extracted")
            if job.side == .before { result[job.functionIndex].before = model } else { result[job.functionIndex].after = model }
        }
        return result
    }

    private func emptyModel(_ job: Job, reason: String) -> FunctionModel {
        var sourceLines: [Int: String] = [:]
        for l in job.image.allLines { sourceLines[l.number] = l.text }
        return FunctionModel(name: job.name, file: job.file, side: job.side,
                             startsAtDefinition: job.image.startsAtDefinition, body: .block([]),
                             sourceLines: sourceLines, parseDiagnostics: [reason])
    }

    private func extractChunk(_ jobs: [Job], into models: inout [Int: FunctionModel]) {
        var pending: [Job] = []
        for job in jobs {
            if job.image.allLines.isEmpty {
                models[job.id] = emptyModel(job, reason: "the patch shows no line of this side")
            } else {
                pending.append(job)
            }
        }
        guard !pending.isEmpty else { return }
        do {
            try parseAndBuild(pending, into: &models)
        } catch {
            if pending.count > 1 {
                for job in pending { extractChunk([job], into: &models) }
            } else if let job = pending.first {
                models[job.id] = emptyModel(job, reason: error.description)
            }
        }
    }

    private func parseAndBuild(_ jobs: [Job], into models: inout [Int: FunctionModel]) throws(ExtractError) {
        let prepared = jobs.map(UnitBuilder.prepare)
        let byID = Dictionary(uniqueKeysWithValues: prepared.map { ($0.job.id, $0) })
        var stubs = StubSet()
        UnitBuilder.collectLexicalStubs(prepared, into: &stubs)
        UnitBuilder.collectUndeclaredVariableStubs(prepared, into: &stubs)
        var unit: TranslationUnit? = nil
        var composed = UnitBuilder.Composed(lines: [], origins: [])
        var diagnostics: [TranslationUnit.Diagnostic] = []
        for _ in 0..<maxPasses {
            composed = UnitBuilder.compose(prepared, stubs: stubs)
            unit = nil  // dispose the previous unit first
            let u = try parse(composed)
            unit = u
            diagnostics = u.diagnostics()
            let before = stubs.count
            // One use of an undeclared name gives one diagnostic per use: type each name once.
            var usageCache: [String: StubType] = [:]
            func usage(_ name: String, jobID: Int, tokens: [CToken]) -> StubType {
                let cacheKey = "\(jobID) \(name)"
                if let known = usageCache[cacheKey] { return known }
                let found = UnitBuilder.usageType(of: name, in: tokens)
                usageCache[cacheKey] = found
                return found
            }
            for d in diagnostics where d.severity.rawValue >= CXDiagnostic_Error.rawValue && d.file == Self.mainName {
                guard d.line >= 1, d.line <= composed.origins.count,
                      let jobID = composed.origins[d.line - 1].job, let job = byID[jobID] else { continue }
                if let name = quoted(d.message, after: "use of undeclared identifier") {
                    if UnitBuilder.isAllCaps(name) {
                        stubs.constants.insert(name)
                    } else if job.definedFunctionName != nil {
                        let t = usage(name, jobID: jobID, tokens: job.tokens)
                        stubs.globals[name] = max(stubs.globals[name] ?? .long, t)
                    } else {
                        let t = usage(name, jobID: jobID, tokens: job.tokens)
                        stubs.locals[jobID, default: [:]][name] = max(stubs.locals[jobID]?[name] ?? .long, t)
                    }
                } else if d.message.hasPrefix("assigning to 'struct __mm_any' from incompatible type 'struct "),
                          let tag = d.message.split(separator: "'").dropFirst(3).first {
                    // `*p = *current` with p a stub: give p the pointer type of the value.
                    let toks = job.tokens
                    let lineIndex = composed.origins[d.line - 1]
                    if case .code(_, let real) = lineIndex {
                        for k in toks.indices where k + 2 < toks.count && toks[k].isPunct("*") && toks[k + 1].isIdentifier
                            && toks[k + 2].isPunct("=") {
                            let name = toks[k + 1].text
                            guard job.job.image.allLines.contains(where: { $0.number == real && $0.text.contains(name) }) else { continue }
                            if stubs.locals[jobID]?[name] != nil || stubs.globals[name] != nil, stubs.overrides[name] == nil {
                                stubs.overrides[name] = String(tag) + " *"
                            }
                        }
                    }
                } else if let name = quoted(d.message, after: "unknown type name") {
                    let toks = job.tokens
                    let isStruct = toks.indices.contains { toks[$0].text == name && $0 + 1 < toks.count && toks[$0 + 1].isPunct("*") }
                    stubs.typedefs[name] = isStruct
                }
            }
            if stubs.count == before { break }
        }
        guard let unit else { return }
        let builder = ModelBuilder(unit: unit, composed: composed, mainName: Self.mainName)
        // Diagnostics per job, with real line numbers.
        var perJob: [Int: [String]] = [:]
        var shared: [String] = []
        for d in diagnostics where d.severity.rawValue >= CXDiagnostic_Error.rawValue {
            guard d.file == Self.mainName, d.line >= 1, d.line <= composed.origins.count else {
                shared.append("\(d.file):\(d.line): \(d.message)")
                continue
            }
            let origin = composed.origins[d.line - 1]
            let p = ModelBuilder.Position(line: d.line - 1, column: d.column)
            let where_ = builder.realLine(p).map { "line \($0)" } ?? "generated line"
            if let j = origin.job { perJob[j, default: []].append("\(where_): error: \(d.message)") } else {
                shared.append("stubs: error: \(d.message)")
            }
        }
        let definitions = builder.definitions()
        for p in prepared {
            let id = p.job.id
            models[id] = builder.model(for: p.job, cursor: definitions[id],
                                       diagnostics: (perJob[id] ?? []) + shared,
                                       definitionVisible: p.definedFunctionName != nil)
        }
    }

    private func quoted(_ message: String, after prefix: String) -> String? {
        guard message.hasPrefix(prefix) else { return nil }
        // Asked for every error of every pass: clang's messages are ASCII, where every byte is a
        // Character and the quotes are found on the bytes.
        if message.isAllASCII {
            let bytes = message.utf8
            guard let open = bytes.firstIndex(of: UInt8(ascii: "'")),
                  let close = bytes[bytes.index(after: open)...].firstIndex(of: UInt8(ascii: "'")) else { return nil }
            return String(message[bytes.index(after: open)..<close])
        }
        guard let open = message.firstIndex(of: "'") else { return nil }
        let rest = message[message.index(after: open)...]
        guard let close = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<close])
    }
}
