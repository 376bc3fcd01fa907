/// What one received message says about Herald's mail, read from its structure: a delivery
/// status notification (RFC 3464), a feedback report (ARF, RFC 5965), a bounce in one of the
/// common non-standard texts, an auto-reply (RFC 3834), or none of those. Which message it is
/// about comes only from signed VERP addresses found in it, never from its wording.
public struct BounceReport: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A delivery failed.
        case bounce
        /// A warning that delivery is still being tried (`Action: delayed`): counted for nothing.
        case delay
        /// The recipient (or their provider, for them) reported the mail as spam.
        case complaint
        /// A vacation notice or other automatic answer: not a bounce.
        case autoReply = "auto_reply"
        /// Mail that is none of the above (left where it is in a mailbox).
        case unrelated
        /// Looks like a report but cannot be read as one: kept for an operator, with `problem`.
        case review
    }

    /// One recipient a report speaks of.
    public struct Recipient: Sendable, Equatable {
        public var address: String?
        /// `failed`, `delayed`, `delivered`, `relayed`, `expanded` (RFC 3464 §2.3.3).
        public var action: String?
        public var status: String?
        public var diagnostic: String?

        public init(address: String?, action: String?, status: String?, diagnostic: String?) {
            self.address = address
            self.action = action
            self.status = status
            self.diagnostic = diagnostic
        }
    }

    public var kind: Kind
    /// `dsn`, `arf`, `text` (a non-standard bounce), `auto_reply`, `none`.
    public var format: String
    public var recipients: [Recipient]
    /// ARF's `Feedback-Type`, lower-cased (`abuse`, `fraud`…).
    public var feedbackType: String?
    /// Herald's messages named by valid VERP addresses in the report, in order.
    public var messageIDs: [Int64]
    /// Why it needs review (`kind == .review`), or what was odd about it.
    public var problem: String?
    public var subject: String?
    public var from: String?

    public init(kind: Kind, format: String, recipients: [Recipient] = [], feedbackType: String? = nil, messageIDs: [Int64] = [],
                problem: String? = nil, subject: String? = nil, from: String? = nil) {
        self.kind = kind
        self.format = format
        self.recipients = recipients
        self.feedbackType = feedbackType
        self.messageIDs = messageIDs
        self.problem = problem
        self.subject = subject
        self.from = from
    }
}

extension BounceReport {
    /// Reads `bytes`, one whole message as received. Any input gives a report; what cannot be
    /// read as what it claims to be is `.review` with the reason.
    public static func parse(_ bytes: some Collection<UInt8>, returnPath: ReturnPath?) -> BounceReport {
        let mail = MailMessage(bytes)
        let parts = mail.allParts
        let subject = mail.header("Subject").map { String($0.prefix(300)) }
        let from = mail.header("From").map { String($0.prefix(300)) }
        // Anywhere in it: the bounce's own To (the envelope sender it was returned to), the returned
        // message's Return-Path, a quoted copy in a text bounce. Only a valid signature counts.
        let ids = returnPath.map { path in
            path.messageIDs(in: parts.flatMap { part in
                part.headers.map(\.value) + (Self.carriesText(part) ? [String(part.text.prefix(256 << 10))] : [])
            }.joined(separator: "\n"))
        } ?? []
        var report = BounceReport(kind: .unrelated, format: "none", messageIDs: ids, subject: subject, from: from)

        if let status = parts.first(where: { ["message/delivery-status", "message/global-delivery-status"].contains($0.mediaType) }) {
            report.format = "dsn"
            report.recipients = Self.deliveryStatus(status.text)
            // Exim writes no Diagnostic-Code and a generic 5.0.0: why is only in its human-readable
            // part, indented under each failed address.
            if report.recipients.contains(where: { $0.diagnostic == nil }),
               let human = parts.first(where: { $0.mediaType == "text/plain" })?.text {
                for index in report.recipients.indices where report.recipients[index].diagnostic == nil {
                    report.recipients[index].diagnostic = report.recipients[index].address.flatMap { Self.reason(for: $0, in: human) }
                }
            }
            let actions = Set(report.recipients.compactMap(\.action))
            if report.recipients.isEmpty {
                report.kind = .review
                report.problem = "a delivery-status part without recipient fields"
            } else if actions.contains("failed") {
                report.kind = .bounce
            } else if actions.contains("delayed") {
                report.kind = .delay
            } else {
                report.kind = .unrelated
                report.problem = "a notification of success (\(actions.sorted().joined(separator: ", ")))"
            }
        } else if let feedback = parts.first(where: { $0.mediaType == "message/feedback-report" }) {
            report.format = "arf"
            let fields = MailMessage.fields(ArraySlice(feedback.decodedBody)).0
            func field(_ name: String) -> String? { fields.first { $0.name.lowercased() == name }?.value }
            report.feedbackType = field("feedback-type")?.lowercased()
            report.recipients = [Recipient(address: field("original-rcpt-to").map(Self.bareAddress), action: nil, status: nil,
                                           diagnostic: field("user-agent"))]
            switch report.feedbackType {
            case "abuse", "fraud", "virus", "other": report.kind = .complaint
            case "not-spam": report.kind = .unrelated
            case let other:
                report.kind = .review
                report.problem = "a feedback report of type \(other.map { "\"\($0.prefix(40))\"" } ?? "none")"
            }
        } else if mail.mediaType == "multipart/report" {
            report.kind = .review
            report.problem = "multipart/report without a delivery-status or feedback-report part"
                + (mail.defects.isEmpty ? "" : " (\(mail.defects.joined(separator: "; ")))")
        } else if let bounce = Self.textBounce(mail, subject: subject, from: from) {
            report.format = "text"
            report.kind = .bounce
            report.recipients = [bounce]
        } else if Self.isAutoReply(mail, subject: subject) {
            report.format = "auto_reply"
            report.kind = .autoReply
        }
        if [.bounce, .complaint].contains(report.kind), ids.isEmpty {
            report.kind = .review
            report.problem = "names no message of Herald's (no valid VERP address in it)"
        }
        return report
    }

    /// Parts whose text may hold a VERP address: reports, returned messages, text bounces.
    private static func carriesText(_ part: MailMessage) -> Bool {
        part.parts.isEmpty && (part.contentType.type == "message" || part.contentType.type == "text")
    }

    /// The per-recipient groups of a `message/delivery-status` body (RFC 3464 §2.3): blank-line
    /// separated blocks of fields after the per-message block.
    static func deliveryStatus(_ text: String) -> [Recipient] {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        var recipients: [Recipient] = []
        for block in normalized.components(separatedBy: "\n\n") {
            let fields = MailMessage.fields(ArraySlice(block.utf8)).0
            func field(_ name: String) -> String? { fields.first { $0.name.lowercased() == name }?.value }
            guard let recipient = field("final-recipient") ?? field("original-recipient") else { continue }
            recipients.append(Recipient(address: bareAddress(recipient), action: field("action")?.lowercased(),
                                        status: field("status").map { String($0.prefix(20)) },
                                        diagnostic: field("diagnostic-code").map { String(stripType($0).prefix(1_000)) }))
        }
        return recipients
    }

    /// The lines indented under `address` in a bounce's human-readable text, up to a blank line.
    static func reason(for address: String, in text: String) -> String? {
        let lines = text.prefix(64 << 10).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        guard let at = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == address.lowercased() }) else {
            return nil
        }
        let reason = lines[(at + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty && ($0.first == " " || $0.first == "\t") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return reason.isEmpty ? nil : String(reason.prefix(1_000))
    }

    /// `rfc822; user@example.com` or `<user@example.com>` → `user@example.com`.
    static func bareAddress(_ field: String) -> String {
        var value = stripType(field).trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("<"), value.hasSuffix(">") { value = String(value.dropFirst().dropLast()) }
        return String(value.prefix(320))
    }

    /// Drops the `rfc822;` / `smtp;` address or diagnostic type in front.
    private static func stripType(_ field: String) -> String {
        guard let semicolon = field.firstIndex(of: ";"), field[..<semicolon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
        else { return field }
        return field[field.index(after: semicolon)...].trimmingCharacters(in: .whitespaces)
    }

    /// A bounce without the report structure (qmail, old Exchange, hand-rolled MTAs): sent by a
    /// mailer daemon or titled as a failure, with failure wording in its text.
    private static func textBounce(_ mail: MailMessage, subject: String?, from: String?) -> Recipient? {
        guard daemonSenders.occur(in: (from ?? "").lowercased()) || failureSubjects.occur(in: (subject ?? "").lowercased()) else {
            return nil
        }
        let text = mail.allParts.filter { $0.contentType.type == "text" }.prefix(3).map(\.text).joined(separator: "\n")
        let lower = text.lowercased()
        guard failureWords.occur(in: lower) || BounceClassification.inferredCode(from: lower) != nil else { return nil }
        // The line that says why: the first with a status code, else the first with failure wording.
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let reason = lines.first { BounceClassification.enhancedCode(in: $0) != nil }
            ?? lines.first { BounceClassification.inferredCode(from: $0) != nil }
        return Recipient(address: nil, action: "failed", status: reason.flatMap(BounceClassification.enhancedCode(in:)),
                         diagnostic: reason.map { String($0.prefix(1_000)) })
    }

    static let daemonSenders = Phrases(["mailer-daemon", "postmaster", "mail delivery", "mail administrator"])
    static let failureSubjects = Phrases([
        "undeliver", "delivery status notification", "delivery failure", "delivery has failed", "failure notice",
        "returned mail", "mail delivery failed", "delivery failed", "non remis", "could not be delivered",
    ])
    static let failureWords = Phrases([
        "permanent", "failed", "could not be delivered", "undeliverable", "rejected", "does not like recipient",
        "couldn't be found", "no mailbox", "delivery has failed", "unable to deliver", "not delivered", "did not reach",
        "cannot be reached",
    ])
    static let autoReplySubjects = Phrases([
        "out of office", "automatic reply", "autoreply", "auto-reply", "auto reply", "vacation", "abwesenheit", "absence",
    ])

    /// RFC 3834's `Auto-Submitted` (anything but `no`), and the headers and subjects vacation
    /// responders use without it.
    private static func isAutoReply(_ mail: MailMessage, subject: String?) -> Bool {
        if let submitted = mail.header("Auto-Submitted")?.lowercased(), !submitted.hasPrefix("no") { return true }
        if mail.header("X-Autoreply") != nil || mail.header("X-Autorespond") != nil || mail.header("X-Autoresponse") != nil { return true }
        if let precedence = mail.header("Precedence")?.lowercased(), precedence.contains("auto_reply") { return true }
        let title = (subject ?? "").lowercased()
        return autoReplySubjects.occur(in: title) || title.hasPrefix("auto:")
    }
}
