import Crypto
import Foundation

/// Signed unsubscribe links: `<base_url>/<token>`, where the token carries the channel, the
/// normalized address and the campaign, and an HMAC-SHA256 over them with a key from the
/// environment. Whoever holds a link can unsubscribe that one address, and nobody can make a
/// link for another address without the key.
public struct UnsubscribeLinks: Sendable, CustomStringConvertible {
    /// The public URL the links start with, e.g. `https://crm.example.com/unsubscribe`.
    public let baseURL: String
    private let keyBytes: [UInt8]
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
        keyBytes = Array(secret.exposedValue.utf8)
        unsigned = secret.isUnset
    }

    public var description: String { "UnsubscribeLinks(\(baseURL), <redacted>)" }

    public func url(channel: Channel, recipient: Recipient, campaign: String?) -> String {
        if unsigned { return "\(baseURL)/\(Self.unsignedPlaceholder)" }
        return "\(baseURL)/\(token(Subject(address: Address(of: recipient, on: channel), campaign: campaign)))"
    }

    public func token(_ subject: Subject) -> String {
        let payload = Self.base64URL(Data(
            [subject.channel.rawValue, subject.address.value, subject.campaign ?? ""].joined(separator: "\n").utf8))
        return payload + "." + signature(payload)
    }

    /// The subject of a token this key signed; nil for a forged, altered or malformed token.
    public func verify(_ token: String) -> Subject? {
        guard !unsigned else { return nil }
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        // The signature is compared as text: only the one canonical spelling verifies, not the same
        // bytes with padding appended or a last character whose unused bits differ.
        guard pieces.count == 2, ConstantTime.equal(pieces[1].utf8, signature(String(pieces[0])).utf8),
              let payload = Self.decodeBase64URL(pieces[0]), let text = String(data: payload, encoding: .utf8)
        else { return nil }
        let fields = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3, let channel = Channel(rawValue: fields[0]) else { return nil }
        // Normalized again: a link sent before a change to the address rule still names the
        // address the suppression list keeps today.
        let address = (try? Address(fields[1], channel: channel)) ?? Address(normalized: fields[1], channel: channel)
        return Subject(address: address, campaign: fields[2].isEmpty ? nil : fields[2])
    }

    private func signature(_ payload: String) -> String {
        Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: keyBytes))))
    }

    /// RFC 4648 §5 without padding. Mapped byte by byte: three `replacingOccurrences` calls
    /// through NSString were most of the cost of a link.
    static func base64URL(_ data: Data) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count * 4 / 3 + 4)
        for byte in data.base64EncodedData() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decodeBase64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
