import Foundation
import MMServeWire
import Testing

/// `mmreview serve` and `mmreview-client`, as built, in real processes: the client must print
/// exactly what mmreview prints, with the same exit status, whether a server answers or not.
@Suite(.serialized) struct ServeTests {
    static var client: URL {
        Repository.executable.deletingLastPathComponent().appendingPathComponent("mmreview-client")
    }

    /// A server on a socket of its own, stopped when the test ends.
    struct Server {
        let directory: URL
        var socket: String { directory.appendingPathComponent("serve.sock").path }
        var environment: [String: String] { ["MMREVIEW_SOCKET": socket] }

        init() throws {
            directory = try makeTemporaryDirectory("mmreview-serve")
            let started = try runMMReview(["serve", "--background", "--socket", socket, "--idle-exit", "300"])
            #expect(started.status == 0, "\(started.stderr)")
            #expect(started.stdout.hasPrefix("mmreview serve: listening on \(socket) (pid "), "\(started.stdout)")
        }

        /// How many reviews the server has run, from `serve --status`; nil when none listens.
        func reviewsAnswered() throws -> Int? {
            let status = try runMMReview(["serve", "--status", "--socket", socket])
            guard status.status == 0, let range = status.stdout.range(of: #", (\d+) reviews? answered"#, options: .regularExpression)
            else { return nil }
            return Int(status.stdout[range].filter(\.isNumber))
        }

        func stop() {
            _ = try? runMMReview(["serve", "--stop", "--socket", socket])
            try? FileManager.default.removeItem(at: directory)
        }
    }

    func runClient(_ arguments: [String], in directory: URL = Repository.root, environment: [String: String],
                   stdin: [UInt8] = []) throws -> ProcessResult {
        try runProgram(Self.client.path, arguments, in: directory, environment: environment, stdin: stdin)
    }

    static let reviews: [[String]] = [
        ["Corpus/seeds/000_ed32f0bd73afb809.txt"],
        ["--format", "gcc", "Corpus/seeds/001_f23a81c0b7ab8d5c.txt"],
        ["--format", "json", "Corpus/seeds/002_09e121193730cda6.txt"],
        ["--format", "sarif", "Corpus/seeds/003_ad1ce59d523a4214.txt"],
        ["--format", "checkpatch", "--no-summary", "Corpus/seeds/004_135183a29977c0f3.txt"],
        ["--format", "gcc", "--show-unchanged", "--only", "lock-leak", "Corpus/seeds/000_ed32f0bd73afb809.txt"],
        ["--quiet", "--fail-on", "error", "Corpus/seeds/003_ad1ce59d523a4214.txt"],
        ["--format", "json", "--dump-models", "Corpus/seeds/003_ad1ce59d523a4214.txt"],
        // Errors the review itself reports: the input's name and exit 2, as without a server.
        ["Corpus/seeds/no-such-file.txt"],
        ["Corpus/seeds"],
        ["--format", "gcc", "Corpus/seeds/001_f23a81c0b7ab8d5c.txt", "Corpus/seeds/no-such-file.txt"],
    ]

    @Test func theClientPrintsWhatMMReviewPrintsAndTheServerRanEachReview() throws {
        let server = try Server()
        defer { server.stop() }
        let before = try #require(try server.reviewsAnswered())
        for arguments in Self.reviews {
            let direct = try runMMReview(arguments)
            let served = try runClient(arguments, environment: server.environment)
            #expect(served.status == direct.status, "\(arguments)")
            #expect(served.stdout == direct.stdout, "\(arguments)")
            #expect(served.stderr == direct.stderr, "\(arguments)")
        }
        #expect(try server.reviewsAnswered() == before + Self.reviews.count)
        // The seed reviews found something, so the comparison was of real output.
        let seed = try runClient(["--format", "gcc", "Corpus/seeds/001_f23a81c0b7ab8d5c.txt"], environment: server.environment)
        #expect(seed.status == 1)
        #expect(seed.stdout.contains("[lock-leak]") || seed.stdout.contains("[lock-order]"), "\(seed.stdout)")
    }

    @Test func standardInputAndRelativePathsAreTheClients() throws {
        let server = try Server()
        defer { server.stop() }
        let seed = try Repository.seed("002")
        let direct = try runMMReview(["--format", "gcc", "-"], stdin: seed.bytes)
        let served = try runClient(["--format", "gcc", "-"], environment: server.environment, stdin: seed.bytes)
        #expect(direct.status == 1)
        #expect(served.stdout == direct.stdout)
        #expect(served.status == direct.status)
        // A name relative to the client's directory, which is not the server's.
        let seeds = Repository.root.appendingPathComponent("Corpus/seeds")
        let name = String(seed.name.dropFirst("Corpus/seeds/".count))
        let fromSeeds = try runClient(["--format", "json", name], in: seeds, environment: server.environment)
        let directFromSeeds = try runProgram(Repository.executable.path, ["--format", "json", name], in: seeds)
        #expect(fromSeeds.status == 1)
        #expect(fromSeeds.stdout == directFromSeeds.stdout)
        // JSON names no input: the file read from the client's directory gives what stdin gave.
        let jsonFromStdin = try runMMReview(["--format", "json", "-"], stdin: seed.bytes)
        #expect(fromSeeds.stdout == jsonFromStdin.stdout)
        #expect(fromSeeds.stdout.contains("\"rule\": \"lock-order\""), "\(fromSeeds.stdout)")
        #expect(try server.reviewsAnswered() == 2)
    }

    @Test func withoutAServerTheClientRunsMMReviewItself() throws {
        let nowhere = ["MMREVIEW_SOCKET": "/nonexistent-mmreview-dir/serve.sock"]
        for arguments in Self.reviews.prefix(3) + [["--version"], ["rules"], ["--bogus"]] {
            let direct = try runMMReview(arguments)
            let local = try runClient(arguments, environment: nowhere)
            #expect(local.status == direct.status, "\(arguments)")
            #expect(local.stdout == direct.stdout, "\(arguments)")
            #expect(local.stderr == direct.stderr, "\(arguments)")
        }
        // Standard input read by the client reaches the mmreview it runs.
        let seed = try Repository.seed("003")
        let local = try runClient(["--format", "gcc", "-"], environment: nowhere, stdin: seed.bytes)
        #expect(local.status == 1)
        #expect(local.stdout.contains("[alloc-sizeof]"), "\(local.stdout)")
    }

    @Test func helpVersionUsageErrorsAndSubcommandsAreLeftToMMReview() throws {
        let server = try Server()
        defer { server.stop() }
        for arguments in [["--version"], ["--help"], ["--bogus", "x"], [], ["rules"], ["rules", "explain", "lock-leak"]] {
            let direct = try runMMReview(arguments)
            let served = try runClient(arguments, environment: server.environment)
            #expect(served.status == direct.status, "\(arguments)")
            #expect(served.stdout == direct.stdout, "\(arguments)")
            #expect(served.stderr == direct.stderr, "\(arguments)")
        }
        #expect(try server.reviewsAnswered() == 0)
    }

    @Test func aSecondServerIsRefusedAndGarbageDoesNotStopTheFirst() throws {
        let server = try Server()
        defer { server.stop() }
        let second = try runMMReview(["serve", "--socket", server.socket])
        #expect(second.status == 2)
        #expect(second.stderr.contains("a server already listens on \(server.socket)"), "\(second.stderr)")

        let connection = try #require(SocketIO.connectStream(to: server.socket))
        #expect(SocketIO.writeAll(connection, Array("GET / HTTP/1.1\r\n\r\n".utf8)))
        shutdown(connection, Int32(SHUT_WR))
        let reply = try #require(SocketIO.readAll(connection, limit: 1 << 20))
        close(connection)
        guard case .declined(let reason) = try ServeWire.decodeResponse(reply) else {
            Issue.record("garbage was answered: \(reply)")
            return
        }
        #expect(reason.contains("not an mmreview serve message"))
        let served = try runClient(["--format", "gcc", "Corpus/seeds/002_09e121193730cda6.txt"], environment: server.environment)
        #expect(served.status == 1)
        #expect(try server.reviewsAnswered() == 1)
    }

    @Test func stopEndsTheServerAndStatusSaysSo() throws {
        let server = try Server()
        defer { server.stop() }
        let stopped = try runMMReview(["serve", "--stop", "--socket", server.socket])
        #expect(stopped.status == 0)
        #expect(stopped.stdout.hasPrefix("mmreview serve: stopped the server on \(server.socket)"), "\(stopped.stdout)")
        let status = try runMMReview(["serve", "--status", "--socket", server.socket])
        #expect(status.status == 1)
        #expect(status.stdout == "mmreview serve: no server listens on \(server.socket)\n")
        // The socket file is gone with the server.
        #expect(!FileManager.default.fileExists(atPath: server.socket))
    }

    /// An upgraded or rebuilt mmreview is never answered for by the server started from the old
    /// file: the client runs the new one, and the old server exits.
    @Test func aReplacedExecutableRetiresItsServer() throws {
        let directory = try makeTemporaryDirectory("mmreview-serve-copy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mmreview = directory.appendingPathComponent("mmreview")
        let client = directory.appendingPathComponent("mmreview-client")
        try FileManager.default.copyItem(at: Repository.executable, to: mmreview)
        try FileManager.default.copyItem(at: Self.client, to: client)
        let socket = directory.appendingPathComponent("s.sock").path
        let started = try runProgram(mmreview.path, ["serve", "--background", "--socket", socket], in: Repository.root)
        #expect(started.status == 0, "\(started.stderr)")
        let environment = ["MMREVIEW_SOCKET": socket]
        let arguments = ["--format", "gcc", "Corpus/seeds/002_09e121193730cda6.txt"]
        #expect(try runProgram(client.path, arguments, in: Repository.root, environment: environment).status == 1)
        #expect(try runProgram(mmreview.path, ["serve", "--status", "--socket", socket], in: Repository.root)
                    .stdout.contains("1 review answered"))

        // A new file in its place, as an install or a build writes it.
        try FileManager.default.removeItem(at: mmreview)
        try FileManager.default.copyItem(at: Repository.executable, to: mmreview)
        let after = try runProgram(client.path, arguments, in: Repository.root, environment: environment)
        let direct = try runMMReview(arguments)
        #expect(after.status == direct.status)
        #expect(after.stdout == direct.stdout)
        let status = try runProgram(mmreview.path, ["serve", "--status", "--socket", socket], in: Repository.root)
        #expect(status.status == 1, "\(status.stdout)")
    }

    @Test func aSocketPathThatIsNotASocketIsLeftAlone() throws {
        let directory = try makeTemporaryDirectory("mmreview-serve-file")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("serve.sock").path
        try Data("notes".utf8).write(to: URL(fileURLWithPath: path))
        let result = try runMMReview(["serve", "--socket", path])
        #expect(result.status == 2)
        #expect(result.stderr == "mmreview serve: \(path) exists and is not a socket; left as it is\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "notes")
    }
}
