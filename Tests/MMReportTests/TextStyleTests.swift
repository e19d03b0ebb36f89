import Testing
@testable import MMReport

@Suite struct TextStyleTests {
    @Test(arguments: [
        ("still held when f() fails", "Still held when f() fails"),
        ("can this return with mmap_lock held?", "Can this return with mmap_lock held?"),
        ("mmap_lock is taken", "mmap_lock is taken"),
        ("kmalloc() result is not checked", "kmalloc() result is not checked"),
        ("mm->mmap_sem is released", "mm->mmap_sem is released"),
        ("'vma' is used after unlock", "'vma' is used after unlock"),
        ("", ""),
    ])
    func capitalizesOnlyOrdinaryWords(_ input: String, _ expected: String) {
        #expect(TextStyle.capitalized(input) == expected)
    }

    @Test func wrapsWordsKeepsLongWordsAndEmptyLines() {
        #expect(TextStyle.wrap("aa bb cc dd", width: 5) == ["aa bb", "cc dd"])
        #expect(TextStyle.wrap("a averyveryverylongword b", width: 5) == ["a", "averyveryverylongword", "b"])
        #expect(TextStyle.wrap("one\n\ntwo", width: 72) == ["one", "", "two"])
    }

    @Test func namesProblemsWithTheirArticle() {
        #expect(TextStyle.problemPhrase(rule: "lock-leak") == "a lock leak")
        #expect(TextStyle.problemPhrase(rule: "unbalanced-unlock") == "an unbalanced unlock")
        #expect(TextStyle.problemPhrase(rule: "irq-state") == "an irq state")
    }

    @Test func singleLineAndTrimming() {
        #expect(TextStyle.singleLine("a\nb\r\nc\t d") == "a b c d")
        #expect(TextStyle.trimmed("\t x y \n") == "x y")
        #expect(TextStyle.withoutTrailingBlanks(">  \t") == ">")
        #expect(TextStyle.withFullStop("held") == "held.")
        #expect(TextStyle.withFullStop("held?") == "held?")
    }
}
