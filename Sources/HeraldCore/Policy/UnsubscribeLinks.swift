import Foundation

/// Signed unsubscribe links: `<base_url>/<token>`, where the token (a `SignedToken`) carries the
/// channel, the normalized address and the campaign. Whoever holds a link can unsubscribe that
/// one address, and nobody can make a link for another address without the key.
public struct UnsubscribeLinks: Sendable, CustomStringConvertible {
    /// The public URL the links start with, e.g. `https://crm.example.com/unsubscribe`.
    public let baseURL: String
    private let signer: SignedToken
    /// The signing key's variable was not set: links are placeholders and no token verifies.
    public let unsigned: Bool

    /// Where a signed token would go when the key is unset (previews, template checks).
    public static let unsignedPlaceholder = "UNSIGNED-unsubscribe.secret-is-not-set"

    /// What a valid token says.
    public struct Subject: Sendable, Equatable {
        public var address: Address
        public var campaign: String?
        public var channel: Channel { address.channel }

        public init(address: Address, campaign: String?) {
            self.address = address
            self.campaign = campaign
        }
    }

    public init(baseURL: String, secret: Secret) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        signer = SignedToken(secret: secret)
        unsigned = secret.isUnset
    }

    public var description: String { "UnsubscribeLinks(\(baseURL), <redacted>)" }

    public func url(channel: Channel, recipient: Recipient, campaign: String?) -> String {
        if unsigned { return "\(baseURL)/\(Self.unsignedPlaceholder)" }
        return "\(baseURL)/\(token(Subject(address: Address(of: recipient, on: channel), campaign: campaign)))"
    }

    public func token(_ subject: Subject) -> String {
        signer.seal([subject.channel.rawValue, subject.address.value, subject.campaign ?? ""].joined(separator: "\n"))
    }

    /// The subject of a token this key signed; nil for a forged, altered or malformed token.
    public func verify(_ token: String) -> Subject? {
        guard !unsigned, let text = signer.open(token) else { return nil }
        let fields = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3, let channel = Channel(rawValue: fields[0]) else { return nil }
        // Normalized again: a link sent before a change to the address rule still names the
        // address the suppression list keeps today.
        let address = (try? Address(fields[1], channel: channel)) ?? Address(normalized: fields[1], channel: channel)
        return Subject(address: address, campaign: fields[2].isEmpty ? nil : fields[2])
    }
}
