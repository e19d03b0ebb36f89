import Foundation
import GRDB
import MMCore

/// The scan database. Tables:
/// - runs: one row per `scan` (tool version, rules fingerprint, archives, shard, totals, status);
/// - messages: one row per message (content hash key, Message-ID, In-Reply-To, References,
///   thread, subject, author, date, month, list, where it was read, failure reason, the analysis it
///   was stored with);
/// - patches: one row per distinct patch (content hash, subject, files, the patch for the report's
///   email reviews in StoredCoding's encoding — JSON in databases written before it, which the
///   report still reads, hence the column's name —, the analysis it was reviewed with — NULL until
///   reviewed);
/// - message_patches: which message carries which patch (posted or quoted);
/// - findings: what mmreview found in a patch (finding_json: the whole finding, encoded as the patch);
/// - reply_comments: a reply's comment under a quoted diff line; joined with findings on the
///   code line it tells where mmreview and the reviewers agree.
/// A message is written together with its patches, findings and comments in one transaction,
/// so a scan killed at any point leaves only whole messages behind.
public final class ScanStore: Sendable {
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws(ScanError) {
        self.path = path
        do {
            var configuration = Configuration()
            // Workers read while the writer writes (WAL); a busy database waits rather than fails.
            configuration.busyMode = .timeout(60)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw ScanError.database(path, "cannot open the scan database: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE runs(
                    id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT,
                    tool_version TEXT NOT NULL, rules TEXT NOT NULL, archives TEXT NOT NULL,
                    shard TEXT, status TEXT NOT NULL,
                    messages_read INTEGER NOT NULL DEFAULT 0, messages_skipped INTEGER NOT NULL DEFAULT 0,
                    messages_stored INTEGER NOT NULL DEFAULT 0, messages_failed INTEGER NOT NULL DEFAULT 0,
                    patches_reviewed INTEGER NOT NULL DEFAULT 0, findings INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE messages(
                    key TEXT PRIMARY KEY, message_id TEXT, in_reply_to TEXT, refs TEXT NOT NULL,
                    thread TEXT NOT NULL, subject TEXT, author TEXT, date TEXT, month TEXT, list TEXT,
                    source TEXT NOT NULL, failure TEXT, analysis TEXT NOT NULL, run_id INTEGER);
                CREATE INDEX messages_message_id ON messages(message_id);
                CREATE INDEX messages_thread ON messages(thread);
                CREATE TABLE patches(
                    hash TEXT PRIMARY KEY, subject TEXT NOT NULL, files TEXT NOT NULL,
                    patch_json TEXT NOT NULL, analysis TEXT);
                CREATE TABLE message_patches(
                    message_key TEXT NOT NULL, patch_hash TEXT NOT NULL, quoted INTEGER NOT NULL,
                    PRIMARY KEY(message_key, patch_hash));
                CREATE INDEX message_patches_patch ON message_patches(patch_hash);
                CREATE TABLE findings(
                    id INTEGER PRIMARY KEY, patch_hash TEXT NOT NULL, rule TEXT NOT NULL,
                    severity TEXT NOT NULL, status TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL,
                    function TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, finding_json TEXT NOT NULL,
                    UNIQUE(patch_hash, rule, status, file, line, function, message));
                CREATE INDEX findings_code ON findings(patch_hash, code);
                CREATE TABLE reply_comments(
                    message_key TEXT NOT NULL, code TEXT NOT NULL, comment TEXT NOT NULL,
                    PRIMARY KEY(message_key, code));
                """)
        }
        return migrator
    }

    // MARK: Lookups (workers, concurrently with the writer)

    /// Which of these messages are stored with this analysis (nothing to do on a rerun). Workers
    /// ask for a few messages at once: each read through the connection pool cost more than the
    /// query itself when every message of an archive is looked up.
    func storedKeys(_ keys: [String], analysis: String) throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        // One SELECT needs no snapshot: unsafeRead skips the per-read transaction.
        return try pool.unsafeRead { db in
            let statement = try db.cachedStatement(
                sql: "SELECT key FROM messages WHERE analysis = ? AND key IN (\(placeholders))")
            return Set(try String.fetchAll(statement, arguments: StatementArguments([analysis] + keys)))
        }
    }

    /// True when the patch was reviewed with this analysis by an earlier batch.
    func isReviewed(patch hash: String, analysis: String) throws -> Bool {
        try pool.unsafeRead { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM patches WHERE hash = ? AND analysis = ?"),
                              arguments: [hash, analysis]) ?? false
        }
    }

    // MARK: Runs

    func startRun(toolVersion: String, rules: String, archives: [String], shard: String?) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs(started, tool_version, rules, archives, shard, status)
                VALUES (?, ?, ?, ?, ?, 'running')
                """, arguments: [Self.now(), toolVersion, rules, archives.joined(separator: "\n"), shard])
            return db.lastInsertedRowID
        }
    }

    func finishRun(_ id: Int64, counts: ScanCounts, status: String) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE runs SET finished = ?, status = ?, messages_read = ?, messages_skipped = ?,
                    messages_stored = ?, messages_failed = ?, patches_reviewed = ?, findings = ?
                WHERE id = ?
                """, arguments: [Self.now(), status, counts.messagesRead, counts.messagesSkipped,
                                 counts.messagesStored, counts.messagesFailed, counts.patchesReviewed,
                                 counts.findings, id])
        }
    }

    static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }

    // MARK: Writing (the writer thread only)

    /// Stores whole messages in one transaction.
    func store(_ records: [MessageRecord], analysis: String, run: Int64) throws {
        try pool.write { db in
            for record in records { try store(record, analysis: analysis, run: run, db: db) }
        }
    }

    private func store(_ record: MessageRecord, analysis: String, run: Int64, db: Database) throws {
        let info = record.info
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO messages(key, message_id, in_reply_to, refs, thread, subject, author,
                date, month, list, source, failure, analysis, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                record.key, info.messageID, info.inReplyTo, info.references.joined(separator: " "),
                record.thread, info.subject, info.author, info.date, record.month, info.list,
                record.source, record.failure, analysis, run])
        for patch in record.patches {
            try db.cachedStatement(sql: """
                INSERT INTO patches(hash, subject, files, patch_json, analysis) VALUES (?, ?, ?, ?, NULL)
                ON CONFLICT(hash) DO NOTHING
                """).execute(arguments: [patch.hash, patch.subject, patch.files, patch.json])
            if let findings = patch.findings {
                // A new review replaces what an older rules fingerprint or version found.
                try db.cachedStatement(sql: "DELETE FROM findings WHERE patch_hash = ?")
                    .execute(arguments: [patch.hash])
                for finding in findings { try insert(finding, patch: patch.hash, db: db) }
                try db.cachedStatement(sql: "UPDATE patches SET analysis = ?, patch_json = ? WHERE hash = ?")
                    .execute(arguments: [analysis, patch.json, patch.hash])
            }
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO message_patches(message_key, patch_hash, quoted) VALUES (?, ?, ?)
                """).execute(arguments: [record.key, patch.hash, patch.quoted])
        }
        try db.cachedStatement(sql: "DELETE FROM reply_comments WHERE message_key = ?")
            .execute(arguments: [record.key])
        for comment in record.comments {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO reply_comments(message_key, code, comment) VALUES (?, ?, ?)
                """).execute(arguments: [record.key, comment.code, comment.comment])
        }
    }

    private func insert(_ finding: Finding, patch: String, db: Database) throws {
        let json = StoredCoding.encode(finding)
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO findings(patch_hash, rule, severity, status, file, line, function, code,
                message, finding_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [patch, finding.rule, finding.severity.rawValue, finding.status.rawValue,
                                     finding.file, finding.line, finding.function, finding.code,
                                     finding.message, json])
    }
}
