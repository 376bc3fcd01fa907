/// How one delivery attempt ended, as an adapter reports it. Every outcome is one of these three.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The remote accepted the message; `remoteID` is the provider's own id for it (a Twilio
    /// message SID), when it gives one.
    case sent(remoteCode: String?, remoteText: String?, remoteID: String? = nil)
    /// Worth trying again later; `retryAfter` is the remote's own hint (a floor for the delay).
    case transient(DeliveryError, retryAfter: Duration?)
    /// Trying again cannot help.
    case permanent(DeliveryError)
}
