/// A configuration problem, always tied to the key path at fault
/// (`channels.webhook.endpoints.advisor-alerts.url: not an http(s) URL ("ftp://x")`).
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Dotted path of the key at fault; empty for the file as a whole.
    public let path: String
    public let reason: String

    public init(path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        path.isEmpty ? reason : "\(path): \(reason)"
    }
}
