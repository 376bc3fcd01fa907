import Crypto
import Foundation

/// Standard Webhooks signing (standardwebhooks.com): the receiver recomputes
/// `base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))` and compares it to `webhook-signature`.
public struct WebhookSignature: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // Kept as bytes: SymmetricKey is not Sendable in swift-crypto 3, and building one is cheap.
    let keyBytes: [UInt8]

    /// `secret` is the `whsec_`-prefixed form; nil when it is not one.
    public init?(secret: Secret) {
        guard let bytes = WebhookEndpoint.signingKey(from: secret) else { return nil }
        keyBytes = bytes
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
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }
}
