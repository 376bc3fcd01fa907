/// The lead in a sequence that an `enrollment.*` event is about.
public struct EnrollmentSubject: Sendable, Equatable {
    /// The enrollment's key, as the CRM gave it.
    public var key: String
    public var sequence: String
    /// The version of the sequence the lead follows.
    public var version: String
    public var campaign: String?
    public var recipient: Recipient

    public init(key: String, sequence: String, version: String, campaign: String?, recipient: Recipient) {
        self.key = key
        self.sequence = sequence
        self.version = version
        self.campaign = campaign
        self.recipient = recipient
    }

    public init(_ enrollment: NewEnrollment) {
        self.init(key: enrollment.key, sequence: enrollment.sequence, version: enrollment.version,
                  campaign: enrollment.campaign, recipient: enrollment.recipient)
    }

    public init(_ enrollment: EnrollmentProgress) {
        self.init(key: enrollment.key, sequence: enrollment.sequence, version: enrollment.version,
                  campaign: enrollment.campaign, recipient: enrollment.recipient)
    }

    /// The lead as the CRM knows it across channels: the email address, else the phone number,
    /// else the webhook endpoint, in Address's normal form.
    var address: String? {
        if recipient.email != nil { return Address(of: recipient, on: .email).value }
        if recipient.phone != nil { return Address(of: recipient, on: .sms).value }
        return recipient.endpoint.map { _ in Address(of: recipient, on: .webhook).value }
    }
}

/// The events of a lead's way through a sequence. `enrollment.step` is about the step's message
/// (its id, key, channel and template); the others are about no one message, so those fields are
/// null, and every one names the enrollment, its sequence and version.
extension EventLog {
    /// `enrollment.started`: the lead entered `subject.sequence`; its first step is due at `firstDue`.
    public func enrollmentStarted(_ subject: EnrollmentSubject, firstDue: Int64, at time: Int64) -> Event? {
        enrollmentEvent(.enrollmentStarted, subject, at: time, ["first_due": .string(Timestamp.rfc3339(firstDue))])
    }

    /// `enrollment.step`: step `number` (from 1) of `of` became the queued message `message`,
    /// due at `due`. Its `message_id` is filled in once the queue has inserted the message.
    public func enrollmentStep(_ subject: EnrollmentSubject, step name: String, number: Int, of count: Int,
                               message: NewMessage, due: Int64, at time: Int64) -> Event? {
        guard types.contains(.enrollmentStep) else { return nil }
        var fields = common(subject)
        fields["step"] = .string(name)
        fields["step_number"] = .integer(Int64(number))
        fields["steps"] = .integer(Int64(count))
        fields["due_at"] = .string(Timestamp.rfc3339(due))
        fields["key"] = message.key.map(JSONValue.string) ?? .null
        fields["channel"] = .string(message.channel.rawValue)
        fields["template"] = .string(message.template)
        fields["recipient"] = .string(Address(of: message.recipient, on: message.channel).value)
        return event(.enrollmentStep, messageID: nil, at: time, fields)
    }

    /// `enrollment.completed`: every step of the lead's version was queued and the last settled.
    public func enrollmentCompleted(_ subject: EnrollmentSubject, steps: Int, at time: Int64) -> Event? {
        enrollmentEvent(.enrollmentCompleted, subject, at: time, ["steps": .integer(Int64(steps))])
    }

    /// `enrollment.exited`: the lead left before the end, for `reason`: a goal (`booked`,
    /// `converted`), `operator`, the recipient's suppression (`unsubscribed`, `bounced`,
    /// `complained`, `manual`) or `max_age`. `canceledStep` is the key of the queued step message
    /// canceled with it; `stepInFlight` the one being sent at that moment.
    public func enrollmentExited(_ subject: EnrollmentSubject, reason: String, canceledStep: String?, stepInFlight: String?,
                                 at time: Int64) -> Event? {
        enrollmentEvent(.enrollmentExited, subject, at: time, [
            "reason": .string(reason),
            "canceled_step": canceledStep.map(JSONValue.string) ?? .null,
            "step_in_flight": stepInFlight.map(JSONValue.string) ?? .null,
        ])
    }

    private func enrollmentEvent(_ type: EventType, _ subject: EnrollmentSubject, at time: Int64,
                                 _ fields: [String: JSONValue]) -> Event? {
        guard types.contains(type) else { return nil }
        return event(type, messageID: nil, at: time, common(subject).merging(fields) { _, own in own })
    }

    private func common(_ subject: EnrollmentSubject) -> [String: JSONValue] {
        [
            "message_id": .null, "key": .null, "channel": .null, "template": .null,
            "campaign": .string(subject.campaign ?? subject.sequence),
            "recipient": subject.address.map(JSONValue.string) ?? .null,
            "enrollment": .string(subject.key), "sequence": .string(subject.sequence), "version": .string(subject.version),
        ]
    }
}
