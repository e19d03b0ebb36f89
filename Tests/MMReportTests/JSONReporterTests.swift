import Foundation
import MMCore
import Testing
@testable import MMReport

@Suite struct JSONReporterTests {
    private func parse(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func roundTripsEveryField() throws {
        let root = try parse(JSONReporter().render(Checkpoint.input()))
        #expect(root["version"] as? Int == 1)
        let tool = try #require(root["tool"] as? [String: Any])
        #expect(tool["name"] as? String == "mmreview")
        #expect(tool["version"] as? String == "0.1.0")
        #expect(tool["libclang"] as? String == "clang version 14.0.6")
        #expect((root["errors"] as? [Any])?.isEmpty == true)

        let findings = try #require(root["findings"] as? [[String: Any]])
        #expect(findings.count == 4)
        #expect(findings.map { $0["rule"] as? String } == ["lock-leak", "resource-leak", "lock-order", "unchecked-return"])

        let fixed = findings[0]
        #expect(Set(fixed.keys) == ["rule", "severity", "status", "file", "line", "function", "code",
                                    "message", "notes", "patch"])
        #expect(fixed["severity"] as? String == "error")
        #expect(fixed["status"] as? String == "fixed")
        #expect(fixed["file"] as? String == "checkpoint/memory.c")
        #expect(fixed["line"] as? Int == 678)
        #expect(fixed["function"] as? String == "do_checkpoint_mm")
        #expect(fixed["code"] as? String == "ret = exe_objref;")
        #expect(fixed["message"] as? String == "'mm->mmap_sem' still held when checkpoint_obj() fails")
        let notes = try #require(fixed["notes"] as? [[String: Any]])
        #expect(notes.count == 1)
        #expect(notes[0]["file"] as? String == "checkpoint/memory.c")
        #expect(notes[0]["line"] as? Int == 660)
        #expect(notes[0]["code"] as? String == "down_read(&mm->mmap_sem);")
        #expect(notes[0]["message"] as? String == "lock taken here")
        let patch = try #require(fixed["patch"] as? [String: Any])
        #expect(patch["index"] as? Int == 0)
        #expect(patch["subject"] as? String == Checkpoint.subject)
        #expect(patch["message_id"] as? String == Checkpoint.messageID)

        #expect(findings[1]["status"] as? String == "introduced")
        #expect(findings[1]["severity"] as? String == "warning")
        #expect(findings[3]["status"] as? String == "unchanged")
        #expect((findings[3]["notes"] as? [Any])?.isEmpty == true)
    }

    @Test func missingMessageIDIsNullAndErrorsAreListed() throws {
        var finding = Checkpoint.leak
        finding.patch = PatchOrigin(input: "x.diff", index: 2, subject: "")
        let input = Checkpoint.input([finding], errors: [InputError(input: "-", message: "empty input")])
        let text = JSONReporter().render(input)
        #expect(text.contains("\"message_id\": null"))
        let root = try parse(text)
        let findings = try #require(root["findings"] as? [[String: Any]])
        let patch = try #require(findings.first?["patch"] as? [String: Any])
        #expect(patch["message_id"] is NSNull)
        #expect(patch["index"] as? Int == 2)
        #expect(patch["subject"] as? String == "")
        let errors = try #require(root["errors"] as? [[String: String]])
        #expect(errors == [["input": "-", "message": "empty input"]])
    }

    @Test func escapesAnyText() throws {
        let nasty = "quote \" backslash \\ newline\n tab\t bell\u{07} nul\u{00} esc\u{1B} é ü 中文 🐧 \u{2028} /slash"
        var finding = Checkpoint.leak
        finding.message = nasty
        finding.code = "printk(\"%s\\n\", name);"
        finding.notes = [FindingNote(file: "mm/ä.c", line: 1, code: "\r\n", message: nasty)]
        let text = JSONReporter().render(Checkpoint.input([finding]))
        #expect(text.contains(#""quote \" backslash \\ newline\n tab\t bell\u0007 nul\u0000 esc\u001b é ü 中文 🐧 \u2028 /slash""#))
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        let root = try parse(text)
        let parsed = try #require((root["findings"] as? [[String: Any]])?.first)
        #expect(parsed["message"] as? String == nasty)
        #expect(parsed["code"] as? String == "printk(\"%s\\n\", name);")
        let note = try #require((parsed["notes"] as? [[String: Any]])?.first)
        #expect(note["file"] as? String == "mm/ä.c")
        #expect(note["code"] as? String == "\r\n")
        #expect(note["message"] as? String == nasty)
    }

    @Test func prettyPrintsInSchemaOrder() {
        var finding = Checkpoint.leak
        finding.notes = []
        let input = ReportInput(findings: [finding], toolVersion: "0.1.0", libclangVersion: "clang version 14.0.6")
        #expect(JSONReporter().render(input) == """
        {
          "version": 1,
          "tool": {
            "name": "mmreview",
            "version": "0.1.0",
            "libclang": "clang version 14.0.6"
          },
          "findings": [
            {
              "rule": "resource-leak",
              "severity": "warning",
              "status": "introduced",
              "file": "checkpoint/memory.c",
              "line": 748,
              "function": "do_checkpoint_mm",
              "code": "get_file(exe_file);",
              "message": "reference taken by get_file() on 'exe_file' is not dropped when ckpt_hdr_get_type() fails",
              "notes": [],
              "patch": {
                "index": 0,
                "subject": "[PATCH] c/r: do not hold mmap_sem while checkpointing vma's",
                "message_id": "<1256509409-1-git-send-email-orenl@cs.columbia.edu>"
              }
            }
          ],
          "errors": [],
          "notes": []
        }

        """)
    }
}
