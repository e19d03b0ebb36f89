import MMCore

/// What a batch scan needs from one archived message: threading metadata, the decoded body
/// (to find the reviewer's comments under quoted lines) and the patches.
public struct MessageInfo: Sendable, Hashable {
    public var messageID: String?
    public var inReplyTo: String?
    public var references: [String] = []
    public var subject: String?
    public var author: String?
    public var date: String?
    /// The List-Id without angle brackets.
    public var list: String?

    public init() {}
}

public struct MessageContent: Sendable {
    public var info: MessageInfo
    public var bodyLines: [String]
    public var patches: [Patch]
    /// Why the message could not be read for patches when it plainly holds one (a diff flattened
    /// onto one line that could not be rebuilt reliably); nil otherwise.
    public var failure: String?
}

/// Reads exactly one message (already taken out of its mailbox, `From ` line and quoting undone
/// by the archive reader), unlike InputReader, which may split its input into several.
public struct MessageReader: Sendable {
    public init() {}

    public func read(bytes: [UInt8], name: String) -> MessageContent {
        InputReader.patches(in: splitByteLines(bytes[...]), name: name, firstIndex: 0)
    }

    /// `Re: [PATCH] foo` → `[PATCH] foo`: the subject threads fall back on.
    public func threadSubject(_ subject: String) -> String {
        InputReader.cleanSubject(subject)
    }
}
