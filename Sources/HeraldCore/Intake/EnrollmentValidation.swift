import Foundation

/// Turns one incoming `{"enroll": NAME, "key": …, "to": {…}, "data": {…}, "campaign": …}` into an
/// enrollment in the sequence's current version, or a rejection that names the field.
public struct EnrollmentValidation: Sendable {
    let messages: MessageValidation
    let sequences: SequenceStore
    /// The recipient's zone when `to.timezone` is not given.
    let timeZone: String
    /// What an enrollment records when it starts.
    let events: EventLog

    public init(messages: MessageValidation, sequences: SequenceStore, timeZone: String, events: EventLog) {
        self.messages = messages
        self.sequences = sequences
        self.timeZone = timeZone
        self.events = events
    }

    static let fields: Set<String> = ["enroll", "key", "to", "data", "campaign"]

    public func validate(_ value: JSONValue, now: Int64) -> Result<(NewEnrollment, SequenceVersion), IntakeRejection> {
        Result { () throws(IntakeRejection) in try enrollment(from: value, now: now) }
    }

    func enrollment(from value: JSONValue, now: Int64) throws(IntakeRejection) -> (NewEnrollment, SequenceVersion) {
        guard case .object(let object) = value else {
            throw IntakeRejection(field: "", "expected a JSON object, got \(value.errorDescription)")
        }
        try MessageValidation.refuseUnknown(object, allowed: Self.fields, prefix: "")
        guard let name = try messages.optionalString(object, "enroll") else {
            throw IntakeRejection(field: "enroll", "required: the sequence's name")
        }
        guard let sequence = sequences.sequence(named: name) else {
            let known = sequences.sequences.map(\.name)
            throw IntakeRejection(field: "enroll", "no sequence \"\(name.prefix(80))\" (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        // An enrollment's key is required: it is what makes enrolling again harmless. At most
        // 200 bytes, so its steps' message keys (`<key>/<step name>`) stay within a message key's 255.
        guard let key = try messages.optionalString(object, "key") else {
            throw IntakeRejection(field: "key", "required for an enrollment (e.g. \"lead-4711/\(name)\")")
        }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw IntakeRejection(field: "key", "must be 1 to 200 printable ASCII characters without spaces (\"\(key.prefix(80))\")")
        }
        guard let to = object["to"] else { throw IntakeRejection(field: "to", "required") }
        var recipient = Recipient()
        for channel in Set(sequence.steps.map(\.channel)).sorted() {
            guard messages.channels.contains(channel) else {
                throw IntakeRejection(field: "enroll", "\"\(name)\" sends on \(channel.rawValue), which is not configured")
            }
            recipient = try messages.recipient(from: to, channel: channel)
        }
        let dataJSON = try MessageValidation.dataJSON(object)
        let campaign = try messages.campaign(object)
        let zone = TimeZone(identifier: recipient.timezone ?? timeZone) ?? TimeZone(identifier: "UTC")!
        let first = sequence.schedule(start: now, key: key, timeZone: zone)[0].due
        var enrollment = NewEnrollment(key: key, sequence: name, version: sequence.version, recipient: recipient, dataJSON: dataJSON,
                                       campaign: campaign, startedAt: now, firstDue: first,
                                       reenrollAfter: sequence.reenrollment.minimumAge)
        enrollment.started = events.enrollmentStarted(EnrollmentSubject(enrollment), firstDue: first, at: now)
        return (enrollment,
                SequenceVersion(sequence: name, version: sequence.version, definition: sequence.source))
    }
}
