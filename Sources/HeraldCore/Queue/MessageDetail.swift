
/// One message as operators and the API see it: its fields, where it is, and every attempt.
public struct MessageDetail: Sendable, Equatable {
    public var id: Int64
    public var key: String?
    public var channel: Channel
    public var template: String
    /// The message's `to` and `data` as stored (JSON text).
    public var recipientJSON: String
    public var dataJSON: String
    public var category: MessageCategory
    public var campaign: String?
    public var state: MessageState
    /// Unix milliseconds.
    public var dueAt: Int64
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Attempts spent since it was enqueued (an operator's retry does not reset it).
    public var attemptCount: Int
    public var lastErrorCode: String?
    public var lastError: String?
    /// Oldest first.
    public var attempts: [DeliveryAttempt]

    public init(id: Int64, key: String?, channel: Channel, template: String, recipientJSON: String, dataJSON: String,
                category: MessageCategory, campaign: String?, state: MessageState, dueAt: Int64, createdAt: Int64,
                updatedAt: Int64, attemptCount: Int, lastErrorCode: String?, lastError: String?, attempts: [DeliveryAttempt]) {
        self.id = id
        self.key = key
        self.channel = channel
        self.template = template
        self.recipientJSON = recipientJSON
        self.dataJSON = dataJSON
        self.category = category
        self.campaign = campaign
        self.state = state
        self.dueAt = dueAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.attemptCount = attemptCount
        self.lastErrorCode = lastErrorCode
        self.lastError = lastError
        self.attempts = attempts
    }
}

/// How an operator's change to a message went.
public enum MessageChange: Sendable, Equatable {
    case done(MessageDetail)
    case notFound
    /// The message is in a state the change does not apply to.
    case refused(MessageState)
}

