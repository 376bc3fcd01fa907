import Foundation

/// What a recipient's SMS reply means for their consent (CTIA keywords, as carriers and Twilio
/// treat them): the whole message, trimmed, in any case.
public enum SMSReply: Sendable, Equatable {
    case optOut
    case optIn
    /// Anything else: not Herald's business (a CRM may read replies elsewhere).
    case other

    static let optOutWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    static let optInWords: Set<String> = ["START", "UNSTOP"]

    public init(body: String) {
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if Self.optOutWords.contains(word) {
            self = .optOut
        } else if Self.optInWords.contains(word) {
            self = .optIn
        } else {
            self = .other
        }
    }
}
