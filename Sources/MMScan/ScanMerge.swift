import GRDB

/// `mmreview merge OUT IN…`: shard databases into one. Messages, links and comments are keyed by
/// content, so a message or patch seen by two shards is stored once; a patch reviewed by any
/// shard keeps that review; findings are unique per patch, so two shards that reviewed the same
/// quoted patch add its findings once.
public struct ScanMerge {
    public init() {}

    public struct Summary: Sendable {
        public var inputs: Int
        public var messages: Int
        public var patches: Int
        public var findings: Int
    }

    public func merge(into output: String, from inputs: [String]) throws(ScanError) -> Summary {
        let store = try ScanStore(path: output)
        for input in inputs {
            try check(input)
            do {
                try store.pool.writeWithoutTransaction { db in
                    try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [input])
                    defer { try? db.execute(sql: "DETACH DATABASE source") }
                    try db.inTransaction {
                        try copy(db)
                        return .commit
                    }
                }
            } catch {
                throw ScanError.database(input, "cannot merge into \(output): \(error)")
            }
        }
        do {
            return try store.pool.read { db in
                Summary(inputs: inputs.count,
                        messages: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0,
                        patches: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM patches") ?? 0,
                        findings: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM findings") ?? 0)
            }
        } catch {
            throw ScanError.database(output, "cannot read the merged database: \(error)")
        }
    }

    /// An input must be a scan database: it is read, never changed.
    private func check(_ input: String) throws(ScanError) {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let tables = try DatabaseQueue(path: input, configuration: configuration).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            let needed = ["runs", "messages", "patches", "message_patches", "findings", "reply_comments"]
            guard needed.allSatisfy(tables.contains) else {
                throw ScanError.database(input, "not a scan database made by 'mmreview scan'")
            }
        } catch let error as ScanError {
            throw error
        } catch {
            throw ScanError.database(input, "cannot open: \(error)")
        }
    }

    private func copy(_ db: Database) throws {
        // Run ids are renumbered after the output's own; the messages follow their run.
        let offset = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM main.runs") ?? 0
        try db.execute(sql: """
            INSERT INTO main.runs(id, started, finished, tool_version, rules, archives, shard, status,
                messages_read, messages_skipped, messages_stored, messages_failed, patches_reviewed, findings)
            SELECT id + ?, started, finished, tool_version, rules, archives, shard, status,
                messages_read, messages_skipped, messages_stored, messages_failed, patches_reviewed, findings
            FROM source.runs
            """, arguments: [offset])
        try db.execute(sql: """
            INSERT OR IGNORE INTO main.messages(key, message_id, in_reply_to, refs, thread, subject, author, date,
                month, list, source, failure, analysis, run_id)
            SELECT key, message_id, in_reply_to, refs, thread, subject, author, date, month, list, source, failure,
                analysis, run_id + ?
            FROM source.messages
            """, arguments: [offset])
        try db.execute(sql: """
            INSERT INTO main.patches(hash, subject, files, patch_json, analysis)
            SELECT hash, subject, files, patch_json, analysis FROM source.patches WHERE true
            ON CONFLICT(hash) DO UPDATE SET analysis = excluded.analysis, patch_json = excluded.patch_json
            WHERE main.patches.analysis IS NULL AND excluded.analysis IS NOT NULL
            """)
        try db.execute(sql: """
            INSERT OR IGNORE INTO main.findings(patch_hash, rule, severity, status, file, line, function, code,
                message, finding_json)
            SELECT patch_hash, rule, severity, status, file, line, function, code, message, finding_json
            FROM source.findings
            """)
        try db.execute(sql: """
            INSERT OR IGNORE INTO main.message_patches(message_key, patch_hash, quoted)
            SELECT message_key, patch_hash, quoted FROM source.message_patches
            """)
        try db.execute(sql: """
            INSERT OR IGNORE INTO main.reply_comments(message_key, code, comment)
            SELECT message_key, code, comment FROM source.reply_comments
            """)
    }
}
