import Foundation
import MMCore
import Testing
@testable import MMConfig

@Suite struct ConfigurationTests {
    let loader = ConfigurationLoader(ruleIDs: ["lock-leak", "resource-leak", "loop-no-progress"])

    func parse(_ text: String) throws(ConfigError) -> Configuration {
        try loader.parse(text, file: "/repo/.mmreview.yaml", directory: "/repo")
    }

    func message(_ text: String) -> String {
        do {
            _ = try parse(text)
            return ""
        } catch {
            return error.description
        }
    }

    @Test func readsEveryKey() throws {
        let config = try parse("""
            fail-on: error
            checks:
              loop-no-progress: off
              resource-leak: error
              lock-leak: on
            facts:
              primitives:
                - {function: my_lock, action: acquire, lock: arg0, mode: spin}
            include: ["mm/**", "kernel/fork.c"]
            exclude: "mm/kasan/**"
            """)
        #expect(config.failOn == .error)
        #expect(config.disabled == ["loop-no-progress"])
        #expect(config.severities == ["resource-leak": .error])
        #expect(config.factsText?.contains("my_lock") == true)
        #expect(config.include == [PathGlob("mm/**"), PathGlob("kernel/fork.c")])
        #expect(config.exclude == [PathGlob("mm/kasan/**")])
    }

    @Test func emptyFileIsTheDefault() throws {
        #expect(try parse("") == Configuration(file: "/repo/.mmreview.yaml"))
        #expect(try parse("# nothing yet\n") == Configuration(file: "/repo/.mmreview.yaml"))
    }

    @Test func errorsNameFileKeyAndWhatIsAccepted() {
        #expect(message("colour: yes") == "/repo/.mmreview.yaml: 'colour': unknown key; accepted keys are fail-on, checks, facts, rules, include, exclude")
        #expect(message("fail-on: loud") == "/repo/.mmreview.yaml: 'fail-on': 'loud' is not accepted; use error, warning or note")
        #expect(message("checks:\n  lock-leek: off") == "/repo/.mmreview.yaml: 'checks.lock-leek': unknown check; checks are lock-leak, resource-leak, loop-no-progress")
        #expect(message("checks:\n  lock-leak: maybe") == "/repo/.mmreview.yaml: 'checks.lock-leak': 'maybe' is not accepted; use on, off, error, warning or note")
        #expect(message("checks: [lock-leak]") == "/repo/.mmreview.yaml: 'checks': expected a mapping from check id to on, off, error, warning or note")
        #expect(message("include: {a: b}") == "/repo/.mmreview.yaml: 'include': expected a list of path patterns such as \"mm/**\"")
        #expect(message("rules: no/such/dir") == "/repo/.mmreview.yaml: 'rules': 'no/such/dir' is not a directory (relative paths start at the directory of this file)")
        #expect(message("facts: [1]").hasPrefix("/repo/.mmreview.yaml: 'facts': expected a mapping in the format of Rules/*.yaml"))
        #expect(message("- a\n- b") == "/repo/.mmreview.yaml: expected a mapping with the keys fail-on, checks, facts, rules, include, exclude")
        #expect(message("checks: {").hasPrefix("/repo/.mmreview.yaml: not valid YAML"))
    }

    @Test func appliesChecksSeveritiesAndPaths() throws {
        let config = try parse("""
            checks: {loop-no-progress: off, resource-leak: note}
            include: ["mm/**"]
            exclude: ["mm/kasan/*"]
            """)
        func finding(_ rule: String, _ file: String) -> Finding {
            Finding(rule: rule, severity: .warning, status: .introduced, file: file, line: 1, function: "f",
                    code: "", message: "", patch: PatchOrigin(input: "p", index: 0), matchKey: "")
        }
        let kept = config.apply(to: [
            finding("resource-leak", "mm/rmap.c"), finding("loop-no-progress", "mm/rmap.c"),
            finding("lock-leak", "mm/kasan/init.c"), finding("lock-leak", "fs/exec.c"), finding("lock-leak", "mm/x/y.c"),
        ])
        #expect(kept.map { "\($0.rule) \($0.file) \($0.severity.rawValue)" } == [
            "resource-leak mm/rmap.c note", "lock-leak mm/x/y.c warning",
        ])
    }

    @Test(arguments: [
        ("mm/**", "mm/rmap.c", true), ("mm/**", "mm/x/y.c", true), ("mm/**", "fs/mm/x.c", false),
        ("mm/*.c", "mm/rmap.c", true), ("mm/*.c", "mm/x/y.c", false), ("*.h", "include/linux/mm.h", true),
        ("**/*.h", "include/linux/mm.h", true), ("mm/**/x.c", "mm/x.c", true), ("mm/**/x.c", "mm/a/b/x.c", true),
        ("mm/rmap.?", "mm/rmap.c", true), ("/mm/rmap.c", "mm/rmap.c", true), ("mm/rmap.c", "mm/rmap.cc", false),
    ] as [(String, String, Bool)])
    func globs(_ pattern: String, _ path: String, _ expected: Bool) {
        #expect(PathGlob(pattern).matches(path) == expected)
    }

    /// Found at the root of the git work tree, from any directory below it; a file outside the
    /// work tree's root is not looked at.
    @Test func locatesTheFileAtTheRepositoryRoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let sub = root.appendingPathComponent("mm/sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
        #expect(ConfigurationLoader.locate(from: sub.path) == nil)
        try Data("fail-on: note\n".utf8).write(to: sub.appendingPathComponent(".mmreview.yaml"))
        #expect(ConfigurationLoader.locate(from: sub.path) == nil)
        let file = root.appendingPathComponent(".mmreview.yaml")
        try Data("fail-on: note\n".utf8).write(to: file)
        let found = try #require(ConfigurationLoader.locate(from: sub.path))
        #expect(URL(fileURLWithPath: found).standardizedFileURL == file.standardizedFileURL)
        #expect(try loader.load(path: found).failOn == .note)
    }

    @Test func resolvesTheRulesDirectoryAgainstTheFile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-rules-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tools/facts"), withIntermediateDirectories: true)
        let config = try loader.parse("rules: tools/facts\n", file: root.path + "/.mmreview.yaml", directory: root.path)
        #expect(config.rulesDirectory == root.appendingPathComponent("tools/facts").path)
    }
}
