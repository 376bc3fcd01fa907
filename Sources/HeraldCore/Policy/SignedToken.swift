import Crypto
import Foundation

/// The one way Herald signs something it hands to the public and takes back later (unsubscribe
/// links, tracking links): `<payload>.<signature>`, both base64url without padding (RFC 4648 §5),
/// the signature HMAC-SHA256 over the payload's text with a key from the environment. Whoever
/// holds a token can present that one payload, and nobody can make another without the key.
struct SignedToken: Sendable {
    private let keyBytes: [UInt8]

    init(secret: Secret) {
        keyBytes = Array(secret.exposedValue.utf8)
    }

    /// `payload` signed.
    func seal(_ payload: String) -> String {
        let encoded = Self.base64URL(Data(payload.utf8))
        return encoded + "." + signature(encoded)
    }

    /// The payload of a token this key sealed; nil for a forged, altered or malformed token.
    func open(_ token: String) -> String? {
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        // The signature is compared as text: only the one canonical spelling verifies, not the same
        // bytes with padding appended or a last character whose unused bits differ.
        guard pieces.count == 2, ConstantTime.equal(pieces[1].utf8, signature(String(pieces[0])).utf8),
              let payload = Self.decodeBase64URL(pieces[0])
        else { return nil }
        return String(data: payload, encoding: .utf8)
    }

    private func signature(_ encodedPayload: String) -> String {
        Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(encodedPayload.utf8), using: SymmetricKey(data: keyBytes))))
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
