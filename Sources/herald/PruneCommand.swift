import ArgumentParser
import Foundation
import HeraldCore

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove finished messages older than the config's retention (herald run does this every hour).",
        discussion: "Sent, suppressed and canceled messages older than retention.sent, failed ones older than "
            + "retention.failed, with their attempts; letters of closed batches and records of archived drop-folder "
            + "files older than retention.sent. Queued and leased messages are never removed.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Count what would be removed; remove nothing.")
    var dryRun = false

    @Flag(help: "Print the counts as one JSON object.")
    var json = false

    func run() async throws {
        let logger = options.bootstrapLogging()
        let config = try options.loadConfig()
        try await options.withQueue(config) { queue in
            var nextReport = 100_000
            let pruned = try await queue.prune(config.retention, dryRun: dryRun) { soFar in
                guard soFar.messageCount >= nextReport else { return }
                nextReport += 100_000
                logger.info("pruning", metadata: ["so_far": "\(soFar.summary)"])
            }
            if json {
                try printJSONLine(pruned)
            } else {
                print("\(dryRun ? "would remove" : "removed") \(pruned.summary) (retention: \(config.retention.summary))")
            }
        }
    }
}
