/// A snapshot of the queue for `herald status`: counts by state and channel, how late the oldest
/// due message is, and recent throughput.
public struct QueueStatus: Sendable, Codable, Equatable {
    public struct Count: Sendable, Codable, Equatable {
        public var state: String
        public var channel: String
        public var count: Int
    }

    public struct ChannelCount: Sendable, Codable, Equatable {
        public var channel: String
        public var count: Int
    }

    public struct ReasonCount: Sendable, Codable, Equatable {
        public var reason: String
        public var count: Int
    }

    public var counts: [Count]
    /// Queued messages a policy put off, by reason (quiet_hours, rate_limit, frequency_cap).
    public var deferred: [ReasonCount] = []
    /// Queued messages already due, by channel: the backlog waiting for a worker.
    public var dueNow: [ChannelCount]
    /// Due time of the oldest queued message that is already due (unix ms), nil when none is.
    public var oldestDueAt: Int64?
    /// The same, by channel (channels with nothing due are absent).
    public var oldestDueByChannel: [String: Int64] = [:]
    /// Due time of the next queued message not yet due (unix ms).
    public var nextDueAt: Int64?
    /// Messages sent in the last minute and the last hour (from the attempts table).
    public var sentLastMinute: Int
    public var sentLastHour: Int
    /// Attempts that ended in an error in the last hour.
    public var errorsLastHour: Int
    /// When this snapshot was taken (unix ms).
    public var takenAt: Int64

    public init(counts: [Count], deferred: [ReasonCount], dueNow: [ChannelCount], oldestDueAt: Int64?,
                oldestDueByChannel: [String: Int64], nextDueAt: Int64?, sentLastMinute: Int, sentLastHour: Int,
                errorsLastHour: Int, takenAt: Int64) {
        self.counts = counts
        self.deferred = deferred
        self.dueNow = dueNow
        self.oldestDueAt = oldestDueAt
        self.oldestDueByChannel = oldestDueByChannel
        self.nextDueAt = nextDueAt
        self.sentLastMinute = sentLastMinute
        self.sentLastHour = sentLastHour
        self.errorsLastHour = errorsLastHour
        self.takenAt = takenAt
    }

    public func count(state: MessageState, channel: Channel? = nil) -> Int {
        counts.filter { $0.state == state.rawValue && (channel == nil || $0.channel == channel?.rawValue) }
            .reduce(0) { $0 + $1.count }
    }
}
