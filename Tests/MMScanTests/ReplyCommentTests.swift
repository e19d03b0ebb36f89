@testable import MMScan
import XCTest

/// A reviewer's comment is tied to the quoted diff line just above it; that is what lets a scan
/// count how often mmreview and the human reviewers pointed at the same line.
final class ReplyCommentTests: XCTestCase {
    func testCommentIsTiedToTheQuotedDiffLineAboveIt() {
        let body = [
            "On Tue, Jane wrote:",
            "> @@ -10,6 +10,7 @@ int f(struct mm_struct *mm)",
            ">  \tmmap_read_lock(mm);",
            "> +\tif (!vma)",
            "> +\t\treturn -EFAULT;\u{00A0}",
            "",
            "\tThis returns with mmap_lock held. ",
            "\u{00A0}Please unlock first.",
            "",
            "> -\tput_page(page);",
            "> --- a/mm/x.c",
            "Not a diff line above this one.",
            "> \t\t",
            "Nor here: the quoted line is blank.",
            ">  \tmmap_read_unlock(mm);",
            "",
            "Blank line between quote and reply still counts.",
        ]
        XCTAssertEqual(MessageFacts.comments(body).map { [$0.code, $0.comment] }, [
            ["return -EFAULT;", "This returns with mmap_lock held.\nPlease unlock first."],
            ["mmap_read_unlock(mm);", "Blank line between quote and reply still counts."],
        ])
    }

    func testOnlyTheFirstSixLinesOfALongCommentAreKept() {
        let body = ["> +\tspin_lock(&ptl);"] + (1...9).map { "line \($0)" }
        let comments = MessageFacts.comments(body)
        XCTAssertEqual(comments.count, 1)
        XCTAssertEqual(comments.first?.comment.split(separator: "\n").count, 6)
        XCTAssertEqual(comments.first?.code, "spin_lock(&ptl);")
    }

    func testSpacesAreTrimmedLikeFoundationWhitespaces() {
        XCTAssertEqual(MessageFacts.trimmedOfSpaces("\t \u{00A0}code(x);\u{2003} "), "code(x);")
        XCTAssertEqual(MessageFacts.trimmedOfSpaces(" \t "), "")
        XCTAssertEqual(MessageFacts.trimmedOfSpaces("a\u{00A0}b"), "a\u{00A0}b")
        // Line breaks are not spaces: Foundation's .whitespaces keeps them too.
        XCTAssertEqual(MessageFacts.trimmedOfSpaces("\rx\n"), "\rx\n")
    }
}
