#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MMServeWire

// `mmreview-client ARGS…` behaves as `mmreview ARGS…`: same output, same exit status. When a
// `mmreview serve` listens on the socket, the review runs there, in a process that has libclang
// loaded, the rules read and the prelude precompiled; this program only links the C library, so
// it starts in about a millisecond. When nothing listens, or the server declines (a subcommand,
// or an mmreview binary replaced since the server started), or the server dies mid-review, this
// program runs the mmreview executable beside it instead, so no review is ever lost to the
// server's absence.

let arguments = Array(CommandLine.arguments.dropFirst())

func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += written
    }
}

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// The full mmreview: `$MMREVIEW_EXECUTABLE`, else the `mmreview` beside this program.
func fullExecutable() -> String {
    if let chosen = environment("MMREVIEW_EXECUTABLE"), !chosen.isEmpty { return chosen }
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if length > 0 {
        let own = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let slash = own.lastIndex(of: "/") {
            let beside = String(own[...slash]) + "mmreview"
            if access(beside, X_OK) == 0 { return beside }
        }
    }
    return "mmreview"
}

/// Runs the review in a process of its own. Standard input already read (for `-`) is handed to
/// it through a pipe; otherwise this process becomes mmreview.
func runLocally(standardInput: [UInt8]?) -> Never {
    let executable = fullExecutable()
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    guard let standardInput else {
        execvp(executable, argv)
        writeAll(2, Array("mmreview-client: cannot run \(executable): \(String(cString: strerror(errno)))\n".utf8))
        exit(2)
    }
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else {
        writeAll(2, Array("mmreview-client: cannot make a pipe: \(String(cString: strerror(errno)))\n".utf8))
        exit(2)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
    posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
    posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
    var child: pid_t = 0
    let spawned = posix_spawnp(&child, executable, &actions, nil, argv, environ)
    close(pipeEnds[0])
    guard spawned == 0 else {
        writeAll(2, Array("mmreview-client: cannot run \(executable): \(String(cString: strerror(spawned)))\n".utf8))
        exit(2)
    }
    signal(SIGPIPE, SIG_IGN)
    writeAll(pipeEnds[1], standardInput)
    close(pipeEnds[1])
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, spelt out (they are macros): a signal is reported as the shell would.
    let signalNumber = status & 0x7f
    exit(signalNumber == 0 ? (status >> 8) & 0xff : 128 + signalNumber)
}

func readStandardInput() -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if count > 0 {
            bytes += chunk[0..<count]
        } else if count == 0 || errno != EINTR {
            return bytes
        }
    }
}

func currentDirectory() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return nil }
    return String(cString: buffer)
}

let standardInput: [UInt8]? = arguments.contains("-") ? readStandardInput() : nil
let socketPath = ServeSocket.standard(environment: environment, userID: getuid()).path

guard let directory = currentDirectory(), let connection = SocketIO.connectStream(to: socketPath) else {
    runLocally(standardInput: standardInput)
}
var forwarded: [String: String] = [:]
for name in ServeRequest.forwardedVariables {
    if let value = environment(name) { forwarded[name] = value }
}
let request = ServeRequest(arguments: arguments, directory: directory, environment: forwarded,
                           stdoutIsTerminal: isatty(1) == 1, stderrIsTerminal: isatty(2) == 1,
                           standardInput: standardInput, executable: fullExecutable())
guard SocketIO.writeAll(connection, ServeWire.encode(request)), shutdown(connection, Int32(SHUT_WR)) == 0,
      let reply = SocketIO.readAll(connection, limit: Int(Int32.max)),
      case .finished(let status, let output, let errorOutput)? = try? ServeWire.decodeResponse(reply) else {
    close(connection)
    runLocally(standardInput: standardInput)
}
close(connection)
writeAll(1, output)
writeAll(2, errorOutput)
exit(status)
