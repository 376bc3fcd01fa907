import Foundation

/// One thing that happened, for the CRM: recorded in the same transaction as the change it
/// reports (a crash can delay an event, never lose it), then pushed or read through
/// `GET /v1/events`.
///
/// `payload` is the event as the CRM receives it, one JSON object built once when the event is
/// made: `{"id": "evt_…", "type": "message.sent", "occurred_at": "…", "message_id": 42, "key": …,
/// "campaign": …, "channel": …, "template": …, "recipient": …, …type-specific fields}`.
/// `docs/events.schema.json` describes every type.
public struct Event: Sendable, Equatable {
    /// Unique and stable: the same event pushed twice carries the same id, so receivers de-duplicate on it.
    public var id: String
    public var type: EventType
    public var occurredAt: Int64
    /// The message it is about; nil for a recipient's own events (an unsubscribe not tied to one).
    public var messageID: Int64?
    public var payload: String

    public init(id: String, type: EventType, occurredAt: Int64, messageID: Int64?, payload: String) {
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.messageID = messageID
        self.payload = payload
    }

    /// This event naming the message `id`: for an event made before its message was queued
    /// (`enrollment.step`), whose id only the queue's insert gives.
    public func about(message id: Int64) -> Event {
        guard case .object(var fields)? = try? JSONValue.parse(Data(payload.utf8)) else { return self }
        fields["message_id"] = .integer(id)
        return Event(id: self.id, type: type, occurredAt: occurredAt, messageID: id, payload: JSONValue.object(fields).jsonText)
    }
}

/// Every kind of event, by the name the CRM sees.
public enum EventType: String, Sendable, CaseIterable, Codable, Comparable {
    case messageSent = "message.sent"
    case messageFailed = "message.failed"
    case messageBounced = "message.bounced"
    case messageSuppressed = "message.suppressed"
    case messageDeferred = "message.deferred"
    case messageCanceled = "message.canceled"
    case recipientUnsubscribed = "recipient.unsubscribed"
    case recipientResubscribed = "recipient.resubscribed"
    case recipientComplained = "recipient.complained"
    case emailOpened = "email.opened"
    case emailClicked = "email.clicked"
    case smsDelivered = "sms.delivered"
    case smsUndelivered = "sms.undelivered"
    case letterExported = "letter.exported"
    case letterUploaded = "letter.uploaded"
    case enrollmentStarted = "enrollment.started"
    case enrollmentStep = "enrollment.step"
    case enrollmentCompleted = "enrollment.completed"
    case enrollmentExited = "enrollment.exited"

    /// Recorded unless the config names the types: every one but `message.deferred`, which a
    /// busy rate limit would turn into a flood.
    public static let recordedByDefault = Set(allCases).subtracting([.messageDeferred])

    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The message an event is about, as every event names it.
public struct EventSubject: Sendable, Equatable {
    public var messageID: Int64?
    public var key: String?
    public var campaign: String?
    public var channel: Channel
    public var template: String?
    /// The recipient's address as Herald keys it (`Address.value`): an email address, an E.164
    /// number, a webhook endpoint's name, a letter's name.
    public var recipient: String?

    public init(messageID: Int64?, key: String?, campaign: String?, channel: Channel, template: String?, recipient: String?) {
        self.messageID = messageID
        self.key = key
        self.campaign = campaign
        self.channel = channel
        self.template = template
        self.recipient = recipient
    }

    public init(_ message: ClaimedMessage) {
        self.init(messageID: message.id, key: message.key, campaign: message.campaign, channel: message.channel,
                  template: message.template, recipient: Address(of: message.recipient, on: message.channel).value)
    }

    /// A stored message; its recipient unnamed if its record cannot be read.
    public init(_ message: MessageDetail) {
        let recipient = try? Recipient(stored: message.recipientJSON)
        self.init(messageID: message.id, key: message.key, campaign: message.campaign, channel: message.channel,
                  template: message.template, recipient: recipient.map { Address(of: $0, on: message.channel).value })
    }

    /// A recipient's own event (unsubscribed, resubscribed), not about one message.
    public init(_ address: Address, campaign: String? = nil) {
        self.init(messageID: nil, key: nil, campaign: campaign, channel: address.channel, template: nil, recipient: address.value)
    }
}

/// A name that is not an event type.
public struct UnknownEventType: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "unknown event type \"\(name.prefix(80))\" (one of \(EventType.allCases.map(\.rawValue).joined(separator: ", ")))"
    }
}

extension EventType {
    /// The types named in `names`, each of which may be a comma-separated list
    /// (`?type=message.sent,email.clicked`, `--type message.sent`).
    public static func set(from names: [String]) throws(UnknownEventType) -> Set<EventType> {
        var types: Set<EventType> = []
        for name in names.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let type = EventType(rawValue: name) else { throw UnknownEventType(name: name) }
            types.insert(type)
        }
        return types
    }
}
