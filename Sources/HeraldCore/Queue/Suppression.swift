import Foundation

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
    /// When it was recorded (unix ms); nil before it is stored.
    public var createdAt: Int64?

    public init(channel: Channel, address: String, reason: Reason, source: String? = nil, createdAt: Int64? = nil) {
        self.channel = channel
        self.address = address
        self.reason = reason
        self.source = source
        self.createdAt = createdAt
    }

    /// The form an address is kept under on `channel`: lower-cased email, E.164 phone (spaces,
    /// dashes, dots and parentheses dropped). Throws naming what is wrong.
    public static func normalizedAddress(_ text: String, channel: Channel) throws(IntakeRejection) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch channel {
        case .email:
            guard MessageValidation.isEmailAddress(trimmed) else {
                throw IntakeRejection(field: "address", "not an email address (\"\(trimmed.prefix(80))\")")
            }
            return trimmed.lowercased()
        case .sms:
            let phone = String(trimmed.unicodeScalars.filter { !" -.()".unicodeScalars.contains($0) })
            guard MessageValidation.isE164(phone) else {
                throw IntakeRejection(field: "address", "not an E.164 phone number (\"\(trimmed.prefix(80))\"), e.g. \"+15551234567\"")
            }
            return phone
        case .webhook, .letter:
            guard !trimmed.isEmpty else { throw IntakeRejection(field: "address", "must not be empty") }
            return trimmed.lowercased()
        }
    }
}
