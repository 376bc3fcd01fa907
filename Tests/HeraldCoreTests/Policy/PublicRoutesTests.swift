import Foundation
import Testing
@testable import HeraldCore

/// Unsubscribe pages and the inbound-SMS webhook over real HTTP, on the TCP listener (without
/// the API token: recipients and gateways do not have it) of a real `herald run`.
@Suite("Unsubscribe and inbound SMS endpoints", .serialized)
struct PublicRoutesTests {
    static let inboundURL = "https://crm.example.com/herald/inbound/sms"

    static func start(sms: String) async throws -> (HeraldFixture, ChildProcess, APIClient) {
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["ok": "http://127.0.0.1:9/"], sms: sms,
            topLevel: "intake: {drop_folder: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}")
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        guard try await waitUntil(timeout: startupTimeout, { FreePort.isListening(port) || !run.isRunning }), run.isRunning else {
            throw APIClient.ClientError.failed(-1, run.output().stderr)
        }
        return (fixture, run, try APIClient(.tcp(port: port)))
    }

    static let twilio = """
        gateway: twilio
        transport: outbox
        from: "+15550100"
        username: ACtest0123456789
        password: "${TEST_TWILIO_TOKEN}"
        inbound: {url: "\(inboundURL)"}
        """

    @Test("GET shows a page and suppresses nothing; POST (one-click) suppresses; a tampered token gets 400 and changes nothing")
    func unsubscribe() async throws {
        let (fixture, run, api) = try await Self.start(sms: Self.twilio)
        defer { run.signal(SIGKILL) }
        let links = try #require(fixture.config.unsubscribe)
        let token = links.token(.init(address: try Address("sarah.jones@example.com", channel: .email), campaign: "Q4 <b>offer</b>"))

        let page = try await api.get("/u/\(token)")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["referrer-policy"] == "no-referrer")
        #expect(page.body.contains("sarah.jones@example.com"))
        #expect(page.body.contains(#"<form method="post">"#))
        #expect(page.body.contains("Q4 &lt;b&gt;offer&lt;/b&gt;") && !page.body.contains("<b>offer"))
        #expect(try await fixture.queue.suppression(of: try Address("sarah.jones@example.com", channel: .email)) == nil)

        // Altered: another address under the same signature, a cut signature, another key.
        let pieces = token.split(separator: ".")
        let otherAddress = SignedToken.base64URL(Data("email\nboss@example.com\n".utf8)) + "." + pieces[1]
        let otherKey = UnsubscribeLinks(baseURL: "https://x", secret: Secret("another-key-0123456789abcdef"))
            .token(.init(address: try Address("boss@example.com", channel: .email), campaign: nil))
        for forged in [otherAddress, String(token.dropLast(2)), otherKey] {
            let get = try await api.get("/u/\(forged)")
            #expect(get.status == 400 && get.body.contains("not valid"))
            let post = try await api.request("POST", "/u/\(forged)", body: Data("List-Unsubscribe=One-Click".utf8),
                                             headers: ["Content-Type: application/x-www-form-urlencoded"])
            #expect(post.status == 400)
        }
        #expect(try await fixture.queue.suppression(of: try Address("boss@example.com", channel: .email)) == nil)

        // RFC 8058 one-click, as a mailbox provider sends it.
        let post = try await api.request("POST", "/u/\(token)", body: Data("List-Unsubscribe=One-Click".utf8),
                                         headers: ["Content-Type: application/x-www-form-urlencoded"])
        #expect(post.status == 200 && post.body.contains("You are unsubscribed"))
        let suppression = try await fixture.queue.suppression(of: try Address("sarah.jones@example.com", channel: .email))
        #expect(suppression?.reason == .unsubscribed)
        #expect(suppression?.source == "unsubscribe link (Q4 <b>offer</b>)")
        // The public routes are the only ones open without the token.
        #expect(try await api.get("/v1/suppressions").status == 401)
    }

    /// Twilio's signature, computed by Python's hmac (not by the code under test).
    static func twilioSignature(url: String, fields: [(String, String)]) async throws -> String {
        let script = """
            import base64, hashlib, hmac, sys
            url, token, *pairs = sys.argv[1:]
            data = url + "".join(k + v for k, v in sorted(zip(pairs[::2], pairs[1::2])))
            print(base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode())
            """
        let child = try ChildProcess(SupportPaths.python, ["-c", script, url, SMSAPIServer.token] + fields.flatMap { [$0.0, $0.1] })
        _ = await child.wait(timeout: .seconds(10))
        return child.output().stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func form(_ fields: [(String, String)]) -> Data {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Data(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
    }

    @Test("Twilio inbound: STOP suppresses, START lifts it, other words and bad signatures change nothing")
    func twilioInbound() async throws {
        let (fixture, run, api) = try await Self.start(sms: Self.twilio)
        defer { run.signal(SIGKILL) }
        func reply(_ body: String, from: String = "+15550100123", signature: String? = nil) async throws -> APIClient.Response {
            let fields = [("AccountSid", "ACtest0123456789"), ("Body", body), ("From", from), ("To", "+15550100"),
                          ("MessageSid", "SM\(UUID().uuidString.prefix(8))")]
            let signed = try await Self.twilioSignature(url: Self.inboundURL, fields: fields)
            return try await api.request("POST", "/inbound/sms", body: Self.form(fields), headers: [
                "Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(signature ?? signed)",
            ])
        }
        func reason() async throws -> Suppression.Reason? {
            try await fixture.queue.suppression(of: try Address("+15550100123", channel: .sms))?.reason
        }

        let stop = try await reply(" Stop ")
        #expect(stop.status == 200 && stop.headers["content-type"] == "text/xml" && stop.body.contains("<Response>"))
        #expect(try await reason() == .unsubscribed)
        #expect(try await reply("START").status == 200)
        #expect(try await reason() == nil)
        #expect(try await reply("please stop calling me").status == 200)
        #expect(try await reason() == nil)
        let forged = try await reply("STOP", signature: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        #expect(forged.status == 403 && forged.json?["error"]?.string == "bad_signature")
        #expect(try await reason() == nil)
        for word in ["stopall", "UNSUBSCRIBE", "cancel", "End", "quit"] {
            // Lifted first, so the word itself must opt out again (not a leftover STOP).
            #expect(try await reply("START").status == 200)
            #expect(try await reason() == nil, "START before \(word)")
            #expect(try await reply(word).status == 200)
            #expect(try await reason() == .unsubscribed, "\(word)")
        }
        // UNSTOP lifts an opt-out like START...
        #expect(try await reason() == .unsubscribed)
        #expect(try await reply("UNSTOP").status == 200)
        #expect(try await reason() == nil)
        // ...and only an opt-out: an operator's block stays.
        try await fixture.queue.suppress([Suppression(try Address("+15550100123", channel: .sms), reason: .manual)])
        #expect(try await reply("UNSTOP").status == 200)
        #expect(try await reason() == .manual)
    }

    @Test("Kannel-style inbound (get-url with ?token=): STOP and START; a wrong token is refused")
    func tokenInbound() async throws {
        let (fixture, run, api) = try await Self.start(sms: """
            gateway: kannel
            transport: outbox
            url: "http://127.0.0.1:9/cgi-bin/sendsms"
            username: herald
            inbound: {token: "${TEST_API_TOKEN}"}
            """)
        defer { run.signal(SIGKILL) }
        let token = HeraldFixture.apiToken
        let stop = try await api.get("/inbound/sms?token=\(token)&From=%2B15550100124&Body=STOP")
        #expect(stop.status == 200 && stop.json?["action"]?.string == "opted_out")
        #expect(try await fixture.queue.suppression(of: try Address("+15550100124", channel: .sms))?.reason == .unsubscribed)
        #expect(try await api.get("/inbound/sms?token=wrong-token-0123456789&From=%2B15550100124&Body=START").status == 403)
        #expect(try await fixture.queue.suppression(of: try Address("+15550100124", channel: .sms)) != nil)
        let start = try await api.get("/inbound/sms?token=\(token)&From=%2B15550100124&Body=start")
        #expect(start.json?["action"]?.string == "opted_in")
        #expect(try await fixture.queue.suppression(of: try Address("+15550100124", channel: .sms)) == nil)
    }
}
