import Foundation
import MMCore

/// Test-only helpers: read a seed thread's diff hunks (quoted with `> ` or plain) and build
/// TouchedFunction values the way MMPatch will.
struct SeedHunk {
    struct Line { var kind: DiffLineKind; var text: String; var old: Int?; var new: Int? }
    var lines: [Line]
}

enum Seeds {
    /// The seed threads as kept in the repository's Corpus/seeds/.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus/seeds").path

    static func text(_ name: String) throws -> String {
        let path = "\(directory)/\(name)"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self)
    }

    /// Every hunk of a seed, skipping interleaved reviewer text in quoted patches.
    static func hunks(_ name: String) throws -> [SeedHunk] {
        let lines = try text(name).components(separatedBy: "\n")
        var result: [SeedHunk] = []
        var i = 0
        let header = try NSRegularExpression(pattern: #"^(> ?)?@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@"#)
        while i < lines.count {
            let line = lines[i]
            let ns = line as NSString
            guard let m = header.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) else { i += 1; continue }
            let quoted = m.range(at: 1).location != NSNotFound
            func group(_ k: Int) -> Int? {
                let r = m.range(at: k)
                return r.location == NSNotFound ? nil : Int(ns.substring(with: r))
            }
            var old = group(2)!, new = group(4)!
            var oldLeft = group(3) ?? 1, newLeft = group(5) ?? 1
            var hunk = SeedHunk(lines: [])
            i += 1
            while i < lines.count && (oldLeft > 0 || newLeft > 0) {
                var l = lines[i]
                i += 1
                if quoted {
                    guard l.hasPrefix(">") else { continue }  // reviewer text between quoted lines
                    l = String(l.dropFirst())
                    if l.hasPrefix(" ") && !(l.hasPrefix("  ") || l.hasPrefix(" +") || l.hasPrefix(" -")) && l.count > 1 {
                        l = String(l.dropFirst())
                    } else if l.hasPrefix(" ") { l = String(l.dropFirst()) }
                }
                let marker = l.first
                let body = l.isEmpty ? "" : String(l.dropFirst())
                switch marker {
                case "+":
                    hunk.lines.append(.init(kind: .added, text: body, old: nil, new: new)); new += 1; newLeft -= 1
                case "-":
                    hunk.lines.append(.init(kind: .removed, text: body, old: old, new: nil)); old += 1; oldLeft -= 1
                default:
                    hunk.lines.append(.init(kind: .context, text: body, old: old, new: new))
                    old += 1; new += 1; oldLeft -= 1; newLeft -= 1
                }
            }
            result.append(hunk)
        }
        return result
    }

    /// The lines one side shows, numbered in that side's file.
    static func sideLines(_ hunks: [SeedHunk], _ side: Side) -> [SourceLine] {
        var out: [SourceLine] = []
        for h in hunks {
            for l in h.lines {
                switch (side, l.kind) {
                case (.after, .added), (.after, .context):
                    out.append(SourceLine(number: l.new!, text: l.text, changed: l.kind == .added))
                case (.before, .removed), (.before, .context):
                    out.append(SourceLine(number: l.old!, text: l.text, changed: l.kind == .removed))
                default: break
                }
            }
        }
        return out
    }

    /// An image made of one segment per line range.
    static func image(_ hunks: [SeedHunk], _ side: Side, _ ranges: [ClosedRange<Int>],
                      startsAtDefinition: Bool, endsAtClosingBrace: Bool) -> FunctionImage {
        let all = sideLines(hunks, side)
        let segments = ranges.map { r in Segment(lines: all.filter { r.contains($0.number) }) }
        return FunctionImage(segments: segments, startsAtDefinition: startsAtDefinition,
                             endsAtClosingBrace: endsAtClosingBrace)
    }

    /// A whole function of one side: from the line starting its definition to the first `}` line.
    static func wholeFunction(_ hunks: [SeedHunk], _ side: Side, name: String) -> FunctionImage? {
        let all = sideLines(hunks, side)
        guard let start = all.firstIndex(where: { !$0.text.hasPrefix(" ") && !$0.text.hasPrefix("\t")
            && $0.text.contains(name + "(") && !$0.text.hasSuffix(";") }) else { return nil }
        guard let end = all[start...].firstIndex(where: { $0.text == "}" }) else { return nil }
        return FunctionImage(segments: [Segment(lines: Array(all[start...end]))], startsAtDefinition: true,
                             endsAtClosingBrace: true)
    }

    /// A run of lines as a segment, for synthetic tests.
    static func segment(from first: Int, _ texts: [String]) -> Segment {
        Segment(lines: texts.enumerated().map { SourceLine(number: first + $0.offset, text: $0.element, changed: false) })
    }
}

extension Statement {
    /// The statement and every statement nested in it, in source order.
    var flattened: [Statement] {
        switch self {
        case .block(let items): return [self] + items.flatMap(\.flattened)
        case .ifElse(_, let then, let otherwise): return [self] + then.flattened + (otherwise?.flattened ?? [])
        case .loop(let loop): return [self] + loop.body.flattened
        case .switchCase(_, let body): return [self] + body.flattened
        default: return [self]
        }
    }
}

extension FunctionModel {
    var calls: [Call] { body.allCalls }
    func calls(_ name: String) -> [Call] { calls.filter { $0.callee == name } }
    var statements: [Statement] { body.flattened }
    var errorCount: Int { parseDiagnostics.filter { $0.contains("error:") }.count }
}
