// Values produced by MMPatch's fragment builder: what the patch shows of each touched function,
// before (pre-image: context and removed lines) and after (post-image: context and added lines).

public enum Side: String, Sendable, Hashable, Codable {
    /// The pre-image, numbered in the old file.
    case before
    /// The post-image, numbered in the new file.
    case after
}

/// A source line of one image with its line number in that image's file.
public struct SourceLine: Sendable, Hashable, Codable {
    public var number: Int
    public var text: String
    /// True when the patch added (post-image) or removed (pre-image) this line.
    public var changed: Bool

    public init(number: Int, text: String, changed: Bool) {
        self.number = number
        self.text = text
        self.changed = changed
    }
}

/// A run of consecutive lines of one image. Between two segments the file has lines the patch
/// does not show.
public struct Segment: Sendable, Hashable, Codable {
    public var lines: [SourceLine]
    public init(lines: [SourceLine]) { self.lines = lines }
    public var firstLine: Int { lines.first?.number ?? 0 }
    public var lastLine: Int { lines.last?.number ?? 0 }
}

/// What one side of the patch shows of one function.
public struct FunctionImage: Sendable, Hashable, Codable {
    public var segments: [Segment]
    /// The first segment starts with the function's definition (its name and parameters).
    public var startsAtDefinition: Bool
    /// The last segment ends with the function's closing brace.
    public var endsAtClosingBrace: Bool

    public init(segments: [Segment], startsAtDefinition: Bool, endsAtClosingBrace: Bool) {
        self.segments = segments
        self.startsAtDefinition = startsAtDefinition
        self.endsAtClosingBrace = endsAtClosingBrace
    }

    /// The whole function is visible: definition, closing brace, and no gap between.
    public var isComplete: Bool { startsAtDefinition && endsAtClosingBrace && segments.count == 1 }
    public var allLines: [SourceLine] { segments.flatMap(\.lines) }
}

/// A function the patch touches, with what each side shows of it. `before` is nil for a function
/// the patch adds, `after` is nil for one it deletes.
public struct TouchedFunction: Sendable, Hashable, Codable {
    public var name: String
    /// Path in the new tree (the old one for deleted files).
    public var file: String
    /// Path in the old tree (nil for new files); fixed findings are reported against it.
    public var oldFile: String?
    public var before: FunctionImage?
    public var after: FunctionImage?

    public init(name: String, file: String, oldFile: String?, before: FunctionImage?, after: FunctionImage?) {
        self.name = name
        self.file = file
        self.oldFile = oldFile
        self.before = before
        self.after = after
    }

    public func image(_ side: Side) -> FunctionImage? { side == .before ? before : after }
    public func path(_ side: Side) -> String { side == .before ? (oldFile ?? file) : file }
}
