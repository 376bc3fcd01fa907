/// One processed bounce, complaint or auto-reply as Herald keeps it for review: what came in,
/// what was read from it, and what was decided.
public struct BounceRecord: Sendable, Equatable {
    /// What Herald did with it.
    public enum Decision: String, Sendable, Equatable, CaseIterable {
        /// A hard bounce: the address is suppressed (`bounced`).
        case suppressed
        /// A soft bounce, counted in the window.
        case counted
        /// A soft bounce that filled the window: the address is suppressed (`bounced`).
        case suppressedSoft = "suppressed_soft"
        /// A complaint: the address is suppressed (`complained`).
        case complained
        /// Read, and counts for nothing: a delay warning, an auto-reply, a bounce about an address
        /// already suppressed for a stronger reason.
        case ignored
        /// Mail that is not a report (left where it is in a mailbox).
        case unrelated
        /// Could not be read or matched: kept for an operator.
        case review
    }

    public var id: Int64
    /// Unix ms.
    public var receivedAt: Int64
    /// How it came in: `ingest`, `imap`, `pop3`, a provider's name.
    public var source: String
    /// What identifies it at its source (a mailbox's UID, a digest of the bytes), so the same
    /// report taken twice is recorded once.
    public var sourceID: String
    public var kind: BounceReport.Kind
    public var format: String
    public var messageID: Int64?
    /// When that message's delivery was recorded as sent (unix ms).
    public var messageSentAt: Int64?
    /// The address it is about, as Herald keys it.
    public var recipient: String?
    public var status: String?
    public var severity: BounceClassification.Severity?
    public var feedbackType: String?
    public var decision: Decision
    /// Why, in words.
    public var reason: String
    /// The message or payload as received.
    public var raw: [UInt8]

    public init(id: Int64 = 0, receivedAt: Int64, source: String, sourceID: String, kind: BounceReport.Kind, format: String,
                messageID: Int64? = nil, messageSentAt: Int64? = nil, recipient: String? = nil, status: String? = nil,
                severity: BounceClassification.Severity? = nil, feedbackType: String? = nil, decision: Decision, reason: String,
                raw: [UInt8]) {
        self.id = id
        self.receivedAt = receivedAt
        self.source = source
        self.sourceID = sourceID
        self.kind = kind
        self.format = format
        self.messageID = messageID
        self.messageSentAt = messageSentAt
        self.recipient = recipient
        self.status = status
        self.severity = severity
        self.feedbackType = feedbackType
        self.decision = decision
        self.reason = reason
        self.raw = raw
    }
}
