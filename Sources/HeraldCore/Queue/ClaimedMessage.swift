/// A message a worker holds a lease on and is about to deliver.
public struct ClaimedMessage: Sendable, Equatable {
    public var id: Int64
    public var key: String?
    public var channel: Channel
    public var template: String
    public var recipient: Recipient
    public var dataJSON: String
    public var category: MessageCategory
    public var campaign: String?
    /// This attempt's number, starting at 1.
    public var attempt: Int
    /// Unix milliseconds.
    public var dueAt: Int64
    /// Attempts made before an operator's retry; the retry budget counts attempts after it.
    public var retryBase: Int = 0
    /// Attempts in the current round (since enqueue or the operator's last retry).
    public var attemptsThisRound: Int { attempt - retryBase }
    /// Why a policy last deferred it (`rate_limit`: it holds a reserved sending slot).
    public var deferred: String?

    public init(id: Int64, key: String?, channel: Channel, template: String, recipient: Recipient, dataJSON: String,
                category: MessageCategory, campaign: String?, attempt: Int, dueAt: Int64, deferred: String? = nil) {
        self.id = id
        self.key = key
        self.channel = channel
        self.template = template
        self.recipient = recipient
        self.dataJSON = dataJSON
        self.category = category
        self.campaign = campaign
        self.attempt = attempt
        self.dueAt = dueAt
        self.deferred = deferred
    }
}

/// What a claim took off the queue.
public struct ClaimBatch: Sendable {
    public var messages: [ClaimedMessage]
    /// When the earliest message still queued on the claim's channels is due, as the claim left
    /// the queue; nil when none is, or when the claim was full (more is due now).
    public var nextDue: Int64?

    public init(messages: [ClaimedMessage], nextDue: Int64? = nil) {
        self.messages = messages
        self.nextDue = nextDue
    }
}
