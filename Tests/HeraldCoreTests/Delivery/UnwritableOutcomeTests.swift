import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// An outcome the database refuses for a while (a full disk, a lock held past the busy timeout)
/// is kept and written later: no message delivered twice, every attempt in history.
@Suite("Outcomes the database refuses for a while")
struct UnwritableOutcomeTests {
    /// Waits until all `count` messages are sent, stops the run and the receiver; returns the
    /// run's log.
    func finish(_ run: ChildProcess, fixture: HeraldFixture, receiver: WebhookReceiver, count: Int) async throws -> String {
        let done = try await waitUntil(timeout: .seconds(120)) { try fixture.count(state: .sent) == count }
        run.signal(SIGTERM)
        await run.wait(timeout: .seconds(30))
        await receiver.stop()
        let stderr = run.output().stderr
        let sent = try fixture.count(state: .sent)
        #expect(done, "\(sent) of \(count) sent; \(stderr.suffix(2_000))")
        return stderr
    }

    /// Every message sent, each delivered once (by the receiver's log of webhook ids), each with
    /// exactly one attempt in history.
    func expectEachOnce(_ fixture: HeraldFixture, receiver: WebhookReceiver, count: Int, log: String) throws {
        let ids = try receiver.requests().map(\.id)
        let repeated = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(ids.count == count, "the receiver got \(ids.count) requests for \(count) messages; repeated: \(repeated.prefix(10))")
        #expect(repeated.isEmpty)
        let perMessage = try fixture.queue.readNow { db in
            try Int.fetchAll(db, sql: "SELECT (SELECT count(*) FROM attempts a WHERE a.message_id = m.id) FROM messages m")
        }
        let repeatedAttempts = try fixture.repeatedAttempts(log: log)
        #expect(perMessage.count == count && perMessage.allSatisfy { $0 == 1 },
                "attempts per message: \(Set(perMessage))\n\(repeatedAttempts)")
        #expect(try fixture.count(state: .sent) == count)
    }

    @Test("a disk that fills and frees during a 3,000-message run: every message delivered once, every attempt in history")
    func diskFills() async throws {
        let folder = try TemporaryFolder()
        let disk = try SmallDisk(at: folder.file("var"), megabytes: 48)
        let receiver = try await WebhookReceiver(folder: folder)
        // 60 ms a delivery (16 workers: about 12 s for all), so the run is surely still sending
        // when the disk fills, and the outcomes in flight then finish over 60 ms, in several
        // commits: with 20 ms ones they once all fit in one commit into the space left, and the
        // first write refused was the next claim, with no outcome refused at all.
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/slow/60")], workers: 16, folder: folder)
        try await fixture.enqueueWebhooks(3_000, endpoint: "hook")
        let run = try HeraldCommand.start(["run"], fixture: fixture, environment: ["HERALD_LOG_LEVEL": "notice"])
        try #require(try await waitUntil(timeout: startupTimeout) { try fixture.count(state: .sent) >= 300 },
                     "precondition: delivery is under way")

        // A reader holding a snapshot keeps SQLite from reusing the WAL from its start, so commits
        // after the fill need new space. Which write is refused first is still a race: when it is
        // a claim, its rolled-back frames leave room in the WAL that the smaller settlements after
        // it fit into, and no outcome is refused. So the disk is filled again (after freeing it
        // and letting 100 more go out) until an outcome is refused, at most four times.
        var refused = false
        for round in 1...4 where !refused {
            let sentWhenFull: Int
            do {
                let pin = try fixture.queue.pool.makeSnapshot()
                let filled = disk.fill()
                sentWhenFull = try fixture.count(state: .sent)
                #expect(sentWhenFull < 3_000, "precondition: still sending when the disk filled (\(sentWhenFull) sent, round \(round))")
                #expect(filled > 0 && disk.available < 64 * 1024, "precondition: the disk is full (\(disk.available) bytes left)")
                refused = try await waitUntil(timeout: .seconds(10)) {
                    run.output().stderr.contains("could not record outcomes; keeping them and trying again")
                }
                if refused { try await Task.sleep(for: .seconds(1)) }
                withExtendedLifetime(pin) {}  // released before the disk is freed
            }
            disk.free()
            if !refused {
                let next = sentWhenFull + 100
                try #require(try await waitUntil(timeout: .seconds(60)) { try fixture.count(state: .sent) >= next },
                             "delivery goes on after the disk is freed (round \(round))")
            }
        }
        #expect(refused, "precondition: an outcome was refused while the disk was full")

        let stderr = try await finish(run, fixture: fixture, receiver: receiver, count: 3_000)
        #expect(stderr.contains("outcomes recorded after the database refused them"), "\(stderr.suffix(2_000))")
        try expectEachOnce(fixture, receiver: receiver, count: 3_000, log: stderr)
    }

    @Test("another process holding BEGIN EXCLUSIVE past the busy timeout: the outcomes wait for it, none is lost or repeated")
    func lockHeld() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        // Each delivery takes 300 ms, so some are in flight when the lock is taken and their
        // outcomes must wait for it.
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/slow/300")], workers: 16, folder: folder)
        try await fixture.enqueueWebhooks(400, endpoint: "hook")
        let run = try HeraldCommand.start(["run"], fixture: fixture, environment: ["HERALD_LOG_LEVEL": "notice"])
        try #require(try await waitUntil(timeout: startupTimeout) { try fixture.count(state: .sent) >= 50 },
                     "precondition: delivery is under way")
        // 25 s: past twice Herald's 10 s busy timeout. Writes wait in line for the lock, so the
        // first in line (a claim or the journal's batch) gives up at 10 s, the next at 20 s: an
        // outcome is surely among the refused.
        let holder = try ChildProcess(SupportPaths.python, ["-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("BEGIN EXCLUSIVE")
            print("LOCKED", flush=True)
            time.sleep(25)
            db.execute("COMMIT")
            """, fixture.queue.path])
        try #require(await holder.line(startingWith: "LOCKED") != nil, "precondition: the lock is held: \(holder.output().stderr)")
        #expect(await holder.wait(timeout: .seconds(60)) == 0)

        let stderr = try await finish(run, fixture: fixture, receiver: receiver, count: 400)
        #expect(stderr.contains("could not record outcomes; keeping them and trying again"),
                "precondition: the lock outlasted the busy timeout: \(stderr.suffix(2_000))")
        try expectEachOnce(fixture, receiver: receiver, count: 400, log: stderr)
    }
}
