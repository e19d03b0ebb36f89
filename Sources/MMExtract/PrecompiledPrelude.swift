import CClang
import Foundation

/// The kernel prelude parsed once and saved as a precompiled header, so that each translation
/// unit loads it with `-include-pch` instead of parsing its few hundred lines again (that re-parse
/// was most of libclang's 20M instructions per unit in a scan).
///
/// One per FunctionExtractor (so one per scan worker). The file lives in a private directory of
/// its own (mkdtemp, mode 0700), removed when this object goes and, failing that, at exit.
/// `build` returns nil whenever anything goes wrong: the caller then keeps the prelude in the text.
final class PrecompiledPrelude {
    /// Path of the .pch file.
    let path: String
    /// The private directory this object made and removes; nil for a PCH kept in a PreludeCache.
    private let directory: String?

    private init(path: String, directory: String?) {
        self.path = path
        self.directory = directory
    }

    deinit {
        if let directory {
            TemporaryDirectories.remove(directory)
            TemporaryDirectories.shared.forget(directory)
        }
    }

    /// The cache's PCH for this prelude and libclang, built and stored first if it is not there.
    /// nil when it can be neither loaded nor built (the caller keeps the prelude in the text).
    static func cached(in cache: PreludeCache, index: ClangIndex, libclangVersion: String) -> PrecompiledPrelude? {
        let path = cache.path(libclangVersion: libclangVersion, arguments: TranslationUnit.arguments)
        if FileManager.default.isReadableFile(atPath: path) { return PrecompiledPrelude(path: path, directory: nil) }
        guard (try? FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])) != nil,
              let built = build(index: index, under: cache.directory) else { return nil }
        // rename() is atomic: a run starting meanwhile sees no file or a whole one, never half.
        guard rename(built.path, path) == 0 else { return nil }
        return PrecompiledPrelude(path: path, directory: nil)
    }

    /// A cached PCH that clang refused (a damaged file): removed, so the next run builds it again
    /// instead of failing to load it every time.
    func discardIfCached() {
        if directory == nil { unlink(path) }
    }

    static func build(index: ClangIndex) -> PrecompiledPrelude? {
        build(index: index, under: NSTemporaryDirectory())
    }

    private static func build(index: ClangIndex, under baseDirectory: String) -> PrecompiledPrelude? {
        var base = baseDirectory
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/mmreview-pch.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { return nil }
        let directory = String(cString: made)
        TemporaryDirectories.shared.remember(directory)
        let prelude = PrecompiledPrelude(path: directory + "/prelude.pch", directory: directory)
        // The header is the main file here, so it is parsed as a header (`-x c-header`); the other
        // arguments are the units' own, since a PCH only loads under the language options it was
        // built with.
        var arguments = TranslationUnit.arguments
        if let x = arguments.firstIndex(of: "-x"), x + 1 < arguments.count { arguments[x + 1] = "c-header" }
        let unit: TranslationUnit
        do {
            unit = try TranslationUnit(index: index, mainName: KernelPrelude.fileName,
                                       files: [(KernelPrelude.fileName, KernelPrelude.text)],
                                       arguments: arguments,
                                       options: UInt32(CXTranslationUnit_ForSerialization.rawValue))
        } catch {
            return nil
        }
        // A prelude with errors would hide them from every unit (a PCH does not replay its
        // diagnostics): keep the text path, which reports them as today.
        guard !unit.diagnostics().contains(where: { $0.severity.rawValue >= CXDiagnostic_Error.rawValue }) else {
            return nil
        }
        let saved = clang_saveTranslationUnit(unit.raw, prelude.path,
                                              UInt32(CXSaveTranslationUnit_None.rawValue))
        guard saved == CXSaveError_None.rawValue else { return nil }
        return prelude
    }
}

/// A directory where the precompiled prelude is kept between runs, so that a one-patch review
/// (the pre-send hook, `mmreview patch.diff`) loads it in every unit instead of parsing the prelude
/// each time; building it once costs about three units' worth of parsing. The file name carries a
/// hash of everything the PCH depends on (libclang's version, the unit arguments, the prelude
/// text), so another mmreview or libclang never loads a PCH that is not its own.
public struct PreludeCache: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// `MMREVIEW_CACHE_DIR` (empty: no cache), else `$XDG_CACHE_HOME/mmreview`, else
    /// `$HOME/.cache/mmreview`; nil when none of them is set to an absolute path.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> PreludeCache? {
        if let chosen = environment["MMREVIEW_CACHE_DIR"] {
            return chosen.hasPrefix("/") ? PreludeCache(directory: chosen) : nil
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return PreludeCache(directory: xdg + "/mmreview")
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return PreludeCache(directory: home + "/.cache/mmreview")
        }
        return nil
    }

    func path(libclangVersion: String, arguments: [String]) -> String {
        // FNV-1a: stable across runs, unlike Hasher.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [libclangVersion] + arguments + [KernelPrelude.text] {
            for byte in part.utf8 + [0] { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        let hex = String(hash, radix: 16)
        return directory + "/prelude-" + String(repeating: "0", count: 16 - hex.count) + hex + ".pch"
    }
}

/// Directories of precompiled preludes still on disk, removed by an exit handler: a PrecompiledPrelude
/// held until the end of the process (a reviewer in a command) is never deinitialised.
final class TemporaryDirectories: @unchecked Sendable {
    // @unchecked: `directories` is only touched under `lock`.
    static let shared = TemporaryDirectories()
    private let lock = NSLock()
    private var directories: Set<String> = []
    private var handlerInstalled = false

    func remember(_ directory: String) {
        lock.lock()
        defer { lock.unlock() }
        directories.insert(directory)
        if !handlerInstalled {
            handlerInstalled = true
            atexit { TemporaryDirectories.shared.removeAll() }
        }
    }

    func forget(_ directory: String) {
        lock.lock()
        directories.remove(directory)
        lock.unlock()
    }

    private func removeAll() {
        lock.lock()
        defer { lock.unlock() }
        for directory in directories { Self.remove(directory) }
        directories = []
    }

    /// The directory and what is in it: the .pch, or clang's temporary file if saving it failed
    /// half-way. The directory is one mkdtemp made for this process, so nothing else is in it.
    static func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
