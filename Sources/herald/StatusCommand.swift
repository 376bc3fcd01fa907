import ArgumentParser
import Foundation
import HeraldCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts by state and channel, the oldest due message, and recent throughput.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        _ = options.bootstrapLogging()
        let config = try options.loadConfig()
        let (status, events) = try await options.withQueue(config) { queue in
            let events: EventBacklog? = config.events?.push == nil
                ? nil : try await queue.eventBacklog(after: try await queue.pushCursor(EventPush.name))
            return (try await queue.status(), events)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(StatusOutput(status: status, events: events)), as: UTF8.self))
            return
        }
        let channels = Set(status.counts.map(\.channel)).sorted()
        let header = ["state".padding(toLength: 11, withPad: " ", startingAt: 0)]
            + channels.map { $0.leftPadded(9) } + ["total".leftPadded(9)]
        print(header.joined())
        for state in MessageState.allCases {
            var row = [state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)]
            for channel in channels {
                row.append(String(status.count(state: state, channel: Channel(rawValue: channel))).leftPadded(9))
            }
            row.append(String(status.count(state: state)).leftPadded(9))
            print(row.joined())
        }
        print("")
        if let oldest = status.oldestDueAt {
            let late = Double(status.takenAt - oldest) / 1_000
            print("oldest due:  \(Timestamp.rfc3339(oldest)) (\(String(format: "%.1f", late)) s ago)")
        } else {
            print("oldest due:  none (nothing due is waiting)")
        }
        if let next = status.nextDueAt {
            print("next due:    \(Timestamp.rfc3339(next))")
        }
        let deferred = status.deferred.map { "\($0.count) \($0.reason.replacingOccurrences(of: "_", with: " "))" }
        print("deferred:    \(deferred.isEmpty ? "none" : deferred.joined(separator: ", "))")
        print("sent:        \(status.sentLastMinute) in the last minute, \(status.sentLastHour) in the last hour")
        print("errors:      \(status.errorsLastHour) failed attempts in the last hour")
        if let events {
            let age = events.oldest.map { String(format: ", the oldest from %.0f s ago", Double(max(0, status.takenAt - $0)) / 1_000) } ?? ""
            print("events:      \(events.count) waiting for the CRM\(age)")
        }
    }
}

/// `herald status --json`: the queue's status, and the events waiting for the CRM when they are pushed.
struct StatusOutput: Encodable {
    var status: QueueStatus
    var events: EventBacklog?

    enum Keys: String, CodingKey {
        case eventsWaiting, oldestEventWaitingAt
    }

    func encode(to encoder: any Encoder) throws {
        try status.encode(to: encoder)
        guard let events else { return }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(events.count, forKey: .eventsWaiting)
        try container.encodeIfPresent(events.oldest.map(Timestamp.rfc3339), forKey: .oldestEventWaitingAt)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
