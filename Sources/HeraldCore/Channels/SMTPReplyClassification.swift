/// How an SMTP reply becomes an outcome: 2xx sent; 4xx transient; 5xx permanent, and a 5.1.x
/// recipient error (no such mailbox or domain) is a hard bounce that suppresses the address.
/// A refused login (530, 534, 535) is a configuration problem every message would hit, so it
/// is transient: fixing the password delivers the backlog instead of failing it.
enum SMTPReplyClassification {
    static func outcome(for reply: SMTPReply, recipient: String) -> DeliveryOutcome {
        let code = String(reply.code)
        let line = String(reply.line.prefix(DeliveryAttempt.remoteTextLimit))
        switch reply.code {
        case 200...299:
            return .sent(remoteCode: code, remoteText: line)
        case 530, 534, 535:
            return .transient(DeliveryError(code: .authentication, detail: "the SMTP server refused the login: \(line)",
                                            remoteCode: code, remoteText: line), retryAfter: nil)
        case 400...499:
            return .transient(DeliveryError(code: .smtpReply, detail: line, remoteCode: code, remoteText: line), retryAfter: nil)
        default:
            var error = DeliveryError(code: .smtpReply, detail: line, remoteCode: code, remoteText: line)
            if let status = reply.enhancedStatus, status.hasPrefix("5.1.") {
                error = DeliveryError(code: .hardBounce, detail: "\(recipient): \(line)", remoteCode: code, remoteText: line)
                error.suppression = Suppression(Address(of: Recipient(email: recipient), on: .email), reason: .bounced,
                                                source: "smtp \(line.prefix(200))")
            }
            return .permanent(error)
        }
    }
}
