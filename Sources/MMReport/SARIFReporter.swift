import MMCore

/// SARIF 2.1.0 (OASIS), for code-scanning services and IDEs. One run; `tool.driver.rules` lists
/// every rule that ran with its descriptions and default level; each finding is a result with its
/// location, the function as a logical location, its notes as related locations, and the
/// before/after status both as SARIF's `baselineState` and as the `status` property. Fixed
/// findings are `kind: pass` so services do not count them as problems.
public struct SARIFReporter: Reporter {
    public static let schemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    public init() {}

    public func render(_ input: ReportInput) -> String {
        // Rules that produced a finding but were not described (a caller without metadata) still
        // get an entry, so every ruleIndex points somewhere.
        var rules = input.rules
        for finding in input.findings where !rules.contains(where: { $0.id == finding.rule }) {
            rules.append(ReportRule(id: finding.rule, name: finding.rule, summary: finding.rule, rationale: "",
                                    advice: "", severity: finding.severity))
        }
        let document = JSONText.object([
            ("$schema", .string(SARIFReporter.schemaURI)),
            ("version", .string("2.1.0")),
            ("runs", .array([.object([
                ("tool", .object([("driver", .object([
                    ("name", .string("mmreview")),
                    ("version", .string(input.toolVersion)),
                    ("semanticVersion", .string(input.toolVersion)),
                    ("rules", .array(rules.map(rule))),
                ]))])),
                ("invocations", .array([invocation(input)])),
                ("results", .array(input.findings.map { result($0, rules: rules) })),
                ("properties", .object([("libclang", .string(input.libclangVersion))])),
            ])])),
        ])
        return document.formatted() + "\n"
    }

    private func rule(_ rule: ReportRule) -> JSONText {
        var help = rule.advice
        if !rule.references.isEmpty {
            help += (help.isEmpty ? "" : "\n\n") + "References:\n" + rule.references.map { "- " + $0 }.joined(separator: "\n")
        }
        return .object([
            ("id", .string(rule.id)),
            ("name", .string(rule.name)),
            ("shortDescription", .object([("text", .string(TextStyle.withFullStop(TextStyle.capitalized(rule.summary))))])),
            ("fullDescription", .object([("text", .string(rule.rationale.isEmpty ? rule.summary : rule.rationale))])),
            ("help", .object([("text", .string(help.isEmpty ? rule.summary : help))])),
            ("defaultConfiguration", .object([("level", .string(level(rule.severity)))])),
        ])
    }

    /// Input errors become tool notifications; the run failed when nothing could be read.
    private func invocation(_ input: ReportInput) -> JSONText {
        .object([
            ("executionSuccessful", .bool(input.errors.isEmpty || !input.patches.isEmpty)),
            ("toolExecutionNotifications", .array(input.errors.map { error in
                .object([
                    ("level", .string("error")),
                    ("message", .object([("text", .string("\(error.input): \(TextStyle.singleLine(error.message))"))])),
                ])
            } + input.inputNotes.map { note in
                .object([
                    ("level", .string("note")),
                    ("message", .object([("text", .string("\(note.input): \(TextStyle.singleLine(note.message))"))])),
                ])
            })),
        ])
    }

    private func result(_ finding: Finding, rules: [ReportRule]) -> JSONText {
        let index = rules.firstIndex { $0.id == finding.rule } ?? 0
        let related = finding.notes.enumerated().map { n, note in
            JSONText.object([
                ("id", .int(n + 1)),
                ("physicalLocation", physical(file: note.file, line: note.line, column: 1, code: note.code)),
                ("message", .object([("text", .string(TextStyle.singleLine(note.message)))])),
            ])
        }
        var fields: [(String, JSONText)] = [
            ("ruleId", .string(finding.rule)),
            ("ruleIndex", .int(index)),
        ]
        if finding.status == .fixed {
            fields += [("kind", .string("pass")), ("level", .string("none"))]
        } else {
            fields += [("kind", .string("fail")), ("level", .string(level(finding.severity)))]
        }
        fields += [
            ("message", .object([("text", .string(TextStyle.singleLine(finding.message)))])),
            ("locations", .array([.object([
                ("physicalLocation", physical(file: finding.file, line: finding.line, column: finding.column,
                                              code: finding.code)),
                ("logicalLocations", .array([.object([
                    ("name", .string(finding.function)),
                    ("kind", .string("function")),
                ])])),
            ])])),
            ("relatedLocations", .array(related)),
            ("partialFingerprints", .object([("mmreview/v1", .string("\(finding.rule):\(finding.function):\(finding.matchKey)"))])),
            ("baselineState", .string(baselineState(finding.status))),
            ("properties", .object([
                ("status", .string(finding.status.rawValue)),
                ("patch", .object([
                    ("index", .int(finding.patch.index)),
                    ("subject", .string(finding.patch.subject)),
                    ("message_id", .optionalString(finding.patch.messageID)),
                ])),
            ])),
        ]
        return .object(fields)
    }

    private func physical(file: String, line: Int, column: Int, code: String) -> JSONText {
        var region: [(String, JSONText)] = [
            ("startLine", .int(max(1, line))),
            ("startColumn", .int(max(1, column))),
        ]
        if !code.isEmpty { region.append(("snippet", .object([("text", .string(code))]))) }
        return .object([
            ("artifactLocation", .object([("uri", .string(file))])),
            ("region", .object(region)),
        ])
    }

    private func level(_ severity: Severity) -> String { severity.rawValue }

    /// SARIF's own words for before/after: new, unchanged, absent.
    private func baselineState(_ status: FindingStatus) -> String {
        switch status {
        case .introduced: return "new"
        case .unchanged: return "unchanged"
        case .fixed: return "absent"
        }
    }
}
