import Crypto
import Foundation

/// Mailgun's webhook: one JSON event with `signature: {timestamp, token, signature}`, the
/// signature the hex HMAC-SHA256 of timestamp and token under the webhook signing key.
enum MailgunEvent {
    struct Signed: Sendable {
        var timestamp: Int64
        /// Random per request: a token seen before is a replay.
        var token: String
    }

    static func verify(_ body: JSONValue, key: Secret) throws(WebhookRefusal) -> Signed {
        let signature = body["signature"]
        guard let timestamp = signature?["timestamp"]?.string, let seconds = Int64(timestamp),
              let token = signature?["token"]?.string, let given = signature?["signature"]?.string
        else { throw WebhookRefusal(code: "bad_signature", reason: "signature: timestamp, token and signature required") }
        let expected = HMAC<SHA256>.authenticationCode(for: Data((timestamp + token).utf8), using: SymmetricKey(data: Data(key.exposedValue.utf8)))
        guard ConstantTime.equal(given.lowercased().utf8, Hex.encode(expected).utf8) else {
            throw WebhookRefusal(code: "bad_signature", reason: "signature does not match the webhook signing key")
        }
        return Signed(timestamp: seconds, token: token)
    }

    static func reports(_ body: JSONValue, raw: [UInt8]) -> [ProviderReport] {
        guard let event = body["event-data"], let id = event["id"]?.string else { return [] }
        let recipient = event["recipient"]?.string
        var reference = event["message"]?["headers"]?["message-id"]?.string
        if let id = reference, !id.hasPrefix("<") { reference = "<\(id)>" }
        let delivery = event["delivery-status"]
        let diagnostic = delivery?["message"]?.string ?? delivery?["description"]?.string
        let code = delivery?["code"]?.int
        let report: BounceReport
        switch event["event"]?.string {
        case "failed":
            let permanent = event["severity"]?.string == "permanent"
            // Mailgun's own suppressions ("suppress-bounce") repeat an earlier bounce of the address.
            let status = delivery?["enhanced-code"]?.string ?? code.map { "\($0 / 100).0.0" } ?? (permanent ? "5.1.0" : "4.0.0")
            report = .provider("mailgun", kind: permanent ? .bounce : .delay, recipient: recipient,
                               action: permanent ? "failed" : "delayed", status: status, diagnostic: diagnostic)
        case "complained":
            report = .provider("mailgun", kind: .complaint, recipient: recipient, action: nil, status: nil, diagnostic: nil,
                               feedbackType: "abuse")
        default:
            return []
        }
        return [ProviderReport(sourceID: id, report: report, messageReference: reference, raw: raw)]
    }
}
