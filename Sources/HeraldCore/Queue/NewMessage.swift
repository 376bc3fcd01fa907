/// A validated message on its way into the queue.
public struct NewMessage: Sendable, Equatable {
    /// Idempotency key: enqueuing a key that exists is a no-op reported as duplicate.
    public var key: String?
    public var channel: Channel
    public var template: String
    public var recipient: Recipient
    /// The message's `data` object as JSON text.
    public var dataJSON: String
    /// Unix milliseconds.
    public var sendAt: Int64
    public var category: MessageCategory
    public var campaign: String?

    public init(key: String?, channel: Channel, template: String, recipient: Recipient, dataJSON: String = "{}",
                sendAt: Int64, category: MessageCategory = .marketing, campaign: String? = nil) {
        self.key = key
        self.channel = channel
        self.template = template
        self.recipient = recipient
        self.dataJSON = dataJSON
        self.sendAt = sendAt
        self.category = category
        self.campaign = campaign
    }
}

/// What enqueuing one message did.
public enum EnqueueOutcome: Sendable, Equatable {
    case queued(id: Int64)
    /// A message with this key exists already (`id` is the existing one); nothing was inserted.
    case duplicate(id: Int64)
}
