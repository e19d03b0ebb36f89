import Foundation
import XCTest

/// `mmreview report`: the text summary and the self-contained HTML page, on a scan of the seeds.
final class ReportTests: XCTestCase {
    private func scanSeeds() throws -> (directory: String, database: String) {
        let directory = try temporaryDirectory(self)
        let database = directory + "/results.sqlite"
        let scan = try mmreview(["scan", Repository.seeds, "--db", database])
        XCTAssertEqual(scan.status, 0, scan.stderr)
        return (directory, database)
    }

    func testTextSummary() throws {
        let (_, database) = try scanSeeds()
        let result = try mmreview(["report", "--db", database])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = result.stdout
        XCTAssertTrue(text.contains("5 messages (0 could not be analysed), 5 distinct patches (5 reviewed)"), text)
        XCTAssertTrue(text.contains("\nfindings per check:\n"), text)
        XCTAssertTrue(text.contains("  use-after-unlock           1  (1 introduced, 0 fixed, 0 unchanged)"), text)
        // The counts follow the checks; the rankings and months follow the seeds.
        XCTAssertNotNil(text.range(of: "\nfiles with most findings:\n +[0-9]+  checkpoint/cpt_mm.c\n", options: .regularExpression), text)
        XCTAssertNotNil(text.range(of: "\nfunctions with most findings:\n +[0-9]+  do_checkpoint_mm\\(\\) in checkpoint/memory.c\n",
                                   options: .regularExpression), text)
        XCTAssertNotNil(text.range(of: "\nfindings per month:\n +[0-9]+  2008-04\n +[0-9]+  2008-10\n", options: .regularExpression), text)
        XCTAssertTrue(text.contains("mm/rmap.c") || text.contains("\n       3  mm\n"), text)
        // Seed 001's reviewer asked for ctx->write()'s result on lines mmreview flags too.
        XCTAssertTrue(text.contains("of them carry a finding (mmreview and a reviewer pointed at the same line)"), text)
    }

    func testHTMLIsSelfContainedAndEscaped() throws {
        let (directory, database) = try scanSeeds()
        let path = directory + "/report.html"
        let result = try mmreview(["report", "--db", database, "--html", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 2, "a month chart and a subsystem chart")
        for forbidden in ["<script", "<link", "<img", "<iframe", "src=", "url(", "@import"] {
            XCTAssertFalse(html.contains(forbidden), "\(forbidden) in a report that must not fetch anything")
        }
        // Every tag is one the report writes itself: archived text (addresses in <…>, C code with
        // `a < b`, the pages' own HTML) only ever appears escaped.
        let allowed: Set<String> = ["!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                                    "br", "svg", "line", "text", "rect", "span", "table", "tr", "th", "td", "code",
                                    "a", "section", "pre"]
        let tags = try NSRegularExpression(pattern: "</?([!A-Za-z][A-Za-z0-9]*)")
        let range = NSRange(html.startIndex..., in: html)
        for match in tags.matches(in: html, range: range) {
            let name = String(html[Range(match.range(at: 1), in: html)!])
            XCTAssertTrue(allowed.contains(name), "unexpected tag <\(name)>")
        }
        XCTAssertTrue(html.contains("Matt Helsley &lt;matthltc@us.ibm.com&gt;"), "authors' addresses escaped")
        XCTAssertEqual(html.components(separatedBy: "<tr class=\"finding\">").count - 1, try reviewedFindingCount(seedFiles))
        // Each finding links to the email-style review of the message that carried its patch.
        XCTAssertTrue(html.contains("<section class=\"review\" id=\"review-"))
        XCTAssertTrue(html.contains("&gt; +spin_lock(&amp;root_anon_vma-&gt;lock);"), "the quoted hunk line of seed 004's review")
    }

    /// Rendered by headless Chromium: the page loads offline and the findings table is all there.
    func testHTMLRendersInHeadlessChromium() throws {
        let chromium = "/usr/bin/chromium"
        guard FileManager.default.isExecutableFile(atPath: chromium) else {
            throw XCTSkip("chromium is not installed (apt-get install -y chromium); see README.md")
        }
        let (directory, database) = try scanSeeds()
        let path = directory + "/report.html"
        XCTAssertEqual(try mmreview(["report", "--db", database, "--html", path]).status, 0)
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + directory + "/profile"]
        let dom = try runProgram(URL(fileURLWithPath: chromium), flags + ["--dump-dom", "file://" + path])
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertEqual(dom.stdout.components(separatedBy: "<tr class=\"finding\">").count - 1, try reviewedFindingCount(seedFiles))
        XCTAssertTrue(dom.stdout.contains("<rect "), "the SVG charts are in the rendered DOM")
        let png = directory + "/report.png"
        let shot = try runProgram(URL(fileURLWithPath: chromium),
                                  flags + ["--window-size=1200,1600", "--screenshot=" + png, "file://" + path])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 20_000, "a screenshot with content")
    }

    func testMissingDatabaseExitsTwo() throws {
        let directory = try temporaryDirectory(self)
        let result = try mmreview(["report", "--db", directory + "/none.sqlite"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("none.sqlite: no such scan database (make one with 'mmreview scan"),
                      result.stderr)
    }
}
