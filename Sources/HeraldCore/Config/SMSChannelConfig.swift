import Foundation

/// `channels.sms`: which gateway carries the texts, and how Herald signs in to it.
///
/// ```yaml
/// sms:
///   gateway: twilio                    # twilio | kannel | http
///   url: "https://api.twilio.com"      # twilio: the API base; kannel: the sendsms URL; http: the request URL
///   from: "+15550100"
///   username: "${TWILIO_ACCOUNT_SID}"  # twilio: account SID; kannel: the sendsms-user
///   password: "${TWILIO_AUTH_TOKEN}"   # twilio: auth token; kannel: the sendsms-user's password
///   max_segments: 3
/// ```
public struct SMSChannelConfig: Sendable {
    public enum Gateway: String, Sendable, CaseIterable {
        /// Twilio's Messages API, or any provider that copies it (form POST, basic auth, JSON answer).
        case twilio
        /// Kannel's smsbox `sendsms` interface.
        case kannel
        /// Any other HTTP gateway, described in config (`request`).
        case http
    }

    public var gateway: Gateway
    public var transport: TransportChoice
    /// For `gateway: http` it may hold placeholders (`{{to}}`…), percent-encoded when filled in.
    public var url: String
    /// The sender: an E.164 number or an alphanumeric sender id.
    public var from: String?
    public var username: String?
    public var password: Secret?
    /// A text that needs more segments than this fails permanently instead of being sent.
    public var maxSegments: Int
    public var connectTimeout: Duration
    public var timeout: Duration
    /// Twilio only: send through a Messaging Service instead of a `from` number.
    public var messagingServiceSID: String?
    /// `gateway: http` only.
    public var request: HTTPGatewayRequest?
    /// Replies from recipients (STOP, START), posted by the gateway to Herald's `/inbound/sms`.
    public var inbound: InboundSMSConfig?
    /// Delivery receipts from the gateway, posted to Herald's `/receipts/sms/<message id>`.
    public var receipts: SMSReceiptsConfig?
    /// The gateway's limit, enforced across processes.
    public var rate: RateLimit?

    static let keys: Set<String> = [
        "gateway", "transport", "url", "from", "username", "password", "max_segments", "connect_timeout", "timeout",
        "messaging_service_sid", "request", "inbound", "receipts", "rate",
    ]

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: Self.keys)
        guard let gatewayNode = fields["gateway"] else {
            throw node.error("gateway: required (\(Gateway.allCases.map(\.rawValue).joined(separator: " | ")))")
        }
        let gatewayName = try gatewayNode.string()
        guard let gateway = Gateway(rawValue: gatewayName) else {
            throw gatewayNode.error("expected \(Gateway.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(gatewayName)\"")
        }
        self.gateway = gateway
        transport = try fields["transport"].map { node throws(ConfigError) in try TransportChoice(node) } ?? .network
        if let urlNode = fields["url"] {
            url = try urlNode.string()
            if let unknown = HTTPGatewayRequest.unknownPlaceholder(in: url) {
                throw urlNode.error("unknown placeholder {{\(unknown)}} (expected one of: \(HTTPGatewayRequest.placeholders.sorted().joined(separator: ", ")))")
            }
            if gateway != .http, url.contains("{{") { throw urlNode.error("placeholders are only for gateway http") }
            // Checked with the placeholders filled in, as they will be.
            let sample = HTTPGatewayRequest.fill(url, with: ["to": "+15551234567", "from": "x", "text": "x", "key": "x"]) {
                HTTPGatewayRequest.percentEncoded($0)
            }
            guard let parsed = URL(string: sample), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  parsed.host != nil
            else { throw urlNode.error("not a http/https URL (\"\(url)\")") }
        } else if gateway == .twilio {
            url = "https://api.twilio.com"
        } else {
            throw node.error("url: required for gateway \(gateway.rawValue)")
        }
        from = try fields["from"]?.nonEmptyString()
        if let from, from.hasPrefix("+"), !MessageValidation.isE164(from) {
            throw fields["from"]!.error("not E.164 (\"\(from)\"), e.g. \"+15550100\"")
        }
        username = try fields["username"]?.string().nilIfEmpty
        if let passwordNode = fields["password"] {
            let secret = try passwordNode.secret()
            password = secret.isEmpty ? nil : secret
        }
        maxSegments = try fields["max_segments"]?.int(in: 1...255) ?? 3
        connectTimeout = try fields["connect_timeout"]?.duration() ?? .seconds(5)
        timeout = try fields["timeout"]?.duration() ?? .seconds(15)
        messagingServiceSID = try fields["messaging_service_sid"]?.nonEmptyString()
        rate = try fields["rate"].map { node throws(ConfigError) in try RateLimit(node) }
        if let inboundNode = fields["inbound"] { inbound = try InboundSMSConfig(inboundNode, gateway: gateway) }
        if let receiptsNode = fields["receipts"] { receipts = try SMSReceiptsConfig(receiptsNode, gateway: gateway) }

        // The development outbox sends nothing, so it needs no credentials.
        let sends = transport == .network
        switch gateway {
        case .twilio:
            guard let username, username.hasPrefix("AC") else {
                throw (fields["username"] ?? node).error("twilio: the account SID (AC…) is required as username")
            }
            guard password != nil || !sends else {
                throw (fields["password"] ?? node).error("twilio: the auth token is required as password (from the environment: \"${TWILIO_AUTH_TOKEN}\")")
            }
            guard from != nil || messagingServiceSID != nil else {
                throw node.error("twilio: from (a number) or messaging_service_sid is required")
            }
        case .kannel:
            guard username != nil, password != nil || !sends else {
                throw node.error("kannel: username and password of a sendsms-user are required")
            }
        case .http:
            guard let requestNode = fields["request"] else {
                throw node.error("request: required for gateway http ({method, headers, body, format, success})")
            }
            request = try HTTPGatewayRequest(requestNode)
        }
        if gateway != .http, let requestNode = fields["request"] {
            throw requestNode.error("only for gateway http")
        }
    }
}

/// How to speak to a gateway Herald has no adapter for: a request with `{{to}}`, `{{from}}`,
/// `{{text}}` and `{{key}}` placeholders, and the rule that says the gateway accepted.
///
/// ```yaml
/// request:
///   method: POST
///   headers: {Authorization: "Bearer ${SMS_API_TOKEN}"}
///   format: json          # json | form: how placeholder values are escaped, and the Content-Type
///   body: '{"from": "{{from}}", "to": "{{to}}", "text": "{{text}}", "ref": "{{key}}"}'
///   success: {status: [200, 201, 202], body_contains: '"accepted"'}
///   message_id: id        # the top-level JSON field of the answer holding the gateway's id
/// ```
/// Placeholders in the URL (a GET gateway) are percent-encoded.
public struct HTTPGatewayRequest: Sendable {
    public enum Format: String, Sendable {
        case json
        case form
        var contentType: String {
            switch self {
            case .json: "application/json"
            case .form: "application/x-www-form-urlencoded"
            }
        }
    }

    public var method: String
    public var headers: [(name: String, value: String)]
    public var format: Format
    /// nil for a GET gateway that takes everything in the URL.
    public var body: String?
    public var successStatuses: Set<Int>
    public var successBodyContains: String?
    public var messageIDField: String?

    public static let placeholders: Set<String> = ["to", "from", "text", "key"]

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["method", "headers", "format", "body", "success", "message_id"])
        method = try fields["method"]?.nonEmptyString().uppercased() ?? "POST"
        guard ["GET", "POST", "PUT"].contains(method) else {
            throw fields["method"]!.error("expected GET, POST or PUT, got \"\(method)\"")
        }
        headers = try fields["headers"]?.headerFields() ?? []
        let formatText = try fields["format"]?.string() ?? "json"
        guard let format = Format(rawValue: formatText) else {
            throw fields["format"]!.error("expected json or form, got \"\(formatText)\"")
        }
        self.format = format
        body = try fields["body"]?.string()
        if let body, let unknown = Self.unknownPlaceholder(in: body) {
            throw fields["body"]!.error("unknown placeholder {{\(unknown)}} (expected one of: \(Self.placeholders.sorted().joined(separator: ", ")))")
        }
        if method != "GET", body == nil { throw node.error("body: required for \(method)") }
        successStatuses = Set(200...299)
        if let successNode = fields["success"] {
            let success = try successNode.fields(allowed: ["status", "body_contains"])
            if let statusNode = success["status"] {
                successStatuses = Set(try statusNode.items().map { item throws(ConfigError) in try item.int(in: 100...599) })
            }
            successBodyContains = try success["body_contains"]?.nonEmptyString()
        }
        messageIDField = try fields["message_id"]?.nonEmptyString()
    }

    /// `template` with each `{{name}}` replaced by `escape(values[name])`, missing values as "".
    public static func fill(_ template: String, with values: [String: String], escape: (String) -> String) -> String {
        var result = ""
        var rest = template[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            result += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            result += escape(values[name] ?? "")
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// RFC 3986 unreserved characters kept, everything else percent-encoded (also `+`, `&`, `=`).
    public static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// The first `{{name}}` in `text` that is not a known placeholder.
    static func unknownPlaceholder(in text: String) -> String? {
        var rest = text[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !placeholders.contains(name) { return name }
            rest = rest[close.upperBound...]
        }
        return nil
    }
}
