import Foundation

/// `channels.email.bounces.mailbox`: a mailbox the return path's mail is delivered to, read over
/// IMAP or POP3.
///
/// ```yaml
/// mailbox:
///   url: "imaps://mail.harbor-financial.example/INBOX"   # or pop3s://host; imap:// and pop3:// require STARTTLS
///   username: "bounces@bounce.harbor-financial.example"
///   password: "${HERALD_BOUNCE_MAILBOX_PASSWORD}"
///   poll: 60s
///   processed: "Processed"     # IMAP: the folder reports move to once recorded; `delete` removes them
///   ca_file: /etc/ssl/mail-ca.pem
/// ```
///
/// A report leaves the mailbox only after its outcome is committed; mail that is not a report
/// stays where it is, unread if it was unread.
public struct BounceMailboxConfig: Sendable {
    public enum MailProtocol: String, Sendable {
        case imap
        case pop3
    }

    /// What becomes of a report once it is recorded.
    public enum Processed: Sendable, Equatable {
        /// IMAP: moved to this folder (created when missing).
        case move(String)
        /// Removed from the mailbox (POP3 can do nothing else).
        case delete
    }

    /// The server and, for IMAP, the folder (`INBOX` when the path is empty).
    public var url: URL
    public var mailProtocol: MailProtocol
    public var username: String
    public var password: Secret
    public var poll: Duration = .seconds(60)
    public var processed: Processed
    public var caFile: String?
    /// For each command (a login, a listing, one message).
    public var timeout: Duration = .seconds(60)
    /// Larger messages are kept for review from what was read of them.
    public var maxMessageBytes = 10 * 1_024 * 1_024

    public init(url: URL, username: String, password: Secret, processed: Processed? = nil) {
        self.url = url
        self.mailProtocol = url.scheme?.lowercased().hasPrefix("pop3") == true ? .pop3 : .imap
        self.username = username
        self.password = password
        self.processed = processed ?? (mailProtocol == .pop3 ? .delete : .move("Processed"))
    }

    /// The IMAP folder the URL names.
    public var folder: String {
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return path.isEmpty ? "INBOX" : path
    }

    /// The server without folder or credentials: what the records name as the source's place.
    public var server: String {
        "\(url.scheme?.lowercased() ?? "imaps")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")"
    }

    /// True for imap:// and pop3://, which must upgrade with STARTTLS.
    var upgradesToTLS: Bool { url.scheme?.lowercased() == "imap" || url.scheme?.lowercased() == "pop3" }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["url", "username", "password", "poll", "processed", "ca_file", "timeout"])
        guard let urlNode = fields["url"] else { throw node.error("url: required (imaps://mail.example.com/INBOX or pop3s://mail.example.com)") }
        let url = try urlNode.url(schemes: ["imaps", "imap", "pop3s", "pop3"])
        guard let usernameNode = fields["username"] else { throw node.error("username: required") }
        guard let passwordNode = fields["password"] else {
            throw node.error("password: required (from the environment: \"${HERALD_BOUNCE_MAILBOX_PASSWORD}\")")
        }
        let password = try passwordNode.secret()
        if password.isEmpty { throw passwordNode.error("empty; set it in the environment (HERALD_BOUNCE_MAILBOX_PASSWORD)") }
        self.init(url: url, username: try usernameNode.nonEmptyString(), password: password)
        if mailProtocol == .pop3, url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")) != "" {
            throw urlNode.error("a POP3 mailbox has no folders (\"\(url.path.prefix(100))\"); give pop3s://host")
        }
        if let processedNode = fields["processed"] {
            let value = try processedNode.nonEmptyString()
            if value == "delete" {
                processed = .delete
            } else if mailProtocol == .pop3 {
                throw processedNode.error("POP3 can only delete (\"\(value.prefix(100))\"); write `delete` or leave it out")
            } else if value.contains(where: { $0 == "\"" || $0 == "\\" || $0.isNewline || !$0.isASCII }) || value == folder {
                throw processedNode.error("not a folder Herald can move to (\"\(value.prefix(100))\"): ASCII, no quotes, not the folder read")
            } else {
                processed = .move(value)
            }
        }
        if let pollNode = fields["poll"] {
            poll = try pollNode.duration()
            if poll < .seconds(1) { throw pollNode.error("at least 1s (\(poll.configText))") }
        }
        if let timeoutNode = fields["timeout"] { timeout = try timeoutNode.duration() }
        if let caFile = fields["ca_file"] { self.caFile = try caFile.nonEmptyString() }
    }
}
