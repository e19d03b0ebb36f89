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
    private let directory: String

    private init(path: String, directory: String) {
        self.path = path
        self.directory = directory
    }

    deinit {
        TemporaryDirectories.remove(directory)
        TemporaryDirectories.shared.forget(directory)
    }

    static func build(index: ClangIndex) -> PrecompiledPrelude? {
        var base = NSTemporaryDirectory()
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
