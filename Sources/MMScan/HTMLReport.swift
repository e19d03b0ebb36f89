/// `mmreview report --html`: one self-contained page (inline CSS, SVG charts, no script, nothing
/// fetched), in which every piece of archived text is escaped.
public struct HTMLReport: Sendable {
    public var report: ScanReport

    public init(report: ScanReport) {
        self.report = report
    }

    /// Colours for the checks, in the order of ScanReport.perCheck (most findings first).
    private static let palette = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                                  "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31"]

    public func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>mmreview scan report</title>
            <style>
            body{font-family:sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}
            td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;font-size:13px}
            th{background:#eee}
            code,pre{font-family:monospace}
            .review{display:none;border:1px solid #888;padding:0 1em;margin:1em 0;background:#fafafa}
            .review:target{display:block}
            .legend span{display:inline-block;margin-right:1em}
            .swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
            </style></head><body>
            <h1>mmreview scan report</h1>

            """
        html += "<p>\(escape(report.text().split(separator: "\n").prefix(3).joined(separator: "<br>\n"), keepBreaks: true))</p>\n"
        html += "<h2>Findings per month, by check</h2>\n" + monthChart() + legend()
        html += "<h2>Findings per subsystem</h2>\n" + barChart(report.perSubsystem)
        html += "<h2>Findings per check</h2>\n<table><tr><th>check</th><th>introduced</th><th>fixed</th><th>unchanged</th></tr>\n"
        for check in report.perCheck {
            html += "<tr><td>\(escape(check.check))</td><td>\(check.introduced)</td><td>\(check.fixed)</td><td>\(check.unchanged)</td></tr>\n"
        }
        html += "</table>\n"
        html += "<h2>Findings</h2>\n"
        if report.rows.count < report.findings {
            html += "<p>The \(report.rows.count) most recent of \(report.findings) findings.</p>\n"
        }
        html += """
            <table id="findings"><tr><th>month</th><th>check</th><th>status</th><th>where</th><th>message</th>\
            <th>reviewer agreed</th><th>patch</th></tr>

            """
        for row in report.rows {
            let finding = row.finding
            html += "<tr class=\"finding\"><td>\(escape(row.month))</td><td>\(escape(finding.rule))</td>"
                + "<td>\(escape(finding.status.rawValue))</td>"
                + "<td><code>\(escape(finding.file)):\(finding.line)</code><br>\(escape(finding.function))()</td>"
                + "<td>\(escape(finding.message))<br><code>\(escape(finding.code))</code></td>"
                + "<td>\(row.agreed ? "yes" : "")</td>"
                + "<td><a href=\"#review-\(escape(row.messageKey))\">\(escape(row.subject.isEmpty ? "(no subject)" : row.subject))</a>"
                + "<br>\(escape(row.author))</td></tr>\n"
        }
        html += "</table>\n<h2>Reviews</h2>\n<p>Each message's review as mmreview would send it (follow a patch link above).</p>\n"
        for key in report.reviews.keys.sorted() {
            guard let text = report.reviews[key] else { continue }
            let row = report.rows.first { $0.messageKey == key }
            html += "<section class=\"review\" id=\"review-\(escape(key))\"><h3>\(escape(row?.subject ?? key))</h3>"
                + "<p>Message-ID: \(escape(row?.messageID ?? "none"))</p><pre>\(escape(text))</pre></section>\n"
        }
        html += "</body></html>\n"
        return html
    }

    private var checkColours: [String: String] {
        var colours: [String: String] = [:]
        for (index, check) in report.perCheck.enumerated() {
            colours[check.check] = Self.palette[index % Self.palette.count]
        }
        return colours
    }

    private func legend() -> String {
        let colours = checkColours
        var html = "<p class=\"legend\">"
        for check in report.perCheck {
            html += "<span><span class=\"swatch\" style=\"background:\(colours[check.check] ?? "#000")\"></span>"
                + "\(escape(check.check))</span>"
        }
        return html + "</p>\n"
    }

    /// Stacked bars: one per month, one segment per check.
    private func monthChart() -> String {
        let months = report.perMonth
        guard !months.isEmpty else { return "<p>No findings.</p>\n" }
        let colours = checkColours
        let barWidth = 18
        let gap = 6
        let left = 40
        let plotHeight = 200
        let width = left + months.count * (barWidth + gap) + 20
        let height = plotHeight + 70
        let maximum = max(1, months.map(\.count).max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\">\n"
        svg += "<line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(plotHeight + 10)\" stroke=\"#444\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(plotHeight + 10)\" x2=\"\(width - 10)\" y2=\"\(plotHeight + 10)\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(left - 4)\" y=\"16\" font-size=\"11\" text-anchor=\"end\">\(maximum)</text>\n"
        svg += "<text x=\"\(left - 4)\" y=\"\(plotHeight + 10)\" font-size=\"11\" text-anchor=\"end\">0</text>\n"
        for (index, month) in months.enumerated() {
            let x = left + gap + index * (barWidth + gap)
            var top = plotHeight + 10
            for check in report.perCheck {
                let count = report.perMonthByCheck[month.name]?[check.check] ?? 0
                guard count > 0 else { continue }
                let segment = max(1, count * plotHeight / maximum)
                top -= segment
                svg += "<rect x=\"\(x)\" y=\"\(top)\" width=\"\(barWidth)\" height=\"\(segment)\" "
                    + "fill=\"\(colours[check.check] ?? "#000")\"><title>\(escape(month.name)) "
                    + "\(escape(check.check)): \(count)</title></rect>\n"
            }
            let labelY = plotHeight + 16
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(labelY)\" font-size=\"10\" "
                + "transform=\"rotate(60 \(x + barWidth / 2) \(labelY))\">\(escape(month.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Horizontal bars with their counts.
    private func barChart(_ counts: [ScanReport.Count]) -> String {
        guard !counts.isEmpty else { return "<p>No findings.</p>\n" }
        let shown = Array(counts.prefix(20))
        let labelWidth = 160
        let plotWidth = 400
        let rowHeight = 18
        let maximum = max(1, shown.map(\.count).max() ?? 1)
        let height = shown.count * rowHeight + 10
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + plotWidth + 60)\" "
            + "height=\"\(height)\" role=\"img\">\n"
        for (index, count) in shown.enumerated() {
            let y = 5 + index * rowHeight
            let length = max(1, count.count * plotWidth / maximum)
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 12)\" font-size=\"11\" text-anchor=\"end\">"
                + "\(escape(count.name))</text>\n"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(length)\" height=\"\(rowHeight - 4)\" "
                + "fill=\"#1f77b4\"><title>\(escape(count.name)): \(count.count)</title></rect>\n"
            svg += "<text x=\"\(labelWidth + length + 4)\" y=\"\(y + 12)\" font-size=\"11\">\(count.count)</text>\n"
        }
        return svg + "</svg>\n"
    }
}

/// HTML-escapes text (for element content and quoted attribute values alike).
func escape(_ text: String, keepBreaks: Bool = false) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    var rest = Substring(text)
    while let character = rest.first {
        rest = rest.dropFirst()
        switch character {
        case "&": out += "&amp;"
        case "<":
            if keepBreaks && rest.hasPrefix("br>") {
                out += "<br>"
                rest = rest.dropFirst(3)
            } else {
                out += "&lt;"
            }
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
