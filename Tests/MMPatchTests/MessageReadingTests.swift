import Testing
import MMCore
@testable import MMPatch

/// The shortcuts a batch scan takes through mail without a patch (headers read on demand, body
/// lines decoded straight from bytes, no diff parsing without a diff's first line) must read the
/// same as the long way.
@Suite struct MessageReadingTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func headersAreUnfoldedAndDecodedWhenAskedFor() {
        let mail = """
            Received: from mail.example.org (mail.example.org [192.0.2.1])
            \tby list.example.org with ESMTP id 1234
            \tfor <cgroups@vger.kernel.org>; Tue, 1 Jun 2021 10:00:00 +0200
            DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
             d=example.org; s=2021; h=from:to:subject;
            From: =?UTF-8?Q?Ren=C3=A9_Dev?= <rene@example.org>
            subject: Re: [PATCH] mm: take the
             lock once
            Subject: a second Subject field is ignored
            message-id: <reply.2@example.org>
            In-Reply-To: <patch.1@example.org>
            References: <cover.0@example.org>,
             <patch.1@example.org> <>
            List-Id: <cgroups.vger.kernel.org>
            Date: Tue, 1 Jun 2021 10:00:00 +0200

            Thanks, looks good.

            """
        let content = MessageReader().read(bytes: Self.bytes(mail), name: "reply.eml")
        #expect(content.info.author == "René Dev <rene@example.org>")
        #expect(content.info.subject == "Re: [PATCH] mm: take the lock once")
        #expect(content.info.messageID == "reply.2@example.org")
        #expect(content.info.inReplyTo == "patch.1@example.org")
        #expect(content.info.references == ["cover.0@example.org", "patch.1@example.org"])
        #expect(content.info.list == "cgroups.vger.kernel.org")
        #expect(content.info.date == "Tue, 1 Jun 2021 10:00:00 +0200")
        #expect(content.bodyLines == ["Thanks, looks good."])
        #expect(content.patches.isEmpty)
    }

    @Test func messageIDsAreTakenFromAngleBrackets() {
        #expect(InputReader.messageIDs("<a@b>, <c@d>\t< e@f >") == ["a@b", "c@d", "e@f"])
        #expect(InputReader.messageIDs("no brackets at all") == [])
        #expect(InputReader.messageIDs("<unclosed@x") == [])
        #expect(InputReader.messageIDs("<>  <ü@example.org>") == ["ü@example.org"])
    }

    @Test func aDiffCanOnlyStartAtALineHoldingADiffHeader() {
        for line in ["@@ -1,2 +1,3 @@", "> > @@ -10 +10 @@ static int f(void)", "diff --git a/mm/x.c b/mm/x.c",
                     ">+++ b/mm/x.c", "text before @@ -1 +1 @@ flattened onto one line"] {
            #expect(InputReader.mayStartDiff(line), "\(line)")
        }
        for line in ["", "Thanks, looks good.", "@@ not a hunk", "++ x", "a diff, not a git diff", "+ added?",
                     "--- a/mm/x.c"] {
            #expect(!InputReader.mayStartDiff(line), "\(line)")
        }
    }

    @Test func bodyWithoutDiffHeadersHasNoPatchButKeepsItsLines() {
        let mail = "From: a@example.org\nSubject: question\n\n> -\tspin_lock(&ptl);\n> +\tspin_lock(&ptl);\nWhy?\n"
        let content = MessageReader().read(bytes: Self.bytes(mail), name: "q.eml")
        #expect(content.patches.isEmpty)
        #expect(content.bodyLines == ["> -\tspin_lock(&ptl);", "> +\tspin_lock(&ptl);", "Why?"])
    }

    @Test func linesDecodedFromBytesEqualTheWholeTextSplit() {
        let inputs: [[UInt8]] = [
            [],
            Self.bytes("one\r\ntwo\n\nthree"),
            Self.bytes("trailing newline\n"),
            [0x61, 0xE2, 0x0A, 0x82, 0xAC, 0x0A, 0x62],  // a sequence cut by a line feed
            [0xC3, 0xA9, 0x0D, 0x0A, 0xFF, 0x0D],
            Self.bytes("ümlaut\nline"),
        ]
        for input in inputs {
            for charset in [nil, "utf-8", "ISO-8859-1", "windows-1252", "koi8-r"] {
                #expect(decodeTextLines(input, charset: charset) == splitTextLines(decodeText(input, charset: charset)),
                        "\(input) \(charset ?? "none")")
            }
        }
    }

    @Test func singleByteCharsetsMapEachByteToItsCodePoint() {
        #expect(decodeText([0x63, 0x61, 0x66, 0xE9, 0x20, 0xA9, 0xFF], charset: "iso-8859-1") == "café ©ÿ")
        #expect(decodeText([0x63, 0x61, 0x66, 0xE9], charset: " Latin1 ") == "café")
        // Text that is valid UTF-8 is read as UTF-8 whatever the label says.
        #expect(decodeText(Self.bytes("café"), charset: "iso-8859-1") == "café")
        #expect(decodeText([0x63, 0xE9], charset: nil) == "c\u{FFFD}")
    }

    @Test func contentTypeParameters() {
        let parsed = Mail.parseContentType(#"Multipart/Mixed; boundary="a;b=c"; CHARSET = utf-8 ; name="0001-mm.patch""#)
        #expect(parsed.type == "multipart/mixed")
        #expect(parsed.parameters == ["boundary": "a;b=c", "charset": "utf-8", "name": "0001-mm.patch"])
        #expect(Mail.parseContentType(nil).type == "text/plain")
        #expect(Mail.parseContentType("; charset=us-ascii").type == "text/plain")
        #expect(Mail.parseContentType(#"text/plain; x=""#).parameters == ["x": "\""])
        #expect(Mail.parseContentType("text/plain; flowed").parameters.isEmpty)
    }
}
