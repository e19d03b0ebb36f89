import CClang
import Foundation

/// Errors the extractor can report when libclang itself is unusable.
public enum ExtractError: Error, Sendable, CustomStringConvertible {
    /// `clang_createIndex` returned no index.
    case indexCreationFailed
    /// libclang refused to parse a translation unit (code is the CXErrorCode).
    case parseFailed(code: Int)

    public var description: String {
        switch self {
        case .indexCreationFailed:
            return "libclang could not create an index (is libclang-14 installed and loadable?)"
        case .parseFailed(let code):
            return "libclang could not parse the generated translation unit (CXErrorCode \(code))"
        }
    }
}

/// Takes ownership of a CXString: copies it and disposes it.
@inline(__always)
func takeString(_ s: CXString) -> String {
    defer { clang_disposeString(s) }
    guard let c = clang_getCString(s) else { return "" }
    return String(cString: c)
}

/// Owns one CXIndex.
final class ClangIndex {
    let raw: CXIndex

    init() throws(ExtractError) {
        // excludeDeclarationsFromPCH: visiting a unit's top level then skips the declarations of a
        // precompiled prelude. Visiting them made clang deserialise the whole PCH in every unit,
        // which cost more than parsing the prelude again; ModelBuilder only wants the unit's own
        // functions. (Without a PCH the unit visits the same declarations, from its parse.)
        guard let index = clang_createIndex(1, 0) else { throw .indexCreationFailed }
        raw = index
    }

    deinit { clang_disposeIndex(raw) }
}

/// Owns one CXTranslationUnit parsed from in-memory files.
final class TranslationUnit {
    let raw: CXTranslationUnit
    /// Keeps the index alive as long as the unit.
    let index: ClangIndex

    /// No option clang 14 does not know (`-Wno-deprecated-non-prototype` came with clang 15): for
    /// an unknown warning option clang computes a "did you mean" against every warning group at
    /// each parse, even when told not to warn about it, which was 9 % of a scan. `-w` silences
    /// every warning anyway.
    static let arguments: [String] = [
        "-x", "c", "-std=gnu11", "-nostdinc", "-ferror-limit=0", "-fno-spell-checking", "-w",
        "-Wno-implicit-function-declaration", "-Wno-int-conversion", "-Wno-incompatible-pointer-types",
        "-Wno-return-type", "-Wno-unknown-warning-option", "-D__KERNEL__",
        // Anonymous struct members embed the stub members in every stub tag (StubSet.text()).
        "-fms-extensions",
    ]

    init(index: ClangIndex, mainName: String, files: [(name: String, contents: String)],
         arguments: [String] = TranslationUnit.arguments,
         options: UInt32 = UInt32(CXTranslationUnit_KeepGoing.rawValue)) throws(ExtractError) {
        self.index = index
        // C copies of every string libclang reads during the parse.
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { free($0) } }
        func dup(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = strdup(s)!
            owned.append(p)
            return p
        }
        let argv: [UnsafePointer<CChar>?] = arguments.map { UnsafePointer(dup($0)) }
        var unsaved: [CXUnsavedFile] = files.map { file in
            let contents = dup(file.contents)
            return CXUnsavedFile(Filename: UnsafePointer(dup(file.name)), Contents: UnsafePointer(contents),
                                 Length: UInt(strlen(contents)))
        }
        let mainC = dup(mainName)
        var tu: CXTranslationUnit?
        let code = argv.withUnsafeBufferPointer { args in
            unsaved.withUnsafeMutableBufferPointer { files in
                clang_parseTranslationUnit2(index.raw, mainC, args.baseAddress, Int32(args.count),
                                            files.baseAddress, UInt32(files.count), options, &tu)
            }
        }
        guard code == CXError_Success, let unit = tu else {
            if let unit = tu { clang_disposeTranslationUnit(unit) }
            throw .parseFailed(code: Int(code.rawValue))
        }
        raw = unit
    }

    deinit { clang_disposeTranslationUnit(raw) }

    var cursor: CXCursor { clang_getTranslationUnitCursor(raw) }

    struct Diagnostic {
        var severity: CXDiagnosticSeverity
        var message: String
        var file: String
        var line: Int
        var column: Int
    }

    /// A fatal diagnostic (say, a precompiled header clang would not load) means the unit is not
    /// what was asked for.
    var hasFatalDiagnostic: Bool {
        let count = clang_getNumDiagnostics(raw)
        for i in 0..<count {
            guard let d = clang_getDiagnostic(raw, i) else { continue }
            defer { clang_disposeDiagnostic(d) }
            if clang_getDiagnosticSeverity(d) == CXDiagnostic_Fatal { return true }
        }
        return false
    }

    /// All diagnostics with their spelling (physical) locations.
    func diagnostics() -> [Diagnostic] {
        let count = clang_getNumDiagnostics(raw)
        var result: [Diagnostic] = []
        for i in 0..<count {
            guard let d = clang_getDiagnostic(raw, i) else { continue }
            defer { clang_disposeDiagnostic(d) }
            let loc = clang_getDiagnosticLocation(d)
            var file: CXFile?
            var line: UInt32 = 0, column: UInt32 = 0, offset: UInt32 = 0
            clang_getSpellingLocation(loc, &file, &line, &column, &offset)
            let name = file.map { takeString(clang_getFileName($0)) } ?? ""
            result.append(Diagnostic(severity: clang_getDiagnosticSeverity(d),
                                     message: takeString(clang_getDiagnosticSpelling(d)),
                                     file: name, line: Int(line), column: Int(column)))
        }
        return result
    }
}

/// Collects the direct children of a cursor (the C callback cannot capture; the box travels in
/// client_data).
final class ChildCollector {
    var items: [CXCursor] = []
}

func children(of cursor: CXCursor) -> [CXCursor] {
    let box = ChildCollector()
    withExtendedLifetime(box) {
        let data = Unmanaged.passUnretained(box).toOpaque()
        _ = clang_visitChildren(cursor, { child, _, clientData in
            guard let clientData else { return CXChildVisit_Break }
            Unmanaged<ChildCollector>.fromOpaque(clientData).takeUnretainedValue().items.append(child)
            return CXChildVisit_Continue
        }, data)
    }
    return box.items
}
