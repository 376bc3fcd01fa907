import Foundation
import Testing
@testable import HeraldCore

/// An idle dispatcher starts what its own process just queued at once, not at its next poll.
@Suite("Wake-ups on new work")
struct WakeUpTests {
    @Test("SQLite: a message posted to the API of an idle herald run is attempted at once, not at the next poll (10 s), by Herald's record")
    func apiIntakeWakesTheDispatcher() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        defer { Task { await receiver.stop() } }
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["hook": receiver.url("/ok")],
            topLevel: "intake: {drop_folder: off, socket: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}",
            folder: folder)
        try fixture.folder.write("Config/herald.yaml", try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "poll_interval: 50ms", with: "poll_interval: 10s"))
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        #expect(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(port) || !run.isRunning } && run.isRunning,
                "\(run.output().stderr)")
        let api = try APIClient(.tcp(port: port), token: HeraldFixture.apiToken)
        try await Task.sleep(for: .seconds(1))  // past the first (empty) claim: idle
        var gaps: [Int64] = []
        for index in 0..<3 {
            let posted = try await api.post("/v1/messages", json: #"{"key": "wake-\#(index)", "channel": "webhook", "template": "alert", "to": {"endpoint": "hook"}, "data": {"n": 1}}"#)
            #expect((200...299).contains(posted.status), "\(posted.status) \(posted.body)")
            #expect(try await waitUntil(timeout: .seconds(30)) { try await fixture.queue.message("wake-\(index)")?.attempts.count == 1 })
            let detail = try #require(try await fixture.queue.message("wake-\(index)"))
            gaps.append(detail.attempts[0].startedAt - detail.createdAt)
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(gaps.allSatisfy { $0 < 2_000 }, "enqueue to attempt start (ms): \(gaps); the poll interval is 10 s")
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0)
    }
}
