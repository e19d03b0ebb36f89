import Foundation

/// The five seed threads, read byte-exact from Corpus/seeds/ (where their sources are noted).
enum Seed {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus/seeds")

    static func load(_ prefix: String) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard let name = names.sorted().first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".txt") }),
              let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
            return "missing seed \(prefix) in \(directory.path)"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static var s000: String { load("000") }
    static var s001: String { load("001") }
    static var s002: String { load("002") }
    static var s003: String { load("003") }
    static var s004: String { load("004") }
}
