import ArgumentParser
import Foundation
import MMExtract
import MMFacts
import MMReview
import MMServeWire

/// `mmreview serve`: a resident process that runs reviews for `mmreview-client`.
///
/// A review on its own pays, before reading its first line: loading libclang (about 16 ms of
/// relocations), the bundled rules and the precompiled prelude. A pre-send hook reviewing one
/// short patch spends most of its time there. The server pays them once; the client, which
/// links only the C library, forwards its arguments, working directory and standard input and
/// prints what comes back.
struct ServeCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmreview serve",
        abstract: "Keep a review process running for mmreview-client (for pre-send hooks and editors).",
        discussion: """
            Listens on a Unix socket ($MMREVIEW_SOCKET, else $XDG_RUNTIME_DIR/mmreview.sock, else \
            /tmp/mmreview-UID/serve.sock) and answers one review per connection. mmreview-client \
            takes the same arguments as mmreview and prints the same output with the same exit \
            status; with no server listening it runs mmreview itself. The server reads input files \
            as the client names them (relative to the client's directory), reviews one at a time, \
            accepts only its own user, and exits after --idle-exit seconds without a request or \
            when its executable is replaced.
            """)

    @Option(help: "The socket to listen on (default as described above).")
    var socket: String?

    @Option(name: .customLong("idle-exit"), help: "Exit after this many seconds without a request; 0 never.")
    var idleExit: Int = 1800

    @Flag(help: "Start the server in the background, wait until it listens, and return.")
    var background = false

    @Flag(help: "Ask the server listening on the socket to exit.")
    var stop = false

    @Flag(help: "Say whether a server listens on the socket (exit 0) or not (exit 1).")
    var status = false

    func validate() throws {
        if idleExit < 0 { throw ValidationError("--idle-exit must be 0 (never) or a number of seconds") }
        if [background, stop, status].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --background, --stop and --status")
        }
    }

    func execute() -> Int32 {
        let place = socket.map { ServeSocket(path: $0) }
            ?? ServeSocket.standard(environment: { ProcessInfo.processInfo.environment[$0] }, userID: getuid())
        guard place.fitsAddress else {
            printError("mmreview serve: the socket path \(place.path) is longer than a Unix socket address allows (107 bytes)")
            return Status.unusable
        }
        if status { return ask(place, ReviewServer.statusArguments, absent: "no server listens on \(place.path)") }
        if stop { return ask(place, ReviewServer.stopArguments, absent: "no server listens on \(place.path); nothing to stop") }
        if background { return startInBackground(at: place) }
        do {
            let server = try ReviewServer(socket: place, idleExit: idleExit)
            FileHandle.standardError.write(Data("mmreview serve: listening on \(place.path) (pid \(getpid()))\n".utf8))
            server.run()
            return Status.clean
        } catch {
            printError("mmreview serve: \(error)")
            return Status.unusable
        }
    }

    /// Sends the server one of its own requests (status, stop) and prints the answer; says
    /// `absent` and exits 1 when nothing listens.
    private func ask(_ place: ServeSocket, _ arguments: [String], absent: String) -> Int32 {
        guard let connection = SocketIO.connectStream(to: place.path) else {
            print("mmreview serve: \(absent)")
            return Status.findings
        }
        defer { close(connection) }
        let request = ServeRequest(arguments: arguments, directory: "/", environment: [:],
                                   stdoutIsTerminal: false, stderrIsTerminal: false, standardInput: nil,
                                   executable: InstallHookCommand.executablePath())
        guard SocketIO.writeAll(connection, ServeWire.encode(request)), shutdown(connection, Int32(SHUT_WR)) == 0,
              let reply = SocketIO.readAll(connection, limit: 1 << 20),
              case .finished(let code, let output, let errorOutput)? = try? ServeWire.decodeResponse(reply) else {
            printError("mmreview serve: the server on \(place.path) did not answer")
            return Status.unusable
        }
        FileHandle.standardOutput.write(Data(output))
        FileHandle.standardError.write(Data(errorOutput))
        return code
    }

    /// Runs `mmreview serve` in a new session with its standard streams on /dev/null, and
    /// returns once it accepts connections.
    private func startInBackground(at place: ServeSocket) -> Int32 {
        if let connection = SocketIO.connectStream(to: place.path) {
            close(connection)
            print("mmreview serve: already listening on \(place.path)")
            return Status.clean
        }
        let executable = InstallHookCommand.executablePath()
        let argv = [executable, "serve", "--socket", place.path, "--idle-exit", String(idleExit)]
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26), not visible to Swift without _GNU_SOURCE: the server
        // leaves the terminal's session, so closing the terminal does not hang it up.
        let spawnSetSessionID: Int16 = 0x80
        // Nothing blocked or ignored: a caller that blocked signals (Foundation's Process does)
        // must not leave a server that SIGTERM cannot stop.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signalNumber in [SIGHUP, SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signalNumber) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, spawnSetSessionID | Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // Descriptors this process was given beyond 0-2 (a pipe its caller waits on to see it
        // finish, for one) must not stay open in a server that outlives it.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let descriptor = Int32(name), descriptor > 2 { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        }
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, &attributes, cArguments, environ)
        guard spawned == 0 else {
            printError("mmreview serve: cannot start \(executable): \(String(cString: strerror(spawned)))")
            return Status.unusable
        }
        // The server warms up (libclang, rules, one small review) before it listens.
        for _ in 0..<500 {
            if let connection = SocketIO.connectStream(to: place.path) {
                close(connection)
                print("mmreview serve: listening on \(place.path) (pid \(child))")
                return Status.clean
            }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child {
                printError("mmreview serve: the server exited before listening (status \(status >> 8 & 0xff)); "
                           + "run 'mmreview serve' to see why")
                return Status.unusable
            }
            usleep(20_000)
        }
        printError("mmreview serve: the server did not listen on \(place.path) within 10 seconds")
        return Status.unusable
    }
}

struct ServeError: Error, CustomStringConvertible {
    var description: String
}

/// The listening socket and the loop that answers requests, one at a time (a Reviewer is not
/// thread-safe, and a pre-send hook sends one patch at a time).
final class ReviewServer {
    static let stopArguments = ["serve", "--stop"]
    static let statusArguments = ["serve", "--status"]
    /// A client that sends nothing for this long is dropped, so that it cannot hold up others.
    private static let clientTimeoutSeconds = 30

    private let place: ServeSocket
    private let idleExit: Int
    private let listener: Int32
    private let resources: ResidentResources
    private let executable: ExecutableIdentity?
    private let executablePath: String
    /// Reviews run for clients (declined requests not counted), for `serve --status`.
    private var reviewsAnswered = 0

    init(socket place: ServeSocket, idleExit: Int) throws {
        self.place = place
        self.idleExit = idleExit
        if let directory = place.privateDirectory { try Self.preparePrivateDirectory(directory) }
        if let connection = SocketIO.connectStream(to: place.path) {
            close(connection)
            throw ServeError(description: "a server already listens on \(place.path) ('mmreview serve --stop' stops it)")
        }
        // Nothing answers there: a socket file left by a server that was killed is removed.
        var info = stat()
        if lstat(place.path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw ServeError(description: "\(place.path) exists and is not a socket; left as it is")
            }
            unlink(place.path)
        }
        executable = ExecutableIdentity.current()
        executablePath = InstallHookCommand.executablePath()
        do {
            resources = try ResidentResources()
        } catch {
            throw ServeError(description: "cannot start the review: \(error)")
        }
        resources.warmUp()

        let descriptor = SocketIO.streamSocket()
        guard descriptor >= 0 else { throw ServeError(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = SocketIO.unixAddress(place.path)
        // Only this user may connect (the peer's uid is checked too, for sockets outside /tmp).
        let previousMask = umask(0o077)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        umask(previousMask)
        guard bound == 0, listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ServeError(description: "cannot listen on \(place.path): \(reason)")
        }
        listener = descriptor
    }

    /// The /tmp default lives in a directory of its own that must be this user's and closed to
    /// others: anyone able to create it first could otherwise read the patches sent.
    private static func preparePrivateDirectory(_ directory: String) throws {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw ServeError(description: "cannot make \(directory): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw ServeError(description: "\(directory) is not a directory")
        }
        guard info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw ServeError(description: "\(directory) belongs to another user or is open to others; "
                             + "set MMREVIEW_SOCKET to a path in a private directory")
        }
    }

    /// Answers requests until idle for `idleExit` seconds, until asked to stop, or until the
    /// executable is replaced.
    func run() {
        signal(SIGPIPE, SIG_IGN)
        // SIGTERM and SIGINT stop the server even when whoever started it had them blocked.
        var stopping = sigset_t()
        sigemptyset(&stopping)
        for signalNumber in [SIGHUP, SIGINT, SIGTERM] { sigaddset(&stopping, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &stopping, nil)
        defer {
            close(listener)
            unlink(place.path)
        }
        while true {
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&waiting, 1, idleExit == 0 ? -1 : Int32(clamping: idleExit * 1000))
            if ready == 0 { return }
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            let keepServing = answer(connection)
            close(connection)
            if !keepServing { return }
        }
    }

    /// One connection: read the request, run it, write the response. False when the server
    /// should stop after it.
    private func answer(_ connection: Int32) -> Bool {
        guard Self.peerIsThisUser(connection) else { return true }
        var timeout = timeval(tv_sec: Self.clientTimeoutSeconds, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let bytes = SocketIO.readAll(connection, limit: ServeWire.maxFieldSize + (1 << 20)) else { return true }
        // A rebuilt or upgraded mmreview must not be answered by the old one (which may not
        // even read the new client's requests): the client then runs the new executable
        // itself, and this server goes away.
        if let executable, executable != ExecutableIdentity.current() {
            _ = SocketIO.writeAll(connection, ServeWire.encode(.declined(reason: "the mmreview executable changed")))
            return false
        }
        let request: ServeRequest
        do {
            request = try ServeWire.decodeRequest(bytes)
        } catch {
            _ = SocketIO.writeAll(connection, ServeWire.encode(.declined(reason: "\(error)")))
            return true
        }
        if request.arguments == Self.stopArguments || request.arguments == Self.statusArguments {
            let stopping = request.arguments == Self.stopArguments
            let said = stopping
                ? "mmreview serve: stopped the server on \(place.path) (pid \(getpid()))\n"
                : "mmreview serve: a server listens on \(place.path) (pid \(getpid()), "
                    + "\(reviewsAnswered) review\(reviewsAnswered == 1 ? "" : "s") answered)\n"
            _ = SocketIO.writeAll(connection, ServeWire.encode(.finished(status: 0, standardOutput: Array(said.utf8),
                                                                          standardError: [])))
            return !stopping
        }
        guard Self.sameFile(request.executable, executablePath) else {
            _ = SocketIO.writeAll(connection, ServeWire.encode(.declined(
                reason: "the client runs \(request.executable), this server is \(executablePath)")))
            return true
        }
        let response = respond(to: request)
        if case .finished = response { reviewsAnswered += 1 }
        _ = SocketIO.writeAll(connection, ServeWire.encode(response))
        return true
    }

    /// The review the client asked for, or a refusal for what the server does not run: a
    /// subcommand, and anything that does not parse as a review (--help, --version and usage
    /// errors are printed by the client's own mmreview, exactly as without a server).
    func respond(to request: ServeRequest) -> ServeResponse {
        if let first = request.arguments.first, first == "serve" || Subcommands.all[first] != nil {
            return .declined(reason: "'\(first)' is not a review")
        }
        guard let command = try? MMReviewCommand.parseAsRoot(request.arguments),
              let review = command as? MMReviewCommand else {
            return .declined(reason: "the arguments are not a review")
        }
        let output = CollectedOutput()
        let invocation = Invocation(
            directory: request.directory, environment: request.environment,
            stdoutIsTerminal: request.stdoutIsTerminal, stderrIsTerminal: request.stderrIsTerminal,
            drawsProgress: false,
            readStandardInput: { request.standardInput ?? [] },
            writeOutput: { output.standardOutput += Array($0.utf8) },
            writeError: { output.standardError += Array($0.utf8) })
        let status = review.execute(in: invocation, resources: resources)
        return .finished(status: status, standardOutput: output.standardOutput, standardError: output.standardError)
    }

    private static func sameFile(_ one: String, _ other: String) -> Bool {
        guard let first = realpath(one, nil) else { return false }
        defer { free(first) }
        guard let second = realpath(other, nil) else { return false }
        defer { free(second) }
        return strcmp(first, second) == 0
    }

    private static func peerIsThisUser(_ connection: Int32) -> Bool {
        // struct ucred (pid, uid, gid), which Swift does not see without _GNU_SOURCE.
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var size = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 else { return false }
        return credentials.uid == getuid()
    }
}

final class CollectedOutput {
    var standardOutput: [UInt8] = []
    var standardError: [UInt8] = []
}

/// The file the server was started from, to notice a rebuild or an upgrade.
struct ExecutableIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int

    static func current() -> ExecutableIdentity? {
        let path = InstallHookCommand.executablePath()
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return ExecutableIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                                  modified: Int(info.st_mtim.tv_sec))
    }
}

/// What the server keeps between reviews: one libclang index with the prelude precompiled, and
/// the facts for each set of extra rule files seen (almost always just the bundled ones).
/// Findings, models and inputs are never kept: every review starts from its own input.
final class ResidentResources: ReviewResources {
    private let extractor: FunctionExtractor
    private var factsByFiles: [String: KernelFacts] = [:]
    private static let maxFactsKept = 8

    init() throws(ExtractError) {
        // With no cache directory the prelude is precompiled at once: the server parses many units.
        let cache = PreludeCache.standard()
        extractor = try FunctionExtractor(fullParsesBeforePrecompiling: cache == nil ? 0 : FunctionExtractor.defaultFullParsesBeforePrecompiling,
                                          preludeCache: cache)
    }

    func facts(extendedBy files: [(name: String, text: String)]) throws(FactsError) -> KernelFacts {
        let key = files.map { $0.name + "\u{0}" + $0.text }.joined(separator: "\u{1}")
        if let known = factsByFiles[key] { return known }
        let facts = try FactsLoader().bundled(extendedBy: files)
        if factsByFiles.count >= Self.maxFactsKept { factsByFiles.removeAll() }
        factsByFiles[key] = facts
        return facts
    }

    func reviewer(facts: KernelFacts, options: ReviewOptions) throws(ExtractError) -> Reviewer {
        Reviewer(facts: facts, options: options, extractor: extractor)
    }

    /// One small review before listening, so that the first client does not pay for loading the
    /// prelude and for the first use of libclang's and the checks' code.
    func warmUp() {
        guard let facts = try? facts(extendedBy: []) else { return }
        _ = try? reviewer(facts: facts, options: ReviewOptions()).review([ReviewInput(name: "warm-up", bytes: Array(Self.warmUpPatch.utf8))])
    }

    private static let warmUpPatch = """
        --- a/mm/warm_up.c
        +++ b/mm/warm_up.c
        @@ -1,7 +1,8 @@
         static int warm_up(struct mm_struct *mm)
         {
        +\tint ret = 0;
         \tspin_lock(&mm->page_table_lock);
         \tmm->map_count++;
         \tspin_unlock(&mm->page_table_lock);
        -\treturn 0;
        +\treturn ret;
         }

        """
}
