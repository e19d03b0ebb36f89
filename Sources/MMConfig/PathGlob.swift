/// A path pattern as in .gitignore-style configuration: `*` and `?` stay inside one path
/// component, `**` crosses directories (`mm/**` is everything under mm/, `**/*.h` every header).
/// A pattern without a slash matches the file name in any directory, as git does.
public struct PathGlob: Sendable, Hashable {
    public var pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
    }

    public func matches(_ path: String) -> Bool {
        if !pattern.contains("/") {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return Self.match(Array(pattern), Array(name))
        }
        var trimmed = pattern
        if trimmed.hasPrefix("/") { trimmed.removeFirst() }
        return Self.match(Array(trimmed), Array(path))
    }

    /// Backtracking matcher; patterns are short, so the simple recursion is enough.
    private static func match(_ p: [Character], _ s: [Character]) -> Bool {
        func go(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == s.count }
            if p[i] == "*" {
                let double = i + 1 < p.count && p[i + 1] == "*"
                if double {
                    // "**/" may also match nothing at all ("mm/**/x.c" matches "mm/x.c").
                    if i + 2 < p.count && p[i + 2] == "/" && go(i + 3, j) { return true }
                    for k in j...s.count where go(i + 2, k) { return true }
                    return false
                }
                var k = j
                while true {
                    if go(i + 1, k) { return true }
                    if k == s.count || s[k] == "/" { return false }
                    k += 1
                }
            }
            guard j < s.count else { return false }
            if p[i] == "?" { return s[j] != "/" && go(i + 1, j + 1) }
            return p[i] == s[j] && go(i + 1, j + 1)
        }
        return go(0, 0)
    }
}
