import Foundation
import Logging
import Testing
@testable import HeraldCore

/// The hazard the events cursor exists for: PostgreSQL hands out positions before commit, so a
/// transaction can commit after a later position is already readable. A reader that followed
/// positions alone would page past the late one and never see it.
@Suite("PostgreSQL event order")
struct PostgresEventOrderTests {
    @Test("an event whose transaction commits after a later position is readable is not skipped: the reader waits for it")
    func lateCommit() async throws {
        var logger = Logger(label: "test.events")
        logger.logLevel = .warning
        let settings = try await PostgresServer.shared.database()
        let queue = try PostgresQueue(settings: settings, logger: logger)
        let log = EventLog(types: [.emailOpened])
        let subject = EventSubject(messageID: 1, key: nil, campaign: nil, channel: .email, template: nil, recipient: "a@example.com")
        let early = try #require(log.event(.emailOpened, about: subject, at: Timestamp.now()))
        let late = try #require(log.event(.emailOpened, about: subject, at: Timestamp.now()))
        try await queue.whileConnected {
            let (releases, release) = AsyncStream<Void>.makeStream()
            let (insertions, inserted) = AsyncStream<Void>.makeStream()
            async let slow: Void = queue.transaction { connection in
                try await queue.record([early], on: connection)
                inserted.yield()
                for await _ in releases { break }  // hold the transaction open until told
            }
            for await _ in insertions { break }
            try await queue.record([late])
            // The precondition: by position, only the later event is committed and readable.
            let committed = try await PostgresServer.shared.query(database: settings.database,
                                                                   "SELECT id, position FROM events ORDER BY position")
            #expect(committed.count == 1 && committed.first?.hasPrefix(late.id) == true,
                    "only the later event is committed: \(committed)")
            #expect(try await PostgresServer.shared.query(database: settings.database, "SELECT last_value FROM events_position_seq")
                == ["2"], "the early one took position 1, the late one 2")
            #expect(try await queue.events(after: .start, matching: EventFilter(), limit: 10).isEmpty,
                    "the later event waits while an older transaction may still commit")
            release.yield()
            release.finish()
            try await slow
            var read: [StoredEvent] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while read.count < 2, ContinuousClock.now < deadline {
                read += try await queue.events(after: read.last?.cursor ?? .start, matching: EventFilter(), limit: 10)
                if read.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(read.map(\.event.id) == [early.id, late.id], "both, in commit-safe order")
        }
    }
}
