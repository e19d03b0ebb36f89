import Foundation
import MMCore
import Yams

/// One problem a reviewer raised, as an expectation file states it.
public struct ExpectedFinding: Sendable, Hashable {
    public var rule: String
    public var file: String?
    public var code: String
    public var status: FindingStatus?
    public var reviewer: String?
    public var messageID: String?
}

/// A line that must stay quiet (for one rule, or for every rule when `rule` is nil).
public struct QuietLine: Sendable, Hashable {
    public var rule: String?
    public var file: String?
    public var code: String
    public var why: String
}

/// One corpus case: an input file and what mmreview must and must not say about it.
public struct ExpectationCase: Sendable {
    /// The expectation file, as found under the evaluated directory.
    public var path: String
    /// The reviewed file, resolved against the expectation file's directory.
    public var inputPath: String
    public var source: String?
    public var messageID: String?
    public var summary: String?
    public var exitStatus: Int32?
    public var errorText: String?
    public var mustFind: [ExpectedFinding]
    public var mustNotFlag: [QuietLine]
    public var todo: [ExpectedFinding]
}

/// A bad expectation file: names the file, where in it, and what is accepted.
public struct ExpectationError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

/// Reads `expect.yaml` / `*.expect.yaml` files. Unknown keys are errors, so a typo cannot silently
/// turn an expectation off.
public struct ExpectationLoader: Sendable {
    /// Rule ids an entry may name: the implemented checks and those reserved by DESIGN.md (a todo
    /// entry may name a check that does not exist yet).
    public var knownRules: Set<String>

    public init(knownRules: Set<String>) {
        self.knownRules = knownRules
    }

    /// Every expectation file under `directory` (or the file itself), in path order.
    public func findFiles(under directory: String) throws(ExpectationError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ExpectationError(file: directory, message: "no such file or directory")
        }
        if !isDirectory.boolValue { return [directory] }
        guard let walker = FileManager.default.enumerator(atPath: directory) else {
            throw ExpectationError(file: directory, message: "cannot be read")
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name == "expect.yaml" || name.hasSuffix(".expect.yaml") {
                found.append((directory as NSString).appendingPathComponent(relative))
            }
        }
        return found.sorted()
    }

    public func load(path: String) throws(ExpectationError) -> ExpectationCase {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ExpectationError(file: path, message: "cannot be read as UTF-8 text")
        }
        return try parse(text: text, path: path)
    }

    public func parse(text: String, path: String) throws(ExpectationError) -> ExpectationCase {
        let root: Any?
        do {
            // The basic resolver keeps scalars as strings; numbers are converted where a field wants one.
            root = try Yams.load(yaml: text, .basic)
        } catch {
            throw ExpectationError(file: path, message: "not valid YAML: \(error)")
        }
        guard let map = root as? [String: Any] else {
            throw ExpectationError(file: path, message: "the top level must be a mapping with at least 'input'")
        }
        let fields = Fields(map: map, where: "top level", file: path)
        try fields.allow(["input", "source", "message-id", "summary", "exit", "error", "must-find", "must-not-flag", "todo"])
        let input = try fields.requiredString("input")
        let directory = (path as NSString).deletingLastPathComponent
        var exitStatus: Int32?
        if let exitText = try fields.string("exit") {
            guard let value = Int32(exitText), (0...2).contains(value) else {
                throw ExpectationError(file: path, message: "top level: 'exit' is '\(exitText)'; accepted: 0, 1 or 2")
            }
            exitStatus = value
        }
        return ExpectationCase(
            path: path, inputPath: (directory as NSString).appendingPathComponent(input),
            source: try fields.string("source"), messageID: try fields.string("message-id"),
            summary: try fields.string("summary"), exitStatus: exitStatus, errorText: try fields.string("error"),
            mustFind: try findings(fields, key: "must-find", file: path),
            mustNotFlag: try quietLines(fields, file: path),
            todo: try findings(fields, key: "todo", file: path))
    }

    private func findings(_ fields: Fields, key: String, file: String) throws(ExpectationError) -> [ExpectedFinding] {
        var result: [ExpectedFinding] = []
        for (index, entry) in try fields.list(key).enumerated() {
            let entryFields = Fields(map: entry, where: "\(key)[\(index + 1)]", file: file)
            try entryFields.allow(["rule", "file", "code", "status", "reviewer", "message-id"])
            result.append(ExpectedFinding(
                rule: try rule(entryFields, required: true) ?? "", file: try entryFields.string("file"),
                code: try entryFields.requiredString("code"), status: try status(entryFields),
                reviewer: try entryFields.string("reviewer"), messageID: try entryFields.string("message-id")))
        }
        return result
    }

    private func quietLines(_ fields: Fields, file: String) throws(ExpectationError) -> [QuietLine] {
        var result: [QuietLine] = []
        for (index, entry) in try fields.list("must-not-flag").enumerated() {
            let entryFields = Fields(map: entry, where: "must-not-flag[\(index + 1)]", file: file)
            try entryFields.allow(["rule", "file", "code", "why"])
            result.append(QuietLine(rule: try rule(entryFields, required: false), file: try entryFields.string("file"),
                                    code: try entryFields.requiredString("code"),
                                    why: try entryFields.requiredString("why")))
        }
        return result
    }

    private func rule(_ fields: Fields, required: Bool) throws(ExpectationError) -> String? {
        guard let rule = required ? try fields.requiredString("rule") : try fields.string("rule") else { return nil }
        guard knownRules.contains(rule) else {
            throw fields.error("'rule' is '\(rule)'; accepted: \(knownRules.sorted().joined(separator: ", "))")
        }
        return rule
    }

    private func status(_ fields: Fields) throws(ExpectationError) -> FindingStatus? {
        guard let text = try fields.string("status") else { return nil }
        guard let status = FindingStatus(rawValue: text) else {
            throw fields.error("'status' is '\(text)'; accepted: introduced, fixed, unchanged")
        }
        return status
    }
}

/// Typed access to one YAML mapping, with errors that say where the mapping is.
private struct Fields {
    var map: [String: Any]
    var `where`: String
    var file: String

    func error(_ message: String) -> ExpectationError {
        ExpectationError(file: file, message: "\(`where`): \(message)")
    }

    func allow(_ keys: Set<String>) throws(ExpectationError) {
        if let unknown = map.keys.sorted().first(where: { !keys.contains($0) }) {
            throw error("unknown key '\(unknown)'; accepted: \(keys.sorted().joined(separator: ", "))")
        }
    }

    func string(_ key: String) throws(ExpectationError) -> String? {
        guard let value = map[key] else { return nil }
        if value is NSNull { return nil }
        guard let text = value as? String else { throw error("'\(key)' must be a single line of text") }
        return text
    }

    func requiredString(_ key: String) throws(ExpectationError) -> String {
        guard let text = try string(key), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw error("'\(key)' is missing")
        }
        return text
    }

    func list(_ key: String) throws(ExpectationError) -> [[String: Any]] {
        guard let value = map[key], !(value is NSNull) else { return [] }
        guard let items = value as? [Any] else { throw error("'\(key)' must be a list of mappings") }
        var result: [[String: Any]] = []
        for item in items {
            guard let entry = item as? [String: Any] else { throw error("every '\(key)' entry must be a mapping") }
            result.append(entry)
        }
        return result
    }
}
