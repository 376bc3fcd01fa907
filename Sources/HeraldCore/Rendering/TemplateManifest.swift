import Foundation

/// A template's `manifest.yaml`: which channel it serves and the defaults its messages carry.
///
/// ```yaml
/// channel: email
/// description: Welcome email after a guide download
/// category: marketing
/// from_name: Harbor Financial
/// reply_to: advisors@harbor.example
/// locale: en_US
/// fallbacks:
///   data.first_name: there
/// tracking: false      # no open pixel or click links, even with `tracking` configured
/// ```
public struct TemplateManifest: Sendable, Equatable {
    public var channel: Channel
    public var description: String?
    /// The category of messages that do not say.
    public var category: MessageCategory?
    public var fromName: String?
    public var replyTo: String?
    /// Language of dates and other formatted values.
    public var locale: String
    /// Token path → text used when the message has no value (or an empty one) for it.
    public var fallbacks: [String: String]
    /// Extra email headers.
    public var headers: [String: String]
    /// Whether the config's open and click tracking applies to this template's emails.
    public var tracking = true

    public static let fileName = "manifest.yaml"

    static let keys: Set<String> = [
        "channel", "description", "category", "from_name", "reply_to", "locale", "fallbacks", "headers", "tracking",
    ]

    /// Parses manifest text; errors name the key path.
    static func parse(_ text: String) throws(ConfigError) -> TemplateManifest {
        // Templates are content, not deployment config: no ${ENV} expansion.
        let top = try ConfigNode.document(text, environment: EnvironmentSubstitution(environment: [:], enabled: false),
                                          emptyError: ConfigError(path: "channel", "required"))
        let fields = try top.fields(allowed: keys)
        guard let channelNode = fields["channel"] else { throw ConfigError(path: "channel", "required") }
        let channelName = try channelNode.string()
        guard let channel = Channel(rawValue: channelName) else {
            throw channelNode.error("expected one of \(Channel.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(channelName)\"")
        }
        var manifest = TemplateManifest(channel: channel, locale: "en_US", fallbacks: [:], headers: [:])
        if let node = fields["description"] { manifest.description = try node.string() }
        if let node = fields["category"] {
            let name = try node.string()
            guard let category = MessageCategory(rawValue: name) else {
                throw node.error("expected marketing or transactional, got \"\(name)\"")
            }
            manifest.category = category
        }
        if let node = fields["from_name"] { manifest.fromName = try node.headerValue() }
        if let node = fields["reply_to"] { manifest.replyTo = try node.headerValue() }
        if let node = fields["locale"] { manifest.locale = try node.nonEmptyString() }
        if let node = fields["tracking"] {
            guard channel == .email else { throw node.error("tracking applies to email templates only") }
            manifest.tracking = try node.bool()
        }
        if let node = fields["fallbacks"] {
            for (path, value) in try node.entries() { manifest.fallbacks[path] = try value.string() }
        }
        if let node = fields["headers"] {
            for (name, value) in try node.entries() {
                guard HeaderField.isValidName(name) else { throw value.error("not a valid header name") }
                manifest.headers[name] = try value.headerValue()
            }
        }
        return manifest
    }
}

extension ConfigNode {
    /// A value that goes into a header: CR and LF would start a new header, so they are refused.
    /// A mapping of header names to values, in file order, each checked.
    func headerFields() throws(ConfigError) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for (name, value) in try entries() {
            guard HeaderField.isValidName(name) else { throw value.error("not a valid header name") }
            headers.append((name, try value.headerValue()))
        }
        return headers
    }

    func headerValue() throws(ConfigError) -> String {
        let value = try string()
        guard !HeaderField.containsLineBreak(value) else { throw error("must not contain CR or LF") }
        return value
    }
}
