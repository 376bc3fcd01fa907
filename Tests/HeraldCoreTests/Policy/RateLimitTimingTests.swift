import Foundation
import Testing
@testable import HeraldCore

/// A channel rate limit held across two `herald run` processes sharing one database, measured
/// at a real webhook receiver. The receiver's clock is the judge, so this suite runs alone (`make test`
/// runs every suite named *TimingTests after the others): with the other suites starting servers
/// on both cores, the Python receiver itself is starved and stamps queued requests together.
@Suite("Rate limits (timing: run alone by make test)", .serialized)
struct RateLimitTimingTests {
    @Test("two processes, webhook limited to 50/s with burst 5, 1,000 messages: no one-second window at the receiver holds more than 55")
    func twoProcesses() async throws {
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(endpoints: ["hooks": receiver.url("/ok")], workers: 16)
        // The limit goes into the webhook channel's config.
        let yaml = try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "    transport: network\n", with: "    transport: network\n    rate: {limit: 50/s, burst: 5}\n")
        try fixture.folder.write("Config/herald.yaml", yaml + "intake: {drop_folder: off, socket: off}\n")
        try fixture.enqueueWebhooks(1_000, endpoint: "hooks")

        let first = try HeraldCommand.start(["run"], fixture: fixture)
        let second = try HeraldCommand.start(["run"], fixture: fixture)
        let delivered = try await waitUntil(timeout: .seconds(60)) { try receiver.requests().count >= 1_000 }
        first.signal(SIGTERM)
        second.signal(SIGTERM)
        #expect(await first.wait(timeout: .seconds(20)) == 0)
        #expect(await second.wait(timeout: .seconds(20)) == 0)
        await receiver.stop()
        #expect(delivered)

        let times = try receiver.requests().map(\.t).sorted()
        #expect(times.count == 1_000)
        var busiest = 0
        var low = 0
        for high in times.indices {
            while times[high] - times[low] >= 1.0 { low += 1 }
            busiest = max(busiest, high - low + 1)
        }
        #expect(busiest <= 55, "busiest one-second window: \(busiest)")
        // And the limit is a limit, not a stall: 1,000 at 50/s take about 20 s.
        let span = times.last! - times.first!
        #expect(span >= 19 && span < 30, "span \(span) s")
        // Both processes delivered.
        let workers = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(DISTINCT worker) FROM attempts") }
        #expect(workers == 2)
        print("rate limit: busiest 1 s window \(busiest), span \(String(format: "%.1f", span)) s")
    }
}
