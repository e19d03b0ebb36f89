import MMServeWire
import Testing

@Suite struct ServeWireTests {
    let request = ServeRequest(arguments: ["--format", "gcc", "-", "patch with spaces.diff", "ü"],
                               directory: "/home/dev/linux", environment: ["NO_COLOR": ""],
                               stdoutIsTerminal: true, stderrIsTerminal: false,
                               standardInput: Array("diff --git a/mm/x.c b/mm/x.c\n\u{0}\u{ff}".utf8),
                               executable: "/usr/local/bin/mmreview")

    @Test func aRequestComesBackAsItWasSent() throws {
        #expect(try ServeWire.decodeRequest(ServeWire.encode(request)) == request)
        var noInput = request
        noInput.standardInput = nil
        noInput.arguments = []
        noInput.environment = [:]
        #expect(try ServeWire.decodeRequest(ServeWire.encode(noInput)) == noInput)
    }

    @Test func anEmptyStandardInputIsNotAnAbsentOne() throws {
        var empty = request
        empty.standardInput = []
        #expect(try ServeWire.decodeRequest(ServeWire.encode(empty)).standardInput == [])
    }

    @Test func responsesComeBackAsTheyWereSent() throws {
        let finished = ServeResponse.finished(status: 1, standardOutput: Array("mm/x.c:3:1: warning: …\n".utf8),
                                              standardError: [0, 1, 2])
        #expect(try ServeWire.decodeResponse(ServeWire.encode(finished)) == finished)
        let declined = ServeResponse.declined(reason: "'scan' is not a review")
        #expect(try ServeWire.decodeResponse(ServeWire.encode(declined)) == declined)
    }

    @Test func everyCutOfARequestIsRejectedNotMisread() {
        let bytes = ServeWire.encode(request)
        for length in 0..<bytes.count {
            #expect(throws: ServeWireError.self) { try ServeWire.decodeRequest(Array(bytes.prefix(length))) }
        }
        #expect(throws: ServeWireError.malformed("bytes after the last field")) {
            try ServeWire.decodeRequest(bytes + [0])
        }
    }

    @Test func anotherProtocolIsRefusedByItsTag() {
        #expect(throws: ServeWireError.badTag) { try ServeWire.decodeRequest(Array("GET / HTTP/1.1\r\n\r\n".utf8)) }
        #expect(throws: ServeWireError.badTag) { try ServeWire.decodeResponse(ServeWire.encode(request)) }
    }

    @Test func aHugeCountOrFieldIsRefusedBeforeAnythingIsRead() {
        // The tag, then the executable, directory, flags and input, then an argument count of a billion.
        var bytes = Array("mmreview-serve request 1\n".utf8)
        for field in [Array("/mmreview".utf8), Array("/".utf8), [0, 0, 0], [], Array("1000000000".utf8)] as [[UInt8]] {
            bytes += [UInt8(field.count), 0, 0, 0] + field
        }
        #expect(throws: ServeWireError.malformed("count")) { try ServeWire.decodeRequest(bytes) }
        let huge = Array("mmreview-serve response 1\n".utf8) + [0xff, 0xff, 0xff, 0x7f]
        #expect(throws: ServeWireError.tooLarge(0x7fff_ffff)) { try ServeWire.decodeResponse(huge) }
    }

    @Test func theSocketIsChosenFromTheEnvironmentThenTheRuntimeDirectoryThenTmp() {
        func place(_ variables: [String: String]) -> ServeSocket {
            ServeSocket.standard(environment: { variables[$0] }, userID: 1000)
        }
        #expect(place(["MMREVIEW_SOCKET": "/s/x.sock", "XDG_RUNTIME_DIR": "/run/user/1000"]) == ServeSocket(path: "/s/x.sock"))
        #expect(place(["XDG_RUNTIME_DIR": "/run/user/1000"]) == ServeSocket(path: "/run/user/1000/mmreview.sock"))
        // A relative runtime directory is ignored, as the XDG specification says.
        #expect(place(["XDG_RUNTIME_DIR": "run"]) == ServeSocket(path: "/tmp/mmreview-1000/serve.sock",
                                                                privateDirectory: "/tmp/mmreview-1000"))
        #expect(!ServeSocket(path: "/" + String(repeating: "d", count: 120)).fitsAddress)
    }

    @Test func nothingListeningIsNotAConnection() {
        #expect(SocketIO.connectStream(to: "/nonexistent-dir/mmreview.sock") == nil)
        #expect(SocketIO.connectStream(to: "/" + String(repeating: "d", count: 200)) == nil)
    }
}
