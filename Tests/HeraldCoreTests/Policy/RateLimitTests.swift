import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// A channel rate limit held across two `herald run` processes sharing one database.
///
/// The promise is about when Herald sends, so the verdict is taken on Herald's own record: each
/// attempt's `started_at`, written by the process that sent it at the moment its send was admitted.
/// That record does not depend on how busy the machine is, so this suite runs with all the others.
/// The receiver's clock is judged too, but only with an allowance for its own scheduling delay.
@Suite("Rate limits across processes", .serialized)
struct RateLimitTests {
    static let limit = 50
    static let burst = 5
    static let messages = 600
    /// The receiver (a Python process on a machine that may be busy) may stamp a request this
    /// much later than Herald sent it.
    static let receiverDelay = 1.0

    @Test("two processes, webhook limited to 50/s with burst 5: no one-second window of sends holds more than 55",
          arguments: [nil, "2s"])
    func twoProcesses(pollInterval: String?) async throws {
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(endpoints: ["hooks": receiver.url("/ok")], workers: 16)
        // The limit goes into the webhook channel's config; the poll interval is the default or 2 s.
        let yaml = try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "    transport: network\n",
                                  with: "    transport: network\n    rate: {limit: \(Self.limit)/s, burst: \(Self.burst)}\n")
            .replacingOccurrences(of: "poll_interval: 50ms\n", with: pollInterval.map { "poll_interval: \($0)\n" } ?? "")
        #expect(!yaml.contains("poll_interval: 50ms"))
        try fixture.folder.write("Config/herald.yaml", yaml + "intake: {drop_folder: off, socket: off}\n")
        try await fixture.enqueueWebhooks(Self.messages, endpoint: "hooks")

        let first = try HeraldCommand.start(["run"], fixture: fixture)
        let second = try HeraldCommand.start(["run"], fixture: fixture)
        let delivered = try await waitUntil(timeout: .seconds(180)) { try fixture.count(state: .sent) >= Self.messages }
        first.signal(SIGTERM)
        second.signal(SIGTERM)
        #expect(await first.wait(timeout: .seconds(20)) == 0, "\(first.output().stderr)")
        #expect(await second.wait(timeout: .seconds(20)) == 0, "\(second.output().stderr)")
        await receiver.stop()
        let sent = try fixture.count(state: .sent)
        try #require(delivered, "only \(sent) of \(Self.messages) sent")

        // Herald's record: one attempt per message, every one sent.
        let attempts = try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: "SELECT started_at, worker, outcome FROM attempts ORDER BY started_at")
        }
        let repeated = try fixture.repeatedAttempts(log: first.output().stderr + second.output().stderr)
        #expect(attempts.count == Self.messages, "\(repeated)")
        #expect(attempts.allSatisfy { ($0["outcome"] as String) == "sent" })
        #expect(Set(attempts.map { $0["worker"] as String }).count == 2, "both processes sent")
        let starts = attempts.map { Double($0["started_at"] as Int64) / 1_000 }

        // The exact GCRA bound: at most limit + burst sends start in any one-second window.
        let busiest = Self.busiestWindow(starts, width: 1.0)
        #expect(busiest <= Self.limit + Self.burst, "busiest one-second window of sends: \(busiest)")
        // The limit was what held the sending back (a machine too slow to reach it tests nothing).
        #expect(busiest >= Self.limit * 8 / 10, "busiest one-second window of sends: \(busiest)")
        // And no faster than the limit over the whole run: n sends at 50/s take (n - burst) / 50 s.
        let span = starts.last! - starts.first!
        let shortest = Double(Self.messages - Self.burst) / Double(Self.limit)
        #expect(span >= shortest, "\(Self.messages) sends in \(span) s")
        // A limit, not a stall: at the limit this takes 12 s; a stall would take minutes.
        #expect(span < 5 * shortest, "\(Self.messages) sends in \(span) s")

        // The receiver's view: everything arrived once, and in any second no more than Herald may
        // start in that second plus the receiver's allowed delay before it.
        let requests = try receiver.requests()
        #expect(requests.count == Self.messages)
        #expect(Set(requests.map(\.id)).count == Self.messages)
        let arrivals = requests.map(\.t).sorted()
        let allowed = Int((Double(Self.limit) * (1.0 + Self.receiverDelay)).rounded(.up)) + Self.burst
        let busiestArrivals = Self.busiestWindow(arrivals, width: 1.0)
        #expect(busiestArrivals <= allowed, "busiest one-second window at the receiver: \(busiestArrivals)")
        print("rate limit (poll \(pollInterval ?? "default")): busiest 1 s window of sends \(busiest), "
              + "at the receiver \(busiestArrivals) (allowed \(allowed)), span \(String(format: "%.1f", span)) s")
    }

    /// The most of `times` (sorted, seconds) inside any half-open window `[t, t + width)`.
    static func busiestWindow(_ times: [Double], width: Double) -> Int {
        var busiest = 0
        var low = 0
        for high in times.indices {
            while times[high] - times[low] >= width { low += 1 }
            busiest = max(busiest, high - low + 1)
        }
        return busiest
    }
}
