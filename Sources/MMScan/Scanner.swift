import Foundation
import MMCore
import MMFacts
import MMPatch
import MMReview

/// `--shard K/N`: this run keeps the messages whose Message-ID hashes to K modulo N (K from 0 to
/// N-1), so N machines scanning the same archives split them without talking to each other.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(_ text: String) throws(ScanError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count > 0,
              index >= 0, index < count else {
            throw ScanError.usage("bad --shard '\(text)': expected K/N with 0 <= K < N, e.g. 0/4")
        }
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// Messages without a Message-ID are placed by their content hash instead.
    public func contains(messageID: String) -> Bool {
        var hash = ContentHash()
        hash.add(messageID.utf8)
        return Int(hash.value % UInt64(count)) == index
    }
}

public struct ScanOptions: Sendable {
    public var archives: [String]
    public var database: String
    public var shard: Shard?
    public var quoting: MboxQuoting = .mboxrd
    public var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    public var rulesDirectory: String?
    public var toolVersion: String
    /// Print a progress line on standard error (the command sets it when stderr is a terminal).
    public var showProgress = false
    /// Messages per transaction.
    public var batchSize = 500

    public init(archives: [String], database: String, toolVersion: String) {
        self.archives = archives
        self.database = database
        self.toolVersion = toolVersion
    }
}

public struct ScanSummary: Sendable {
    public var run: Int64
    public var counts: ScanCounts
    public var interrupted: Bool
    /// Archives that could not be read (the others were scanned).
    public var archiveErrors: [String]
}

/// Reads archives on the calling thread, analyses messages on one worker thread per core (each
/// with its own Reviewer, since a libclang index belongs to one thread), and stores the results
/// from one writer thread. The queues between them are bounded, so memory does not grow with the
/// archive.
public struct Scanner {
    public var options: ScanOptions
    /// Messages a worker takes from the queue at once and looks up in the database together.
    static let messagesPerLookup = 8

    public init(options: ScanOptions) {
        self.options = options
    }

    public func run(stop: StopFlag) throws(ScanError) -> ScanSummary {
        let facts = LazyFacts(rulesDirectory: options.rulesDirectory)
        let rules: String
        do {
            rules = try FactsLoader().fingerprint(extendedBy: options.rulesDirectory)
            // The user's rules are read now so that a mistake in them stops the scan before it
            // starts; the bundled ones, which cannot be wrong, when the first patch needs them.
            if options.rulesDirectory != nil { _ = try facts.get() }
        } catch {
            throw ScanError.usage("bad rules: \(error)")
        }
        let analysis = "\(options.toolVersion)+\(rules)"
        let store = try ScanStore(path: options.database)
        let run: Int64
        do {
            run = try store.startRun(toolVersion: options.toolVersion, rules: rules, archives: options.archives,
                                     shard: options.shard?.description)
        } catch {
            throw ScanError.database(options.database, "cannot record the run: \(error)")
        }

        let progress = ScanProgress()
        let inbox = BoundedQueue<ArchivedMessage>(capacity: max(4, options.workers * 8))
        let results = BoundedQueue<MessageRecord>(capacity: options.batchSize * 2)
        let failures = FailureBox()
        let claims = HashClaims()
        let messageClaims = HashClaims()
        let workers = DispatchGroup()
        let writerDone = DispatchGroup()
        let totalBytes = options.archives.map { ArchiveReader.size(of: $0) }.reduce(Optional(0)) { sum, size in
            guard let sum, let size else { return nil }
            return sum + size
        }

        let writer = ResultWriter(store: store, analysis: analysis, run: run, batchSize: options.batchSize,
                                  progress: progress, showProgress: options.showProgress, totalBytes: totalBytes)
        writerDone.enter()
        Thread.detachNewThread {
            if let error = writer.drain(results) {
                failures.add(error)
                stop.raise()
            }
            writerDone.leave()
        }
        let work = MessageWork(store: store, analysis: analysis, shard: options.shard, claims: claims,
                               messageClaims: messageClaims, progress: progress)
        for _ in 0..<max(1, options.workers) {
            workers.enter()
            Thread.detachNewThread {
                defer { workers.leave() }
                let reviewer = WorkerReviewer(facts: facts)
                while case let batch = inbox.pop(upTo: Self.messagesPerLookup), !batch.isEmpty {
                    do throws(ScanError) {
                        for record in try work.analyse(batch, reviewer: reviewer) { results.push(record) }
                    } catch {
                        failures.add(error.description)
                        stop.raise()
                        while inbox.pop() != nil {}
                        return
                    }
                }
            }
        }

        let reader = ArchiveReader(quoting: options.quoting, progress: progress, stop: stop)
        var archiveErrors: [String] = []
        for archive in options.archives where !stop.isRaised {
            do {
                try reader.read(archive) { inbox.push($0) }
            } catch {
                archiveErrors.append(error.description)
            }
        }
        inbox.close()
        workers.wait()
        results.close()
        writerDone.wait()

        let counts = progress.snapshot
        let fatal = failures.all
        let interrupted = stop.isRaised
        let status = !fatal.isEmpty ? "failed" : interrupted ? "interrupted" : "complete"
        do {
            try store.finishRun(run, counts: counts, status: status)
        } catch {
            throw ScanError.database(options.database, "cannot record the run: \(error)")
        }
        if let first = fatal.first { throw ScanError.database(options.database, first) }
        return ScanSummary(run: run, counts: counts, interrupted: interrupted, archiveErrors: archiveErrors)
    }
}

/// The kernel facts, read once by the first worker that meets a patch: mail without a patch
/// never needs them, and reading the bundled rules was a sixth of a scan's start-up.
final class LazyFacts: @unchecked Sendable {
    // @unchecked: `loaded` is only touched under `lock`.
    private let lock = NSLock()
    private let rulesDirectory: String?
    private var loaded: Result<KernelFacts, FactsError>?

    init(rulesDirectory: String?) {
        self.rulesDirectory = rulesDirectory
    }

    func get() throws(FactsError) -> KernelFacts {
        lock.lock()
        defer { lock.unlock() }
        if loaded == nil {
            let loader = FactsLoader()
            loaded = Result { () throws(FactsError) -> KernelFacts in
                if let rulesDirectory { return try loader.bundled(extendedBy: rulesDirectory) }
                return try loader.bundled()
            }
        }
        return try loaded!.get()
    }
}

/// A worker's Reviewer, made when its first patch comes (a libclang index and the rules are
/// start-up cost that mail without a patch never needs). Not Sendable, like the Reviewer: one
/// per worker thread.
final class WorkerReviewer {
    private let facts: LazyFacts
    private var reviewer: Reviewer?

    init(facts: LazyFacts) {
        self.facts = facts
    }

    /// Throws the reason the scan cannot go on.
    func get() throws(ScanError) -> Reviewer {
        if let reviewer { return reviewer }
        let made: Reviewer
        do {
            made = try Reviewer(facts: try facts.get())
        } catch let error as FactsError {
            throw .usage("bad rules: \(error)")
        } catch {
            throw .usage("cannot start libclang: \(error)")
        }
        reviewer = made
        return made
    }
}

/// Errors from threads that end the scan (the database cannot be written, libclang cannot start).
final class FailureBox: @unchecked Sendable {
    // @unchecked: `errors` is only touched under `lock`.
    private let lock = NSLock()
    private var errors: [String] = []

    func add(_ error: String) {
        lock.lock()
        errors.append(error)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return errors
    }
}

/// What a worker does with one message: shard filter, skip when already stored, read, review
/// each patch not yet reviewed, collect the reply's comments.
struct MessageWork: Sendable {
    var store: ScanStore
    var analysis: String
    var shard: Shard?
    /// Patches this run reviews, by content hash: the first worker to claim one reviews it.
    var claims: HashClaims
    /// Messages this run analyses, by content key: a copy of one already taken is skipped like a
    /// stored one. Without this, whether a copy was still being written when its twin was looked
    /// up decided whether it was analysed again, and the counts of a run changed from run to run.
    var messageClaims: HashClaims
    var progress: ScanProgress

    /// Analyses messages taken from the queue together (their database lookup is one query).
    /// Throws only what ends the scan (libclang cannot start).
    func analyse(_ messages: [ArchivedMessage], reviewer: WorkerReviewer) throws(ScanError) -> [MessageRecord] {
        var keyed: [(message: ArchivedMessage, key: String)] = []
        for message in messages {
            let key = ContentHash.of(message.bytes)
            if let shard, !shard.contains(messageID: Self.messageID(in: message.bytes) ?? key) { continue }
            keyed.append((message, key))
        }
        progress.update { $0.messagesRead += keyed.count }
        let stored: Set<String>
        do {
            stored = try store.storedKeys(keyed.map(\.key), analysis: analysis)
        } catch {
            return keyed.map { failed($0.key, $0.message, "database lookup failed: \(error)") }
        }
        var records: [MessageRecord] = []
        for (message, key) in keyed {
            if stored.contains(key) || !messageClaims.claim(key) {
                progress.update { $0.messagesSkipped += 1 }
                continue
            }
            records.append(try analyse(message, key: key, reviewer: reviewer))
        }
        return records
    }

    /// One message not stored yet.
    private func analyse(_ message: ArchivedMessage, key: String,
                         reviewer: WorkerReviewer) throws(ScanError) -> MessageRecord {
        if message.tooLarge { return failed(key, message, "message larger than 32 MB; not read") }
        if message.bytes.prefix(8192).contains(0) { return failed(key, message, "binary data, not a mail") }

        let content = MessageReader().read(bytes: message.bytes, name: message.source)
        var record = MessageRecord(key: key, info: content.info, thread: MessageFacts.thread(content.info, key: key),
                                   month: MessageFacts.month(content.info.date), source: message.source,
                                   failure: content.failure, patches: [], comments: [])
        var seen: Set<String> = []
        var reviewed = 0
        var found = 0
        for patch in content.patches {
            let hash = MessageFacts.patchHash(patch)
            guard seen.insert(hash).inserted else { continue }
            let json = StoredCoding.encode(patch)
            var patchRecord = PatchRecord(hash: hash, subject: patch.origin.subject,
                                          files: patch.files.map(\.displayPath).joined(separator: " "),
                                          json: json, quoted: patch.origin.quoted, findings: nil)
            let already = (try? store.isReviewed(patch: hash, analysis: analysis)) ?? false
            if !already && claims.claim(hash) {
                let findings = try reviewer.get().review(patches: [patch]).findings
                patchRecord.findings = findings
                reviewed += 1
                found += findings.count
            }
            record.patches.append(patchRecord)
        }
        if content.patches.contains(where: \.origin.quoted) {
            record.comments = Array(Set(MessageFacts.comments(content.bodyLines)))
                .sorted { ($0.code, $0.comment) < ($1.code, $1.comment) }
        }
        let patchCount = record.patches.count
        progress.update {
            $0.patchesSeen += patchCount
            $0.patchesReviewed += reviewed
            $0.findings += found
        }
        return record
    }

    private func failed(_ key: String, _ message: ArchivedMessage, _ reason: String) -> MessageRecord {
        MessageRecord(key: key, info: MessageInfo(), thread: key, month: nil, source: message.source,
                      failure: reason, patches: [], comments: [])
    }

    /// The Message-ID header, read from the header block alone (sharding happens before parsing).
    static func messageID(in bytes: [UInt8]) -> String? {
        var lineStart = 0
        var wanted = false
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            let line = bytes[lineStart..<lineEnd]
            if line.isEmpty || line == [0x0D] { return nil }
            let continuation = line.first == 0x20 || line.first == 0x09
            var value: ArraySlice<UInt8>?
            if wanted && continuation {
                value = line
            } else if !continuation {
                wanted = false
                let prefix = Array("message-id:".utf8)
                if line.count >= prefix.count,
                   zip(line.prefix(prefix.count), prefix).allSatisfy({ ($0 | 0x20) == ($1 | 0x20) }) {
                    value = line.dropFirst(prefix.count)
                    wanted = true
                }
            }
            if let value {
                let text = String(decoding: value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
                if !text.isEmpty { return text }
            }
            lineStart = lineEnd + 1
        }
        return nil
    }
}

/// The writer thread: stores records in batches (a transaction per batch, or per second when
/// messages come slowly) and prints the progress line.
struct ResultWriter: Sendable {
    var store: ScanStore
    var analysis: String
    var run: Int64
    var batchSize: Int
    var progress: ScanProgress
    var showProgress: Bool
    var totalBytes: Int?

    /// Returns an error message when the database cannot be written.
    func drain(_ results: BoundedQueue<MessageRecord>) -> String? {
        var batch: [MessageRecord] = []
        var lastCommit = Date()
        let started = Date()
        var lastProgress = Date.distantPast
        var failure: String?
        func commit() {
            guard !batch.isEmpty, failure == nil else { batch.removeAll(); return }
            do {
                try store.store(batch, analysis: analysis, run: run)
                let stored = batch.count
                let failed = batch.filter { $0.failure != nil }.count
                progress.update {
                    $0.messagesStored += stored
                    $0.messagesFailed += failed
                }
            } catch {
                failure = "cannot write the scan database: \(error)"
            }
            batch.removeAll(keepingCapacity: true)
            lastCommit = Date()
        }
        while let record = results.pop() {
            batch.append(record)
            if batch.count >= batchSize || Date().timeIntervalSince(lastCommit) > 1 { commit() }
            if showProgress && Date().timeIntervalSince(lastProgress) > 0.25 {
                printProgress(started: started)
                lastProgress = Date()
            }
        }
        commit()
        if showProgress {
            printProgress(started: started)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return failure
    }

    private func printProgress(started: Date) {
        let counts = progress.snapshot
        let elapsed = max(0.001, Date().timeIntervalSince(started))
        let rate = Double(counts.messagesRead) / elapsed
        var line = String(format: "\r%8d messages %7.0f msg/s %6d patches %6d findings",
                          counts.messagesRead, rate, counts.patchesSeen, counts.findings)
        if let totalBytes, totalBytes > 0, counts.bytesRead > 0 {
            let left = elapsed * Double(totalBytes - min(totalBytes, counts.bytesRead)) / Double(counts.bytesRead)
            line += String(format: "  ETA %d:%02d", Int(left) / 60, Int(left) % 60)
        }
        FileHandle.standardError.write(Data((line + "   ").utf8))
    }
}
