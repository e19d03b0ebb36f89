// Values produced by MMPatch: a patch as found in a mail or diff file.

/// Where a patch came from and how to refer to it in a review.
public struct PatchOrigin: Sendable, Hashable, Codable {
    /// The input as the user named it ("seed.txt", "-" for stdin).
    public var input: String
    /// Position of this patch among all patches found in one run (0-based).
    public var index: Int
    /// Subject without "Re:"; the first line of the description when there is no mail header.
    public var subject: String
    public var messageID: String?
    public var author: String?
    public var date: String?
    /// True when the patch was found quoted (with `> `) in a reply rather than posted.
    public var quoted: Bool
    /// What the user should know about how the patch was read (its text had to be rebuilt).
    public var note: String?

    public init(input: String, index: Int, subject: String = "", messageID: String? = nil,
                author: String? = nil, date: String? = nil, quoted: Bool = false, note: String? = nil) {
        self.input = input
        self.index = index
        self.subject = subject
        self.messageID = messageID
        self.author = author
        self.date = date
        self.quoted = quoted
        self.note = note
    }
}

public enum DiffLineKind: String, Sendable, Hashable, Codable {
    case context, added, removed
}

/// One line of a hunk. `oldLine` is set for context and removed lines, `newLine` for context and
/// added lines (1-based line numbers in the old and the new file).
public struct DiffLine: Sendable, Hashable, Codable {
    public var kind: DiffLineKind
    public var text: String
    public var oldLine: Int?
    public var newLine: Int?

    public init(kind: DiffLineKind, text: String, oldLine: Int?, newLine: Int?) {
        self.kind = kind
        self.text = text
        self.oldLine = oldLine
        self.newLine = newLine
    }
}

public struct Hunk: Sendable, Hashable, Codable {
    public var oldStart: Int
    public var oldCount: Int
    public var newStart: Int
    public var newCount: Int
    /// The text after the second `@@` (git's function context), trimmed; empty when absent.
    public var section: String
    public var lines: [DiffLine]
    /// True when the hunk's counts did not match its lines or its markers had to be guessed
    /// (quoted patches that lost their leading blanks). Line numbers are then approximate.
    public var repaired: Bool

    public init(oldStart: Int, oldCount: Int, newStart: Int, newCount: Int, section: String,
                lines: [DiffLine], repaired: Bool = false) {
        self.oldStart = oldStart
        self.oldCount = oldCount
        self.newStart = newStart
        self.newCount = newCount
        self.section = section
        self.lines = lines
        self.repaired = repaired
    }
}

public struct FileDiff: Sendable, Hashable, Codable {
    /// Paths without the `a/` `b/` prefixes; nil for /dev/null.
    public var oldPath: String?
    public var newPath: String?
    public var isNew: Bool
    public var isDeleted: Bool
    public var isRename: Bool
    public var isBinary: Bool
    public var hunks: [Hunk]

    public init(oldPath: String?, newPath: String?, isNew: Bool = false, isDeleted: Bool = false,
                isRename: Bool = false, isBinary: Bool = false, hunks: [Hunk] = []) {
        self.oldPath = oldPath
        self.newPath = newPath
        self.isNew = isNew
        self.isDeleted = isDeleted
        self.isRename = isRename
        self.isBinary = isBinary
        self.hunks = hunks
    }

    /// The path findings are reported against: the new path, or the old one for deleted files.
    public var displayPath: String { newPath ?? oldPath ?? "?" }
}

public struct Patch: Sendable, Hashable, Codable {
    public var origin: PatchOrigin
    /// The commit message / mail text before the diff (quote markers removed).
    public var description: String
    public var files: [FileDiff]

    public init(origin: PatchOrigin, description: String, files: [FileDiff]) {
        self.origin = origin
        self.description = description
        self.files = files
    }
}
