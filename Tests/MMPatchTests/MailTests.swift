import Testing
import MMCore
@testable import MMPatch

@Suite struct MailTests {
    static func formatPatch(number: Int, body: String, file: String, messageID: String) -> String {
        """
        From 1234567890abcdef1234567890abcdef1234567\(number) Mon Sep 17 00:00:00 2001
        From: Jane Dev <jane@example.org>
        Date: Tue, 1 Jun 2021 10:00:0\(number) +0200
        Subject: [PATCH \(number)/2] mm: fix the
         lock order
        Message-ID: <\(messageID)>

        \(body)

        Signed-off-by: Jane Dev <jane@example.org>
        ---
         \(file) | 1 +
         1 file changed, 1 insertion(+)

        diff --git a/\(file) b/\(file)
        index 1..2 100644
        --- a/\(file)
        +++ b/\(file)
        @@ -1,2 +1,3 @@
         a
        +b
         c
        -- 
        2.30.0

        """
    }

    @Test func formatPatchSeriesInAnMbox() throws {
        let mbox = Self.formatPatch(number: 1, body: ">From the start, this was wrong.", file: "mm/a.c",
                                    messageID: "20210601.1@example.org")
            + "\n" + Self.formatPatch(number: 2, body: "Second part.", file: "mm/b.c", messageID: "20210601.2@example.org")
        let patches = try readPatches(mbox, name: "series.mbox", firstIndex: 5)
        #expect(patches.count == 2)
        #expect(patches.map(\.origin.index) == [5, 6])
        #expect(patches.map(\.origin.subject) == ["[PATCH 1/2] mm: fix the lock order", "[PATCH 2/2] mm: fix the lock order"])
        #expect(patches.map(\.origin.messageID) == ["20210601.1@example.org", "20210601.2@example.org"])
        #expect(patches.map(\.origin.author) == ["Jane Dev <jane@example.org>", "Jane Dev <jane@example.org>"])
        #expect(patches.first?.origin.date == "Tue, 1 Jun 2021 10:00:01 +0200")
        #expect(patches.allSatisfy { !$0.origin.quoted && $0.origin.input == "series.mbox" })
        #expect(patches.map { $0.files.map(\.displayPath) } == [["mm/a.c"], ["mm/b.c"]])
        // mboxrd: ">From " in a body loses one ">".
        #expect(patches.first?.description.hasPrefix("From the start, this was wrong.\n\nSigned-off-by:") == true)
        #expect(patches.first?.description.hasSuffix("1 file changed, 1 insertion(+)") == true)
        // The signature "-- " and the version after the last hunk are not hunk lines.
        let hunk = try #require(patches.first?.files.first?.hunks.first)
        #expect(hunk.lines.map(\.text) == ["a", "b", "c"])
        #expect(!hunk.repaired)
    }

    @Test func mimeMultipartWithQuotedPrintableAndBase64Attachment() throws {
        let mail = """
            From: A Person <a@example.org>
            Subject: Re: [Devel] [PATCH] thing
            Message-ID: <m1@example.org>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="BOUND"

            This is a multi-part message in MIME format.
            --BOUND
            Content-Type: text/plain; charset=iso-8859-1
            Content-Transfer-Encoding: quoted-printable

            Caf=E9 patch, see attachment. A long line that is soft=
             broken.
            --BOUND
            Content-Type: text/x-patch; name="fix.patch"
            Content-Transfer-Encoding: base64
            Content-Disposition: attachment; filename="fix.patch"

            ZGlmZiAtLWdpdCBhL21tL2IuYyBiL21tL2IuYwppbmRleCAxLi4yIDEwMDY0NAotLS0gYS9tbS9i
            LmMKKysrIGIvbW0vYi5jCkBAIC0zLDMgKzMsNCBAQCBpbnQgYmFyKHZvaWQpCiB7CiAJbG9jaygp
            OworCXdvcmsoKTsKIAl1bmxvY2soKTsK
            --BOUND
            Content-Type: application/pgp-signature

            -----BEGIN PGP SIGNATURE-----
            --BOUND--
            """
        let patches = try readPatches(mail, name: "mail.eml")
        #expect(patches.count == 1)
        let patch = try #require(patches.first)
        #expect(patch.origin.subject == "[PATCH] thing")
        #expect(patch.origin.messageID == "m1@example.org")
        #expect(patch.description == "Café patch, see attachment. A long line that is soft broken.")
        let hunk = try #require(patch.files.first?.hunks.first)
        #expect(patch.files.first?.displayPath == "mm/b.c")
        #expect(hunk.section == "int bar(void)")
        #expect(hunk.line(new: 5) == DiffLine(kind: .added, text: "\twork();", oldLine: nil, newLine: 5))
        #expect(!hunk.repaired)
        let touched = FragmentBuilder().touchedFunctions(in: patch)
        #expect(touched.map(\.name) == ["bar"])
        #expect(touched.first?.after?.startsAtDefinition == false)
    }

    @Test func quotedPrintableBodyWithoutMultipart() throws {
        let mail = """
            From: B <b@example.org>
            Subject: [PATCH] qp
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            --- a/mm/q.c
            +++ b/mm/q.c
            @@ -1,1 +1,1 @@
            -x =3D 1;
            +x =3D 2; /* =E2=80=9Cquoted=E2=80=9D */
            """
        let hunk = try #require(try readPatches(mail).first?.files.first?.hunks.first)
        #expect(hunk.lines.map(\.text) == ["x = 1;", "x = 2; /* “quoted” */"])
    }

    @Test func encodedWordSubjectAndFoldedHeaders() throws {
        let mail = """
            From: =?UTF-8?Q?J=C3=B6rg_Dev?= <j@example.org>
            Subject: =?UTF-8?B?W1BBVENIXSBtbTogZml4IOKAnGxvY2vigJ0=?=
            Message-ID:
             <folded@example.org>

            --- a/x.c
            +++ b/x.c
            @@ -1 +1 @@
            -a
            +b
            """
        let origin = try #require(try readPatches(mail).first?.origin)
        #expect(origin.subject == "[PATCH] mm: fix “lock”")
        #expect(origin.author == "Jörg Dev <j@example.org>")
        #expect(origin.messageID == "folded@example.org")
    }

    @Test func subjectCleaning() {
        #expect(InputReader.cleanSubject("[Devel] Re: [PATCH 06/10] Introduce functions to dump mm")
                == "[PATCH 06/10] Introduce functions to dump mm")
        #expect(InputReader.cleanSubject("RE: Fwd: [ofa-general] Re: [PATCH 1 of 9] Lock it") == "[PATCH 1 of 9] Lock it")
        #expect(InputReader.cleanSubject("Re[2]: [RFC PATCH v2] x") == "[RFC PATCH v2] x")
        #expect(InputReader.cleanSubject("Re: filecache questions [RFC] [PATCH] fix") == "filecache questions [RFC] [PATCH] fix")
    }

    @Test func invalidUTF8IsDecodedLossily() throws {
        var bytes = Array("--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b \"".utf8)
        bytes += [0xFF, 0xFE, 0xC3]
        bytes += Array("\"\n".utf8)
        let hunk = try #require(try InputReader().read(bytes: bytes, name: "x", firstIndex: 0).first?.files.first?.hunks.first)
        #expect(hunk.lines.last?.text == "b \"\u{FFFD}\u{FFFD}\u{FFFD}\"")
    }

    @Test func latin1BodyIsDecodedByItsCharset() throws {
        var bytes = Array("Subject: [PATCH] l1\nContent-Type: text/plain; charset=ISO-8859-1\n\nGr".utf8)
        bytes += [0xFC, 0xDF]  // "üß" in Latin-1
        bytes += Array("e\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n".utf8)
        let patch = try #require(try InputReader().read(bytes: bytes, name: "x", firstIndex: 0).first)
        #expect(patch.description == "Grüße")
    }

    @Test func transferDecoders() {
        #expect(decodeBase64(Array("aGVs\nbG8=".utf8)) == Array("hello".utf8))
        #expect(decodeBase64(Array("".utf8)) == [])
        let qp = decodeQuotedPrintable([Array("a=3Db=".utf8)[...], Array("c =\t".utf8)[...], Array("d=4".utf8)[...]])
        #expect(String(decoding: qp, as: UTF8.self) == "a=bc d=4")
    }

    @Test func htmlArchivePageIsUnescapedAndUntagged() throws {
        let page = """
            <html><head><title>[PATCH] mm: fix &amp; test</title></head><body>
            <pre>
            diff --git a/mm/a.c b/mm/a.c
            --- a/mm/a.c
            +++ b/mm/a.c
            @@ -1,3 +1,4 @@
             #include &lt;linux/mm.h&gt;
            +int x = a &amp;&amp; b; /* &#65;&#x42; */
             int y;
             int z;
            </pre></body></html>
            """
        let patch = try #require(try readPatches(page, name: "page.html").first)
        #expect(patch.origin.subject == "[PATCH] mm: fix & test")
        let hunk = try #require(patch.files.first?.hunks.first)
        #expect(hunk.lines.map(\.text) == ["#include <linux/mm.h>", "int x = a && b; /* AB */", "int y;", "int z;"])
        #expect(!hunk.repaired)
    }

    @Test func textPageKeepsEntitiesAndAngleBrackets() throws {
        let text = """
            --- a/mm/a.c
            +++ b/mm/a.c
            @@ -1,2 +1,2 @@
            -#include <linux/mm.h>
            +/* a &lt; b */
             x
            """
        let hunk = try #require(try readPatches(text).first?.files.first?.hunks.first)
        #expect(hunk.lines.map(\.text) == ["#include <linux/mm.h>", "/* a &lt; b */", "x"])
    }

    @Test func pipermailAndHypermailPages() throws {
        let seed000 = try #require(try readPatches(Seed.s000, name: "seed.txt").first?.origin)
        #expect(seed000.subject == "[PATCH] c/r: do not hold mmap_sem while checkpointing vma's")
        #expect(seed000.author == "Matt Helsley <matthltc@us.ibm.com>")
        #expect(seed000.date == "Mon Oct 26 13:52:36 PDT 2009")
        #expect(seed000.messageID == nil)
        #expect(seed000.quoted)

        let seed001 = try #require(try readPatches(Seed.s001, name: "seed.txt").first?.origin)
        #expect(seed001.subject == "[PATCH 06/10] Introduce functions to dump mm")
        #expect(seed001.author == "Louis Rilling <Louis.Rilling@kerlabs.com>")

        let seed002 = try #require(try readPatches(Seed.s002, name: "seed.txt").first)
        #expect(seed002.origin.subject
                == "filecache/swapcache questions [RFC] [RFT] [PATCH] kanoj-mm12-2.3.8 Fix swapoff races")
        #expect(!seed002.origin.quoted)
        #expect(seed002.description.hasPrefix("Linus/Andrea/Stephen,\n\nThis is the patch"))
        #expect(seed002.description.hasSuffix("Kanoj\nkanoj@engr.sgi.com"))

        let seed003 = try #require(try readPatches(Seed.s003, name: "seed.txt").first?.origin)
        #expect(seed003.subject == "[PATCH 1 of 9] Lock the entire mm to prevent any mmu related operation to happen")
        #expect(seed003.author == "Andrea Arcangeli <andrea@qumranet.com>")
        #expect(seed003.date == "Fri Apr 25 09:56:40 PDT 2008")
    }
}
