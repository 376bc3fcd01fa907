import Crypto
import Foundation

/// Standard Webhooks signing (standardwebhooks.com): the receiver recomputes
/// `base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))` and compares it to `webhook-signature`.
public struct WebhookSignature: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The HMAC with the key already mixed in, copied for each signature: keying it (padding and
    /// hashing the key twice) was about 40 % of signing a webhook.
    private let keyed: KeyedHMAC

    /// `secret` is the `whsec_`-prefixed form; nil when it is not one.
    public init?(secret: Secret) {
        guard let bytes = WebhookEndpoint.signingKey(from: secret) else { return nil }
        keyed = KeyedHMAC(hmac: HMAC<SHA256>(key: SymmetricKey(data: bytes)))
    }

    /// SymmetricKey is not Sendable in swift-crypto 3; this HMAC is never changed, only copied.
    private struct KeyedHMAC: @unchecked Sendable {
        let hmac: HMAC<SHA256>
    }

    public var description: String { "WebhookSignature(<redacted>)" }
    public var debugDescription: String { description }

    /// A signed JSON POST of `body` to `endpoint` (its own headers after the signature's).
    /// `id` is the `webhook-id`: the same on every try of one message, so receivers de-duplicate.
    public func request(to endpoint: WebhookEndpoint, id: String, body: [UInt8], timestamp: Int64,
                        connectTimeout: Duration) -> OutboundRequest {
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", sign(id: id, timestamp: timestamp, body: body)),
        ] + endpoint.headers
        return OutboundRequest(method: "POST", url: endpoint.url, headers: headers, body: body, connectTimeout: connectTimeout,
                               timeout: endpoint.timeout)
    }

    /// The `webhook-signature` header value: `v1,<base64 signature>`.
    public func sign(id: String, timestamp: Int64, body: [UInt8]) -> String {
        // Fed in pieces rather than joined first: every webhook is signed, and building the
        // joined content cost allocations of its own.
        var hmac = keyed.hmac
        var id = id
        id.withUTF8 { hmac.update(data: $0) }
        var prefix = ".\(timestamp)."
        prefix.withUTF8 { hmac.update(data: $0) }
        hmac.update(data: body)
        return hmac.finalize().withUnsafeBytes { "v1," + Data($0).base64EncodedString() }
    }
}
