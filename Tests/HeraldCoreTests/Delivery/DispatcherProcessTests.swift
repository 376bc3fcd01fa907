import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// `herald run` as real processes on one real SQLite file: killed with SIGKILL, two at once,
/// stopped with SIGTERM.
@Suite("herald run as a process", .serialized)
struct DispatcherProcessTests {
    @Test("SIGKILL mid-run, restart: every message sent, duplicates no more than were in flight")
    func crashAndRestart() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], workers: 8, folder: folder)
        let total = 5_000
        try await fixture.enqueueWebhooks(total, endpoint: "hook")

        let first = try HeraldCommand.start(["run"], fixture: fixture)
        let reached = try await waitUntil(timeout: .seconds(60)) { try receiver.requests().count >= total / 3 }
        #expect(reached, "the first run delivered too little before the kill")
        first.signal(SIGKILL)
        await first.wait()
        let inFlightAtKill = try fixture.count(state: .leased)
        let sentAtKill = try fixture.count(state: .sent)
        #expect(sentAtKill < total, "the kill came too late to test anything")
        #expect(inFlightAtKill <= 8)

        let second = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(second.status == 0, "\(second.stderr)")
        await receiver.stop()

        let unsent = try fixture.queue.readNow { db in
            try String.fetchAll(db, sql: """
                SELECT m.key || ' ' || m.state || ' attempts=' || m.attempts || ' due_in_ms=' || (m.due_at - \(Timestamp.now()))
                       || ' last=' || coalesce(m.last_error, '-')
                FROM messages m WHERE m.state != 'sent'
                """)
        }
        #expect(unsent.isEmpty, "not sent after the restart: \(unsent)")
        let requests = try receiver.requests()
        let keys = Set(requests.map(\.id))
        #expect(keys.count == total)
        #expect(requests.allSatisfy { $0.verified })
        let duplicates = requests.count - keys.count
        #expect(duplicates <= inFlightAtKill, "\(duplicates) duplicates, \(inFlightAtKill) in flight at the kill")
        print("crash test: \(sentAtKill) sent and \(inFlightAtKill) in flight at the kill, \(duplicates) duplicates")
    }

    @Test("two processes on one database deliver 5,000 messages, none twice")
    func twoProcessesShareOneQueue() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], workers: 8, folder: folder)
        let total = 5_000
        try await fixture.enqueueWebhooks(total, endpoint: "hook")

        let one = try HeraldCommand.start(["run", "--once"], fixture: fixture)
        let two = try HeraldCommand.start(["run", "--once"], fixture: fixture)
        let statuses = [await one.wait(), await two.wait()]
        await receiver.stop()
        #expect(statuses == [0, 0], "\(one.output().stderr) \(two.output().stderr)")

        #expect(try fixture.count(state: .sent) == total)
        let requests = try receiver.requests()
        #expect(requests.count == total)
        #expect(Set(requests.map(\.id)).count == total)
        let workers = try fixture.queue.readNow { db in
            try String.fetchAll(db, sql: "SELECT worker FROM attempts GROUP BY worker")
        }
        #expect(workers.count == 2, "both processes should have delivered: \(workers)")
    }

    /// How late the test may observe a process's exit on a busy machine, beyond what Herald
    /// promises (the grace period): the test runner and the child are scheduled like anything else.
    static let observerDelay: Duration = .seconds(2)

    @Test("SIGTERM lets in-flight deliveries finish and leaves nothing leased")
    func gracefulShutdownFinishesInFlight() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        // 1 s deliveries: the eight workers' batches follow each other with gaps of a few
        // milliseconds, so the signal almost surely lands while deliveries are in flight (with
        // 300 ms ones it once fell into a gap on a loaded machine and nothing was in flight).
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/slow/1000")], workers: 8,
                                        shutdownGrace: "3s", folder: folder)
        try await fixture.enqueueWebhooks(400, endpoint: "hook")
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        try #require(try await waitUntil(timeout: .seconds(30)) { try receiver.requests().count >= 16 },
                     "deliveries must be under way before the signal")
        // The signal goes while Herald holds deliveries (a batch settling and the next claim
        // leave a gap, longer on a loaded machine: once the signal fell into it).
        try #require(try await waitUntil(timeout: .seconds(30)) { try fixture.count(state: .leased) >= 4 },
                     "precondition: deliveries in flight when the signal goes")
        let signalledAt = Timestamp.now()
        let stopAsked = ContinuousClock.now
        run.signal(SIGTERM)
        let status = await run.wait(timeout: .seconds(20))
        let took = ContinuousClock.now - stopAsked
        await receiver.stop()

        #expect(status == 0, "\(run.output().stderr)")
        #expect(took < .seconds(3) + Self.observerDelay, "took \(took) with a 3 s grace period and 1 s deliveries")
        #expect(try fixture.count(state: .leased) == 0)
        // Herald's record: deliveries that had started when the signal came and ended after it
        // were finished and recorded as sent, not abandoned.
        let spanningSignal = try fixture.queue.readNow { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM attempts
                WHERE outcome = 'sent' AND started_at <= ? AND started_at + duration_us / 1000 >= ?
                """, arguments: [signalledAt, signalledAt]) ?? 0
        }
        #expect(spanningSignal >= 1, "no delivery was in flight at SIGTERM, so none was let finish")
        // Everything the receiver answered was recorded as sent; the rest is still queued.
        #expect(try fixture.count(state: .sent) == (try receiver.requests().count))
        #expect(try fixture.count(state: .sent) + fixture.count(state: .queued) == 400)
        #expect(try fixture.count(state: .queued) > 0, "the run must have been stopped before it finished")
        print("graceful shutdown: \(spanningSignal) deliveries in flight at SIGTERM finished; exit after \(took)")
    }

    @Test("SIGTERM with deliveries that never end: out by the deadline, messages queued again, attempts not spent")
    func gracefulShutdownAbandonsAtDeadline() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/hang")], workers: 4, timeout: "60s",
                                        lease: "90s", shutdownGrace: "1s", folder: folder)
        try await fixture.enqueueWebhooks(10, endpoint: "hook")
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        try #require(try await waitUntil(timeout: .seconds(30)) { try fixture.count(state: .leased) == 4 },
                     "all four workers must hold a hanging delivery before the signal")
        let stopAsked = ContinuousClock.now
        run.signal(SIGTERM)
        let status = await run.wait(timeout: .seconds(20))
        let took = ContinuousClock.now - stopAsked
        await receiver.stop()

        let stderr = run.output().stderr
        #expect(status == 0, "\(stderr)")
        // The deliveries hang, so the process waits out the whole grace period (a lower bound no
        // busy machine can break), then leaves without waiting for them.
        #expect(took >= .seconds(1), "took \(took): the grace period was not waited out")
        #expect(took < .seconds(1) + Self.observerDelay, "took \(took) with a 1 s grace period")
        #expect(stderr.contains("abandoning deliveries still in flight"), "\(stderr)")
        #expect(stderr.contains("in_flight=4"), "\(stderr)")
        #expect(try fixture.count(state: .leased) == 0)
        #expect(try fixture.count(state: .queued) == 10)
        let spent = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT sum(attempts) FROM messages") }
        #expect(spent == 0)
    }
}

extension HeraldFixture {
    func count(state: MessageState) throws -> Int {
        try queue.readNow { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE state = ?", arguments: [state.rawValue]) ?? 0
        }
    }
}
