import Foundation
import GRDB
import MMCore
import MMReport

/// What `mmreview report` shows, read from a scan database: totals, findings per check, the files
/// and functions with most findings, findings per month (of the first message carrying each
/// patch) and per subsystem, how often a reply commented on a line mmreview flagged, and the
/// findings themselves with the message that carried each patch.
public struct ScanReport: Sendable {
    public struct Count: Sendable, Equatable {
        public var name: String
        public var count: Int
    }

    public struct Row: Sendable {
        public var finding: Finding
        public var month: String
        public var messageKey: String
        public var messageID: String?
        public var subject: String
        public var author: String
        /// A reply commented on this finding's line.
        public var agreed: Bool
    }

    public var database: String
    public var runs = 0
    public var lastRun: String?
    public var messages = 0
    public var failedMessages = 0
    public var patches = 0
    public var reviewedPatches = 0
    public var findings = 0
    public var perCheck: [(check: String, introduced: Int, fixed: Int, unchanged: Int)] = []
    public var topFiles: [Count] = []
    public var topFunctions: [Count] = []
    public var perMonth: [Count] = []
    /// month → check → findings
    public var perMonthByCheck: [String: [String: Int]] = [:]
    public var perSubsystem: [Count] = []
    /// Lines a reply commented on that carry a finding, and all commented lines of quoted patches.
    public var agreements = 0
    public var commentedLines = 0
    public var rows: [Row] = []
    /// The email-style review of each listed message (message key → text).
    public var reviews: [String: String] = [:]

    /// Reads the report; `limit` caps the findings listed one by one (the counts cover all).
    public static func read(database: String, limit: Int = 2000, toolVersion: String) throws(ScanError) -> ScanReport {
        guard FileManager.default.fileExists(atPath: database) else {
            throw ScanError.database(database, "no such scan database (make one with 'mmreview scan … --db \(database)')")
        }
        var report = ScanReport(database: database)
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: database, configuration: configuration)
            try queue.read { db in try report.load(db, limit: limit, toolVersion: toolVersion) }
        } catch {
            throw ScanError.database(database, "cannot read the scan database: \(error)")
        }
        return report
    }

    /// A finding's month: that of the earliest message carrying its patch.
    private static let findingsWithMonth = """
        SELECT f.*, (SELECT MIN(m.month) FROM message_patches mp JOIN messages m ON m.key = mp.message_key
                     WHERE mp.patch_hash = f.patch_hash) AS month
        FROM findings f
        """

    private mutating func load(_ db: Database, limit: Int, toolVersion: String) throws {
        func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
        runs = try count("SELECT COUNT(*) FROM runs")
        lastRun = try String.fetchOne(db, sql: """
            SELECT status || ', mmreview ' || tool_version || ', rules ' || rules || ', ' || started
            FROM runs ORDER BY id DESC LIMIT 1
            """)
        messages = try count("SELECT COUNT(*) FROM messages")
        failedMessages = try count("SELECT COUNT(*) FROM messages WHERE failure IS NOT NULL")
        patches = try count("SELECT COUNT(*) FROM patches")
        reviewedPatches = try count("SELECT COUNT(*) FROM patches WHERE analysis IS NOT NULL")
        findings = try count("SELECT COUNT(*) FROM findings")
        for row in try GRDB.Row.fetchAll(db, sql: """
            SELECT rule, SUM(status = 'introduced'), SUM(status = 'fixed'), SUM(status = 'unchanged')
            FROM findings GROUP BY rule ORDER BY COUNT(*) DESC, rule
            """) {
            perCheck.append((row[0], row[1], row[2], row[3]))
        }
        func counts(_ sql: String) throws -> [Count] {
            try GRDB.Row.fetchAll(db, sql: sql).map { Count(name: $0[0] ?? "?", count: $0[1]) }
        }
        topFiles = try counts("SELECT file, COUNT(*) FROM findings GROUP BY file ORDER BY 2 DESC, 1 LIMIT 10")
        topFunctions = try counts("""
            SELECT function || '() in ' || file, COUNT(*) FROM findings GROUP BY function, file
            ORDER BY 2 DESC, 1 LIMIT 10
            """)
        let monthly = try GRDB.Row.fetchAll(db, sql: """
            SELECT COALESCE(month, 'undated'), rule, COUNT(*) FROM (\(Self.findingsWithMonth)) GROUP BY 1, 2
            """)
        for row in monthly {
            let month: String = row[0]
            let rule: String = row[1]
            perMonthByCheck[month, default: [:]][rule] = row[2]
        }
        perMonth = perMonthByCheck.keys.sorted().map { month in
            Count(name: month, count: perMonthByCheck[month]?.values.reduce(0, +) ?? 0)
        }
        var subsystems: [String: Int] = [:]
        for row in try GRDB.Row.fetchAll(db, sql: "SELECT file, COUNT(*) FROM findings GROUP BY file") {
            subsystems[Self.subsystem(of: row[0]), default: 0] += row[1]
        }
        perSubsystem = subsystems.map { Count(name: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.name) > ($1.count, $0.name) }
        agreements = try count("""
            SELECT COUNT(DISTINCT f.id) FROM reply_comments c
            JOIN message_patches mp ON mp.message_key = c.message_key AND mp.quoted = 1
            JOIN findings f ON f.patch_hash = mp.patch_hash AND f.code = c.code
            """)
        commentedLines = try count("SELECT COUNT(*) FROM reply_comments")

        // The listed findings, newest month first, each with the message that posted its patch
        // (a posting before a quote, then the earliest).
        let listed = try GRDB.Row.fetchAll(db, sql: """
            SELECT fm.finding_json, COALESCE(fm.month, ''), m.key, m.message_id, COALESCE(m.subject, ''),
                   COALESCE(m.author, ''),
                   EXISTS (SELECT 1 FROM reply_comments c JOIN message_patches q
                           ON q.message_key = c.message_key AND q.quoted = 1
                           WHERE q.patch_hash = fm.patch_hash AND c.code = fm.code) AS agreed
            FROM (\(Self.findingsWithMonth)) fm
            JOIN messages m ON m.key = (SELECT mp.message_key FROM message_patches mp
                                        JOIN messages x ON x.key = mp.message_key
                                        WHERE mp.patch_hash = fm.patch_hash
                                        ORDER BY mp.quoted, x.month, x.key LIMIT 1)
            ORDER BY fm.month DESC, fm.file, fm.line, fm.rule LIMIT ?
            """, arguments: [limit])
        for row in listed {
            let finding = try StoredCoding.decodeFinding(row[0])
            rows.append(Row(finding: finding, month: row[1], messageKey: row[2], messageID: row[3],
                            subject: row[4], author: row[5], agreed: row[6]))
        }
        for key in Set(rows.map(\.messageKey)) {
            reviews[key] = try Self.emailReview(db, messageKey: key, toolVersion: toolVersion)
        }
    }

    /// The email-style review mmreview would send for one message's patches.
    public static func emailReview(database: String, messageKey: String, toolVersion: String) throws(ScanError) -> String {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: database, configuration: configuration)
            return try queue.read { db in try emailReview(db, messageKey: messageKey, toolVersion: toolVersion) }
        } catch {
            throw ScanError.database(database, "cannot read the scan database: \(error)")
        }
    }

    static func emailReview(_ db: Database, messageKey: String, toolVersion: String) throws -> String {
        var patches: [Patch] = []
        var findings: [Finding] = []
        let rows = try GRDB.Row.fetchAll(db, sql: """
            SELECT p.hash, p.patch_json FROM message_patches mp JOIN patches p ON p.hash = mp.patch_hash
            WHERE mp.message_key = ? ORDER BY p.hash
            """, arguments: [messageKey])
        for row in rows {
            let hash: String = row[0]
            var patch = try StoredCoding.decodePatch(row[1])
            patch.origin.index = patches.count
            patches.append(patch)
            for findingJSON in try String.fetchAll(db, sql: "SELECT finding_json FROM findings WHERE patch_hash = ?",
                                                   arguments: [hash]) {
                var finding = try StoredCoding.decodeFinding(findingJSON)
                finding.patch = patch.origin
                findings.append(finding)
            }
        }
        findings.sort(by: Finding.reportOrder)
        let input = ReportInput(findings: findings, patches: patches, toolVersion: toolVersion,
                                libclangVersion: "libclang 14")
        return EmailReporter().render(input)
    }

    /// The kernel subsystem of a path: `mm`, `kernel/cgroup`, `fs/proc`, `include/linux` …
    /// (two levels for the directories that hold many subsystems).
    public static func subsystem(of path: String) -> String {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count > 1 else { return parts.first.map { $0.contains(".") ? "(top level)" : $0 } ?? "?" }
        let wide: Set<String> = ["kernel", "fs", "drivers", "arch", "include", "net", "tools", "lib", "security",
                                 "sound", "block", "Documentation"]
        if wide.contains(parts[0]) && parts.count > 2 { return parts[0] + "/" + parts[1] }
        return parts[0]
    }

    // MARK: Text

    public func text() -> String {
        var out: [String] = []
        out.append("scan database \(database): \(runs) run\(runs == 1 ? "" : "s")"
                   + (lastRun.map { " (last: \($0))" } ?? ""))
        out.append("\(messages) messages (\(failedMessages) could not be analysed), \(patches) distinct patches "
                   + "(\(reviewedPatches) reviewed), \(findings) findings")
        out.append("replies commented on \(commentedLines) quoted lines; \(agreements) of them carry a finding "
                   + "(mmreview and a reviewer pointed at the same line)")
        out.append("")
        out.append("findings per check:")
        if perCheck.isEmpty { out.append("  (none)") }
        for check in perCheck {
            out.append("  " + pad(check.check, 22) + pad(String(check.introduced + check.fixed + check.unchanged), 6, left: true)
                       + "  (\(check.introduced) introduced, \(check.fixed) fixed, \(check.unchanged) unchanged)")
        }
        for (title, counts) in [("files with most findings:", topFiles), ("functions with most findings:", topFunctions),
                                ("findings per subsystem:", perSubsystem), ("findings per month:", perMonth)] {
            out.append("")
            out.append(title)
            if counts.isEmpty { out.append("  (none)") }
            for count in counts { out.append("  " + pad(String(count.count), 6, left: true) + "  " + count.name) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}
