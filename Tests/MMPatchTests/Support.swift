import MMCore
@testable import MMPatch

/// Reads text as an input named `name`.
func readPatches(_ text: String, name: String = "t.diff", firstIndex: Int = 0) throws(InputError) -> [Patch] {
    try InputReader().read(bytes: Array(text.utf8), name: name, firstIndex: firstIndex)
}

/// The error reading `bytes` throws, or nil when it succeeds.
func readError(_ bytes: [UInt8], name: String) -> InputError? {
    do {
        _ = try InputReader().read(bytes: bytes, name: name, firstIndex: 0)
        return nil
    } catch {
        return error
    }
}

func functions(_ text: String, name: String = "t.diff") throws(InputError) -> [TouchedFunction] {
    try readPatches(text, name: name).flatMap { FragmentBuilder().touchedFunctions(in: $0) }
}

/// "647-654,674-687" for an image, "nil" when absent: compact to compare whole layouts at once.
func ranges(_ image: FunctionImage?) -> String {
    guard let image else { return "nil" }
    return image.segments.map { "\($0.firstLine)-\($0.lastLine)" }.joined(separator: ",")
}

extension FunctionImage {
    func line(_ number: Int) -> SourceLine? { allLines.first { $0.number == number } }
}

extension Hunk {
    func line(old: Int) -> DiffLine? { lines.first { $0.oldLine == old } }
    func line(new: Int) -> DiffLine? { lines.first { $0.newLine == new } }
}
