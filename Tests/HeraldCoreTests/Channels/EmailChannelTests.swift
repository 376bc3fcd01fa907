import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1.
@Suite("Email channel over real SMTP")
struct EmailChannelTests {
    static let template = [
        "mail/manifest.yaml": "channel: email\nfrom_name: Beratung Hafen — Harbor\nreply_to: advisors@harbor.example\n",
        "mail/subject.txt": "Grüße, {{data.first_name}}: Ihr Leitfaden ist da 🎉\n",
        "mail/text.txt": "Hallo {{data.first_name}},\n\nhier ist Ihr Leitfaden: {{data.url}}\n.\nFrom here on, plain text.\n{{data.long}}\n",
        "mail/html.html": "<p>Hallo <b>{{data.first_name}}</b> — <a href=\"{{data.url}}\">Leitfaden</a></p>\n<p>{{data.long}}</p>\n",
    ]

    static func smtpBlock(port: Int, extra: String = "") -> String {
        """
        transport: network
        smtp: {url: "smtp://127.0.0.1:\(port)", helo: herald.test, starttls: off\(extra)}
        from: "Harbor Financial <news@harbor.example>"
        list_unsubscribe_mailto: unsubscribe@harbor.example
        connect_timeout: 2s
        timeout: 10s
        """
    }

    func fixture(_ folder: TemporaryFolder, email: String, workers: Int = 4,
                 retry: String = "{max_attempts: 3, initial: 100ms, max: 1s}") throws -> HeraldFixture {
        let fixture = try HeraldFixture(endpoints: ["unused": "http://127.0.0.1:9/"], workers: workers, retry: retry, email: email,
                                        folder: folder)
        for (path, text) in Self.template { try folder.write("Templates/\(path)", text) }
        return fixture
    }

    func enqueue(_ fixture: HeraldFixture, to addresses: [String], category: MessageCategory = .marketing) async throws {
        let long = String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 40)
        let data = #"{"first_name": "Zoë", "url": "https://harbor.example/guide?a=1&b=2", "long": "\#(long)"}"#
        _ = try await fixture.queue.enqueue(addresses.enumerated().map { index, address in
            NewMessage(key: "mail-\(index)", channel: .email, template: "mail",
                       recipient: Recipient(email: address, name: "Zoë Müller"), dataJSON: data, sendAt: Timestamp.now(),
                       category: category, campaign: "welcome")
        })
    }

    @Test("with bounces configured, each email's envelope sender is its VERP address, which names the message; the From header stays")
    func verpEnvelope() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, email: Self.smtpBlock(port: server.port)
            + "\nbounces: {return_path: \"bounces@bounce.harbor.example\", secret: \"test-bounce-key-0123456789\"}")
        try await enqueue(fixture, to: ["zoe@example.com", "sam@example.com"])
        try await fixture.deliverUntilSettled()
        await server.stop()
        let returnPath = try #require(fixture.config.email?.bounces?.returnPath)
        let messages = try server.messages()
        try #require(messages.count == 2)
        for message in messages {
            let stored = try #require(try await fixture.queue.message(message.rcpt_tos.first == "zoe@example.com" ? "mail-0" : "mail-1"))
            #expect(message.mail_from == returnPath.address(for: stored.id), "\(message.mail_from)")
            #expect(returnPath.messageID(of: message.mail_from) == stored.id)
            #expect(message.from == "Beratung Hafen — Harbor <news@harbor.example>")
        }
    }

    @Test("plain SMTP: a multipart message that Python's email package parses, headers right, UTF-8 subject intact")
    func plainDelivery() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, email: Self.smtpBlock(port: server.port))
        try await enqueue(fixture, to: ["zoe@example.com"])
        try await fixture.deliverUntilSettled()
        await server.stop()

        let message = try #require(try server.messages().first)
        #expect(message.subject == "Grüße, Zoë: Ihr Leitfaden ist da 🎉")
        #expect(message.from == "Beratung Hafen — Harbor <news@harbor.example>")
        #expect(message.to == "Zoë Müller <zoe@example.com>")
        #expect(message.reply_to == "advisors@harbor.example")
        #expect(message.mail_from == "news@harbor.example")
        #expect(message.rcpt_tos == ["zoe@example.com"])
        #expect(message.content_type == "multipart/alternative")
        // The parts arrive with CRLF line ends, as SMTP carries them.
        #expect(message.text?.replacingOccurrences(of: "\r\n", with: "\n").hasPrefix("Hallo Zoë,\n\nhier ist Ihr Leitfaden: https://harbor.example/guide?a=1&b=2\n.\nFrom here on") == true,
                "\(message.text ?? "nil")")
        #expect(message.html?.contains("<p>Hallo <b>Zoë</b> — <a href=\"https://harbor.example/guide?a=1&amp;b=2\">") == true)
        #expect(message.defects.isEmpty, "\(message.defects)")
        #expect(message.longest_line <= 998)
        #expect(message.message_id.hasPrefix("<1.") && message.message_id.hasSuffix("@harbor.example>"))
        let unsubscribe = try #require(message.list_unsubscribe)
        #expect(unsubscribe.contains("<https://crm.example.com/u/") && unsubscribe.contains("<mailto:unsubscribe@harbor.example?subject=unsubscribe>"))
        #expect(message.list_unsubscribe_post == "List-Unsubscribe=One-Click")
        #expect(!message.tls)

        let attempts = try fixture.attempts(ofKey: "mail-0")
        #expect(attempts.map(\.outcome) == ["sent"])
        #expect(attempts.first?.remote_code == "250")
        #expect(attempts.first?.remote_text == "250 2.0.0 Ok: queued")
    }

    @Test("transactional mail carries no List-Unsubscribe")
    func transactionalHasNoListUnsubscribe() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, email: Self.smtpBlock(port: server.port))
        try await enqueue(fixture, to: ["zoe@example.com"], category: .transactional)
        try await fixture.deliverUntilSettled()
        await server.stop()
        let message = try #require(try server.messages().first)
        #expect(message.list_unsubscribe == nil)
        #expect(message.list_unsubscribe_post == nil)
    }

    @Test("STARTTLS required with a self-signed CA, and AUTH; a wrong password is transient")
    func startTLSAndAuth() async throws {
        let folder = try TemporaryFolder()
        let certificate = try await SMTPServer.makeCertificate(in: folder)
        let server = try await SMTPServer(folder: folder, tls: certificate, auth: "herald:s3cret-smtp")
        let tls = #", starttls: required, ca_file: "\#(certificate.cert.path)", username: herald, password: "${TEST_SMTP_PASSWORD}""#
        let good = try fixture(folder, email: Self.smtpBlock(port: server.port, extra: tls).replacingOccurrences(of: "starttls: off, ", with: ""))
        try await enqueue(good, to: ["zoe@example.com"])
        try await good.deliverUntilSettled()

        let message = try #require(try server.messages().first)
        #expect(message.tls)
        #expect(message.subject == "Grüße, Zoë: Ihr Leitfaden ist da 🎉")
        #expect(try good.state(ofKey: "mail-0") == "sent")

        // The same server with a wrong password: refused login, retried, not failed. The retry is
        // a minute away, so the one drain below makes exactly one attempt however slow it is.
        let wrong = try fixture(try TemporaryFolder(), email: Self.smtpBlock(port: server.port, extra: tls.replacingOccurrences(of: "${TEST_SMTP_PASSWORD}", with: "wrong"))
            .replacingOccurrences(of: "starttls: off, ", with: ""), retry: "{max_attempts: 3, initial: 1m, max: 5m}")
        try await enqueue(wrong, to: ["zoe@example.com"])
        let transports = CurlChannels(workers: 8)
        try await wrong.deliverOnce(through: transports)
        await transports.shutdown()
        await server.stop()
        let attempts = try wrong.attempts(ofKey: "mail-0")
        #expect(attempts.map(\.outcome) == ["transient"])
        #expect(attempts.first?.error_code == "authentication")
        #expect(attempts.first?.remote_code == "535")
        #expect(try wrong.state(ofKey: "mail-0") == "queued")
    }

    @Test("451 is retried and sent; 550 5.1.1 fails at once and suppresses the address; 554 5.7.1 fails without")
    func replies() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, email: Self.smtpBlock(port: server.port))
        try await enqueue(fixture, to: ["tempfail-once-1@example.com", "NoSuchUser@Example.com", "policy@example.com"])
        try await fixture.deliverUntilSettled()
        await server.stop()

        let retried = try fixture.attempts(ofKey: "mail-0")
        #expect(retried.map(\.outcome) == ["transient", "sent"])
        #expect(retried.first?.remote_code == "451")
        #expect(retried.first?.remote_text?.hasPrefix("451 4.3.0") == true)
        #expect(try fixture.state(ofKey: "mail-0") == "sent")

        let bounced = try fixture.attempts(ofKey: "mail-1")
        #expect(bounced.map(\.outcome) == ["permanent"])
        #expect(bounced.first?.error_code == "hard_bounce")
        #expect(bounced.first?.remote_text?.hasPrefix("550 5.1.1") == true)
        #expect(try fixture.state(ofKey: "mail-1") == "failed")
        let suppression = try await fixture.queue.suppression(of: try Address("nosuchuser@example.com", channel: .email))
        #expect(suppression?.reason == .bounced)
        #expect(suppression?.source?.hasPrefix("smtp 550 5.1.1") == true)

        let refused = try fixture.attempts(ofKey: "mail-2")
        #expect(refused.map(\.outcome) == ["permanent"])
        #expect(refused.first?.error_code == "smtp_reply")
        #expect(try await fixture.queue.suppression(of: try Address("policy@example.com", channel: .email)) == nil)
        #expect(try server.messages().count == 1)
    }

    @Test("1,000 emails through one worker use a handful of SMTP connections")
    func connectionReuse() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, email: Self.smtpBlock(port: server.port), workers: 1)
        try await enqueue(fixture, to: (0..<1_000).map { "lead\($0)@example.com" })
        try await fixture.deliverUntilSettled(workers: 1)
        await server.stop()
        #expect(try server.messages().count == 1_000)
        let connections = try server.connections()
        #expect(connections <= 3, "\(connections) connections for 1,000 messages")
        print("smtp connection reuse: 1,000 messages over \(connections) connection(s)")
    }
}
