import Testing
import MMCore
@testable import MMPatch

@Suite struct RobustnessTests {
    @Test func hundredThousandLineHunk() throws {
        let body = 100_000
        var lines = ["--- /dev/null", "+++ b/mm/big.c", "@@ -0,0 +1,\(body + 3) @@", "+int big(void)", "+{"]
        lines.reserveCapacity(body + 6)
        for n in 0..<body { lines.append("+\tx = x + \(n);") }
        lines.append("+}")
        let patches = try readPatches(lines.joined(separator: "\n"))
        let hunk = try #require(patches.first?.files.first?.hunks.first)
        #expect(hunk.lines.count == body + 3)
        #expect(!hunk.repaired)
        #expect(hunk.lines.last == DiffLine(kind: .added, text: "}", oldLine: nil, newLine: body + 3))
        let touched = patches.flatMap { FragmentBuilder().touchedFunctions(in: $0) }
        #expect(touched.map(\.name) == ["big"])
        #expect(touched.first?.after?.isComplete == true)
        #expect(touched.first?.after?.line(50_002)?.text == "\tx = x + 49999;")
    }

    @Test func hundredThousandLineQuotedHunkWithInterruptions() throws {
        let body = 100_000
        var lines = ["> --- a/mm/big.c", "> +++ b/mm/big.c", "> @@ -1,\(body) +1,\(body) @@ int big(void)"]
        for n in 0..<body {
            lines.append(">  \tx = \(n);")
            if n % 1000 == 999 { lines.append("Reviewer comment \(n).") }
        }
        let hunk = try #require(try readPatches(lines.joined(separator: "\n")).first?.files.first?.hunks.first)
        #expect(hunk.lines.count == body)
        #expect(!hunk.repaired)
        #expect(hunk.line(old: body)?.text == "\tx = \(body - 1);")
    }

    /// A fixed pseudo-random sequence (no global state): the same inputs on every run.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static let pieces = [
        "diff --git a/mm/x.c b/mm/x.c", "--- a/mm/x.c", "+++ b/mm/x.c", "@@ -1,3 +1,4 @@ int f(void)",
        "@@ -999999999999999999999,1 +1 @@", "@@ -0,0 +1,2 @@", "@@ -5 +5 @@", "+{", "-}", " }", "+}", " {",
        "+int f(void)", " \tif (x) {", "+\tspin_lock(&l);", "-\tspin_unlock(&l);", "> ", ">", "> > +\ta();",
        "> @@ -1,2 +1,2 @@", "> --- a/y.h", "> +++ b/y.h", "[...]", "...", "-- ", "From x Mon", "From: a@b",
        "Subject: =?utf-8?B?w6k=?=", "Content-Type: multipart/mixed; boundary=z", "--z", "--z--",
        "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable", "=E9=",
        "", "/*", "*/", "\"", "'", "\\", "#define X \\", "\\ No newline at end of file", "GIT binary patch",
        "<html><pre>", "&lt;&#99999999;&#x110000;&", "rename from a", "rename to b", "new file mode 100644",
    ]

    @Test func randomInputNeverCrashesAndKeepsNumbersConsistent() {
        var generator = Generator(state: 42)
        for _ in 0..<300 {
            var text: [String] = []
            for _ in 0..<generator.next(60) {
                var line = Self.pieces[generator.next(Self.pieces.count)]
                if generator.next(4) == 0 { line = "> " + line }
                text.append(line)
            }
            var bytes = Array(text.joined(separator: generator.next(2) == 0 ? "\n" : "\r\n").utf8)
            if generator.next(5) == 0 { bytes.append(UInt8(0x80 + generator.next(0x7F))) }
            guard let patches = try? InputReader().read(bytes: bytes, name: "fuzz", firstIndex: 0) else { continue }
            for patch in patches {
                for file in patch.files {
                    for hunk in file.hunks {
                        for line in hunk.lines {
                            #expect((line.oldLine != nil) == (line.kind != .added))
                            #expect((line.newLine != nil) == (line.kind != .removed))
                        }
                    }
                }
                for touched in FragmentBuilder().touchedFunctions(in: patch) {
                    #expect(touched.before != nil || touched.after != nil)
                    for image in [touched.before, touched.after].compactMap({ $0 }) {
                        let numbers = image.allLines.map(\.number)
                        #expect(numbers == numbers.sorted())
                    }
                }
            }
        }
    }
}
