/// Small text helpers shared by the reporters: wrapping, sentences, and how rules read in prose.
enum TextStyle {
    /// Line breaks and tabs turned into single spaces, for one-line formats.
    static func singleLine(_ text: String) -> String {
        var out = ""
        var pendingSpace = false
        for character in text {
            if character.isNewline || character == "\t" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace && character != " " && out.last != " " { out.append(" ") }
                pendingSpace = false
                out.append(character)
            }
        }
        return out
    }

    /// Word-wraps each line of `text` at `width` columns. Words longer than the width stay whole on
    /// their own line; empty lines are kept.
    static func wrap(_ text: String, width: Int) -> [String] {
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = paragraph.split(separator: " ", omittingEmptySubsequences: true)
            if words.isEmpty {
                result.append("")
                continue
            }
            var line = ""
            for word in words {
                if line.isEmpty {
                    line = String(word)
                } else if line.count + 1 + word.count <= width {
                    line += " " + word
                } else {
                    result.append(line)
                    line = String(word)
                }
            }
            result.append(line)
        }
        return result
    }

    /// Starts a sentence with a capital letter when its first word is an ordinary lower-case word
    /// ("still held …" → "Still held …"), but never touches identifiers such as `mmap_lock`,
    /// `kmalloc()`, `mm->mmap_sem` or quoted names.
    static func capitalized(_ sentence: String) -> String {
        guard let first = sentence.first, first.isASCII, first.isLowercase else { return sentence }
        let word = sentence.prefix { $0 != " " }
        let plain = word.allSatisfy { ($0.isASCII && $0.isLetter) || $0 == "," || $0 == ":" || $0 == ";" }
        guard plain else { return sentence }
        return first.uppercased() + sentence.dropFirst()
    }

    /// Ends the sentence with a full stop unless it already ends with punctuation.
    static func withFullStop(_ sentence: String) -> String {
        guard let last = sentence.last else { return sentence }
        return ".?!:;".contains(last) ? sentence : sentence + "."
    }

    /// Trims spaces and line breaks at both ends.
    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isBlank($0) }),
              let end = scalars.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[start...end]))
    }

    /// Removes trailing spaces and tabs (quoted empty lines become a bare `>`).
    static func withoutTrailingBlanks(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }

    /// "1 patch", "2 patches".
    static func count(_ n: Int, _ singular: String, _ plural: String) -> String {
        "\(n) \(n == 1 ? singular : plural)"
    }

    /// How a reviewer names the problem a rule finds, with its article ("a lock leak"), or with a
    /// number for several ("two lock leaks").
    static func problemPhrase(rule: String, count: Int = 1) -> String {
        let (singular, plural) = problemNouns(rule: rule)
        if count == 1 { return ("aeiou".contains(singular.first ?? "x") ? "an " : "a ") + singular }
        return numberWord(count) + " " + plural
    }

    private static func problemNouns(rule: String) -> (String, String) {
        switch rule {
        case "lock-order": return ("lock ordering problem", "lock ordering problems")
        case "lock-leak": return ("lock leak", "lock leaks")
        case "double-lock": return ("double lock", "double locks")
        case "unbalanced-unlock": return ("unbalanced unlock", "unbalanced unlocks")
        case "sleep-in-atomic": return ("sleep in atomic context", "sleeps in atomic context")
        case "nested-lock": return ("nested locking problem", "nested locking problems")
        case "unchecked-lock-result": return ("unchecked lock result", "unchecked lock results")
        case "unchecked-return": return ("unchecked return value", "unchecked return values")
        case "missing-null-check": return ("missing NULL check", "missing NULL checks")
        case "resource-leak": return ("resource leak", "resource leaks")
        case "use-after-unlock": return ("use after unlock", "uses after unlock")
        case "alloc-sizeof": return ("wrong sizeof in an allocation", "wrong sizeofs in allocations")
        case "loop-no-progress": return ("loop that makes no progress", "loops that make no progress")
        default:
            let words = rule.split(separator: "-").joined(separator: " ")
            return words.isEmpty ? ("problem", "problems") : (words, words + " problems")
        }
    }

    /// "two" … "nine", then digits, as prose writes small numbers.
    static func numberWord(_ n: Int) -> String {
        let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        return n >= 0 && n < words.count ? words[n] : String(n)
    }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        guard let last = items.last else { return "" }
        if items.count == 1 { return last }
        return items.dropLast().joined(separator: ", ") + " and " + last
    }
}
