import Foundation
import Testing
@testable import HeraldCore

/// Open and click tracking through a real `herald run`: the email delivered over real SMTP, its
/// HTML opened and its link clicked in Debian's headless Chromium, landing on a real HTTP server,
/// and a link scanner's requests made with curl.
@Suite("Open and click tracking", .serialized)
struct TrackingTests {
    /// Clicks this soon after delivery are a scanner's. Long enough that the test's own "scanner"
    /// (curl, the first thing done once the mail arrives) is inside it on a loaded machine — a CI
    /// run saw 16.6 s between delivery and that click with a 15 s window — and the browser waits it out.
    static let machineWindow: Int64 = 40_000

    struct Recorded {
        var type: EventType
        var at: Int64
        var fields: JSONValue
        var machine: Bool { fields["machine"] == .bool(true) }
        var reason: String? { fields["machine_reason"]?.string }
        var first: Bool { fields["first"] == .bool(true) }
    }

    static func recorded(_ fixture: HeraldFixture) async throws -> [Recorded] {
        try await fixture.queue.events(after: .start, matching: EventFilter(types: [.emailOpened, .emailClicked]), limit: 100)
            .map { Recorded(type: $0.event.type, at: $0.event.occurredAt, fields: try JSONValue.parse(Data($0.event.payload.utf8))) }
    }

    @Test("Chromium's view of the email records one open and its click lands on the original URL; a token with one byte changed gets 404 and records nothing; a HEAD and a click right after delivery are flagged machine; the unsubscribe link and List-Unsubscribe are untouched")
    func browser() async throws {
        let folder = try TemporaryFolder()
        let smtp = try await SMTPServer(folder: folder)
        let apiPort = try FreePort.next()
        let landingPort = try FreePort.next()
        try folder.write("landing/guide.html", "<!DOCTYPE html><title>Landing guide</title><p>The guide.</p>\n")
        let landing = try ChildProcess(SupportPaths.python, ["-m", "http.server", "--bind", "127.0.0.1", "--directory",
                                                             folder.file("landing").path, String(landingPort)])
        defer { landing.signal(SIGKILL) }
        try #require(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(landingPort) }, "the landing server listens")
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"], workers: 2, email: EmailChannelTests.smtpBlock(port: smtp.port),
            topLevel: """
                intake: {drop_folder: off, http: {listen: "127.0.0.1:\(apiPort)", token: "${TEST_API_TOKEN}"}}
                events: {}
                tracking: {base_url: "http://127.0.0.1:\(apiPort)/t", secret: "test-tracking-key-0123456789", machine_window: \(Self.machineWindow)ms}
                """, folder: folder)
        try fixture.useShippedTemplate("welcome-guide")
        let guideURL = "http://127.0.0.1:\(landingPort)/guide.html?utm_source=herald&page=4"
        _ = try await fixture.queue.enqueue([NewMessage(
            key: "lead-1/welcome", channel: .email, template: "welcome-guide",
            recipient: Recipient(email: "sarah@example.com", name: "Sarah Jones"),
            dataJSON: #"{"first_name": "Sarah", "guide": "Your Guide", "guide_url": "\#(guideURL)", "advisor": "Daniel", "highlights": ["p. 4"]}"#,
            sendAt: Timestamp.now(), campaign: "guide-download")])

        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        let api = try APIClient(.tcp(port: apiPort), token: HeraldFixture.apiToken)
        try #require(try await waitUntil(timeout: .seconds(30)) {
            try await fixture.queue.message("lead-1/welcome")?.state == .sent || !run.isRunning
        }, "the email is delivered")
        let message = try #require(try await fixture.queue.message("lead-1/welcome"))
        let attempt = try #require(message.attempts.last { $0.outcome == .sent })
        let deliveredAt = attempt.startedAt + attempt.durationMicroseconds / 1_000
        let mail = try #require(try smtp.messages().first)
        let html = try #require(mail.html)

        // What the email carries: the guide link rewritten, the unsubscribe link and header as Herald signed them.
        let unsubscribe = try #require(fixture.config.unsubscribe)
        let unsubscribeURL = unsubscribe.url(channel: .email, recipient: Recipient(email: "sarah@example.com"), campaign: "guide-download")
        #expect(html.contains("href=\"\(unsubscribeURL)\""), "the unsubscribe link is as written")
        #expect(mail.list_unsubscribe?.contains("<\(unsubscribeURL)>") == true, "List-Unsubscribe: \(mail.list_unsubscribe ?? "none")")
        #expect(!html.contains("127.0.0.1:\(landingPort)"), "the guide's URL is only inside its signed token")
        #expect(mail.text?.contains(guideURL) == true, "the text part is not rewritten")
        let anchors = TrackedHTML.hrefs(in: Array(html.utf8)).map(\.url)
        let clickURL = try #require(anchors.first { $0.hasPrefix("http://127.0.0.1:\(apiPort)/t/c/") }, "\(anchors)")
        let pixelRange = try #require(html.range(of: "src=\"http://127.0.0.1:\(apiPort)/t/o/"))
        let pixelPath = "/t/o/" + html[pixelRange.upperBound...].prefix { $0 != "\"" }
        let clickPath = String(clickURL.dropFirst("http://127.0.0.1:\(apiPort)".count))

        // A link scanner, right after delivery: HEAD on the pixel, GET on the link.
        let head = try await APIClient(.tcp(port: apiPort)).request("HEAD", pixelPath)
        #expect(head.status == 200 && head.headers["content-type"] == "image/gif")
        let scanned = try await APIClient(.tcp(port: apiPort)).get(clickPath)
        #expect(scanned.status == 302 && scanned.headers["location"] == guideURL, "\(scanned.status) \(scanned.headers)")
        let machine = try await Self.recorded(fixture)
        try #require(machine.count == 2, "\(machine.map(\.fields))")
        #expect(machine[0].type == .emailOpened && machine[0].reason == "head_request" && !machine[0].first)
        let scannerClick = machine[1]
        try #require(scannerClick.at - deliveredAt < Self.machineWindow,
                     "precondition: the scanner clicked \(scannerClick.at - deliveredAt) ms after delivery, inside the window")
        #expect(scannerClick.type == .emailClicked && scannerClick.machine && scannerClick.reason == "soon_after_delivery"
                && !scannerClick.first && scannerClick.fields["url"]?.string == guideURL)

        // Forgeries: one byte of each token changed.
        func altered(_ path: String) -> String {
            var bytes = Array(path.utf8)
            let index = bytes.count - 10
            bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(try await api.get(altered(clickPath)).status == 404)
        #expect(try await api.get(altered(pixelPath)).status == 404)
        #expect(try await api.get(clickPath.replacingOccurrences(of: "/t/c/", with: "/t/o/")).status == 404, "a click token is no pixel")
        #expect(try await Self.recorded(fixture).count == 2, "forgeries record nothing")

        // The recipient, once the scanners' window is over (by Herald's own delivery record).
        let wait = deliveredAt + Self.machineWindow + 500 - Timestamp.now()
        if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }
        let page = folder.file("email.html")
        try html.write(to: page, atomically: true, encoding: .utf8)
        let browser = try ChildProcess(SupportPaths.python, [SupportPaths.servers.appendingPathComponent("email_browser.py").path,
                                                             "--html", page.path, "--click", "Open the guide"])
        #expect(await browser.wait(timeout: .seconds(90)) == 0, "\(browser.output().stderr)")
        let seen = try JSONValue.parse(Data(browser.output().stdout.utf8))
        #expect(seen["images_complete"] == .array([.integer(1)]), "the pixel loaded: \(seen)")
        #expect(seen["landed_url"]?.string == guideURL && seen["landed_title"]?.string == "Landing guide", "\(seen)")
        let links = seen["links"]?.array ?? []
        #expect(links.contains { $0["text"]?.string == "Unsubscribe" && $0["href"]?.string == unsubscribeURL }, "\(links)")
        #expect(landing.output().stderr.contains("GET /guide.html?utm_source=herald&page=4 "), "the landing server saw the query")

        let all = try await Self.recorded(fixture)
        let person = all.filter { !$0.machine }
        #expect(all.count == 4, "\(all.map(\.fields))")
        #expect(person.filter { $0.type == .emailOpened }.count == 1, "one open")
        let open = try #require(person.first { $0.type == .emailOpened })
        #expect(open.first && open.fields["user_agent"]?.string?.contains("Chrome") == true && open.fields["key"]?.string == "lead-1/welcome"
                && open.fields["recipient"]?.string == "sarah@example.com" && open.fields["campaign"]?.string == "guide-download")
        let click = try #require(person.first { $0.type == .emailClicked })
        #expect(click.first && click.fields["url"]?.string == guideURL && click.fields["link"] == .integer(0)
                && click.at - deliveredAt >= Self.machineWindow)
        // An operator's look at the message does not count: the console shows it untracked.
        let console = try await api.get("/console/messages/lead-1%2Fwelcome")
        #expect(console.status == 200 && !console.body.contains("/t/o/") && !console.body.contains("/t/c/"), "\(console.status)")
        #expect(try await Self.recorded(fixture).count == 4)
        let payloads = try await fixture.queue.events(after: .start, matching: EventFilter(), limit: 100).map(\.event.payload)
        #expect(try await EventSchema.problems(payloads) == [], "every event as docs/events.schema.json says")
        await smtp.stop()
    }
}
