/// A configuration problem, always tied to the key path at fault
/// (`channels.webhook.endpoints.advisor-alerts.url: not an http(s) URL ("ftp://x")`), and where
/// the parser knows it, to the line of the file.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Dotted path of the key at fault; empty for the file as a whole.
    public let path: String
    public let reason: String
    /// The line (from 1) of the value at fault, when the error came from a parsed file.
    public let line: Int?

    public init(path: String, _ reason: String, line: Int? = nil) {
        self.path = path
        self.reason = reason
        self.line = line
    }

    public var description: String {
        path.isEmpty ? reason : "\(path): \(reason)"
    }

    /// Two errors are the same problem whatever line the parser could tell.
    public static func == (lhs: ConfigError, rhs: ConfigError) -> Bool {
        lhs.path == rhs.path && lhs.reason == rhs.reason
    }
}
