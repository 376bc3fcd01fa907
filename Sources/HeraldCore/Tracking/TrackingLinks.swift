import Foundation

/// Signed open and click links: `<base_url>/o/<token>` (the pixel) and `<base_url>/c/<token>`
/// (a rewritten link). The token (a `SignedToken`) carries the message id and, for a click, the
/// link's place in the email and the URL it leads to, so a click needs no lookup to redirect and
/// Herald writes nothing per link when it sends. Nobody can make a link to another URL (no open
/// redirect) or for another message (no enumeration) without the key.
public struct TrackingLinks: Sendable, CustomStringConvertible {
    /// The public URL the links start with, e.g. `https://crm.example.com/t`.
    public let baseURL: String
    /// Whether HTML parts get the pixel, and whether their links are rewritten.
    public let opens: Bool
    public let clicks: Bool
    private let signer: SignedToken
    /// The key's variable is not set (`herald run` refuses to start then): no token verifies.
    private let unsigned: Bool

    /// What a valid token says.
    public enum Target: Sendable, Equatable {
        case open(messageID: Int64)
        /// The `index`th of the `count` tracked links (from 0), leading to `url`.
        case click(messageID: Int64, index: Int, count: Int, url: String)

        public var messageID: Int64 {
            switch self {
            case .open(let id), .click(let id, _, _, _): id
            }
        }
    }

    public init(baseURL: String, secret: Secret, opens: Bool = true, clicks: Bool = true) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        signer = SignedToken(secret: secret)
        unsigned = secret.isUnset
        self.opens = opens
        self.clicks = clicks
    }

    public var description: String { "TrackingLinks(\(baseURL), <redacted>)" }

    public func url(_ target: Target) -> String {
        switch target {
        case .open(let id):
            "\(baseURL)/o/\(signer.seal("o\n\(id)"))"
        case .click(let id, let index, let count, let url):
            "\(baseURL)/c/\(signer.seal("c\n\(id)\n\(index)\n\(count)\n\(url)"))"
        }
    }

    /// What `token` (the last segment of a pixel URL when `click` is false, of a link when true)
    /// says; nil for a forged, altered or malformed token, or one of the other kind.
    public func verify(_ token: String, click: Bool) -> Target? {
        guard !unsigned, let text = signer.open(token) else { return nil }
        // The URL comes last and may hold anything but is never split.
        let fields = text.split(separator: "\n", maxSplits: 4, omittingEmptySubsequences: false)
        switch (click, fields.first) {
        case (false, "o"):
            guard fields.count == 2, let id = Int64(fields[1]) else { return nil }
            return .open(messageID: id)
        case (true, "c"):
            guard fields.count == 5, let id = Int64(fields[1]), let index = Int(fields[2]), let count = Int(fields[3]),
                  index >= 0, index < count
            else { return nil }
            return .click(messageID: id, index: index, count: count, url: String(fields[4]))
        default:
            return nil
        }
    }
}
