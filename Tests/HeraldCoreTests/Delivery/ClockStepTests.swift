import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// A wall clock that steps forward by more than the lease mid-run (NTP correcting a freshly
/// booted machine did this to a CI run, by 33 s) must not make a live process's leases look
/// expired: that handed messages in flight to a second worker, and the receiver got them twice.
@Suite("A wall clock that steps")
struct ClockStepTests {
    @Test("two processes on one SQLite file, their clocks stepping 2 minutes ahead mid-run (lease 30 s): every message delivered once, one attempt each")
    func forwardStep() async throws {
        let folder = try TemporaryFolder()
        let clock = try SteppedClock(folder: folder)
        let receiver = try await WebhookReceiver(folder: folder)
        // 300 ms a delivery, 16 workers a process: many in flight whenever the clock steps.
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/slow/300")], workers: 16, lease: "30s", folder: folder)
        let count = 1_500
        // The two processes share the database only: one socket and drop folder cannot serve both.
        let yaml = try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
        try fixture.folder.write("Config/herald.yaml", yaml + "intake: {drop_folder: off, socket: off}\n")
        try await fixture.enqueueWebhooks(count, endpoint: "hook")
        let first = try clock.start(["run"], fixture: fixture)
        let second = try clock.start(["run"], fixture: fixture)
        let underWay = try await waitUntil(timeout: startupTimeout) { try fixture.count(state: .sent) >= 200 }
        try #require(underWay, "precondition: delivery is under way: \(first.output().stderr.suffix(1_000))")
        let stepAt = Timestamp.now()
        try clock.step(by: 120)
        let done = try await waitUntil(timeout: .seconds(120)) { try fixture.count(state: .sent) == count }
        first.signal(SIGTERM)
        second.signal(SIGTERM)
        #expect(await first.wait(timeout: .seconds(20)) == 0)
        #expect(await second.wait(timeout: .seconds(20)) == 0)
        await receiver.stop()
        let log = first.output().stderr + second.output().stderr
        let sent = try fixture.count(state: .sent)
        #expect(done, "\(sent) of \(count) sent: \(log.suffix(2_000))")

        // The step happened, by Herald's own record: attempts started before it and ones stamped
        // at least 100 s after it (the real run lasts seconds).
        let starts = try fixture.queue.readNow { db in try Int64.fetchAll(db, sql: "SELECT started_at FROM attempts") }
        #expect(starts.contains { $0 < stepAt + 10_000 } && starts.contains { $0 > stepAt + 100_000 },
                "precondition: the clock stepped while messages were sent")
        let workers = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(DISTINCT worker) FROM attempts") }
        #expect(workers == 2, "precondition: both processes sent")

        let ids = try receiver.requests().map(\.id)
        let repeated = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        let attemptsOfRepeated = try fixture.repeatedAttempts(log: log)
        #expect(ids.count == count && repeated.isEmpty,
                "\(ids.count) requests for \(count) messages; repeated: \(repeated.prefix(10))\n\(attemptsOfRepeated)")
        let attempts = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts") }
        #expect(attempts == count, "one attempt per message")
    }
}
