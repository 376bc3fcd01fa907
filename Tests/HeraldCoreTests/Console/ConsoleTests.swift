import Foundation
import Testing
@testable import HeraldCore

/// The web console in Debian's headless chromium, on a real `herald run`'s TCP listener.
@Suite("Web console", .serialized)
struct ConsoleTests {
    @Test("headless Chromium: login, overview, failed list, Retry button requeues the message, template gallery screenshot; no token or cookie → 401")
    func browser() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["crm": receiver.url("/status/400")],
            topLevel: "intake: {drop_folder: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}", folder: folder)
        for name in ["welcome-guide", "consultation-reminder", "hot-lead-alert", "offer-letter"] { try fixture.useShippedTemplate(name) }
        _ = try await fixture.queue.enqueue([NewMessage(key: "lead-9/alert", channel: .webhook, template: "alert",
                                                  recipient: Recipient(endpoint: "crm"), dataJSON: #"{"n":9}"#, sendAt: Timestamp.now())])
        #expect(try await HeraldCommand.run(["run", "--once"], fixture: fixture).status == 0)
        #expect(try fixture.state(ofKey: "lead-9/alert") == "failed")

        // From now on the webhook channel is in quiet hours, so a retried message stays queued
        // (deferred) where the test can see it, instead of failing again at once.
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour!
        let opens = (hour + 2) % 22
        let yaml = try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
        try fixture.folder.write("Config/herald.yaml", yaml + String(
            format: "policies: {quiet_hours: [{channel: webhook, allow: \"%02d:00-%02d:00\"}]}\n", opens, opens + 1))

        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        #expect(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(port) || !run.isRunning }, "\(run.output().stderr)")

        // Without the token or the cookie: 401, the login form for the console, JSON for the API.
        let anonymous = try APIClient(.tcp(port: port))
        let page = try await anonymous.get("/console/failed")
        #expect(page.status == 401 && page.body.contains("name=\"token\""))
        #expect(try await anonymous.get("/console/templates").status == 401)
        #expect(try await anonymous.request("POST", "/console/messages/1/retry").status == 401)

        let screenshot = fixture.folder.file("gallery.png")
        let browser = try ChildProcess(SupportPaths.python, [
            SupportPaths.servers.appendingPathComponent("console_browser.py").path,
            "--base", "http://127.0.0.1:\(port)", "--token", HeraldFixture.apiToken, "--screenshot", screenshot.path,
        ])
        #expect(await browser.wait(timeout: .seconds(120)) == 0, "\(browser.output().stderr)")
        let seen = try JSONValue.parse(Data(browser.output().stdout.utf8))
        #expect(seen["before_login_title"]?.string == "Sign in · Herald")
        #expect(seen["overview_title"]?.string == "Overview · Herald")
        #expect(seen["overview_has_counts"] == .bool(true) && seen["overview_has_chart"] == .bool(true))
        #expect(seen["failed_rows"]?.int == 1 && seen["failed_first_key"]?.string == "lead-9/alert")
        // Requeued: the page shows it queued, or leased for the moment the dispatcher screens it
        // before quiet hours put it off (queued again, not sent, no attempt spent).
        #expect(["queued", "leased"].contains(seen["after_retry_state"]?.string ?? ""), "\(seen)")
        #expect(try await waitUntil(timeout: .seconds(30)) { try fixture.state(ofKey: "lead-9/alert") == "queued" })
        try await Task.sleep(for: .milliseconds(300))
        #expect(try fixture.state(ofKey: "lead-9/alert") == "queued", "deferred by quiet hours, not delivered")
        #expect(try await fixture.queue.message("lead-9/alert")?.attempts.count == 1, "no attempt spent since the retry")
        #expect(seen["gallery_templates"]?.int == 5)
        #expect((seen["gallery_iframes"]?.int ?? 0) >= 2)  // the email's HTML and the letter, sandboxed
        #expect(seen["gallery_sms"]?.string?.contains("segment") == true)
        // A real PNG of the gallery, kept beside the test's other output.
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "\(png.count) bytes")
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("herald-console-gallery.png")
        try? FileManager.default.removeItem(at: kept)
        try FileManager.default.copyItem(at: screenshot, to: kept)
        print("console: gallery screenshot \(png.count) bytes at \(kept.path); \(browser.output().stdout)")
        await receiver.stop()
    }
}
