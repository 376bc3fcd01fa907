import Crypto
import Foundation

/// SendGrid's Event Webhook: a JSON array of events, signed with ECDSA (P-256, SHA-256) over the
/// `X-Twilio-Email-Event-Webhook-Timestamp` header followed by the raw body.
enum SendGridEvents {
    static let signatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
    static let timestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"

    /// Checks the signature; returns the signed timestamp (unix seconds).
    static func verify(body: [UInt8], signature: String?, timestamp: String?, key: P256.Signing.PublicKey) throws(WebhookRefusal) -> Int64 {
        guard let signature, let timestamp, let seconds = Int64(timestamp),
              let der = Data(base64Encoded: signature), let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der),
              key.isValidSignature(parsed, for: Data(timestamp.utf8) + Data(body))
        else {
            throw WebhookRefusal(code: "bad_signature", reason: "\(signatureHeader) does not verify with the configured public key")
        }
        return seconds
    }

    /// The bounces, blocks, deferrals and spam reports among the events; others (delivered,
    /// open, click…) are not reports.
    static func reports(_ body: [UInt8]) throws(WebhookRefusal) -> [ProviderReport] {
        guard let events = (try? JSONValue.parse(body))?.array else {
            throw WebhookRefusal(code: "bad_request", reason: "the body is not a JSON array of events")
        }
        return events.compactMap { event in
            guard let id = event["sg_event_id"]?.string else { return nil }
            let email = event["email"]?.string
            let reason = event["reason"]?.string ?? event["response"]?.string
            let report: BounceReport
            switch event["event"]?.string {
            case "bounce":
                // `type: blocked` is a refusal of the message (content, reputation), not of the address.
                let blocked = event["type"]?.string == "blocked"
                report = .provider("sendgrid", kind: .bounce, recipient: email, action: "failed",
                                   status: blocked ? "4.7.0" : event["status"]?.string, diagnostic: reason)
            case "deferred":
                report = .provider("sendgrid", kind: .delay, recipient: email, action: "delayed", status: event["status"]?.string,
                                   diagnostic: reason)
            case "spamreport":
                report = .provider("sendgrid", kind: .complaint, recipient: email, action: nil, status: nil, diagnostic: nil,
                                   feedbackType: "abuse")
            default:
                return nil
            }
            return ProviderReport(sourceID: id, report: report, messageReference: event["smtp-id"]?.string,
                                  raw: Array(event.jsonText.utf8))
        }
    }
}
