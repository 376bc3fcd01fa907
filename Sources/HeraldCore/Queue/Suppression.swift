/// A recipient who must not be messaged on a channel: unsubscribed, bounced, complained, or
/// blocked by an operator. Kept under the normalized address (lower-cased email, E.164 phone).
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

    public var channel: Channel
    public var address: String
    public var reason: Reason
    /// Where it came from: `smtp 550 5.1.1`, `unsubscribe link`, `herald suppress add`.
    public var source: String?

    public init(channel: Channel, address: String, reason: Reason, source: String? = nil) {
        self.channel = channel
        self.address = address
        self.reason = reason
        self.source = source
    }
}
