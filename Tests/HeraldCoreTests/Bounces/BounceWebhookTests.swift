import Foundation
import Testing
@testable import HeraldCore

/// The providers' bounce and complaint webhooks on a real `herald run`'s public listener, after
/// real SMTP deliveries. Every key and signature is made by `Tests/Servers/provider_webhooks.py`
/// with Python's `cryptography`; SNS's certificate host is a real HTTPS server the test starts.
@Suite("Provider bounce webhooks")
struct BounceWebhookTests {
    static let topic = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
    static let mailgunKey = "mailgun-signing-key-0123456789"
    static let postmarkPassword = "postmark-webhook-password-0123"

    /// Runs Tests/Servers/provider_webhooks.py; its standard output.
    static func python(_ arguments: [String]) async throws -> String {
        let child = try ChildProcess(SupportPaths.python, [SupportPaths.servers.appendingPathComponent("provider_webhooks.py").path] + arguments)
        let status = await child.wait(timeout: .seconds(60))
        try #require(status == 0, "provider_webhooks.py \(arguments.first ?? ""): \(child.output().stderr)")
        return child.output().stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("SES through SNS (subscription confirmed, certificate fetched over HTTPS), SendGrid, Mailgun and Postmark: valid events suppress or count as their status says; forged, stale, unknown-topic and replayed requests get 403 and change nothing; an event naming a Message-ID Herald did not mint, or another recipient, is kept for review; a forged VERP token in a bounce changes nothing")
    func providers() async throws {
        let folder = try TemporaryFolder()
        let keys = folder.file("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let generated = try JSONValue.parse(Data(try await Self.python(["keys", keys.path]).utf8))
        let sendGridPublic = try #require(generated["sendgrid_public_key"]?.string)
        let requestLog = folder.file("sns-requests.log")
        let sns = try ChildProcess(SupportPaths.python, [SupportPaths.servers.appendingPathComponent("https_files.py").path,
                                                         "--dir", keys.path, "--cert", keys.appendingPathComponent("tls-cert.pem").path,
                                                         "--key", keys.appendingPathComponent("tls-key.pem").path, "--log", requestLog.path])
        defer { sns.signal(SIGKILL) }
        let snsPort = try #require(await sns.line(startingWith: "PORT ").flatMap(Int.init), "the SNS stand-in listens")
        let smtp = try await SMTPServer(folder: folder)
        let apiPort = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"],
            email: EmailChannelTests.smtpBlock(port: smtp.port) + """

                bounces:
                  return_path: "bounces@bounce.harbor.example"
                  secret: "test-bounce-key-0123456789"
                  providers:
                    ses: {topic_arns: ["\(Self.topic)"], certificate_hosts: ["127.0.0.1:\(snsPort)"], ca_file: "\(keys.appendingPathComponent("tls-cert.pem").path)"}
                    sendgrid: {public_key: "\(sendGridPublic)"}
                    mailgun: {signing_key: "\(Self.mailgunKey)"}
                    postmark: {username: postmark, password: "\(Self.postmarkPassword)"}
                """,
            topLevel: """
                intake: {drop_folder: off, http: {listen: "127.0.0.1:\(apiPort)", token: "${TEST_API_TOKEN}"}}
                events: {}
                """, folder: folder)
        for (path, text) in EmailChannelTests.template { try folder.write("Templates/\(path)", text) }
        let leads = ["ann@example.com", "ben@example.com", "cy@example.com", "dee@example.com"]
        try await EmailChannelTests().enqueue(fixture, to: leads)
        try await fixture.deliverUntilSettled()
        await smtp.stop()
        var messageIDs: [String: String] = [:]  // recipient → the Message-ID header as delivered
        for mail in try smtp.messages() { messageIDs[mail.rcpt_tos[0]] = mail.message_id }
        try #require(messageIDs.count == 4, "precondition: four emails delivered: \(messageIDs)")
        try #require(try smtp.messages().allSatisfy { $0.headers?["X-PM-Metadata-herald-message-id"].map { "<\($0)>" } == $0.message_id },
                     "each email carries its Message-ID as Postmark metadata")

        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        try #require(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(apiPort) || !run.isRunning }, "herald listens")
        let client = try APIClient(.tcp(port: apiPort))  // no token: the routes are public
        func recordedCount() throws -> Int {
            try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM bounces") ?? 0 }
        }
        func suppression(_ address: String) async throws -> Suppression.Reason? {
            try await fixture.queue.suppression(of: try Address(address, channel: .email))?.reason
        }
        func post(_ provider: String, _ body: String, headers: [String] = []) async throws -> APIClient.Response {
            try await client.request("POST", "/inbound/bounces/\(provider)", body: Data(body.utf8),
                                     headers: ["Content-Type: application/json"] + headers)
        }
        func iso(_ date: Date) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: date)
        }

        // SES through SNS.
        func signedSNS(_ fields: [String: String]) async throws -> String {
            let file = folder.file("sns-\(UUID().uuidString.prefix(6)).json")
            var envelope = fields
            envelope["SigningCertURL"] = "https://127.0.0.1:\(snsPort)/sns-cert.pem"
            envelope["TopicArn"] = envelope["TopicArn"] ?? Self.topic
            envelope["Timestamp"] = envelope["Timestamp"] ?? iso(Date())
            try JSONValue.object(envelope.mapValues(JSONValue.string)).jsonText.write(to: file, atomically: true, encoding: .utf8)
            return try await Self.python(["sign-sns", keys.path, file.path])
        }
        let confirmation = try await signedSNS([
            "Type": "SubscriptionConfirmation", "MessageId": "sub-1", "Token": "token-1",
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": "https://127.0.0.1:\(snsPort)/confirm?Action=ConfirmSubscription&Token=token-1"])
        let confirmed = try await post("ses", confirmation, headers: ["x-amz-sns-message-type: SubscriptionConfirmation"])
        #expect(confirmed.status == 200, "\(confirmed.status) \(confirmed.body)")
        let snsRequests = (try? String(contentsOf: requestLog, encoding: .utf8)) ?? ""
        #expect(snsRequests.contains("/sns-cert.pem") && snsRequests.contains("/confirm?Action=ConfirmSubscription&Token=token-1"),
                "Herald fetched the certificate and confirmed: \(snsRequests)")

        func sesBounce(_ recipient: String, status: String, reference: String) -> String {
            JSONValue.object([
                "notificationType": .string("Bounce"),
                "bounce": .object(["bounceType": .string("Permanent"), "bounceSubType": .string("General"),
                                   "bouncedRecipients": .array([.object(["emailAddress": .string(recipient), "action": .string("failed"),
                                                                         "status": .string(status),
                                                                         "diagnosticCode": .string("smtp; 550 \(status) user unknown")])])]),
                "mail": .object(["messageId": .string("0100018c-ses"), "commonHeaders": .object(["messageId": .string(reference)])]),
            ]).jsonText
        }
        let annBounce = try await signedSNS(["Type": "Notification", "MessageId": "ses-1",
                                             "Message": sesBounce("ann@example.com", status: "5.1.1", reference: messageIDs["ann@example.com"]!)])
        let forgedSNS = annBounce.replacingOccurrences(of: "ann@example.com", with: "ben@example.com")
        #expect(try await post("ses", forgedSNS).status == 403, "a changed byte breaks the signature")
        let otherTopic = try await signedSNS(["Type": "Notification", "MessageId": "ses-2", "TopicArn": "arn:aws:sns:us-east-1:999999999999:theirs",
                                              "Message": sesBounce("ann@example.com", status: "5.1.1", reference: messageIDs["ann@example.com"]!)])
        #expect(try await post("ses", otherTopic).status == 403, "a topic not configured")
        let stale = try await signedSNS(["Type": "Notification", "MessageId": "ses-3", "Timestamp": iso(Date().addingTimeInterval(-3_600)),
                                         "Message": sesBounce("ann@example.com", status: "5.1.1", reference: messageIDs["ann@example.com"]!)])
        let staleAnswer = try await post("ses", stale)
        #expect(staleAnswer.status == 403 && staleAnswer.body.contains("stale"), "\(staleAnswer.body)")
        let annBefore = try await suppression("ann@example.com")
        #expect(try recordedCount() == 0 && annBefore == nil, "nothing changed by the refused ones")
        let taken = try await post("ses", annBounce)
        #expect(taken.status == 200 && taken.json?["recorded"] == .integer(1), "\(taken.status) \(taken.body)")
        #expect(try await suppression("ann@example.com") == .bounced)
        let replayed = try await post("ses", annBounce)
        #expect(replayed.status == 403 && replayed.body.contains("replayed"), "\(replayed.body)")
        #expect(try recordedCount() == 1)

        // SendGrid: a hard bounce for Ben, a delivery (not a report), and a bounce naming a
        // Message-ID Herald did not give Dee's message.
        let deeForged = messageIDs["dee@example.com"]!.replacingOccurrences(of: #"\.[0-9a-f]{4}"#, with: ".0000", options: .regularExpression)
        let sendGridBody = JSONValue.array([
            .object(["email": .string("ben@example.com"), "event": .string("bounce"), "type": .string("bounce"), "status": .string("5.1.1"),
                     "reason": .string("550 5.1.1 The email account does not exist"), "sg_event_id": .string("sg-1"),
                     "smtp-id": .string(messageIDs["ben@example.com"]!), "timestamp": .integer(Int64(Date().timeIntervalSince1970))]),
            .object(["email": .string("cy@example.com"), "event": .string("delivered"), "sg_event_id": .string("sg-2"),
                     "smtp-id": .string(messageIDs["cy@example.com"]!)]),
            .object(["email": .string("dee@example.com"), "event": .string("bounce"), "type": .string("bounce"), "status": .string("5.1.1"),
                     "sg_event_id": .string("sg-3"), "smtp-id": .string(deeForged)]),
        ]).jsonText
        try sendGridBody.write(to: folder.file("sendgrid.json"), atomically: true, encoding: .utf8)
        let now = String(Int64(Date().timeIntervalSince1970))
        let signature = try await Self.python(["sign-sendgrid", keys.path, now, folder.file("sendgrid.json").path])
        let sendGridHeaders = ["X-Twilio-Email-Event-Webhook-Signature: \(signature)", "X-Twilio-Email-Event-Webhook-Timestamp: \(now)"]
        let wrongTime = ["X-Twilio-Email-Event-Webhook-Signature: \(signature)", "X-Twilio-Email-Event-Webhook-Timestamp: \(Int64(now)! + 1)"]
        #expect(try await post("sendgrid", sendGridBody, headers: wrongTime).status == 403, "the signature covers the timestamp")
        #expect(try await post("sendgrid", sendGridBody).status == 403, "no signature")
        #expect(try recordedCount() == 1)
        let sendGrid = try await post("sendgrid", sendGridBody, headers: sendGridHeaders)
        #expect(sendGrid.status == 200 && sendGrid.json?["recorded"] == .integer(2), "\(sendGrid.status) \(sendGrid.body)")
        #expect(try await suppression("ben@example.com") == .bounced)
        #expect(try await suppression("dee@example.com") == nil, "a Message-ID Herald did not mint suppresses no one")
        #expect(try await post("sendgrid", sendGridBody, headers: sendGridHeaders).status == 403, "replayed")

        // Mailgun: Cy complains.
        func mailgun(timestamp: String, token: String, signature: String? = nil) async throws -> String {
            let hmac = try await Self.python(["sign-mailgun", Self.mailgunKey, timestamp, token])
            return JSONValue.object([
                "signature": .object(["timestamp": .string(timestamp), "token": .string(token), "signature": .string(signature ?? hmac)]),
                "event-data": .object(["event": .string("complained"), "id": .string("mg-\(token)"), "recipient": .string("cy@example.com"),
                                       "message": .object(["headers": .object(["message-id": .string(String(messageIDs["cy@example.com"]!.dropFirst().dropLast()))])])]),
            ]).jsonText
        }
        #expect(try await post("mailgun", try await mailgun(timestamp: now, token: "t1", signature: String(repeating: "0", count: 64))).status == 403)
        #expect(try await post("mailgun", try await mailgun(timestamp: String(Int64(now)! - 3_600), token: "t2")).status == 403, "stale")
        let complaint = try await mailgun(timestamp: now, token: "t3")
        let mailgunAnswer = try await post("mailgun", complaint)
        #expect(mailgunAnswer.status == 200, "\(mailgunAnswer.status) \(mailgunAnswer.body)")
        #expect(try await suppression("cy@example.com") == .complained)
        #expect(try await post("mailgun", complaint).status == 403, "replayed")

        // Postmark: Dee's soft bounce, and one naming Ann as Dee's message's recipient.
        let basic = "Authorization: Basic " + Data("postmark:\(Self.postmarkPassword)".utf8).base64EncodedString()
        let deeMetadata = String(messageIDs["dee@example.com"]!.dropFirst().dropLast())
        let soft = JSONValue.object(["RecordType": .string("Bounce"), "ID": .integer(4_242), "Type": .string("SoftBounce"),
                                     "Email": .string("dee@example.com"), "Details": .string("smtp;452 4.2.2 mailbox full"),
                                     "Metadata": .object(["herald-message-id": .string(deeMetadata)])]).jsonText
        #expect(try await post("postmark", soft, headers: ["Authorization: Basic " + Data("postmark:wrong".utf8).base64EncodedString()]).status == 403)
        #expect(try await post("postmark", soft).status == 403, "no credentials")
        let postmark = try await post("postmark", soft, headers: [basic])
        #expect(postmark.status == 200 && postmark.json?["recorded"] == .integer(1), "\(postmark.status) \(postmark.body)")
        #expect(try await post("postmark", soft, headers: [basic]).status == 403, "replayed")
        let misdirected = JSONValue.object(["RecordType": .string("Bounce"), "ID": .integer(4_243), "Type": .string("HardBounce"),
                                            "Email": .string("ann@example.com"), "Details": .string("550 5.1.1"),
                                            "Metadata": .object(["herald-message-id": .string(deeMetadata)])]).jsonText
        #expect(try await post("postmark", misdirected, headers: [basic]).status == 200)
        #expect(try await suppression("dee@example.com") == nil, "a soft bounce counts, a misdirected hard one is only kept")

        // A bounce message whose VERP token is forged, through the MTA's pipe.
        try folder.write("forged.eml", String(decoding: try BounceReportTests.message("forged-verp.eml", about: 1), as: UTF8.self))
        let forged = try await HeraldCommand.run(["bounces", "ingest", folder.file("forged.eml").path], fixture: fixture)
        #expect(forged.status == 0 && forged.stdout.contains(": review"), "\(forged.stdout) \(forged.stderr)")

        let records = try await fixture.queue.bounces(before: nil, recipient: nil, limit: 20)
        let decided = Dictionary(records.map { ("\($0.source)/\($0.sourceID)", $0.decision) }, uniquingKeysWith: { first, _ in first })
        #expect(decided["ses/ses-1/0"] == .suppressed && decided["sendgrid/sg-1"] == .suppressed && decided["sendgrid/sg-3"] == .review
                && decided["mailgun/mg-t3"] == .complained && decided["postmark/4242"] == .counted && decided["postmark/4243"] == .review,
                "\(decided)")
        #expect(records.count == 7 && records.filter { $0.source == "ingest" }.allSatisfy { $0.decision == .review }, "\(records.count)")
        let events = try await fixture.queue.events(after: .start, matching: EventFilter(types: [.messageBounced, .recipientComplained]), limit: 20)
        #expect(events.map(\.event.type).sorted { $0.rawValue < $1.rawValue } == [.messageBounced, .messageBounced, .messageBounced, .recipientComplained],
                "\(events.map(\.event.type))")
    }
}
