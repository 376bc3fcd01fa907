import Foundation
import Testing
@testable import HeraldCore

/// Delivery receipts from the SMS gateway, posted to a real `herald run`: Twilio's status
/// callbacks signed by the test with Python's hmac, and Kannel's DLR GETs built from the URL
/// Herald handed to the gateway.
@Suite("SMS receipts", .serialized)
struct SMSReceiptTests {
    static let receiptsURL = "https://crm.example.com/herald/receipts/sms"

    /// Starts `herald run` with its HTTP listener; the fixture's messages are already sent.
    static func start(_ fixture: HeraldFixture, port: Int) async throws -> (ChildProcess, APIClient) {
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        guard try await waitUntil(timeout: startupTimeout, { FreePort.isListening(port) || !run.isRunning }), run.isRunning else {
            throw APIClient.ClientError.failed(-1, run.output().stderr)
        }
        return (run, try APIClient(.tcp(port: port)))
    }

    /// Twilio's signature, computed the way its docs show, in Python.
    static func twilioSignature(url: String, fields: [(String, String)], token: String) async throws -> String {
        let script = """
            import base64, hashlib, hmac, sys
            url, token, *pairs = sys.argv[1:]
            data = url + "".join(k + v for k, v in sorted(zip(pairs[::2], pairs[1::2])))
            print(base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode())
            """
        let child = try ChildProcess(SupportPaths.python, ["-c", script, url, token] + fields.flatMap { [$0.0, $0.1] })
        #expect(await child.wait(timeout: .seconds(10)) == 0)
        return child.output().stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func form(_ fields: [(String, String)]) -> Data {
        Data(fields.map { "\($0.0)=\(HTTPGatewayRequest.percentEncoded($0.1))" }.joined(separator: "&").utf8)
    }

    static func events(_ fixture: HeraldFixture) async throws -> [Event] {
        try await fixture.queue.events(after: .start, matching: EventFilter(types: [.smsDelivered, .smsUndelivered]), limit: 100)
            .map(\.event)
    }

    @Test("Twilio status callbacks signed with the auth token become sms.delivered and sms.undelivered with the carrier's code; interim ones record nothing; a forged one gets 403")
    func twilio() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMSAPIServer(folder: folder)
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"], workers: 4,
            sms: SMSChannelTests.twilioBlock(server) + "\nreceipts: {url: \"\(Self.receiptsURL)\"}",
            topLevel: "intake: {drop_folder: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}\nevents: {}",
            folder: folder)
        try fixture.useShippedTemplate("consultation-reminder")
        try await SMSChannelTests().enqueueReminder(fixture, key: "delivered", phone: "+15551234567")
        try await SMSChannelTests().enqueueReminder(fixture, key: "lost", phone: "+15551234568")
        try await fixture.deliverUntilSettled()
        let sent = try server.requests().filter { $0.status == 201 }
        try #require(sent.count == 2)
        let delivered = try #require(try await fixture.queue.message("delivered"))
        let lost = try #require(try await fixture.queue.message("lost"))
        let callbackOf = Dictionary(uniqueKeysWithValues: sent.map { ($0.to, $0.callback ?? "") })
        #expect(callbackOf["+15551234567"] == "\(Self.receiptsURL)/\(delivered.id)", "Twilio is told where to report")

        let (run, api) = try await Self.start(fixture, port: port)
        defer { run.signal(SIGKILL) }
        func post(_ message: MessageDetail, _ fields: [(String, String)], signedAs signedFields: [(String, String)]? = nil)
            async throws -> Int
        {
            let url = "\(Self.receiptsURL)/\(message.id)"
            let signature = try await Self.twilioSignature(url: url, fields: signedFields ?? fields, token: SMSAPIServer.token)
            return try await api.request("POST", "/receipts/sms/\(message.id)", body: Self.form(fields), headers: [
                "Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(signature)",
            ]).status
        }
        let sid = sent.first { $0.to == "+15551234567" }?.sid ?? ""
        #expect(try await post(delivered, [("MessageSid", sid), ("MessageStatus", "sent")]) == 204, "interim: acknowledged")
        #expect(try await Self.events(fixture).isEmpty, "and nothing recorded")
        #expect(try await post(delivered, [("MessageSid", sid), ("MessageStatus", "delivered")]) == 204)
        #expect(try await post(lost, [("MessageSid", "SMx"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")]) == 204)
        // Forged: the fields changed after signing, and a signature for another message's URL.
        #expect(try await post(lost, [("MessageStatus", "delivered")], signedAs: [("MessageStatus", "undelivered")]) == 403)
        let forged = try await Self.twilioSignature(url: "\(Self.receiptsURL)/\(delivered.id)", fields: [("MessageStatus", "delivered")],
                                                    token: SMSAPIServer.token)
        let misdirected = try await api.request("POST", "/receipts/sms/\(lost.id)", body: Self.form([("MessageStatus", "delivered")]),
                                                headers: ["Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(forged)"])
        #expect(misdirected.status == 403 && misdirected.body.contains("bad_signature"))

        let events = try await Self.events(fixture)
        #expect(events.map(\.type) == [.smsDelivered, .smsUndelivered], "only the two genuine final reports")
        #expect(events.first?.messageID == delivered.id && events.first?.payload.contains(#""status":"delivered""#) == true)
        #expect(events.last?.messageID == lost.id && events.last?.payload.contains(#""error_code":"30003""#) == true
                && events.last?.payload.contains(#""key":"lost""#) == true)
        // Twilio retrying a callback repeats the event's id, so the CRM drops it.
        #expect(try await post(delivered, [("MessageSid", sid), ("MessageStatus", "delivered")]) == 204)
        let again = try await Self.events(fixture)
        #expect(again.count == 3 && again[2].id == again[0].id)
        await server.stop()
    }

    @Test("a Kannel DLR on the URL Herald gave Kannel becomes sms.delivered or sms.undelivered; a wrong token or another message's token gets 403")
    func kannel() async throws {
        let folder = try TemporaryFolder()
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"], workers: 4,
            sms: """
                gateway: kannel
                transport: outbox
                url: "http://127.0.0.1:9/cgi-bin/sendsms"
                from: "+15550100"
                username: herald
                password: unused
                receipts: {url: "\(Self.receiptsURL)", token: "receipt-key-0123456789abcdef"}
                """,
            topLevel: "intake: {drop_folder: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}\nevents: {}",
            folder: folder)
        try fixture.useShippedTemplate("consultation-reminder")
        try await SMSChannelTests().enqueueReminder(fixture, key: "one", phone: "+15551234567")
        try await SMSChannelTests().enqueueReminder(fixture, key: "two", phone: "+15551234568")
        try await fixture.deliverUntilSettled()
        // What Kannel would have received: the DLR URL in each request's headers.
        let outbox = fixture.folder.file("var/outbox/sms")
        let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
        let urls = try files.compactMap { name -> String? in
            let text = try String(contentsOf: outbox.appendingPathComponent(name), encoding: .utf8)
            return text.split(separator: "\r\n").first { $0.hasPrefix("X-Kannel-DLR-Url: ") }.map { String($0.dropFirst(18)) }
        }
        try #require(urls.count == 2, "both requests carry a DLR URL: \(files)")
        let one = try #require(try await fixture.queue.message("one"))
        let two = try #require(try await fixture.queue.message("two"))
        let urlOne = try #require(urls.first { $0.hasPrefix("\(Self.receiptsURL)/\(one.id)?") })
        let urlTwo = try #require(urls.first { $0.hasPrefix("\(Self.receiptsURL)/\(two.id)?") })
        func local(_ url: String, type: String, answer: String) -> String {
            String(url.dropFirst("https://crm.example.com/herald".count))
                .replacingOccurrences(of: "%d", with: type).replacingOccurrences(of: "%A", with: answer)
        }

        let (run, api) = try await Self.start(fixture, port: port)
        defer { run.signal(SIGKILL) }
        #expect(try await api.get(local(urlOne, type: "8", answer: "ACK")).status == 204, "submitted to the SMSC: interim")
        #expect(try await api.get(local(urlOne, type: "1", answer: "DELIVRD")).status == 204)
        #expect(try await api.get(local(urlTwo, type: "16", answer: "NACK%2F0x0000000b%2FInvalid%20Destination")).status == 204)
        let tokenOne = try #require(urlOne.split(separator: "token=").last?.prefix(32))
        let wrong = try await api.get("/receipts/sms/\(two.id)?token=\(tokenOne)&type=1&answer=x")
        #expect(wrong.status == 403 && wrong.body.contains("bad_token"), "another message's token")
        #expect(try await api.get("/receipts/sms/\(two.id)?type=1").status == 403, "no token")

        let events = try await Self.events(fixture)
        #expect(events.map(\.type) == [.smsDelivered, .smsUndelivered])
        #expect(events.first?.messageID == one.id && events.last?.messageID == two.id)
        #expect(events.last?.payload.contains(#""status":"rejected""#) == true
                && events.last?.payload.contains("Invalid Destination") == true, "\(events.last?.payload ?? "")")
    }
}
