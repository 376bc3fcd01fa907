import ArgumentParser
import Foundation
import HeraldCore

struct BouncesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounces", abstract: "Bounces, complaints and auto-replies that came back, and what Herald decided.",
        subcommands: [Ingest.self, Poll.self, List.self, Show.self, Reprocess.self])

    /// Loads the config, insisting on `channels.email.bounces`.
    static func bounceConfig(_ options: GlobalOptions) throws -> (HeraldConfig, BounceConfig) {
        let config = try options.loadConfig()
        guard let bounces = config.email?.bounces else {
            throw CommandFailure("bounces are not configured (channels.email.bounces: {return_path, secret})")
        }
        return (config, bounces)
    }

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process one received message (a bounce, a complaint, anything) from a file or standard input.",
            discussion: """
                For an MTA's pipe: Postfix's transport_maps or Exim's pipe transport hands each message to \
                `herald bounces ingest -`. Exit 0 when it is recorded (whatever it was), 75 (EX_TEMPFAIL: \
                the MTA keeps the message and tries again) when the queue cannot be written.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The message file, or - for standard input.") var file: String

        func run() async throws {
            _ = options.bootstrapLogging()
            let (config, bounces) = try BouncesCommand.bounceConfig(options)
            let bytes: [UInt8]
            if file == "-" {
                bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
                bytes = Array(data)
            }
            let outcome: BounceProcessor.Outcome
            do {
                outcome = try await options.withQueue(config) { queue in
                    try await BounceProcessor(queue: queue, config: bounces, events: config.eventLog).process(bytes, source: "ingest")
                }
            } catch {
                FileHandle.standardError.write(Data("herald bounces ingest: not recorded, try again: \(error)\n".utf8))
                throw ExitCode(75)
            }
            let record = outcome.record
            let about = record.messageID.map { "message \($0)" } ?? "no message"
            print("\(outcome.recorded ? "" : "already recorded: ")\(record.kind.rawValue) (\(record.format)), \(about)"
                  + "\(record.recipient.map { " <\($0)>" } ?? ""): \(record.decision.rawValue) — \(record.reason)")
        }
    }

    struct Poll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the bounce mailbox once, as `herald run` does every `poll`.",
            discussion: """
                Each report is recorded, then moved to the processed folder (or deleted); mail that is not \
                a report stays where it is, unread if it was unread. Exit 75 when the mailbox or the queue \
                cannot be reached (nothing half done: what was recorded is moved on at the next pass).
                """)

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let logger = options.bootstrapLogging()
            let config = try options.loadConfig()
            guard config.email?.bounces?.mailbox != nil else {
                throw CommandFailure("no bounce mailbox is configured (channels.email.bounces.mailbox: {url, username, password})")
            }
            guard config.unsetSecrets.isEmpty else { throw UnsetSecretsError(secrets: config.unsetSecrets) }
            let transports = CurlChannels(workers: 1, logger: logger)
            let pass: BounceMailboxReader.Pass
            do {
                pass = try await options.withQueue(config) { queue in
                    try await config.bounceMailboxReader(queue: queue, transports: transports, logger: logger)!.read()
                }
            } catch {
                await transports.shutdown()
                FileHandle.standardError.write(Data("herald bounces poll: \(error)\n".utf8))
                throw ExitCode(75)
            }
            await transports.shutdown()
            print(pass.summary)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Processed reports, newest first.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only those older than this id (to page on).") var before: Int64?
        @Option(help: "At most this many (1-10000).") var limit = 50

        func run() async throws {
            _ = options.bootstrapLogging()
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit: expected 1 to 10000, got \(limit)") }
            let config = try options.loadConfig()
            let found = try await options.withQueue(config) { queue in try await queue.bounces(before: before, recipient: nil, limit: limit) }
            for record in found {
                print("\(record.id)  \(Timestamp.rfc3339(record.receivedAt))  \(record.source)  \(record.kind.rawValue)  "
                      + "\(record.decision.rawValue)  \(record.messageID.map { "message \($0)" } ?? "-")  \(record.recipient ?? "-")  "
                      + "\(record.status ?? "-")")
            }
            print(found.isEmpty ? "no bounces" : "\(found.count) shown; older ones with --before \(found.last!.id)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One processed report: what was read, what was decided, and the message as received.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The bounce's id (from herald bounces list).") var id: Int64

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            guard let record = try await options.withQueue(config, { queue in try await queue.bounce(id) }) else {
                throw CommandFailure("no bounce \(id)")
            }
            print("""
                bounce \(record.id), received \(Timestamp.rfc3339(record.receivedAt)) by \(record.source) (\(record.sourceID))
                  read as:   \(record.kind.rawValue) (\(record.format))\(record.feedbackType.map { ", feedback type \($0)" } ?? "")
                  message:   \(record.messageID.map(String.init) ?? "-")\(record.messageSentAt.map { ", sent \(Timestamp.rfc3339($0))" } ?? "")
                  recipient: \(record.recipient ?? "-")
                  status:    \(record.status ?? "-")\(record.severity.map { " (\($0.rawValue))" } ?? "")
                  decision:  \(record.decision.rawValue): \(record.reason)

                --- as received (\(record.raw.count) bytes) ---
                """)
            print(String(decoding: record.raw.prefix(64 << 10), as: UTF8.self))
        }
    }

    struct Reprocess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a kept report again and decide anew (after a fix, or for one that went to review); once per report.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The bounce's id (from herald bounces list).") var id: Int64

        func run() async throws {
            _ = options.bootstrapLogging()
            let (config, bounces) = try BouncesCommand.bounceConfig(options)
            let outcome: BounceProcessor.Outcome = try await options.withQueue(config) { queue in
                guard let record = try await queue.bounce(id) else { throw CommandFailure("no bounce \(id)") }
                // Keyed by the original's id: reprocessing twice cannot count one bounce twice.
                return try await BounceProcessor(queue: queue, config: bounces, events: config.eventLog)
                    .process(record.raw, source: "reprocess", sourceID: String(id))
            }
            let record = outcome.record
            guard outcome.recorded else {
                print("bounce \(id) was reprocessed before; see herald bounces list")
                return
            }
            print("bounce \(id) read again: \(record.kind.rawValue) (\(record.format)), \(record.messageID.map { "message \($0)" } ?? "no message"): "
                  + "\(record.decision.rawValue) — \(record.reason)")
        }
    }
}
