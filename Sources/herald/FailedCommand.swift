import ArgumentParser
import Foundation
import HeraldCore

struct FailedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failed", abstract: "Failed deliveries: list, inspect, requeue, cancel.",
        subcommands: [List.self, Show.self, Retry.self, Cancel.self])

    /// The filters `list`, `retry --all` and `cancel --all` share.
    struct Filters: ParsableArguments {
        @Option(help: "Only this channel (email, sms, webhook, letter).") var channel: String?
        @Option(help: "Only this campaign.") var campaign: String?
        @Option(help: "Failed since: a duration ago (30m, 6h, 2d) or an RFC 3339 time.") var since: String?
        @Option(help: "Only failures whose error text or code contains this (any case).") var error: String?

        func filter() throws -> FailedFilter {
            do {
                return try FailedFilter.parse(channel: channel, campaign: campaign, since: since, error: error)
            } catch {
                throw ValidationError("--\(error)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Failed messages, the most recent first.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var filters: Filters
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            let failed = try await options.withQueue(config) { try await $0.failed(try filters.filter(), limit: limit) }
            for message in failed {
                if json {
                    try printJSONLine([
                        "id": AnyEncodable(message.id), "key": AnyEncodable(message.key), "channel": AnyEncodable(message.channel.rawValue),
                        "campaign": AnyEncodable(message.campaign), "attempts": AnyEncodable(message.attemptCount),
                        "failed_at": AnyEncodable(Timestamp.rfc3339(message.updatedAt)),
                        "error_code": AnyEncodable(message.lastErrorCode), "error": AnyEncodable(message.lastError),
                    ])
                } else {
                    let error = (message.lastError ?? "").replacingOccurrences(of: "\n", with: " ")
                    print([String(message.id).leftPadded(7), "  ", shortTime(message.updatedAt), "  ",
                           message.channel.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                           (message.key ?? "-"), "  [", message.lastErrorCode ?? "-", "] ", String(error.prefix(100))].joined())
                }
            }
            if failed.isEmpty && !json { print("no failed messages match") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One message: its fields, what it renders to now, and every attempt with the remote's reply.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The message id or key.") var reference: String

        func run() async throws {
            let logger = options.bootstrapLogging()
            let config = try options.loadConfig()
            guard let message = try await options.withQueue(config, { try await $0.message(reference) }) else {
                throw CommandFailure("no message with id or key \"\(reference)\"")
            }
            print("message:   \(message.id)\(message.key.map { " (\($0))" } ?? "")")
            print("state:     \(message.state.rawValue), \(message.attemptCount) attempts")
            print("channel:   \(message.channel.rawValue), template \(message.template), \(message.category.rawValue)\(message.campaign.map { ", campaign \($0)" } ?? "")")
            print("to:        \(message.recipientJSON)")
            print("data:      \(message.dataJSON)")
            print("due:       \(Timestamp.rfc3339(message.dueAt))   created \(Timestamp.rfc3339(message.createdAt))   updated \(Timestamp.rfc3339(message.updatedAt))")
            if let error = message.lastError { print("error:     [\(message.lastErrorCode ?? "-")] \(error)") }
            print("\nattempts:")
            for attempt in message.attempts {
                let remote = [attempt.remoteCode, attempt.remoteID.map { "id \($0)" }].compactMap { $0 }.joined(separator: ", ")
                print("  #\(attempt.number)  \(Timestamp.rfc3339(attempt.startedAt))  \(attempt.outcome.rawValue)"
                      + "\(attempt.errorCode.map { " [\($0)]" } ?? "")  \(String(format: "%.1f", Double(attempt.durationMicroseconds) / 1_000)) ms"
                      + "  \(attempt.worker)\(remote.isEmpty ? "" : "  remote \(remote)")")
                if let text = attempt.remoteText, !text.isEmpty {
                    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(12) { print("      | \(line)") }
                }
            }
            if message.attempts.isEmpty { print("  none") }
            print("\nrendered now (templates may have changed since):")
            do {
                let rendered = try config.renderer(config.templateStore(logger: logger)).forPreview.render(try message.claimed())
                for (part, text) in rendered.parts.sorted(by: { $0.key < $1.key }) {
                    print("--- \(part.rawValue) ---")
                    print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
                }
            } catch let error as RenderError {
                print("  does not render: \(error.code): \(error.detail)")
            }
        }
    }

    /// Which messages `retry` and `cancel` act on: ids or keys, or `--all` with the list's filters.
    struct Selection: ParsableArguments {
        @Argument(help: "Message ids or keys.") var references: [String] = []
        @Flag(help: "Every failed message matching the filters.") var all = false
        @OptionGroup var filters: Filters

        func validate() throws {
            if all == !references.isEmpty { throw ValidationError("give message ids or keys, or --all (with filters), not both") }
        }

        func targets(_ queue: any MessageQueue) async throws -> [String] {
            all ? try await queue.failedIDs(try filters.filter()).map(String.init) : references
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue failed (or canceled) messages again, due now, with a fresh set of attempts.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            _ = options.bootstrapLogging()
            try await options.withQueue(try options.loadConfig()) { queue in
                try await FailedCommand.apply(to: try await selection.targets(queue), verb: "requeued") { try await queue.retry($0) }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End failed (or waiting) messages as canceled.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            try await options.withQueue(config) { queue in
                try await FailedCommand.apply(to: try await selection.targets(queue), verb: "canceled") {
                    try await queue.cancel($0, reporting: config.eventLog)
                }
            }
        }
    }

    /// Applies a change to each message, one line per message; exit 1 if any could not be changed.
    static func apply(to references: [String], verb: String, _ change: (String) async throws -> MessageChange) async throws {
        var refused = 0
        for reference in references {
            switch try await change(reference) {
            case .done(let message):
                print("\(message.id)\(message.key.map { " \($0)" } ?? ""): \(verb)")
            case .notFound:
                refused += 1
                print("\(reference): no such message")
            case .refused(let state):
                refused += 1
                print("\(reference): not changed, it is \(state.rawValue)")
            }
        }
        FileHandle.standardError.write(Data("failed: \(references.count - refused) \(verb), \(refused) not changed\n".utf8))
        if refused > 0 { throw ExitCode(1) }
    }
}

func printJSONLine(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
