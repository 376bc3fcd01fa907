import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// The SMS channel against real gateways on 127.0.0.1: Kannel (bearerbox + smsbox + fakesmsc) and
/// a Python server playing Twilio's API and a generic JSON gateway.
@Suite("SMS channel over real gateways", .serialized)
struct SMSChannelTests {
    /// The consultation reminder rendered with its sample data (recipient in America/New_York).
    static let reminder = "Hi Sarah, a reminder of your consultation with Daniel Reyes on Tuesday, November 24, 2026 at 10:00 AM. Reply C to confirm or call 555-010-4400 to move it. Reply STOP to opt out."

    func fixture(_ folder: TemporaryFolder, sms: String) throws -> HeraldFixture {
        let fixture = try HeraldFixture(endpoints: ["unused": "http://127.0.0.1:9/"], workers: 4, sms: sms, folder: folder)
        try fixture.useShippedTemplate("consultation-reminder")
        try folder.write("Templates/note/manifest.yaml", "channel: sms\ncategory: transactional\n")
        try folder.write("Templates/note/text.txt", "{{data.text}}\n")
        return fixture
    }

    func enqueueReminder(_ fixture: HeraldFixture, key: String, phone: String) async throws {
        let sample = try JSONSerialization.jsonObject(
            with: Data(contentsOf: SupportPaths.packageRoot.appendingPathComponent("Templates/consultation-reminder/sample.json")))
            as! [String: Any]
        let data = String(decoding: try JSONSerialization.data(withJSONObject: sample["data"]!), as: UTF8.self)
        _ = try await fixture.queue.enqueue([NewMessage(
            key: key, channel: .sms, template: "consultation-reminder",
            recipient: Recipient(name: "Sarah Jones", phone: phone, timezone: "America/New_York"), dataJSON: data,
            sendAt: Timestamp.now(), category: .transactional, campaign: "consultations")])
    }

    func enqueueNote(_ fixture: HeraldFixture, key: String, phone: String, text: String) async throws {
        let data = String(decoding: try JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self)
        _ = try await fixture.queue.enqueue([NewMessage(
            key: key, channel: .sms, template: "note", recipient: Recipient(phone: phone), dataJSON: data,
            sendAt: Timestamp.now(), category: .transactional)])
    }

    static func kannelBlock(_ kannel: Kannel, password: String = "${TEST_SMS_PASSWORD}") -> String {
        """
        gateway: kannel
        transport: network
        url: "\(kannel.sendsmsURL)"
        from: "+15550100"
        username: \(Kannel.username)
        password: "\(password)"
        max_segments: 4
        connect_timeout: 2s
        timeout: 5s
        """
    }

    @Test("Kannel: the rendered reminder (GSM-7, 2 parts) and a UCS-2 text arrive at the fake SMSC as rendered")
    func kannelDelivers() async throws {
        let folder = try TemporaryFolder()
        let kannel = try await Kannel(folder: folder)
        let fixture = try fixture(folder, sms: Self.kannelBlock(kannel))
        try await enqueueReminder(fixture, key: "reminder", phone: "+15551234567")
        let arabic = "مرحبا مريم، موعدك غدًا 😀"
        try await enqueueNote(fixture, key: "ucs2", phone: "+4915112345678", text: arabic)
        try await fixture.deliverUntilSettled()
        let arrived = try await waitUntil(timeout: .seconds(10)) { kannel.received().count >= 2 }
        let received = kannel.received()
        await kannel.stop()

        #expect(arrived, "fake SMSC got: \(received)")
        let reminder = try #require(received.first { $0.to == "+15551234567" })
        #expect(reminder.text == Self.reminder)
        #expect(reminder.from == "+15550100")
        #expect(reminder.parts == 2)
        let note = try #require(received.first { $0.to == "+4915112345678" })
        #expect(note.text == arabic)
        #expect(note.coding == "ucs-2")
        for key in ["reminder", "ucs2"] {
            #expect(try fixture.state(ofKey: key) == "sent")
            let attempts = try fixture.attempts(ofKey: key)
            #expect(attempts.map(\.remote_code) == ["202"])
            #expect(attempts.first?.remote_text?.contains("Accepted for delivery") == true)
        }
    }

    @Test("Kannel: a wrong sendsms password fails the message after one attempt, nothing is sent")
    func kannelWrongPassword() async throws {
        let folder = try TemporaryFolder()
        let kannel = try await Kannel(folder: folder)
        let fixture = try fixture(folder, sms: Self.kannelBlock(kannel, password: "not-the-password"))
        try await enqueueReminder(fixture, key: "reminder", phone: "+15551234567")
        try await fixture.deliverUntilSettled()
        try await Task.sleep(for: .milliseconds(500))
        let received = kannel.received()
        await kannel.stop()

        #expect(received.isEmpty)
        #expect(try fixture.state(ofKey: "reminder") == "failed")
        let attempts = try fixture.attempts(ofKey: "reminder")
        #expect(attempts.count == 1)
        #expect(attempts.first?.outcome == "permanent")
        #expect(attempts.first?.error_code == "authentication")
        #expect(attempts.first?.remote_code == "403")
    }

    static func twilioBlock(_ server: SMSAPIServer, maxSegments: Int = 3) -> String {
        """
        gateway: twilio
        transport: network
        url: "\(server.url)"
        from: "+15550100"
        username: \(SMSAPIServer.account)
        password: "${TEST_TWILIO_TOKEN}"
        max_segments: \(maxSegments)
        connect_timeout: 2s
        timeout: 5s
        """
    }

    @Test("Twilio API: 201 records the SID; 21211 fails; 21610 fails and suppresses; 429 waits Retry-After and succeeds")
    func twilioClassification() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMSAPIServer(folder: folder)
        let fixture = try fixture(folder, sms: Self.twilioBlock(server))
        try await enqueueReminder(fixture, key: "ok", phone: "+15551234567")
        try await enqueueReminder(fixture, key: "invalid", phone: "+15005550001")
        try await enqueueReminder(fixture, key: "opted-out", phone: "+15005550004")
        try await enqueueReminder(fixture, key: "busy", phone: "+15005550429")
        try await fixture.deliverUntilSettled()
        let requests = try server.requests()
        await server.stop()

        let ok = try #require(requests.first { $0.to == "+15551234567" })
        #expect(ok.auth_ok && ok.from == "+15550100" && ok.body == Self.reminder)
        #expect(try fixture.state(ofKey: "ok") == "sent")
        let okAttempt = try #require(try fixture.attempts(ofKey: "ok").first)
        #expect(okAttempt.remote_code == "201")
        #expect(okAttempt.remote_id == ok.sid && ok.sid?.hasPrefix("SM") == true)

        #expect(try fixture.state(ofKey: "invalid") == "failed")
        let invalid = try fixture.attempts(ofKey: "invalid")
        #expect(invalid.map(\.error_code) == ["invalid_recipient"])
        #expect(invalid.first?.remote_code == "21211")

        #expect(try fixture.state(ofKey: "opted-out") == "failed")
        let optedOut = try fixture.attempts(ofKey: "opted-out")
        #expect(optedOut.map(\.error_code) == ["opted_out"])
        let suppression = try await fixture.queue.suppression(of: try Address("+15005550004", channel: .sms))
        #expect(suppression?.reason == .unsubscribed)
        #expect(try await fixture.queue.suppression(of: try Address("+15005550001", channel: .sms)) == nil)

        #expect(try fixture.state(ofKey: "busy") == "sent")
        let busy = try fixture.attempts(ofKey: "busy")
        #expect(busy.map(\.outcome) == ["transient", "sent"])
        #expect(busy.first?.remote_code == "20429")
        #expect(requests.filter { $0.to == "+15005550429" }.count == 2)
        // Retry-After: 1 honoured, on Herald's record (the receiver's stamps can bunch on a busy machine).
        if busy.count == 2 {
            #expect(try #require(busy[0].retry_at) >= busy[0].started_at + 1_000)
            #expect(busy[1].started_at - busy[0].started_at >= 1_000, "Retry-After: 1 honoured")
        }
    }

    @Test("a text over max_segments fails permanently, naming the count, and never reaches the gateway")
    func tooManySegments() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMSAPIServer(folder: folder)
        let fixture = try fixture(folder, sms: Self.twilioBlock(server, maxSegments: 1))
        try await enqueueReminder(fixture, key: "long", phone: "+15551234567")
        try await fixture.deliverUntilSettled()
        let requests = try server.requests()
        await server.stop()

        #expect(requests.isEmpty)
        #expect(try fixture.state(ofKey: "long") == "failed")
        let attempt = try #require(try fixture.attempts(ofKey: "long").first)
        #expect(attempt.error_code == "too_many_segments")
        #expect(attempt.remote_text?.contains("needs 2 segments") == true, "\(attempt.remote_text ?? "")")
        #expect(attempt.remote_text?.contains("max_segments is 1") == true)
    }

    @Test("generic HTTP gateway: JSON body with escaped data, success rule on the body, id recorded")
    func genericGateway() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMSAPIServer(folder: folder)
        let fixture = try fixture(folder, sms: """
            gateway: http
            transport: network
            url: "\(server.url)/generic/send"
            from: HarborFin
            request:
              method: POST
              format: json
              headers: {X-Api-Key: "${TEST_TWILIO_TOKEN}"}
              body: '{"from": "{{from}}", "to": "{{to}}", "text": "{{text}}", "ref": "{{key}}"}'
              success: {status: [200], body_contains: '"result": "accepted"'}
              message_id: id
            timeout: 5s
            """)
        let hostile = "Quote \" backslash \\ and\nnewline, <tag> & 😀"
        try await enqueueNote(fixture, key: "accepted", phone: "+15551234567", text: hostile)
        try await enqueueNote(fixture, key: "rejected", phone: "+15005550001", text: "hello")
        try await fixture.deliverUntilSettled()
        let requests = try server.requests()
        await server.stop()

        let accepted = try #require(requests.first { $0.to == "+15551234567" })
        #expect(accepted.body == hostile)
        #expect(accepted.from == "HarborFin")
        #expect(accepted.ref == "accepted")
        #expect(try fixture.state(ofKey: "accepted") == "sent")
        #expect(try fixture.attempts(ofKey: "accepted").first?.remote_id == accepted.sid)

        #expect(try fixture.state(ofKey: "rejected") == "failed")
        let rejected = try fixture.attempts(ofKey: "rejected")
        #expect(rejected.map(\.error_code) == ["gateway_rejected"])
        #expect(rejected.first?.remote_text?.contains("unknown subscriber") == true)
    }
}
