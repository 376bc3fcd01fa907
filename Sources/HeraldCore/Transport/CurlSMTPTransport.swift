import CCurl
import Foundation

/// SMTP over libcurl's multi interface. Connections stay in the multi handle's cache, so one
/// EHLO (and STARTTLS and AUTH) serves many messages.
public struct CurlSMTPTransport: MailTransport {
    let multi: CurlMulti

    public init(multi: CurlMulti) {
        self.multi = multi
    }

    public func send(_ request: SMTPRequest) async throws -> SMTPReply {
        let settings = request.settings
        var spec = CurlTransferSpec(url: settings.curlURL, connectTimeout: request.connectTimeout, timeout: request.timeout)
        spec.mail = .init(from: request.from, recipients: request.recipients, message: request.message)
        spec.keepsFailedReplies = true
        if settings.url.scheme?.lowercased() == "smtp" {
            spec.useSSL = switch settings.startTLS {
            case .required: Int(CURLUSESSL_ALL.rawValue)
            case .optional: Int(CURLUSESSL_TRY.rawValue)
            case .off: Int(CURLUSESSL_NONE.rawValue)
            }
        }
        spec.username = settings.username
        spec.password = settings.password?.exposedValue
        spec.caFile = settings.caFile
        let result = try await multi.perform(spec)
        let reply = Self.lastReply(result.headerLines, code: result.responseCode)
        if let error = result.error, reply.code < 400 {
            // libcurl failed without a refusal we can read: treat it as no answer.
            throw error
        }
        return reply
    }

    /// The last reply line with `code` (multi-line replies use "250-" for all but the last).
    static func lastReply(_ lines: [String], code: Int) -> SMTPReply {
        let prefix = String(code)
        if let line = lines.last(where: { $0.hasPrefix(prefix + " ") || $0 == prefix }) ?? lines.last(where: { $0.hasPrefix(prefix) }) {
            return SMTPReply(code: code, text: String(line.dropFirst(min(line.count, 4))))
        }
        return SMTPReply(code: code, text: "")
    }
}

/// Development delivery for email: writes each message as an `.eml` file (with its envelope in
/// `X-Herald-Envelope-*` lines on top) under the outbox folder and answers 250.
public struct OutboxMailTransport: MailTransport {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    public func send(_ request: SMTPRequest) async throws -> SMTPReply {
        var bytes = Array("X-Herald-Envelope-From: \(request.from)\r\nX-Herald-Envelope-To: \(request.recipients.joined(separator: ", "))\r\n".utf8)
        bytes += request.message
        let file = try OutboxFile.write(bytes, id: request.id, extension: "eml", in: folder)
        return SMTPReply(code: 250, text: "written to \(file.path)")
    }
}
