import Foundation
@testable import MMChecks
import MMAnalysis
import MMCore
import Testing

/// The byte searches stand in for Foundation's `range(of:)` on ASCII text: they must find the
/// same ranges, and non-ASCII text must still go to Foundation.
@Suite struct TextSearchTests {
    static let texts = [
        "", "a", "p->q", "x = p->q->r;", "-->", "->->", "sizeof(*p)", "a->b && c->d", "->",
        "foo(bar, baz) + foo_bar", "ret=foo(x)", "caf\u{E9}->x", "e\u{301}->x", "p\u{212A}->q", "\u{1F600}p->q",
    ]
    static let needles = ["->", "-", "p", "foo", "sizeof(", "x", "q", ">", "e", "K", "abc"]

    @Test func fastRangeFindsWhatFoundationFinds() {
        for text in Self.texts {
            for needle in Self.needles {
                #expect(text.fastRange(of: needle) == text.range(of: needle), "\(text) / \(needle)")
                #expect(text.fastLastRange(of: needle) == text.range(of: needle, options: .backwards),
                        "\(text) / \(needle)")
                var start = text.startIndex
                while start < text.endIndex {
                    #expect(text.fastRange(of: needle, from: start) == text.range(of: needle, range: start..<text.endIndex),
                            "\(text) / \(needle) from \(text.distance(from: text.startIndex, to: start))")
                    start = text.index(after: start)
                }
            }
        }
    }

    @Test func byteRangeEdges() {
        #expect("abc".byteRange(of: "") == nil)
        #expect("".byteRange(of: "a") == nil)
        #expect("ab".byteRange(of: "abc") == nil)
        let text = "a-->b->c"
        let first = text.byteRange(of: "->")
        #expect(first.map { String(text[$0]) } == "->")
        #expect(first.map { text.distance(from: text.startIndex, to: $0.lowerBound) } == 2)
        let last = text.lastByteRange(of: "->")
        #expect(last.map { text.distance(from: text.startIndex, to: $0.lowerBound) } == 5)
        // A match that ends the text, and one found only after a false start.
        #expect("xxab".byteRange(of: "ab").map { "xxab".distance(from: "xxab".startIndex, to: $0.lowerBound) } == 2)
        #expect("aab".byteRange(of: "ab").map { "aab".distance(from: "aab".startIndex, to: $0.lowerBound) } == 1)
        #expect("abc".isAllASCII)
        #expect(!"ab\u{E9}".isAllASCII)
    }

    /// ASCII text is tokenised from its bytes; a trailing comment with a non-ASCII character makes
    /// the same text go through the Character tokenizer, which must agree.
    @Test func asciiTokensMatchCharacterTokens() {
        let samples = [
            "", "a", "struct foo {\n\tspinlock_t **a, *b;\n\tint c[4];\n};",
            "p->q += x<<=2 ... a##b", "x = \"a\\\"b\" + 'c' + '\\''", "/* c */ a // d\nb", "/* open",
            "\"unterminated", "a/b*c", "f(1, 0x1F) >>= 3;", "\t\u{0B}\u{0C}x", "a - -b", "a-", "&&||",
        ]
        for sample in samples {
            let viaCharacters = CSyntax.tokens(sample + "\n/* \u{E9} */")
            #expect(CSyntax.tokens(sample) == viaCharacters, "\(sample)")
        }
        #expect(CSyntax.tokens("x->y = sizeof(struct s *);")
                == ["x", "->", "y", "=", "sizeof", "(", "struct", "s", "*", ")", ";"])
    }
}
