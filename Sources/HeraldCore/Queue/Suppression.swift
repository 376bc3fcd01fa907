import Foundation

/// A recipient who must not be messaged on a channel: unsubscribed, bounced, complained, or
/// blocked by an operator. Kept under its `Address`.
public struct Suppression: Sendable, Equatable {
    public enum Reason: String, Sendable, Codable, CaseIterable {
        /// The recipient asked to stop (unsubscribe link, STOP reply). Transactional messages may
        /// skip it where the config says so.
        case unsubscribed
        /// The address does not exist (a hard bounce). Never skipped.
        case bounced
        /// The recipient marked a message as spam, or the carrier reported an opt-out.
        case complained
        /// Added by an operator.
        case manual
    }

    public var address: Address
    public var channel: Channel { address.channel }
    public var reason: Reason
    /// Where it came from: `smtp 550 5.1.1`, `unsubscribe link`, `herald suppress add`.
    public var source: String?
    /// When it was recorded (unix ms); nil before it is stored.
    public var createdAt: Int64?

    public init(_ address: Address, reason: Reason, source: String? = nil, createdAt: Int64? = nil) {
        self.address = address
        self.reason = reason
        self.source = source
        self.createdAt = createdAt
    }

    /// Why a message was not sent, as its last error says: `unsubscribed (unsubscribe link)`.
    public var summary: String {
        reason.rawValue + (source.map { " (\($0))" } ?? "")
    }
}
