import Foundation

/// `channels.email`: the SMTP relay and the sender.
///
/// ```yaml
/// email:
///   transport: network                 # or outbox (development)
///   smtp: {url: "smtp://127.0.0.1:25", helo: herald.example, starttls: optional,
///          username: "", password: "${SMTP_PASSWORD}", ca_file: /etc/ssl/relay-ca.pem}
///   from: "Harbor Financial Planning <news@harbor-financial.example>"
///   reply_to: advisors@harbor-financial.example
///   list_unsubscribe_mailto: unsubscribe@harbor-financial.example
///   headers: {X-Mailer-Group: nurture}
///   bounces: {return_path: "bounces@bounce.harbor-financial.example", secret: "${HERALD_BOUNCE_SECRET}"}
/// ```
public struct EmailChannelConfig: Sendable {
    public var transport: TransportChoice
    public var smtp: SMTPSettings
    public var from: Mailbox
    public var replyTo: String?
    /// The mailto: half of List-Unsubscribe for marketing mail.
    public var listUnsubscribeMailto: String?
    public var headers: [(name: String, value: String)]
    public var connectTimeout: Duration
    public var timeout: Duration
    /// The relay's limit, enforced across processes.
    public var rate: RateLimit?
    /// Per recipient domain (lower case), e.g. `gmail.com: 600/min`.
    public var domainRates: [String: RateLimit] = [:]
    /// VERP return paths and what bounces count for; nil: the envelope sender is `from`.
    public var bounces: BounceConfig?

    public struct SMTPSettings: Sendable {
        /// `smtp://host:port` or `smtps://host:port`.
        public var url: URL
        /// The name Herald gives in EHLO (libcurl takes it from the URL's path).
        public var helo: String
        public var startTLS: StartTLS
        public var username: String?
        public var password: Secret?
        public var caFile: String?

        /// Whether to upgrade a `smtp://` connection with STARTTLS.
        public enum StartTLS: String, Sendable {
            /// Refuse to send unless the server offers STARTTLS and the upgrade succeeds.
            case required
            /// Upgrade when offered; otherwise send in the clear.
            case optional
            case off
        }

        /// The URL libcurl is given: the EHLO name goes in the path.
        public var curlURL: String {
            var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
            components.path = "/" + helo
            return components.string!
        }
    }

    static let keys: Set<String> = ["transport", "smtp", "from", "reply_to", "list_unsubscribe_mailto", "headers",
                                    "connect_timeout", "timeout", "rate", "domain_rates", "bounces"]

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: Self.keys)
        transport = try fields["transport"].map { node throws(ConfigError) in try TransportChoice(node) } ?? .network
        rate = try fields["rate"].map { node throws(ConfigError) in try RateLimit(node) }
        if let domains = fields["domain_rates"] {
            for (domain, limit) in try domains.entries() { domainRates[domain.lowercased()] = try RateLimit(limit) }
        }
        guard let smtpNode = fields["smtp"] else { throw node.error("smtp: required ({url: \"smtp://host:25\"})") }
        let smtp = try smtpNode.fields(allowed: ["url", "helo", "starttls", "username", "password", "ca_file"])
        guard let urlNode = smtp["url"] else { throw smtpNode.error("url: required") }
        let url = try urlNode.url(schemes: ["smtp", "smtps"])
        var settings = SMTPSettings(url: url, helo: "localhost", startTLS: .optional)
        if let helo = smtp["helo"] {
            let name = try helo.nonEmptyString()
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else {
                throw helo.error("not a host name (\"\(name)\")")
            }
            settings.helo = name
        }
        if let tls = smtp["starttls"] {
            let text = try tls.string()
            guard let value = SMTPSettings.StartTLS(rawValue: text) else {
                throw tls.error("expected required, optional or off, got \"\(text)\"")
            }
            settings.startTLS = value
        }
        if let user = smtp["username"] { settings.username = try user.string().nilIfEmpty }
        if let password = smtp["password"] {
            let secret = try password.secret()
            settings.password = secret.isEmpty ? nil : secret
        }
        if settings.username != nil, settings.password == nil {
            throw smtpNode.error("password: required with a username (from the environment: \"${SMTP_PASSWORD}\")")
        }
        if let caFile = smtp["ca_file"] { settings.caFile = try caFile.nonEmptyString() }
        self.smtp = settings

        guard let fromNode = fields["from"] else { throw node.error("from: required (\"Name <address@example.com>\")") }
        let fromText = try fromNode.string()
        guard let from = Mailbox(parsing: fromText) else {
            throw fromNode.error("not a mailbox (\"\(fromText)\"); expected \"Name <address@example.com>\" or an address")
        }
        self.from = from
        replyTo = try fields["reply_to"]?.headerValue()
        listUnsubscribeMailto = try fields["list_unsubscribe_mailto"]?.headerValue()
        headers = try fields["headers"]?.headerFields() ?? []
        connectTimeout = try fields["connect_timeout"]?.duration() ?? .seconds(10)
        timeout = try fields["timeout"]?.duration() ?? .seconds(60)
        bounces = try fields["bounces"].map { node throws(ConfigError) in try BounceConfig(node) }
    }
}

/// An email address with an optional display name: `Harbor Financial <news@harbor.example>`.
public struct Mailbox: Sendable, Equatable {
    public var name: String?
    public var address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            self.init(name: name.isEmpty ? nil : name, address: address)
        } else {
            self.init(name: nil, address: trimmed)
        }
        guard MessageValidation.isEmailAddress(address), !HeaderField.containsLineBreak(name ?? "") else { return nil }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
