/// One recorded try at delivering a message: a row of the attempts table.
public struct DeliveryAttempt: Sendable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case sent
        case transient
        case permanent
    }

    public var messageID: Int64
    /// 1 for the first attempt.
    public var number: Int
    /// Unix milliseconds.
    public var startedAt: Int64
    public var durationMicroseconds: Int64
    /// The process that made the attempt (`LeaseOwner` text).
    public var worker: String
    public var outcome: Outcome
    /// The stable error code (`DeliveryError.code`), nil when sent.
    public var errorCode: String?
    /// The remote's code: an HTTP status, an SMTP reply code.
    public var remoteCode: String?
    /// The remote's answer or the error text, at most 1 KB.
    public var remoteText: String?
    /// When the next attempt is due, for a transient outcome with attempts left.
    public var retryAt: Int64?
    /// The provider's id for the accepted message (a Twilio SID), for matching its receipts.
    public var remoteID: String?

    public init(messageID: Int64, number: Int, startedAt: Int64, durationMicroseconds: Int64, worker: String,
                outcome: Outcome, errorCode: String? = nil, remoteCode: String? = nil, remoteText: String? = nil,
                retryAt: Int64? = nil, remoteID: String? = nil) {
        self.messageID = messageID
        self.number = number
        self.startedAt = startedAt
        self.durationMicroseconds = durationMicroseconds
        self.worker = worker
        self.outcome = outcome
        self.errorCode = errorCode
        self.remoteCode = remoteCode
        self.remoteText = remoteText
        self.retryAt = retryAt
        self.remoteID = remoteID
    }

    /// The most of a remote's answer that is kept.
    public static let remoteTextLimit = 1_024
}

/// How a claimed message leaves its lease.
public enum Settlement: Sendable, Equatable {
    case sent(DeliveryAttempt)
    /// A transient failure with attempts left: queued again, due at `attempt.retryAt`.
    case retry(DeliveryAttempt, lastError: String)
    /// A permanent failure, or the last attempt failed; a hard bounce also suppresses the address.
    case failed(DeliveryAttempt, lastError: String, suppression: Suppression? = nil)
    /// Abandoned without an outcome (shutdown deadline): queued again, the attempt not spent.
    case release(messageID: Int64)
    /// Put off by a policy at the moment of sending (a rate limit's admission): queued again,
    /// due at the deferral's end, the attempt not spent.
    case deferred(messageID: Int64, Deferral)
    /// The recipient is suppressed (found when the message was screened): ended `suppressed`, the
    /// attempt not spent.
    case suppressed(messageID: Int64, Suppression)

    var attempt: DeliveryAttempt? {
        switch self {
        case .sent(let attempt), .retry(let attempt, _), .failed(let attempt, _, _): attempt
        case .release, .deferred, .suppressed: nil
        }
    }

    var messageID: Int64 {
        switch self {
        case .sent(let attempt), .retry(let attempt, _), .failed(let attempt, _, _): attempt.messageID
        case .release(let id), .deferred(let id, _), .suppressed(let id, _): id
        }
    }

    /// For logs: sent, retry, failed, release or deferred.
    var kind: String {
        switch self {
        case .sent: "sent"
        case .retry: "retry"
        case .failed: "failed"
        case .release: "release"
        case .deferred: "deferred"
        case .suppressed: "suppressed"
        }
    }
}
