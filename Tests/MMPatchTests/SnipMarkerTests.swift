import Testing
@testable import MMPatch

/// isSnipMarker decides on bytes; this is the scalar version it replaced, for comparison.
private func snipMarkerByScalars(_ text: String) -> Bool {
    let compact = String(text.unicodeScalars.filter { !isBlank($0) }.map(Character.init))
    guard !compact.isEmpty, compact.utf8.count <= 14 else { return false }
    let markers: Set<String> = ["[...]", "...", "<snip>", "[snip]", "<...>", "[..]", "..", "…", "[…]",
                                "snip", "<snipped>", "[snipped]", "[....]", "....", "<snip/>", "[--snip--]",
                                "--snip--", "8<", "---8<---", "-->8--", ">8", "[...snip...]"]
    return markers.contains(lowercasedASCII(compact))
}

@Suite struct SnipMarkerTests {
    @Test(arguments: [
        "", " ", "\t\r\n", "[...]", " [ ... ] ", "<SNIP>", "[Snip]\r", "…", " [ … ] ", "[...snip...]",
        " [ ... snip ... ] ", "[....]x", "--snip--", "\u{0C}8<", "+[...]", "context line of code", "snip snip",
        "a b c d e f g h i j k l m n o", "abcdefghijklmn", "abcdefghijklmno", "\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}",
        "\u{A0}[...]", "[\u{2026}]",
    ])
    func bytesAgreeWithScalars(text: String) {
        #expect(isSnipMarker(text) == snipMarkerByScalars(text))
    }
}
