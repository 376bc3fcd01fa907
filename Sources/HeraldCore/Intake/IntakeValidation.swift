/// What one input line may be: a message, or (`{"enroll": NAME, …}`) a lead entering a sequence.
/// Every intake (the socket API, the drop folder, `herald enqueue`) reads both through this one
/// rule, so a CRM can mix them in one stream; `herald enroll` takes enrollments only.
public struct IntakeValidation: Sendable {
    /// A validated line.
    public enum Item: Sendable {
        case message(NewMessage)
        case enrollment(NewEnrollment, SequenceVersion)
    }

    /// nil: only enrollments are taken (`herald enroll`).
    public let messages: MessageValidation?
    /// nil: enrollments are refused (a caller with no sequences to offer).
    public let enrollments: EnrollmentValidation?

    public init(messages: MessageValidation?, enrollments: EnrollmentValidation? = nil) {
        self.messages = messages
        self.enrollments = enrollments
    }

    /// Validates against the configured channels, the templates in `templates` and the sequences
    /// in `sequences`.
    public init(config: HeraldConfig, templates: TemplateStore, sequences: SequenceStore) {
        let messages = MessageValidation(config: config, templates: templates)
        self.init(messages: messages,
                  enrollments: EnrollmentValidation(messages: messages, sequences: sequences, timeZone: config.timezone,
                                                 events: config.eventLog))
    }

    public func validate(_ value: JSONValue, now: Int64) -> Result<Item, IntakeRejection> {
        guard case .object(let object) = value, object["enroll"] != nil else {
            guard let messages else {
                return .failure(IntakeRejection(field: "enroll", "required: the sequence's name (messages are queued with herald enqueue)"))
            }
            return messages.validate(value, now: now).map(Item.message)
        }
        guard let enrollments else {
            return .failure(IntakeRejection(field: "enroll", "enrollments are not taken here; enroll leads with herald enroll"))
        }
        return enrollments.validate(value, now: now).map(Item.enrollment)
    }
}
