/// ANSI colour for terminal output. Every helper returns the text unchanged when colour is off, so
/// reporters call them unconditionally.
struct ANSI: Sendable {
    var enabled: Bool

    func bold(_ text: String) -> String { wrap(text, "1") }
    func red(_ text: String) -> String { wrap(text, "1;31") }
    func magenta(_ text: String) -> String { wrap(text, "1;35") }
    func cyan(_ text: String) -> String { wrap(text, "1;36") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func removedRed(_ text: String) -> String { wrap(text, "31") }

    /// gcc's colours: error red, warning magenta, note cyan.
    func severity(_ label: String) -> String {
        switch label {
        case "error", "ERROR": return red(label)
        case "warning", "WARNING": return magenta(label)
        default: return cyan(label)
        }
    }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
