import Crypto
import Foundation

/// `channels.sms.receipts`: where the gateway reports what became of each text (Twilio's
/// `StatusCallback`, Kannel's `dlr-url`), so Herald can tell the CRM `sms.delivered` or
/// `sms.undelivered`.
///
/// ```yaml
/// receipts:
///   url: "https://crm.example.com/herald/receipts/sms"   # public; Herald adds /<message id>
///   token: "${SMS_RECEIPTS_TOKEN}"                       # kannel, http: signs each receipt URL
/// ```
/// Twilio signs its callbacks with the account's auth token; for Kannel each message's URL
/// carries its own `token`, an HMAC of the message id, so a receipt cannot be forged for
/// another message.
public struct SMSReceiptsConfig: Sendable {
    /// The public URL of `/receipts/sms`, as the gateway reaches it.
    public var url: String
    public var token: Secret?

    init(_ node: ConfigNode, gateway: SMSChannelConfig.Gateway) throws(ConfigError) {
        let fields = try node.fields(allowed: ["url", "token"])
        guard let urlNode = fields["url"] else { throw node.error("url: required (the public URL of Herald's /receipts/sms)") }
        let parsed = try urlNode.url(schemes: ["http", "https"])
        guard parsed.path.hasSuffix("/receipts/sms") else {
            throw urlNode.error("must end in /receipts/sms, where Herald serves receipts (a proxy in front may add a prefix)")
        }
        url = parsed.absoluteString
        token = try fields["token"]?.key()
        switch gateway {
        case .twilio: break
        case .kannel:
            guard token != nil else { throw node.error("kannel: token is required (from the environment); it signs each receipt URL") }
        case .http:
            throw node.error("receipts are supported for gateway twilio and kannel")
        }
    }

    /// The URL the gateway is told to report `messageID`'s fate to.
    func url(for messageID: Int64, gateway: SMSChannelConfig.Gateway) -> String {
        let base = "\(url)/\(messageID)"
        guard gateway == .kannel, let token else { return base }
        // Kannel fills %d with the report type and %A with the SMSC's answer.
        return "\(base)?token=\(Self.signature(messageID, key: token))&type=%d&answer=%A"
    }

    /// The `token` of one message's Kannel receipt URL.
    static func signature(_ messageID: Int64, key: Secret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("sms-receipt:\(messageID)".utf8),
                                                  using: SymmetricKey(data: Data(key.exposedValue.utf8)))
        return mac.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
