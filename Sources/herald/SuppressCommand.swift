import ArgumentParser
import Foundation
import HeraldCore

struct SuppressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress", abstract: "The suppression list: who must not be messaged, on which channel.",
        subcommands: [Add.self, Remove.self, List.self, Import.self])

    static func channel(_ text: String) throws -> Channel {
        guard let channel = Channel(rawValue: text) else {
            throw ValidationError("channel: expected one of \(Channel.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return channel
    }

    static func reason(_ text: String) throws -> Suppression.Reason {
        guard let reason = Suppression.Reason(rawValue: text) else {
            throw ValidationError("--reason: expected one of \(Suppression.Reason.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return reason
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppress an address (normalized: lower-cased email, E.164 phone).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "email, sms, webhook or letter.") var channel: String
        @Argument(help: "The address.") var address: String
        @Option(help: "unsubscribed, bounced, complained or manual.") var reason = "manual"
        @Option(help: "Where it came from (default: herald suppress add).") var source: String?

        func run() async throws {
            _ = options.bootstrapLogging()
            let channel = try SuppressCommand.channel(channel)
            let reason = try SuppressCommand.reason(reason)
            let normalized: Address
            do {
                normalized = try Address(address, channel: channel)
            } catch {
                throw ValidationError(error.description)
            }
            let config = try options.loadConfig()
            try await options.withQueue(config) { try await $0.suppress([
                Suppression(normalized, reason: reason, source: source ?? "herald suppress add"),
            ], reporting: config.eventLog, how: .operator) }
            print("suppressed \(channel.rawValue) \(normalized.value) (\(reason.rawValue))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a suppression.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "email, sms, webhook or letter.") var channel: String
        @Argument(help: "The address.") var address: String

        func run() async throws {
            _ = options.bootstrapLogging()
            let channel = try SuppressCommand.channel(channel)
            // An address the rule now refuses may still be on the list from before: remove it as written.
            let normalized = (try? Address(address, channel: channel)) ?? Address(normalized: address, channel: channel)
            let config = try options.loadConfig()
            let (removed, setBy): (Bool, BounceRecord?) = try await options.withQueue(config) { queue in
                // A suppression a bounce or complaint set: name it, so the operator knows what is undone.
                let reason = try await queue.suppression(of: normalized)?.reason
                let setBy = reason == .bounced || reason == .complained
                    ? try await queue.bounces(before: nil, recipient: normalized, limit: 20)
                        .first { [.suppressed, .suppressedSoft, .complained].contains($0.decision) }
                    : nil
                return (try await queue.unsuppress(normalized, reporting: config.eventLog, how: .operator), setBy)
            }
            guard removed else { throw CommandFailure("\(normalized.value) is not suppressed on \(channel.rawValue)") }
            print("removed \(channel.rawValue) \(normalized.value)")
            if let setBy {
                print("it was set by bounce \(setBy.id), received \(Timestamp.rfc3339(setBy.receivedAt)): \(setBy.decision.rawValue) — \(setBy.reason)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppressions in channel and address order.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this channel.") var channel: String?
        @Option(help: "At most this many.") var limit = 1_000
        @Flag(help: "Print one JSON object per line.") var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            let channel = try channel.map(SuppressCommand.channel)
            let config = try options.loadConfig()
            let list = try await options.withQueue(config) { try await $0.suppressions(channel: channel, after: nil, limit: limit) }
            for entry in list {
                if json {
                    let object: [String: String?] = [
                        "channel": entry.channel.rawValue, "address": entry.address.value, "reason": entry.reason.rawValue,
                        "source": entry.source, "created_at": entry.createdAt.map(Timestamp.rfc3339),
                    ]
                    try printJSONLine(object.compactMapValues { $0 })
                } else {
                    print([entry.channel.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                           entry.reason.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0),
                           entry.createdAt.map(shortTime) ?? "-", " ", entry.address.value,
                           entry.source.map { "  (\($0))" } ?? ""].joined())
                }
            }
            if list.isEmpty && !json { print("no suppressions") }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suppress every address of a CSV file with a header row: channel,address[,reason][,source].",
            discussion: "Bad rows are reported with their line and field; the other rows are imported. Exits 1 if any row was rejected.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @Option(help: "The reason for rows without one.") var reason = "manual"

        func run() async throws {
            let logger = options.bootstrapLogging()
            let reason = try SuppressCommand.reason(reason)
            let config = try options.loadConfig()
            try await options.withQueue(config) { queue in
                guard let handle = FileHandle(forReadingAtPath: file) else { throw CommandFailure("cannot read \(file)") }
                let source = "import \(URL(fileURLWithPath: file).lastPathComponent)"
                var imported = 0, rejected = 0
                try await InputBatches(handle, format: .csv).forEach { items in
                    var accepted: [Suppression] = []
                    for item in items {
                        switch item.value.flatMap({ Suppression.parse($0, defaultSource: source, defaultReason: reason) }) {
                        case .success(let suppression):
                            accepted.append(suppression)
                        case .failure(let rejection):
                            rejected += 1
                            print("\(item.position): rejected \(rejection)")
                        }
                    }
                    try await queue.suppress(accepted)
                    imported += accepted.count
                    if (imported + rejected) % 100_000 < items.count {
                        logger.info("import progress", metadata: ["imported": "\(imported)", "rejected": "\(rejected)"])
                    }
                }
                FileHandle.standardError.write(Data("suppress import: \(imported) suppressed, \(rejected) rejected\n".utf8))
                if rejected > 0 { throw ExitCode(1) }
            }
        }
    }
}
