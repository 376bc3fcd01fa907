import Crypto
import Foundation

/// Makes the events the config asks for; every event Herald records is built here, so its shape
/// is decided in one place. Code that changes the queue asks it for the events of the change and
/// hands them to the queue with the change (the engine writes both in one transaction).
public struct EventLog: Sendable {
    /// The types recorded; empty when events are off.
    public let types: Set<EventType>

    public init(types: Set<EventType>) {
        self.types = types
    }

    /// Records nothing (no `events` section in the config).
    public static let off = EventLog(types: [])

    public var isOn: Bool { !types.isEmpty }

    /// How a recipient left or came back, as `recipient.unsubscribed` names it.
    public enum Method: String, Sendable {
        case linkPage = "link_page"
        case oneClick = "one_click"
        case smsStop = "sms_stop"
        case smsStart = "sms_start"
        /// The provider reported the recipient opted out (Twilio 21610).
        case providerOptOut = "provider_opt_out"
        /// `herald suppress`, `/v1/suppressions`.
        case `operator`
    }

    /// One event of `type` about `subject`, or nil when that type is not recorded.
    ///
    /// - Parameter identity: what makes this event itself when the same report may come twice (a
    ///   gateway retrying a receipt): its id is then derived from it, so a receiver drops the repeat.
    public func event(_ type: EventType, about subject: EventSubject, at time: Int64,
                      _ fields: [String: JSONValue] = [:], identity: String? = nil) -> Event? {
        guard types.contains(type) else { return nil }
        var payload = fields
        payload["channel"] = .string(subject.channel.rawValue)
        payload["message_id"] = subject.messageID.map(JSONValue.integer) ?? .null
        payload["key"] = subject.key.map(JSONValue.string) ?? .null
        payload["campaign"] = subject.campaign.map(JSONValue.string) ?? .null
        payload["template"] = subject.template.map(JSONValue.string) ?? .null
        payload["recipient"] = subject.recipient.map(JSONValue.string) ?? .null
        return event(type, messageID: subject.messageID, at: time, payload, identity: identity)
    }

    /// The event with `fields` as its payload plus the fields every event has (`id`, `type`,
    /// `occurred_at`); the caller has named its subject.
    func event(_ type: EventType, messageID: Int64?, at time: Int64, _ fields: [String: JSONValue],
               identity: String? = nil) -> Event {
        let id = "evt_" + (identity.map { Self.digest("\(type.rawValue)\n\($0)") }
            ?? Self.randomID())
        var payload = fields
        payload["id"] = .string(id)
        payload["type"] = .string(type.rawValue)
        payload["occurred_at"] = .string(Timestamp.rfc3339(time))
        return Event(id: id, type: type, occurredAt: time, messageID: messageID, payload: JSONValue.object(payload).jsonText)
    }

    /// 128 random bits as 32 hex digits. From the system's generator (getrandom) rather than
    /// UUID(), which opened, read and closed /dev/urandom for every event.
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeBytes(of: bits) { Hex.encode($0) }
    }

    /// What a settlement tells the CRM: sent; failed (and bounced, or the recipient opted out,
    /// when that is why); a soft bounce on a retry; suppressed; deferred. A release says nothing:
    /// the message simply goes back to the queue.
    public func events(for settlement: Settlement, of subject: EventSubject, at time: Int64) -> [Event] {
        guard isOn else { return [] }
        switch settlement {
        case .sent(let attempt):
            return [event(.messageSent, about: subject, at: time, [
                "remote_id": attempt.remoteID.map(JSONValue.string) ?? .null,
                "remote_code": attempt.remoteCode.map(JSONValue.string) ?? .null,
                "remote_text": attempt.remoteText.map(JSONValue.string) ?? .null,
                "attempt": .integer(Int64(attempt.number)),
            ])].compactMap { $0 }
        case .failed(let attempt, let lastError, let suppression):
            var made = [event(.messageFailed, about: subject, at: time, [
                "error_code": attempt.errorCode.map(JSONValue.string) ?? .null,
                "error": .string(lastError),
                "remote_code": attempt.remoteCode.map(JSONValue.string) ?? .null,
                "remote_text": attempt.remoteText.map(JSONValue.string) ?? .null,
                "attempt": .integer(Int64(attempt.number)),
            ])]
            if let bounce = Bounce(attempt, channel: subject.channel) {
                made.insert(event(.messageBounced, about: subject, at: time, bounce.fields), at: 0)
            }
            if let suppression, attempt.errorCode == DeliveryError.Code.optedOut.rawValue {
                made.append(unsubscribed(suppression, how: .providerOptOut, subject: subject, at: time))
            }
            return made.compactMap { $0 }
        case .retry(let attempt, let lastError):
            guard let bounce = Bounce(attempt, channel: subject.channel) else { return [] }
            var fields = bounce.fields
            fields["error"] = .string(lastError)
            fields["retry_at"] = attempt.retryAt.map { .string(Timestamp.rfc3339($0)) } ?? .null
            return [event(.messageBounced, about: subject, at: time, fields)].compactMap { $0 }
        case .suppressed(_, let suppression):
            return [event(.messageSuppressed, about: subject, at: time, [
                "reason": .string(suppression.reason.rawValue),
                "source": suppression.source.map(JSONValue.string) ?? .null,
            ])].compactMap { $0 }
        case .deferred(_, let deferral):
            return [event(.messageDeferred, about: subject, at: time, [
                "reason": .string(deferral.reason.rawValue), "until": .string(Timestamp.rfc3339(deferral.until)),
            ])].compactMap { $0 }
        case .release:
            return []
        }
    }

    /// `recipient.unsubscribed` for a suppression the recipient (or their provider, or an operator) made.
    public func unsubscribed(_ suppression: Suppression, how: Method, subject: EventSubject? = nil, at time: Int64) -> Event? {
        event(.recipientUnsubscribed, about: subject ?? EventSubject(suppression.address), at: time, [
            "how": .string(how.rawValue), "reason": .string(suppression.reason.rawValue),
            "source": suppression.source.map(JSONValue.string) ?? .null,
        ])
    }

    /// `sms.delivered` or `sms.undelivered` from the gateway's receipt: its own word for the
    /// status, and the carrier's or gateway's error code when it gave one.
    public func smsReceipt(delivered: Bool, of message: EventSubject, status: String, errorCode: String?, gateway: String,
                           at time: Int64) -> Event? {
        event(delivered ? .smsDelivered : .smsUndelivered, about: message, at: time, [
            "status": .string(status), "error_code": errorCode.map(JSONValue.string) ?? .null, "gateway": .string(gateway),
        ], identity: "\(message.messageID ?? 0)\n\(status)")
    }

    /// `email.opened` (the pixel) or, with `url`, `email.clicked`: whether software did it and why
    /// (`MachineTraffic`), whether it is a person's first, and the client's `User-Agent`.
    public func engagement(of message: EventSubject, link: (index: Int, url: String)?, verdict: MachineTraffic.Verdict,
                           userAgent: String?, at time: Int64) -> Event? {
        var fields: [String: JSONValue] = [
            "machine": .bool(verdict.machine != nil),
            "machine_reason": verdict.machine.map { .string($0.rawValue) } ?? .null,
            "first": .bool(verdict.first),
            "user_agent": userAgent.map { .string(String($0.prefix(300))) } ?? .null,
        ]
        if let link {
            fields["url"] = .string(link.url)
            fields["link"] = .integer(Int64(link.index))
        }
        return event(link == nil ? .emailOpened : .emailClicked, about: message, at: time, fields)
    }

    /// `message.bounced` for a bounce that came back after the relay took the message (a DSN, a
    /// bounce text): hard or soft, the status code, and whether the address is now suppressed.
    public func bounced(_ bounce: BounceRecord, diagnostic: String?, about message: EventSubject, at time: Int64) -> Event? {
        event(.messageBounced, about: message, at: time, [
            "bounce": bounce.severity.map { .string($0.rawValue) } ?? .null,
            "status": bounce.status.map(JSONValue.string) ?? .null,
            "remote_code": .null,
            "remote_text": diagnostic.map { .string(String($0.prefix(1_000))) } ?? .null,
            "reported": .string(bounce.format),
            "suppressed": .bool([.suppressed, .suppressedSoft].contains(bounce.decision)),
        ], identity: "bounce\n\(bounce.source)\n\(bounce.sourceID)")
    }

    /// `recipient.complained`: the recipient or their provider reported the mail as spam (ARF).
    public func complained(_ bounce: BounceRecord, about message: EventSubject, at time: Int64) -> Event? {
        event(.recipientComplained, about: message, at: time, [
            "feedback_type": bounce.feedbackType.map(JSONValue.string) ?? .null,
            "reported": .string(bounce.format),
        ], identity: "complaint\n\(bounce.source)\n\(bounce.sourceID)")
    }

    /// `letter.exported` or `letter.uploaded` for each letter of `batch`.
    public func letters(_ type: EventType, _ letters: [Letter], of batch: LetterBatch, at time: Int64) -> [Event] {
        guard types.contains(type) else { return [] }
        return letters.compactMap { letter in
            let recipient = Recipient(name: letter.name, address: PostalAddress(
                line1: letter.line1, line2: letter.line2, city: letter.city, region: letter.region,
                postalCode: letter.postalCode, country: letter.country))
            let subject = EventSubject(messageID: letter.messageID, key: letter.key, campaign: letter.campaign.isEmpty ? nil : letter.campaign,
                                       channel: .letter, template: letter.template, recipient: Address(of: recipient, on: .letter).value)
            return event(type, about: subject, at: time, ["batch": .string(batch.name), "file": .string(batch.csvFileName)])
        }
    }

    /// 32 hex digits of SHA-256.
    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// `recipient.resubscribed` for a suppression lifted.
    public func resubscribed(_ address: Address, how: Method, at time: Int64) -> Event? {
        event(.recipientResubscribed, about: EventSubject(address), at: time, ["how": .string(how.rawValue)])
    }
}

/// An SMTP refusal of the recipient as `message.bounced` reports it: hard for a 5.1.x address
/// error (the address is suppressed), soft for any other refusal that carries an enhanced status
/// code (mailbox full, try later). Connection and login problems are not bounces.
struct Bounce {
    var kind: String
    var status: String
    var attempt: DeliveryAttempt

    init?(_ attempt: DeliveryAttempt, channel: Channel) {
        guard channel == .email,
              [DeliveryError.Code.hardBounce.rawValue, DeliveryError.Code.smtpReply.rawValue].contains(attempt.errorCode),
              let code = attempt.remoteCode.flatMap(Int.init), let line = attempt.remoteText else { return nil }
        let text = line.hasPrefix("\(code) ") ? String(line.dropFirst(4)) : line
        guard let status = SMTPReply(code: code, text: text).enhancedStatus else { return nil }
        self.kind = status.hasPrefix("5.1.") ? "hard" : "soft"
        self.status = status
        self.attempt = attempt
    }

    var fields: [String: JSONValue] {
        ["bounce": .string(kind), "status": .string(status),
         "remote_code": attempt.remoteCode.map(JSONValue.string) ?? .null,
         "remote_text": attempt.remoteText.map(JSONValue.string) ?? .null]
    }
}
