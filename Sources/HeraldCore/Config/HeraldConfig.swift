import Foundation
import Yams

/// Herald's configuration, read from YAML (`Config/herald.yaml`).
///
/// Relative paths are relative to the config file's folder's parent, the project root for
/// `Config/herald.yaml`. `${NAME}` and `${NAME:-default}` are read from the environment.
public struct HeraldConfig: Sendable {
    /// The folder relative paths are resolved against.
    public var root: URL
    public var databasePath: String
    /// Set when `database:` is a `postgres://` URL: the PostgreSQL engine keeps the queue.
    public var postgres: PostgresSettings?
    public var templatesPath: String
    /// The folder of drip sequences (`NAME.yaml` each); none there is fine.
    public var sequencesPath = "Sequences"
    /// Development outbox: channels with `transport: outbox` write here instead of sending.
    public var outboxPath: String
    /// Deliveries in flight at once, per process.
    public var workers: Int
    /// Recipient time zone when a message does not say (IANA name).
    public var timezone: String
    public var retry: RetryPolicy
    /// How long a claim holds a message. Must outlast the longest delivery (its timeout); a
    /// process that dies holding leases gives them up when they expire.
    public var lease: Duration
    /// How often an idle worker looks for newly due messages.
    public var pollInterval: Duration
    /// On SIGTERM, how long in-flight deliveries may run before they are abandoned and released.
    public var shutdownGrace: Duration
    public var webhook: WebhookChannelConfig?
    public var email: EmailChannelConfig?
    public var sms: SMSChannelConfig?
    public var letter: LetterChannelConfig?
    /// How often template files are checked for changes; nil: only on SIGHUP.
    public var templateReload: Duration?
    public var intake = IntakeConfig()
    /// Makes `unsubscribe_url` for templates; nil when not configured.
    public var unsubscribe: UnsubscribeLinks?
    /// Open and click tracking in emails' HTML; nil when not configured.
    public var tracking: TrackingConfig?
    /// Secrets named as `${NAME}` whose variable is not set. Commands that never use a secret
    /// work without it; `herald run` refuses to start while any is unset; `config check` warns.
    public var unsetSecrets: [UnsetSecret] = []
    public var policies = PolicyConfig()
    /// How long finished messages are kept.
    public var retention = Retention()
    /// What Herald tells the CRM; nil: no events are recorded.
    public var events: EventsConfig?
    /// The events to record (none without an `events` section).
    public var eventLog: EventLog { events?.log ?? .off }

    public init(root: URL, databasePath: String = "var/herald.sqlite", templatesPath: String = "Templates",
                outboxPath: String = "var/outbox", workers: Int = 8, timezone: String = "UTC",
                retry: RetryPolicy = RetryPolicy(), lease: Duration = .seconds(120),
                pollInterval: Duration = .milliseconds(500), shutdownGrace: Duration = .seconds(10),
                webhook: WebhookChannelConfig? = nil) {
        self.root = root
        self.databasePath = databasePath
        self.templatesPath = templatesPath
        self.outboxPath = outboxPath
        self.workers = workers
        self.timezone = timezone
        self.retry = retry
        self.lease = lease
        self.pollInterval = pollInterval
        self.shutdownGrace = shutdownGrace
        self.webhook = webhook
        self.templateReload = .seconds(1)
    }

    /// The channels this configuration can deliver on.
    public var channels: Set<Channel> {
        var result: Set<Channel> = []
        if webhook != nil { result.insert(.webhook) }
        if email != nil { result.insert(.email) }
        if sms != nil { result.insert(.sms) }
        if letter != nil { result.insert(.letter) }
        return result
    }

    /// `path` made absolute against the project root.
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }

    /// Reads and validates the config file.
    public static func load(from file: URL, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> HeraldConfig
    {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: file)
        } catch {
            throw ConfigError(path: "", "cannot read \(file.path): \(error.localizedDescription)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(path: "", "not UTF-8: \(UTF8Position.firstInvalid(in: Array(bytes)))")
        }
        let root = file.standardizedFileURL.deletingLastPathComponent().deletingLastPathComponent()
        return try parse(yaml: text, root: root, environment: environment)
    }

    static let keys: Set<String> = [
        "database", "templates", "sequences", "outbox", "workers", "timezone", "retry", "lease", "poll_interval",
        "shutdown_grace", "channels", "template_reload", "unsubscribe", "tracking", "intake", "policies",
        "retention", "events",
    ]

    /// Parses config text; `root` anchors relative paths.
    public static func parse(yaml: String, root: URL, environment: [String: String]) throws(ConfigError) -> HeraldConfig {
        let substitution = EnvironmentSubstitution(environment: environment)
        let top = try ConfigNode.document(yaml, environment: substitution,
                                          emptyError: ConfigError(path: "", "the config file is empty"))
        let fields = try top.fields(allowed: keys)

        var config = HeraldConfig(root: root)
        if let node = fields["database"] {
            config.databasePath = try node.nonEmptyString()
            config.postgres = try PostgresSettings.parse(config.databasePath, environment: environment)
        }
        if let node = fields["templates"] { config.templatesPath = try node.nonEmptyString() }
        if let node = fields["sequences"] { config.sequencesPath = try node.nonEmptyString() }
        if let node = fields["outbox"] { config.outboxPath = try node.nonEmptyString() }
        if let node = fields["workers"] { config.workers = try node.int(in: 1...10_000) }
        if let node = fields["timezone"] {
            let name = try node.nonEmptyString()
            guard TimeZone(identifier: name) != nil else { throw node.error("unknown IANA time zone \"\(name)\"") }
            config.timezone = name
        }
        if let node = fields["retry"] { config.retry = try parseRetry(node) }
        if let node = fields["lease"] { config.lease = try node.duration() }
        if let node = fields["poll_interval"] { config.pollInterval = try node.duration() }
        if let node = fields["shutdown_grace"] { config.shutdownGrace = try node.duration() }
        if let node = fields["template_reload"] {
            config.templateReload = try node.string() == "off" ? nil : try node.duration()
        }
        if let node = fields["intake"] { config.intake = try IntakeConfig(node) }
        if let node = fields["policies"] { config.policies = try PolicyConfig(node) }
        if let node = fields["retention"] { config.retention = try Retention(node) }
        if let node = fields["events"] { config.events = try EventsConfig(node) }
        if let node = fields["unsubscribe"] {
            let unsubscribe = try node.fields(allowed: ["base_url", "secret"])
            guard let base = unsubscribe["base_url"] else { throw node.error("base_url is required") }
            guard let secretNode = unsubscribe["secret"] else { throw node.error("secret is required (from the environment)") }
            let secret = try secretNode.key(example: "openssl rand -base64 32")
            let baseURL = try base.publicBaseURL(of: "unsubscribe pages", example: "/unsubscribe")
            config.unsubscribe = UnsubscribeLinks(baseURL: baseURL.absoluteString, secret: secret)
        }
        if let node = fields["tracking"] {
            config.tracking = try TrackingConfig(node)
            guard config.events != nil else {
                throw node.error("tracking records email.opened and email.clicked events: add an events section (events: {} to read them from /v1/events)")
            }
        }
        guard let channelsNode = fields["channels"] else {
            throw ConfigError(path: "channels", "required: configure at least one channel")
        }
        let channels = try channelsNode.fields(allowed: Set(Channel.allCases.map(\.rawValue)))
        for (name, node) in channels {
            switch Channel(rawValue: name)! {
            case .webhook:
                config.webhook = try WebhookChannelConfig(node)
            case .email:
                config.email = try EmailChannelConfig(node)
            case .sms:
                config.sms = try SMSChannelConfig(node)
            case .letter:
                config.letter = try LetterChannelConfig(node)
            }
        }
        config.policies.defaultTimeZone = config.timezone
        config.policies.rates = [:]
        if let rate = config.webhook?.rate { config.policies.rates[.webhook] = rate }
        if let rate = config.email?.rate { config.policies.rates[.email] = rate }
        if let rate = config.sms?.rate { config.policies.rates[.sms] = rate }
        config.policies.domainRates = config.email?.domainRates ?? [:]
        guard config.pollInterval >= .milliseconds(10) else {
            throw ConfigError(path: "poll_interval", "must be at least 10ms")
        }
        if let email = config.email, config.lease <= email.timeout + email.connectTimeout {
            throw ConfigError(path: "lease", "must be longer than channels.email.timeout + connect_timeout (\((email.timeout + email.connectTimeout).configText)), or a slow delivery could be handed to a second worker")
        }
        if let sms = config.sms, config.lease <= sms.timeout + sms.connectTimeout {
            throw ConfigError(path: "lease", "must be longer than channels.sms.timeout + connect_timeout (\((sms.timeout + sms.connectTimeout).configText))")
        }
        if let webhook = config.webhook {
            let longest = webhook.endpoints.values.map(\.timeout).max() ?? .zero
            guard config.lease > longest + webhook.connectTimeout else {
                throw ConfigError(path: "lease", "must be longer than the longest delivery timeout (\(longest.configText) + connect \(webhook.connectTimeout.configText)), or a slow delivery could be handed to a second worker")
            }
        }
        if let bounces = config.email?.bounces, let kept = config.retention.bounces, kept < bounces.softWindow {
            throw ConfigError(path: "retention.bounces", "must be at least channels.email.bounces.soft.per (\(bounces.softWindow.configText)): the soft window counts the bounces kept")
        }
        config.unsetSecrets = substitution.unsetSecrets.all
        return config
    }

    static func parseRetry(_ node: ConfigNode) throws(ConfigError) -> RetryPolicy {
        let fields = try node.fields(allowed: ["max_attempts", "initial", "max"])
        var policy = RetryPolicy()
        if let value = fields["max_attempts"] { policy.maxAttempts = try value.int(in: 1...1_000) }
        if let value = fields["initial"] { policy.initial = try value.duration() }
        if let value = fields["max"] { policy.maximum = try value.duration() }
        guard policy.maximum >= policy.initial else {
            throw ConfigError(path: "retry.max", "must not be shorter than retry.initial")
        }
        return policy
    }
}

/// Where the first byte that is not UTF-8 sits, for an error a person can act on.
enum UTF8Position {
    static func firstInvalid(in bytes: [UInt8]) -> String {
        var line = 1
        var column = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            let end = index + length
            if length == 0 || end > bytes.count
                || String(validating: bytes[index..<end], as: UTF8.self) == nil
            {
                return "line \(line), column \(column) (byte 0x\(String(byte, radix: 16, uppercase: true)))"
            }
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index = end
        }
        return "unknown position"
    }
}
