#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What `mmreview serve` and `mmreview-client` say to each other over a Unix socket. This module
// imports only the C library: the client links it and nothing else, so that starting the client
// costs about a millisecond instead of the 16 ms a process linking libclang pays before main.
//
// One connection carries one review: the client sends a request and shuts its side down; the
// server answers with a response and closes. Both are a list of fields, each a 4-byte
// little-endian length and that many bytes, after a fixed tag that names the protocol version.

/// A review the client asks for, as the client's own process would have run it.
public struct ServeRequest: Equatable, Sendable {
    /// The client's command-line arguments, without the program name.
    public var arguments: [String]
    /// The client's working directory: relative paths in `arguments` are relative to it, and the
    /// configuration is looked up from it.
    public var directory: String
    /// The environment variables the review reads (see `ServeRequest.forwardedVariables`).
    public var environment: [String: String]
    public var stdoutIsTerminal: Bool
    public var stderrIsTerminal: Bool
    /// Standard input, read by the client when an argument is `-`; nil otherwise.
    public var standardInput: [UInt8]?
    /// The mmreview the client would run without a server: a server started from another one
    /// (another version, another build) declines, so the answer is always the same program's.
    public var executable: String

    public init(arguments: [String], directory: String, environment: [String: String],
                stdoutIsTerminal: Bool, stderrIsTerminal: Bool, standardInput: [UInt8]?, executable: String) {
        self.executable = executable
        self.arguments = arguments
        self.directory = directory
        self.environment = environment
        self.stdoutIsTerminal = stdoutIsTerminal
        self.stderrIsTerminal = stderrIsTerminal
        self.standardInput = standardInput
    }

    /// The variables that change what a review prints (colour); the rest of the client's
    /// environment stays with the client.
    public static let forwardedVariables = ["NO_COLOR"]
}

/// What the review printed and its exit status, or a refusal the client answers by running the
/// review itself.
public enum ServeResponse: Equatable, Sendable {
    case finished(status: Int32, standardOutput: [UInt8], standardError: [UInt8])
    /// The server does not run this (a subcommand, or its executable was replaced since it
    /// started); `reason` is for the client's log, not for the user.
    case declined(reason: String)
}

public enum ServeWireError: Error, Equatable, CustomStringConvertible {
    case badTag
    case truncated
    case tooLarge(Int)
    case malformed(String)

    public var description: String {
        switch self {
        case .badTag: return "not an mmreview serve message (another program, or another protocol version)"
        case .truncated: return "the message ends before its last field"
        case .tooLarge(let size): return "a field of \(size) bytes is larger than the \(ServeWire.maxFieldSize) allowed"
        case .malformed(let what): return "malformed message: \(what)"
        }
    }
}

public enum ServeWire {
    static let requestTag: [UInt8] = Array("mmreview-serve request 1\n".utf8)
    static let responseTag: [UInt8] = Array("mmreview-serve response 1\n".utf8)
    /// Inputs are read by the server from the client's paths; only standard input travels, and a
    /// patch series on standard input is far below this.
    public static let maxFieldSize = 1 << 30

    // MARK: encoding

    public static func encode(_ request: ServeRequest) -> [UInt8] {
        var fields: [[UInt8]] = [
            Array(request.executable.utf8),
            Array(request.directory.utf8),
            [request.stdoutIsTerminal ? 1 : 0, request.stderrIsTerminal ? 1 : 0,
             request.standardInput == nil ? 0 : 1],
            request.standardInput ?? [],
            Array(String(request.arguments.count).utf8),
        ]
        fields += request.arguments.map { Array($0.utf8) }
        let variables = request.environment.sorted { $0.key < $1.key }
        fields.append(Array(String(variables.count).utf8))
        for (name, value) in variables {
            fields.append(Array(name.utf8))
            fields.append(Array(value.utf8))
        }
        return frame(requestTag, fields)
    }

    public static func decodeRequest(_ bytes: [UInt8]) throws(ServeWireError) -> ServeRequest {
        var reader = try FieldReader(bytes, tag: requestTag)
        let executable = String(decoding: try reader.next(), as: UTF8.self)
        let directory = String(decoding: try reader.next(), as: UTF8.self)
        let flags = try reader.next()
        guard flags.count == 3 else { throw .malformed("flags") }
        let input = try reader.next()
        let argumentCount = try reader.count()
        var arguments: [String] = []
        for _ in 0..<argumentCount { arguments.append(String(decoding: try reader.next(), as: UTF8.self)) }
        let variableCount = try reader.count()
        var environment: [String: String] = [:]
        for _ in 0..<variableCount {
            let name = String(decoding: try reader.next(), as: UTF8.self)
            environment[name] = String(decoding: try reader.next(), as: UTF8.self)
        }
        guard reader.atEnd else { throw .malformed("bytes after the last field") }
        return ServeRequest(arguments: arguments, directory: directory, environment: environment,
                            stdoutIsTerminal: flags[0] == 1, stderrIsTerminal: flags[1] == 1,
                            standardInput: flags[2] == 1 ? input : nil, executable: executable)
    }

    public static func encode(_ response: ServeResponse) -> [UInt8] {
        switch response {
        case .finished(let status, let output, let error):
            return frame(responseTag, [Array("finished".utf8), Array(String(status).utf8), output, error])
        case .declined(let reason):
            return frame(responseTag, [Array("declined".utf8), Array(reason.utf8)])
        }
    }

    public static func decodeResponse(_ bytes: [UInt8]) throws(ServeWireError) -> ServeResponse {
        var reader = try FieldReader(bytes, tag: responseTag)
        let kind = String(decoding: try reader.next(), as: UTF8.self)
        let response: ServeResponse
        switch kind {
        case "finished":
            guard let status = Int32(String(decoding: try reader.next(), as: UTF8.self)) else {
                throw .malformed("exit status")
            }
            response = .finished(status: status, standardOutput: try reader.next(), standardError: try reader.next())
        case "declined":
            response = .declined(reason: String(decoding: try reader.next(), as: UTF8.self))
        default:
            throw .malformed("response kind '\(kind)'")
        }
        guard reader.atEnd else { throw .malformed("bytes after the last field") }
        return response
    }

    private static func frame(_ tag: [UInt8], _ fields: [[UInt8]]) -> [UInt8] {
        var bytes = tag
        bytes.reserveCapacity(tag.count + fields.reduce(0) { $0 + 4 + $1.count })
        for field in fields {
            let size = UInt32(field.count)
            bytes += [UInt8(size & 0xff), UInt8(size >> 8 & 0xff), UInt8(size >> 16 & 0xff), UInt8(size >> 24)]
            bytes += field
        }
        return bytes
    }

    private struct FieldReader {
        let bytes: [UInt8]
        var offset: Int

        init(_ bytes: [UInt8], tag: [UInt8]) throws(ServeWireError) {
            guard bytes.count >= tag.count, bytes[0..<tag.count].elementsEqual(tag) else { throw .badTag }
            self.bytes = bytes
            offset = tag.count
        }

        var atEnd: Bool { offset == bytes.count }

        mutating func next() throws(ServeWireError) -> [UInt8] {
            guard bytes.count - offset >= 4 else { throw .truncated }
            let size = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
                | Int(bytes[offset + 3]) << 24
            guard size <= ServeWire.maxFieldSize else { throw .tooLarge(size) }
            offset += 4
            guard bytes.count - offset >= size else { throw .truncated }
            defer { offset += size }
            return Array(bytes[offset..<offset + size])
        }

        /// A count written as decimal digits; bounded so that a hostile count cannot make the
        /// reader loop for long (each counted field still needs its 4 bytes).
        mutating func count() throws(ServeWireError) -> Int {
            guard let value = Int(String(decoding: try next(), as: UTF8.self)), value >= 0,
                  value <= (bytes.count - offset) / 4 else { throw .malformed("count") }
            return value
        }
    }
}

/// Where the server listens: `$MMREVIEW_SOCKET`, else `$XDG_RUNTIME_DIR/mmreview.sock` (a
/// directory only this user can enter), else `/tmp/mmreview-UID/serve.sock` (a directory the
/// server makes with mode 0700 and checks it owns).
public struct ServeSocket: Equatable, Sendable {
    public var path: String
    /// The directory the server creates and checks when the path is the /tmp default.
    public var privateDirectory: String?

    public init(path: String, privateDirectory: String? = nil) {
        self.path = path
        self.privateDirectory = privateDirectory
    }

    public static func standard(environment: (String) -> String?, userID: UInt32) -> ServeSocket {
        if let chosen = environment("MMREVIEW_SOCKET"), !chosen.isEmpty { return ServeSocket(path: chosen) }
        if let runtime = environment("XDG_RUNTIME_DIR"), runtime.hasPrefix("/") {
            return ServeSocket(path: runtime + "/mmreview.sock")
        }
        let directory = "/tmp/mmreview-\(userID)"
        return ServeSocket(path: directory + "/serve.sock", privateDirectory: directory)
    }

    /// The path fits in sockaddr_un's 108 bytes with its terminating zero.
    public var fitsAddress: Bool { path.utf8.count < 108 }
}

/// Blocking socket calls both sides use, with EINTR retried.
public enum SocketIO {
    /// Connects to a Unix stream socket; nil when nothing listens there (no file, refused, or a
    /// path too long for an address).
    public static func connectStream(to path: String) -> Int32? {
        guard path.utf8.count < 108 else { return nil }
        let descriptor = streamSocket()
        guard descriptor >= 0 else { return nil }
        var address = unixAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// A Unix stream socket that is not inherited by programs this process runs.
    public static func streamSocket() -> Int32 {
        #if canImport(Glibc)
        return socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        return socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
    }

    public static func unixAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        return address
    }

    /// Writes everything; false when the other side went away.
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Reads until end of file; nil on an error (a timeout set with SO_RCVTIMEO included) or
    /// when more than `limit` bytes arrive.
    public static func readAll(_ descriptor: Int32, limit: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            bytes += chunk[0..<count]
            if bytes.count > limit { return nil }
        }
    }
}
