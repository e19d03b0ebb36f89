import Foundation
import MMCore
import Yams

/// A bad `.mmreview.yaml`: names the file, the key (dotted: `checks.lock-leak`) and what is
/// accepted, so the user can fix it without reading the source.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var key: String
    public var message: String

    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "\(file): \(message)" : "\(file): '\(key)': \(message)"
    }
}

/// What a `.mmreview.yaml` says. Every field is optional; an absent file is the default
/// configuration.
///
/// ```yaml
/// fail-on: warning              # error | warning | note
/// checks:
///   loop-no-progress: off       # on | off, or a severity: error | warning | note
///   resource-leak: error
/// facts:                        # the format of Rules/*.yaml, added to the bundled facts
///   primitives:
///     - {function: my_lock, action: acquire, lock: arg0, mode: spin}
/// rules: tools/mm-facts         # a directory of Rules/-format files, relative to this file
/// include: ["mm/**"]            # report only findings in files matching one of these
/// exclude: ["mm/kasan/**"]      # and none of these
/// ```
public struct Configuration: Sendable, Equatable {
    /// Where it was read from (nil: defaults).
    public var file: String?
    public var failOn: Severity?
    /// Checks turned off.
    public var disabled: Set<String>
    /// Checks whose findings get another severity.
    public var severities: [String: Severity]
    /// Extra facts as YAML text in the Rules/ format, named for error messages.
    public var factsText: String?
    /// A facts directory, already resolved against the configuration file's directory.
    public var rulesDirectory: String?
    public var include: [PathGlob]
    public var exclude: [PathGlob]

    public init(file: String? = nil, failOn: Severity? = nil, disabled: Set<String> = [],
                severities: [String: Severity] = [:], factsText: String? = nil, rulesDirectory: String? = nil,
                include: [PathGlob] = [], exclude: [PathGlob] = []) {
        self.file = file
        self.failOn = failOn
        self.disabled = disabled
        self.severities = severities
        self.factsText = factsText
        self.rulesDirectory = rulesDirectory
        self.include = include
        self.exclude = exclude
    }

    public static let fileName = ".mmreview.yaml"
    static let keys = ["fail-on", "checks", "facts", "rules", "include", "exclude"]

    /// Whether findings in `path` are reported: it matches an include pattern (or there are none)
    /// and no exclude pattern.
    public func reports(path: String) -> Bool {
        (include.isEmpty || include.contains { $0.matches(path) }) && !exclude.contains { $0.matches(path) }
    }

    /// The findings the configuration lets through, with its severities applied.
    public func apply(to findings: [Finding]) -> [Finding] {
        findings.compactMap { finding in
            guard !disabled.contains(finding.rule), reports(path: finding.file) else { return nil }
            var changed = finding
            if let severity = severities[finding.rule] { changed.severity = severity }
            return changed
        }
    }
}

/// Finds and reads `.mmreview.yaml`.
public struct ConfigurationLoader: Sendable {
    /// Every rule id there is; a check named in the file must be one of them.
    public var ruleIDs: [String]

    public init(ruleIDs: [String]) {
        self.ruleIDs = ruleIDs
    }

    /// The `.mmreview.yaml` at the root of the git work tree containing `directory`, if any.
    /// Outside a git work tree, only `directory` itself is looked at.
    public static func locate(from directory: String) -> String? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = url.appendingPathComponent(Configuration.fileName).path
            let isRoot = FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path)
            if isRoot {
                return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path {
                let here = URL(fileURLWithPath: directory).appendingPathComponent(Configuration.fileName).path
                return FileManager.default.fileExists(atPath: here) ? here : nil
            }
            url = parent
        }
    }

    public func load(path: String) throws(ConfigError) -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, key: "", message: "cannot be read (no such file, or permission denied)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), file: path, directory: directory)
    }

    /// Parses the text of a configuration file; `directory` resolves the relative `rules` path.
    public func parse(_ text: String, file: String, directory: String) throws(ConfigError) -> Configuration {
        let root: Any?
        do {
            // The basic resolver keeps every scalar a string ("off" stays "off", not false); the
            // values are typed here with messages that say what is accepted.
            root = try Yams.load(yaml: text, .basic)
        } catch {
            throw ConfigError(file: file, key: "", message: "not valid YAML: \(error)")
        }
        var config = Configuration(file: file)
        guard let root else { return config }
        guard let map = root as? [String: Any] else {
            throw ConfigError(file: file, key: "", message: "expected a mapping with the keys "
                              + Configuration.keys.joined(separator: ", "))
        }
        for key in map.keys.sorted() where !Configuration.keys.contains(key) {
            throw ConfigError(file: file, key: key, message: "unknown key; accepted keys are "
                              + Configuration.keys.joined(separator: ", "))
        }
        if let value = map["fail-on"] {
            config.failOn = try severity(value, file: file, key: "fail-on")
        }
        if let value = map["checks"] {
            guard let checks = value as? [String: Any] else {
                throw ConfigError(file: file, key: "checks", message: "expected a mapping from check id to "
                                  + "on, off, error, warning or note")
            }
            for (id, setting) in checks.sorted(by: { $0.key < $1.key }) {
                let key = "checks.\(id)"
                guard ruleIDs.contains(id) else {
                    throw ConfigError(file: file, key: key, message: "unknown check; checks are "
                                      + ruleIDs.joined(separator: ", "))
                }
                let word = (setting as? String)?.lowercased() ?? ""
                switch word {
                case "on", "true", "yes": config.disabled.remove(id)
                case "off", "false", "no": config.disabled.insert(id)
                default:
                    guard let level = Severity(rawValue: word) else {
                        throw ConfigError(file: file, key: key, message: "'\(Self.shown(setting))' is not accepted; "
                                          + "use on, off, error, warning or note")
                    }
                    config.severities[id] = level
                }
            }
        }
        if let value = map["facts"] {
            guard value is [String: Any] else {
                throw ConfigError(file: file, key: "facts", message: "expected a mapping in the format of "
                                  + "Rules/*.yaml (primitives, classes, calls, pairs, allocators)")
            }
            do {
                config.factsText = try Yams.dump(object: value)
            } catch {
                throw ConfigError(file: file, key: "facts", message: "cannot be read: \(error)")
            }
        }
        if let value = map["rules"] {
            guard let path = value as? String, !path.isEmpty else {
                throw ConfigError(file: file, key: "rules", message: "expected a directory path")
            }
            let resolved = path.hasPrefix("/") ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigError(file: file, key: "rules", message: "'\(path)' is not a directory (relative paths "
                                  + "start at the directory of this file)")
            }
            config.rulesDirectory = resolved
        }
        config.include = try globs(map["include"], file: file, key: "include")
        config.exclude = try globs(map["exclude"], file: file, key: "exclude")
        return config
    }

    private func severity(_ value: Any, file: String, key: String) throws(ConfigError) -> Severity {
        guard let word = value as? String, let level = Severity(rawValue: word.lowercased()) else {
            throw ConfigError(file: file, key: key, message: "'\(Self.shown(value))' is not accepted; "
                              + "use error, warning or note")
        }
        return level
    }

    private func globs(_ value: Any?, file: String, key: String) throws(ConfigError) -> [PathGlob] {
        guard let value else { return [] }
        let items: [Any]
        if let single = value as? String {
            items = [single]
        } else if let list = value as? [Any] {
            items = list
        } else {
            throw ConfigError(file: file, key: key, message: "expected a list of path patterns such as \"mm/**\"")
        }
        var result: [PathGlob] = []
        for item in items {
            guard let pattern = item as? String, !pattern.isEmpty else {
                throw ConfigError(file: file, key: key, message: "'\(Self.shown(item))' is not a path pattern; "
                                  + "use strings such as \"mm/**\" or \"mm/*.c\"")
            }
            result.append(PathGlob(pattern))
        }
        return result
    }

    private static func shown(_ value: Any) -> String {
        if let string = value as? String { return string }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "a mapping" }
        return "\(value)"
    }
}
