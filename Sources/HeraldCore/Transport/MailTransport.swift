import Foundation

/// One message for an SMTP relay: envelope and content.
public struct SMTPRequest: Sendable {
    public var settings: EmailChannelConfig.SMTPSettings
    public var from: String
    public var recipients: [String]
    public var message: [UInt8]
    public var connectTimeout: Duration
    public var timeout: Duration
    /// Names the outbox file in development.
    public var id: String
}

/// The server's last reply to a transaction: `250 2.0.0 Ok: queued`, `550 5.1.1 No such user`.
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    /// The reply's text (the last line of a multi-line reply), without the code.
    public var text: String

    /// The RFC 3463 enhanced status code when the reply has one: `5.1.1`.
    public var enhancedStatus: String? {
        let first = text.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        let parts = first.split(separator: ".")
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        return first
    }

    public var line: String { "\(code) \(text)" }
}

/// Sends mail. Throws `TransportError` when no reply came (network, TLS, timeout); a refusal by
/// the server is a reply, classified by the channel.
public protocol MailTransport: Sendable {
    func send(_ request: SMTPRequest) async throws -> SMTPReply
}
