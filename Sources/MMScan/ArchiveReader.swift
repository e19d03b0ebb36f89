import Foundation

/// How `From ` lines inside messages were escaped when the mbox was written. mboxrd adds a `>` to
/// every `>*From ` line and is undone by removing one; mboxo escaped only `From ` lines, so only
/// `>From ` (exactly one `>`) is undone there.
public enum MboxQuoting: String, Sendable, CaseIterable {
    case mboxrd, mboxo
}

/// One message as stored in an archive, before any parsing.
struct ArchivedMessage: Sendable {
    /// Where it was found: "file:offset", a Maildir file, "repo.git:blob".
    var source: String
    var bytes: [UInt8]
    /// The message was larger than the reader keeps in memory; it is recorded as failed.
    var tooLarge = false
}

/// Walks an archive path of any supported kind and hands out its messages one at a time, so the
/// archive itself never has to fit in memory.
struct ArchiveReader {
    var quoting: MboxQuoting
    /// Larger messages are not kept (bounded memory); they are recorded as failed.
    var messageLimit = 32 << 20
    var progress: ScanProgress
    var stop: StopFlag

    enum Kind: Equatable {
        case mbox, maildir, pages, publicInboxV1, publicInboxV2
    }

    static func kind(of path: String) throws(ScanError) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ScanError.archive(path, "no such file or directory")
        }
        guard isDirectory.boolValue else { return .mbox }
        let manager = FileManager.default
        func exists(_ name: String) -> Bool { manager.fileExists(atPath: path + "/" + name) }
        if exists("git"), v2Epochs(path).count > 0 { return .publicInboxV2 }
        if exists("objects") && exists("HEAD") && exists("refs") { return .publicInboxV1 }
        if exists("cur") || exists("new") { return .maildir }
        return .pages
    }

    /// Every message of the archive at `path`, in archive order, until `stop` is raised.
    func read(_ path: String, emit: (ArchivedMessage) -> Void) throws(ScanError) {
        switch try Self.kind(of: path) {
        case .mbox: try readFile(path, emit: emit)
        case .maildir: try readMaildir(path, emit: emit)
        case .pages: try readPages(path, emit: emit)
        case .publicInboxV1: try readGit(repository: path, emit: emit)
        case .publicInboxV2:
            for epoch in Self.v2Epochs(path) where !stop.isRaised {
                try readGit(repository: epoch, emit: emit)
            }
        }
    }

    /// Total bytes of the plain files under `path` (for the ETA); nil when unknown (git, compressed).
    static func size(of path: String) -> Int? {
        guard let kind = try? kind(of: path) else { return nil }
        switch kind {
        case .mbox:
            if path.hasSuffix(".xz") || path.hasSuffix(".gz") { return nil }
            return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        default:
            return nil
        }
    }

    // MARK: mbox

    /// An mbox (possibly xz or gzip compressed), or a single message/page when the file does not
    /// start with a `From ` line.
    private func readFile(_ path: String, emit: (ArchivedMessage) -> Void) throws(ScanError) {
        if path.hasSuffix(".xz") || path.hasSuffix(".gz") {
            let tool = path.hasSuffix(".xz") ? "xz" : "gzip"
            let child = try ChildProcess(["/usr/bin/env", tool, "-dc", path])
            readMbox(child.output, name: path, emit: emit)
            let status = child.finish(stopping: stop.isRaised)
            if status != 0 && !stop.isRaised {
                throw ScanError.archive(path, "\(tool) -dc exited with status \(status): not a valid \(tool) file?")
            }
            return
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ScanError.archive(path, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        readMbox(LineReader(descriptor: descriptor), name: path, emit: emit)
    }

    func readMbox(_ reader: LineReader, name: String, emit: (ArchivedMessage) -> Void) {
        var message: [UInt8] = []
        var source = name + ":0"
        var inMbox = false
        var tooLarge = false
        var previousBlank = true
        var pendingFrom: (line: [UInt8], offset: Int)?
        var lastOffset = 0

        func append(_ line: ArraySlice<UInt8>) {
            guard message.count + line.count < messageLimit else { tooLarge = true; return }
            message.append(contentsOf: inMbox ? unescape(line) : line)
            message.append(0x0A)
        }
        // Bytes read are counted per message: a lock per line was a tenth of the reader's work.
        var unreportedBytes = 0
        func finish() {
            progress.addBytes(unreportedBytes)
            unreportedBytes = 0
            // The blank line before a `From ` separator belongs to the separator.
            if inMbox && message.count >= 2 && message[message.count - 2] == 0x0A { message.removeLast() }
            if inMbox || message.contains(where: { $0 > 0x20 }) {
                emit(ArchivedMessage(source: source, bytes: message, tooLarge: tooLarge))
            }
            message = []
            tooLarge = false
        }

        while !stop.isRaised, let line = reader.nextLine() {
            let lineOffset = lastOffset
            lastOffset = reader.offset
            unreportedBytes += line.count + 1
            if let pending = pendingFrom {
                pendingFrom = nil
                if Self.isHeaderLine(line) {
                    finish()
                    inMbox = true
                    source = "\(name):\(pending.offset)"
                    append(line)
                    previousBlank = false
                    continue
                }
                append(pending.line[...])
            }
            if previousBlank && line.starts(with: Self.fromSpace) {
                pendingFrom = (Array(line), lineOffset)
                continue
            }
            append(line)
            previousBlank = line.isEmpty || (line.count == 1 && line.first == 0x0D)
        }
        if let pending = pendingFrom { append(pending.line[...]) }
        if !stop.isRaised { finish() }
        progress.addBytes(unreportedBytes)
    }

    private static let fromSpace: [UInt8] = Array("From ".utf8)

    private func unescape(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var index = line.startIndex
        while index < line.endIndex && line[index] == 0x3E { index += 1 }  // '>'
        let quotes = index - line.startIndex
        guard quotes > 0, line[index...].starts(with: Self.fromSpace) else { return line }
        switch quoting {
        case .mboxrd: return line.dropFirst()
        case .mboxo: return quotes == 1 ? line.dropFirst() : line
        }
    }

    /// `Name: value` with a printable ASCII name, the test mbox readers use after a `From ` line.
    static func isHeaderLine(_ line: ArraySlice<UInt8>) -> Bool {
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            if byte == 0x3A { return index > line.startIndex }
            if byte <= 0x20 || byte >= 0x7F { return false }
            index += 1
        }
        return false
    }

    // MARK: Maildir and page directories

    private func readMaildir(_ path: String, emit: (ArchivedMessage) -> Void) throws(ScanError) {
        for folder in ["cur", "new"] {
            let directory = path + "/" + folder
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") && !stop.isRaised {
                try readWhole(directory + "/" + name, emit: emit)
            }
        }
    }

    /// Index pages of pipermail and MHonArc list messages; they are not messages themselves.
    private static let indexPages: Set<String> = [
        "index.html", "thread.html", "date.html", "author.html", "subject.html", "maillist.html",
        "threads.html", "mail.html",
    ]

    /// Files a saved archive (or a corpus kept beside its expectations) holds that are no mail:
    /// styles, icons, scripts, data.
    private static let notMail: Set<String> = [
        "yaml", "yml", "json", "md", "css", "js", "png", "jpg", "jpeg", "gif", "svg", "ico", "sqlite", "db",
    ]

    /// A directory of saved archive pages (pipermail text or HTML, MHonArc HTML) and monthly
    /// pipermail `.txt` mboxes, read recursively in name order.
    private func readPages(_ path: String, emit: (ArchivedMessage) -> Void) throws(ScanError) {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw ScanError.archive(path, "cannot list the directory")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") || Self.indexPages.contains(name.lowercased()) { continue }
            if Self.notMail.contains((name as NSString).pathExtension.lowercased()) { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path + "/" + relative, isDirectory: &isDirectory),
               !isDirectory.boolValue {
                files.append(relative)
            }
        }
        for relative in files.sorted() where !stop.isRaised {
            // Each file is read as an mbox: one that does not start with `From ` is one message.
            try readFile(path + "/" + relative, emit: emit)
        }
    }

    private func readWhole(_ path: String, emit: (ArchivedMessage) -> Void) throws(ScanError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScanError.archive(path, "cannot be read")
        }
        progress.addBytes(data.count)
        let tooLarge = data.count > messageLimit
        emit(ArchivedMessage(source: path, bytes: tooLarge ? [] : Array(data), tooLarge: tooLarge))
    }

    // MARK: public-inbox

    /// The epochs of a v2 inbox (`git/0.git`, `git/1.git` …) in number order.
    static func v2Epochs(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path + "/git")) ?? []
        let numbered = names.compactMap { name -> (Int, String)? in
            guard name.hasSuffix(".git"), let number = Int(name.dropLast(4)) else { return nil }
            return (number, path + "/git/" + name)
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Every message blob of one public-inbox git repository in commit order: `git log --raw`
    /// names the blob each commit added (`m` in v2, a fan-out path in v1), and one long-running
    /// `git cat-file --batch` returns their contents.
    private func readGit(repository: String, emit: (ArchivedMessage) -> Void) throws(ScanError) {
        let log = try ChildProcess(["/usr/bin/env", "git", "--git-dir", repository, "log", "--reverse", "--raw",
                                    "--no-abbrev", "--no-renames", "--format=", "HEAD"])
        let cat = try ChildProcess(["/usr/bin/env", "git", "--git-dir", repository, "cat-file", "--batch"],
                                   withInput: true)
        var failure: ScanError?
        while !stop.isRaised, let line = log.output.nextLine() {
            guard line.first == 0x3A, let tab = line.firstIndex(of: 0x09) else { continue }  // ":…\tpath"
            let path = String(decoding: line[(tab + 1)...], as: UTF8.self)
            let fields = line[line.startIndex..<tab].split(separator: 0x20)
            guard fields.count >= 5, let status = fields.last?.first, status == 0x41 || status == 0x4D,  // A, M
                  path == "m" || Self.isV1MessagePath(path) else { continue }
            let blob = String(decoding: fields[3], as: UTF8.self)
            cat.send(blob + "\n")
            guard let header = cat.output.nextLine() else {
                failure = .archive(repository, "git cat-file stopped answering")
                break
            }
            let words = header.split(separator: 0x20)
            guard words.count == 3, let size = Int(String(decoding: words[2], as: UTF8.self)) else { continue }
            let bytes = cat.output.read(count: size)
            _ = cat.output.nextLine()  // the newline after the object
            progress.addBytes(size)
            let tooLarge = size > messageLimit
            emit(ArchivedMessage(source: "\(repository):\(blob)", bytes: tooLarge ? [] : bytes, tooLarge: tooLarge))
        }
        cat.closeInput()
        _ = cat.finish(stopping: stop.isRaised)
        let status = log.finish(stopping: stop.isRaised)
        if let failure { throw failure }
        // An epoch without commits yet makes `git log HEAD` fail; it simply holds no message.
        if status != 0 && !stop.isRaised && Self.hasCommits(repository) {
            throw ScanError.archive(repository, "git log exited with status \(status): not a git repository?")
        }
    }

    private static func hasCommits(_ repository: String) -> Bool {
        guard let child = try? ChildProcess(["/usr/bin/env", "git", "--git-dir", repository, "rev-parse",
                                             "--verify", "-q", "HEAD"]) else { return false }
        while child.output.nextLine() != nil {}
        return child.finish() == 0
    }

    /// v1 stores each message at `xx/yyyy…` (the first two hex digits of its SHA-1, then the rest).
    static func isV1MessagePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.count == 2 && parts[0].count == 2 && parts[1].count == 38
            && path.allSatisfy { $0 == "/" || $0.isHexDigit }
    }
}

/// A child process whose standard output is read as a stream.
final class ChildProcess {
    private let process = Process()
    private let outputPipe = Pipe()
    private let inputPipe: Pipe?
    let output: LineReader

    init(_ arguments: [String], withInput: Bool = false) throws(ScanError) {
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = outputPipe
        process.standardError = FileHandle.nullDevice
        inputPipe = withInput ? Pipe() : nil
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ScanError.archive(arguments.dropFirst().joined(separator: " "), "cannot run: \(error)")
        }
        output = LineReader(descriptor: outputPipe.fileHandleForReading.fileDescriptor)
    }

    func send(_ text: String) {
        inputPipe?.fileHandleForWriting.write(Data(text.utf8))
    }

    func closeInput() {
        try? inputPipe?.fileHandleForWriting.close()
    }

    /// Waits for the process and returns its exit status; `stopping` ends it first (a stopped
    /// scan no longer reads its output, so it would block on a full pipe).
    func finish(stopping: Bool = false) -> Int32 {
        if stopping && process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
