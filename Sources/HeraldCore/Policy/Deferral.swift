/// Why a policy put a message off, and until when.
public struct Deferral: Sendable, Equatable {
    public enum Reason: String, Sendable, CaseIterable {
        case quietHours = "quiet_hours"
        case rateLimit = "rate_limit"
        case frequencyCap = "frequency_cap"
    }

    public var reason: Reason
    /// Unix milliseconds.
    public var until: Int64
}
