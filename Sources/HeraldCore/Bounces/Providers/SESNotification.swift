import Crypto
import Foundation
import _CryptoExtras

/// An Amazon SNS message carrying SES's notifications: its envelope (type, topic, timestamp, the
/// signature and where its certificate is), and the SES bounce or complaint inside.
struct SNSMessage: Sendable {
    enum Kind: String, Sendable {
        case notification = "Notification"
        case subscriptionConfirmation = "SubscriptionConfirmation"
        case unsubscribeConfirmation = "UnsubscribeConfirmation"
    }

    var kind: Kind
    var messageID: String
    var topicARN: String
    var message: String
    var timestamp: String
    var subject: String?
    var subscribeURL: String?
    var token: String?
    var signatureVersion: String
    var signature: [UInt8]
    var signingCertURL: String

    init(_ body: [UInt8]) throws(WebhookRefusal) {
        guard let json = try? JSONValue.parse(body) else { throw WebhookRefusal(code: "bad_request", reason: "the body is not JSON") }
        func field(_ name: String) throws(WebhookRefusal) -> String {
            guard let value = json[name]?.string else { throw WebhookRefusal(code: "bad_request", reason: "\(name): missing") }
            return value
        }
        guard let kind = Kind(rawValue: try field("Type")) else {
            throw WebhookRefusal(code: "bad_request", reason: "Type: not a notification or subscription (\(json["Type"]?.string?.prefix(40) ?? ""))")
        }
        self.kind = kind
        messageID = try field("MessageId")
        topicARN = try field("TopicArn")
        message = try field("Message")
        timestamp = try field("Timestamp")
        subject = json["Subject"]?.string
        subscribeURL = json["SubscribeURL"]?.string
        token = json["Token"]?.string
        signatureVersion = try field("SignatureVersion")
        guard let signature = Data(base64Encoded: try field("Signature")) else {
            throw WebhookRefusal(code: "bad_signature", reason: "Signature: not base64")
        }
        self.signature = Array(signature)
        signingCertURL = try field("SigningCertURL")
    }

    /// What SNS signs: the fields of the message's type, each as `name\nvalue\n`, in this order.
    var signedText: String {
        var pairs: [(String, String?)] = [("Message", message), ("MessageId", messageID)]
        if kind == .notification {
            pairs += [("Subject", subject), ("Timestamp", timestamp), ("TopicArn", topicARN), ("Type", kind.rawValue)]
        } else {
            pairs += [("SubscribeURL", subscribeURL), ("Timestamp", timestamp), ("Token", token), ("TopicArn", topicARN),
                      ("Type", kind.rawValue)]
        }
        return pairs.compactMap { name, value in value.map { "\(name)\n\($0)\n" } }.joined()
    }

    /// True when `key` (from the signing certificate) signed the message: SHA1 with RSA for
    /// SignatureVersion 1, SHA256 for 2.
    func isSigned(by key: _RSA.Signing.PublicKey) -> Bool {
        let signature = _RSA.Signing.RSASignature(rawRepresentation: self.signature)
        let text = Data(signedText.utf8)
        switch signatureVersion {
        case "1": return key.isValidSignature(signature, for: Insecure.SHA1.hash(data: text), padding: .insecurePKCS1v1_5)
        case "2": return key.isValidSignature(signature, for: SHA256.hash(data: text), padding: .insecurePKCS1v1_5)
        default: return false
        }
    }

    /// The SES events the notification carries (none for deliveries, sends, opens…).
    func reports() -> [ProviderReport] {
        guard kind == .notification, let ses = try? JSONValue.parse(Array(message.utf8)) else { return [] }
        let type = ses["notificationType"]?.string ?? ses["eventType"]?.string ?? ""
        let reference = ses["mail"]?["commonHeaders"]?["messageId"]?.string
        let raw = Array(message.utf8)
        switch type {
        case "Bounce":
            let bounce = ses["bounce"]
            let permanent = bounce?["bounceType"]?.string == "Permanent"
            return (bounce?["bouncedRecipients"]?.array ?? []).enumerated().map { index, recipient in
                // SES names the status when the receiving server gave one; its own verdict otherwise.
                let status = recipient["status"]?.string ?? (permanent ? "5.1.0" : "4.0.0")
                return ProviderReport(
                    sourceID: "\(messageID)/\(index)",
                    report: .provider("ses", kind: .bounce, recipient: recipient["emailAddress"]?.string,
                                      action: "failed", status: status,
                                      diagnostic: recipient["diagnosticCode"]?.string ?? bounce?["bounceSubType"]?.string),
                    messageReference: reference, raw: raw)
            }
        case "Complaint":
            let complaint = ses["complaint"]
            return (complaint?["complainedRecipients"]?.array ?? []).enumerated().map { index, recipient in
                ProviderReport(
                    sourceID: "\(messageID)/\(index)",
                    report: .provider("ses", kind: .complaint, recipient: recipient["emailAddress"]?.string, action: nil,
                                      status: nil, diagnostic: complaint?["userAgent"]?.string,
                                      feedbackType: complaint?["complaintFeedbackType"]?.string?.lowercased() ?? "abuse"),
                    messageReference: reference, raw: raw)
            }
        case "DeliveryDelay":
            return (ses["deliveryDelay"]?["delayedRecipients"]?.array ?? []).enumerated().map { index, recipient in
                ProviderReport(
                    sourceID: "\(messageID)/\(index)",
                    report: .provider("ses", kind: .delay, recipient: recipient["emailAddress"]?.string, action: "delayed",
                                      status: recipient["status"]?.string, diagnostic: recipient["diagnosticCode"]?.string),
                    messageReference: reference, raw: raw)
            }
        default:
            return []
        }
    }
}
