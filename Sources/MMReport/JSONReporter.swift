import MMCore

/// DESIGN.md's JSON schema, version 1. Keys appear in the order the schema lists them; keys may be
/// added in later versions but none renamed.
public struct JSONReporter: Reporter {
    public static let schemaVersion = 1

    public init() {}

    public func render(_ input: ReportInput) -> String {
        let document = JSONText.object([
            ("version", .int(JSONReporter.schemaVersion)),
            ("tool", .object([
                ("name", .string("mmreview")),
                ("version", .string(input.toolVersion)),
                ("libclang", .string(input.libclangVersion)),
            ])),
            ("findings", .array(input.findings.map(finding))),
            ("errors", .array(input.errors.map { error in
                .object([("input", .string(error.input)), ("message", .string(error.message))])
            })),
            // Added after version 1's first keys: how an input was read, when the user must know.
            ("notes", .array(input.inputNotes.map { note in
                .object([("input", .string(note.input)), ("message", .string(note.message))])
            })),
        ])
        return document.formatted() + "\n"
    }

    private func finding(_ finding: Finding) -> JSONText {
        .object([
            ("rule", .string(finding.rule)),
            ("severity", .string(finding.severity.rawValue)),
            ("status", .string(finding.status.rawValue)),
            ("file", .string(finding.file)),
            ("line", .int(finding.line)),
            ("function", .string(finding.function)),
            ("code", .string(finding.code)),
            ("message", .string(finding.message)),
            ("notes", .array(finding.notes.map { note in
                .object([
                    ("file", .string(note.file)),
                    ("line", .int(note.line)),
                    ("code", .string(note.code)),
                    ("message", .string(note.message)),
                ])
            })),
            ("patch", .object([
                ("index", .int(finding.patch.index)),
                ("subject", .string(finding.patch.subject)),
                ("message_id", .optionalString(finding.patch.messageID)),
            ])),
        ])
    }
}
