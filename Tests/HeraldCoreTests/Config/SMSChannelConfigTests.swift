import Foundation
import Testing
@testable import HeraldCore

@Suite("Config: channels.sms")
struct SMSChannelConfigTests {
    func parse(_ sms: String) throws(ConfigError) -> HeraldConfig {
        let body = sms.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n")
        return try HeraldConfig.parse(yaml: "channels:\n  sms:\n\(body)\n", root: URL(fileURLWithPath: "/srv/herald"),
                                      environment: ["TOKEN": "t0ken"])
    }

    @Test("each gateway's valid settings are read")
    func valid() throws {
        let twilio = try #require(try parse("gateway: twilio\nfrom: \"+15550100\"\nusername: AC123\npassword: \"${TOKEN}\"").sms)
        #expect(twilio.url == "https://api.twilio.com")
        #expect(twilio.password?.exposedValue == "t0ken")
        #expect(twilio.maxSegments == 3)
        #expect(TwilioGateway(config: twilio).messagesURL.absoluteString == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json")
        let http = try #require(try parse("""
            gateway: http
            url: "https://sms.example/send?to={{to}}&text={{text}}"
            request: {method: GET, success: {status: 202}}
            """).sms)
        #expect(http.request?.successStatuses == [202])
        let request = HTTPGateway(config: http).request(for: SMSSubmission(
            to: "+15551234567", from: nil, text: "Hi & bye+", encoding: SMSEncoding("Hi & bye+"), reference: "k"))
        #expect(request.url.absoluteString == "https://sms.example/send?to=%2B15551234567&text=Hi%20%26%20bye%2B")
        #expect(request.method == "GET")
    }

    @Test("a bad value names the key and the value", arguments: [
        ("gateway: nexmo\nurl: \"http://x.test/\"", "channels.sms.gateway", "expected twilio, kannel, http, got \"nexmo\""),
        ("gateway: kannel\nurl: \"http://x.test/\"\nusername: herald", "channels.sms", "kannel: username and password of a sendsms-user are required"),
        ("gateway: kannel\nurl: \"http://x.test/\"\nfrom: \"+0123\"\nusername: a\npassword: b", "channels.sms.from", "not E.164 (\"+0123\"), e.g. \"+15550100\""),
        ("gateway: twilio\nusername: herald\npassword: b\nfrom: Harbor", "channels.sms.username", "twilio: the account SID (AC…) is required as username"),
        ("gateway: http\nurl: \"http://x.test/\"\nrequest: {body: '{\"to\": \"{{phone}}\"}'}", "channels.sms.request.body",
         "unknown placeholder {{phone}} (expected one of: from, key, text, to)"),
        ("gateway: kannel\nurl: \"ftp://x.test/\"\nusername: a\npassword: b", "channels.sms.url", "not a http/https URL (\"ftp://x.test/\")"),
        ("gateway: kannel\nurl: \"http://x.test/\"\nusername: a\npassword: b\nmax_segments: 0", "channels.sms.max_segments", "0 is out of range 1...255"),
    ])
    func badValue(yaml: String, path: String, reason: String) {
        do {
            _ = try parse(yaml)
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.path == path)
            #expect(error.reason == reason)
        }
    }

    @Test("the development outbox needs no gateway credentials, and writes none")
    func outboxRedacts() async throws {
        let folder = try TemporaryFolder()
        let config = try #require(try parse("gateway: kannel\ntransport: outbox\nurl: \"http://x.test/\"\nusername: herald\npassword: \"${TOKEN}\"").sms)
        let transport = OutboxTransport(folder: folder.url)
        let gateway = config.makeGateway()
        _ = try await transport.send(gateway.request(for: SMSSubmission(
            to: "+15551234567", from: nil, text: "Hi", encoding: SMSEncoding("Hi"), reference: "k")))
        let files = try FileManager.default.contentsOfDirectory(at: folder.url, includingPropertiesForKeys: nil)
        let written = try String(contentsOf: try #require(files.first), encoding: .utf8)
        #expect(written.contains("X-Kannel-Password: <redacted>"))
        #expect(!written.contains("t0ken"))
        _ = try parse("gateway: kannel\ntransport: outbox\nurl: \"http://x.test/\"\nusername: herald")
    }
}
