/// The ways Herald can reach a recipient. Each has its own adapter under `Channels/`.
public enum Channel: String, CaseIterable, Sendable, Codable, Comparable {
    case email
    case sms
    case webhook
    case letter

    public static func < (lhs: Channel, rhs: Channel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
