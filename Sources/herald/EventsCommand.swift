import ArgumentParser
import Foundation
import HeraldCore

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "The events recorded for the CRM.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events in stream order, oldest first, with the cursor to go on from.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this type (message.sent, email.clicked…); repeat or comma-separate for several.") var type: [String] = []
        @Option(help: "Occurred since: a duration ago (30m, 6h, 2d) or an RFC 3339 time.") var since: String?
        @Option(help: "Only the events of this message (id or key).") var message: String?
        @Option(help: "Go on after this cursor (the last one printed).") var after: String?
        @Option(help: "At most this many (1-10000).") var limit = 100
        @Flag(help: "Print each event as its JSON, one per line (what the CRM receives).") var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit: expected 1 to 10000, got \(limit)") }
            var filter = EventFilter()
            do {
                if !type.isEmpty { filter.types = try EventType.set(from: type) }
            } catch {
                throw ValidationError("--type: \(error)")
            }
            do {
                if let since { filter.since = try Timestamp.since(since) }
            } catch {
                throw ValidationError("--\(error)")
            }
            var cursor = EventCursor.start
            if let after {
                guard let parsed = EventCursor(after) else { throw ValidationError("--after: not a cursor (\"\(after.prefix(80))\")") }
                cursor = parsed
            }
            let config = try options.loadConfig()
            if config.events == nil {
                FileHandle.standardError.write(Data("note: events are not recorded (no events section in the config)\n".utf8))
            }
            let found: [StoredEvent] = try await options.withQueue(config) { queue in
                if let message {
                    guard let detail = try await queue.message(message) else {
                        throw CommandFailure("no message with id or key \"\(message)\"")
                    }
                    filter.messageID = detail.id
                }
                return try await queue.events(after: cursor, matching: filter, limit: limit)
            }
            for stored in found {
                if json {
                    print(stored.event.payload)
                    continue
                }
                let fields = try? JSONValue.parse(Data(stored.event.payload.utf8))
                var recipient = "-"
                if case .object(let object)? = fields, case .string(let address)? = object["recipient"] { recipient = address }
                let about = stored.event.messageID.map { "message \($0)" } ?? "-"
                print("\(stored.cursor)  \(Timestamp.rfc3339(stored.event.occurredAt))  \(stored.event.type.rawValue)  \(about)  \(recipient)  \(stored.event.id)")
            }
            if !json {
                print(found.isEmpty ? "no events" : "\(found.count) event\(found.count == 1 ? "" : "s"); go on with --after \(found.last!.cursor)")
            }
        }
    }
}
