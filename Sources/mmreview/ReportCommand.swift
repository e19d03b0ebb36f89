import ArgumentParser
import Foundation
import MMScan

/// `mmreview report --db results.sqlite [--html out.html]`: what a scan found, as text and HTML.
struct ReportCommand: StatusCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmreview report",
        abstract: "Summarise a scan database: findings per check, file, function, subsystem and month.",
        discussion: "Exit status: 0 report written, 2 unusable database or arguments.")

    @Option(name: .customLong("db"), help: "The scan database made by 'mmreview scan'.")
    var database: String

    @Option(help: "Also write a self-contained HTML report (SVG charts, findings, each message's review).")
    var html: String?

    @Option(help: "Findings listed one by one in the HTML report, at most (the counts cover all).")
    var limit: Int = 2000

    func execute() -> Int32 {
        let report: ScanReport
        do {
            report = try ScanReport.read(database: database, limit: limit, toolVersion: toolVersion)
        } catch {
            printError("mmreview report: \(error)")
            return Status.unusable
        }
        print(report.text(), terminator: "")
        if let html {
            do {
                try HTMLReport(report: report).render().write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                printError("mmreview report: \(html): cannot write the HTML report: \(error.localizedDescription)")
                return Status.unusable
            }
        }
        return Status.clean
    }
}
