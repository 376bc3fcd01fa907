/// A place in the stream of recorded events: every event after it comes later in the order the
/// CRM reads them, and none before it is ever written afterwards (so a reader that goes on from
/// its last cursor never skips or repeats one, also while events are being written).
///
/// The CRM sees it as opaque text (`next` in `GET /v1/events`): the event's position on SQLite
/// (`1742`), its transaction and position on PostgreSQL (`90211-1742`), where positions are
/// handed out before commit and only the transaction order is the commit order that matters.
public struct EventCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The writing transaction's id on PostgreSQL; 0 on SQLite, whose single writer commits in
    /// position order.
    public var transaction: UInt64
    public var position: Int64

    public init(transaction: UInt64 = 0, position: Int64) {
        self.transaction = transaction
        self.position = position
    }

    /// Before every event.
    public static let start = EventCursor(position: 0)

    /// Parses what `description` wrote; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let position = Int64(parts[0]), position >= 0 else { return nil }
            self.init(position: position)
        case 2:
            guard let transaction = UInt64(parts[0]), let position = Int64(parts[1]), position >= 0 else { return nil }
            self.init(transaction: transaction, position: position)
        default:
            return nil
        }
    }

    public var description: String { transaction == 0 ? "\(position)" : "\(transaction)-\(position)" }

    public static func < (lhs: EventCursor, rhs: EventCursor) -> Bool {
        (lhs.transaction, lhs.position) < (rhs.transaction, rhs.position)
    }
}

/// An event as the queue keeps it: where it stands in the stream, and what it says.
public struct StoredEvent: Sendable, Equatable {
    public var cursor: EventCursor
    public var event: Event

    public init(cursor: EventCursor, event: Event) {
        self.cursor = cursor
        self.event = event
    }
}

extension [StoredEvent] {
    /// The events as one JSON array, each as it was recorded: what a push carries and a page holds.
    var jsonArray: [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, stored) in enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: stored.event.payload.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }
}

/// Which events a read wants.
public struct EventFilter: Sendable, Equatable {
    public var types: Set<EventType>?
    public var messageID: Int64?
    /// Occurred at or after (unix ms).
    public var since: Int64?

    public init(types: Set<EventType>? = nil, messageID: Int64? = nil, since: Int64? = nil) {
        self.types = types
        self.messageID = messageID
        self.since = since
    }
}

/// The events the push has not delivered yet.
public struct EventBacklog: Sendable, Equatable {
    public var count: Int
    /// When the oldest of them occurred (unix ms); nil when none waits.
    public var oldest: Int64?

    public init(count: Int, oldest: Int64?) {
        self.count = count
        self.oldest = oldest
    }
}
