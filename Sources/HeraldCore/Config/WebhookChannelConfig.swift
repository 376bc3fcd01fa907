import Foundation

/// `channels.webhook`: named endpoints a message addresses with `to.endpoint`.
public struct WebhookChannelConfig: Sendable {
    public var transport: TransportChoice
    public var connectTimeout: Duration
    public var endpoints: [String: WebhookEndpoint]
    /// All endpoints together, enforced across processes.
    public var rate: RateLimit?

    public init(transport: TransportChoice = .network, connectTimeout: Duration = .seconds(5),
                endpoints: [String: WebhookEndpoint]) {
        self.transport = transport
        self.connectTimeout = connectTimeout
        self.endpoints = endpoints
    }

    static let keys: Set<String> = ["transport", "connect_timeout", "timeout", "endpoints", "rate"]

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: Self.keys)
        transport = try fields["transport"].map { node throws(ConfigError) in try TransportChoice(node) } ?? .network
        connectTimeout = try fields["connect_timeout"]?.duration() ?? .seconds(5)
        rate = try fields["rate"].map { node throws(ConfigError) in try RateLimit(node) }
        let defaultTimeout = try fields["timeout"]?.duration() ?? .seconds(10)
        guard let endpointsNode = fields["endpoints"] else {
            throw node.error("endpoints: required (a mapping of endpoint name to url and secret)")
        }
        var endpoints: [String: WebhookEndpoint] = [:]
        for (name, endpointNode) in try endpointsNode.entries() {
            endpoints[name] = try WebhookEndpoint(name: name, node: endpointNode, defaultTimeout: defaultTimeout)
        }
        guard !endpoints.isEmpty else { throw endpointsNode.error("at least one endpoint is required") }
        self.endpoints = endpoints
    }
}

/// One receiver of webhooks: where to POST and the key to sign with.
public struct WebhookEndpoint: Sendable {
    public var name: String
    public var url: URL
    /// The Standard Webhooks signing secret, `whsec_` followed by base64 of 24 to 64 bytes.
    public var secret: Secret
    /// The longest one delivery may take, connection included.
    public var timeout: Duration
    /// Extra request headers, in order.
    public var headers: [(name: String, value: String)]

    public init(name: String, url: URL, secret: Secret, timeout: Duration = .seconds(10),
                headers: [(name: String, value: String)] = []) {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.headers = headers
    }

    /// The raw HMAC key behind `secret`, or nil when it is not a valid `whsec_` secret.
    public static func signingKey(from secret: Secret) -> [UInt8]? {
        let text = secret.exposedValue
        guard text.hasPrefix("whsec_"), let data = Data(base64Encoded: String(text.dropFirst(6))),
              (24...64).contains(data.count)
        else { return nil }
        return [UInt8](data)
    }

    init(name: String, node: ConfigNode, defaultTimeout: Duration) throws(ConfigError) {
        try self.init(name: name, fields: try node.fields(allowed: ["url", "secret", "timeout", "headers"]), node: node,
                      defaultTimeout: defaultTimeout)
    }

    /// From `url`, `secret`, `timeout` and `headers` of `node` (which may hold other keys too).
    init(name: String, fields: [String: ConfigNode], node: ConfigNode, defaultTimeout: Duration) throws(ConfigError) {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw node.error("endpoint names may hold letters, digits, '-', '_' and '.'")
        }
        self.name = name
        guard let urlNode = fields["url"] else { throw node.error("url: required") }
        url = try urlNode.url(schemes: ["http", "https"])
        guard let secretNode = fields["secret"] else { throw node.error("secret: required") }
        secret = try secretNode.secret()
        // Never echo the value: it is a secret.
        guard secret.isUnset || Self.signingKey(from: secret) != nil else {
            throw secretNode.error("not a Standard Webhooks secret (expected whsec_ followed by base64 of 24 to 64 bytes)")
        }
        timeout = try fields["timeout"]?.duration() ?? defaultTimeout
        guard timeout > .zero else { throw (fields["timeout"] ?? node).error("must be longer than 0s") }
        headers = []
        if let headersNode = fields["headers"] {
            for (headerName, valueNode) in try headersNode.entries() {
                let value = try valueNode.string()
                guard HeaderField.isValidName(headerName) else {
                    throw valueNode.error("not a valid header name")
                }
                guard HeaderField.isValidValue(value) else {
                    throw valueNode.error("header values must not contain control characters (CR, LF, NUL)")
                }
                headers.append((headerName, value))
            }
        }
    }
}

/// How a channel hands over what it would send.
public enum TransportChoice: String, Sendable {
    /// The real protocol over libcurl (HTTP, SMTP…).
    case network
    /// Development only: write what would be sent as files under the outbox folder.
    case outbox

    init(_ node: ConfigNode) throws(ConfigError) {
        let text = try node.string()
        guard let value = TransportChoice(rawValue: text) else {
            throw node.error("expected network or outbox, got \"\(text)\"")
        }
        self = value
    }
}
