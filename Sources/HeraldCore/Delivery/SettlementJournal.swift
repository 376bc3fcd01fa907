import Logging
import Synchronization

/// Commits settlements in groups: many workers finishing at once share one SQLite transaction.
/// Each settlement's events for the CRM go into the same transaction.
///
/// `record` returns only once its settlement is committed, so a worker never frees its slot (and
/// the dispatcher never counts a message as done) before the outcome is durable. A crash can then
/// only repeat the messages that were actually in flight.
///
/// An outcome that cannot be written (the disk is full, another process holds the write lock past
/// the busy timeout) is kept and tried again, with a growing pause, until it is written: the
/// message was delivered, and forgetting that would deliver it again once its lease lapsed. While
/// outcomes wait, `isBehind` tells the dispatcher to start no new deliveries, which also bounds
/// what is kept to one settlement per worker. Only at the end of the shutdown grace period are
/// unwritten outcomes given up (`abandonUnwritten`), each one logged.
actor SettlementJournal {
    private let queue: any MessageQueue
    private let owner: LeaseOwner
    private let held: HeldLeases
    private let events: EventLog
    private let logger: Logger
    private var pending: [Entry] = []
    private var running = true
    private var givingUp = false
    private let behind = Atomic<Bool>(false)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// The pause after the first failed commit; it doubles up to `longestPause`.
    static let firstPause: Duration = .milliseconds(50)
    static let longestPause: Duration = .seconds(2)

    private struct Entry {
        var settlement: Settlement
        var events: [Event]
        /// Told once the entry is written, or given up (a task awaiting `record`, or `submit`'s caller).
        var done: @Sendable (Result<Void, any Error>) -> Void
    }

    init(queue: any MessageQueue, owner: LeaseOwner, held: HeldLeases, events: EventLog, logger: Logger) {
        self.queue = queue
        self.owner = owner
        self.held = held
        self.events = events
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Outcomes are waiting to be written: start no new deliveries.
    nonisolated var isBehind: Bool { behind.load(ordering: .relaxed) }

    /// Commits `settlement` of `message` with whatever else is pending and returns when it is
    /// durable. Either way the message's lease is no longer renewed after this: recorded, it has
    /// none; given up, it expires and goes back to the queue.
    func record(_ settlement: Settlement, of message: ClaimedMessage) async throws {
        defer { held.end(message.id) }
        let made = eventsRecorded(by: settlement, of: message)
        guard running, !givingUp else {
            // The journal has stopped (the process is being cancelled): one try, alone.
            try await commit([settlement], events: made)
            return
        }
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Entry(settlement: settlement, events: made, done: { continuation.resume(with: $0) }))
            wake.yield()
        }
    }

    /// Like `record`, but the caller does not wait: `then` runs once the settlement is durable
    /// (or given up, with the error), on the journal. A delivery hands over its outcome this way
    /// and ends; whatever must wait for durability (freeing the worker's slot) goes in `then`.
    /// This saved a suspension and a resumption of every delivery's task.
    func submit(_ settlement: Settlement, of message: ClaimedMessage,
                then: @escaping @Sendable (Result<Void, any Error>) -> Void) async {
        let made = eventsRecorded(by: settlement, of: message)
        let held = held
        let done: @Sendable (Result<Void, any Error>) -> Void = { result in
            held.end(message.id)
            then(result)
        }
        guard running, !givingUp else {
            do {
                try await commit([settlement], events: made)
                done(.success(()))
            } catch {
                done(.failure(error))
            }
            return
        }
        pending.append(Entry(settlement: settlement, events: made, done: done))
        wake.yield()
    }

    /// The events `settlement` records; the subject (the recipient's address normalized) is made
    /// only when events are recorded at all.
    private func eventsRecorded(by settlement: Settlement, of message: ClaimedMessage) -> [Event] {
        events.isOn ? events.events(for: settlement, of: EventSubject(message), at: Timestamp.now()) : []
    }

    /// Records several settlements in one commit (as far as the journal's batching goes) and
    /// returns when all are durable; throws the first error.
    func record(all settlements: [(settlement: Settlement, message: ClaimedMessage)]) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for (settlement, message) in settlements {
                group.addTask { try await self.record(settlement, of: message) }
            }
        }
    }

    /// Commits pending settlements until `finish()`; one batch in flight at a time, so a batch
    /// grows while the previous one commits.
    func run() async {
        for await _ in wakeups {
            await commitPending()
        }
        running = false
        await commitPending()
    }

    /// Ends `run()` once what is pending has been committed.
    nonisolated func finish() {
        wake.finish()
    }

    /// The shutdown grace period is over: what still cannot be written gets one more try, then
    /// is given up and logged (those messages are delivered again after their lease lapses).
    func abandonUnwritten() {
        givingUp = true
        wake.yield()
    }

    private func commitPending() async {
        var pause = Self.firstPause
        var failures = 0
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            do {
                try await commit(batch.map(\.settlement), events: batch.flatMap(\.events))
                for entry in batch { entry.done(.success(())) }
                if failures > 0 {
                    logger.notice("outcomes recorded after the database refused them", metadata: [
                        "outcomes": "\(batch.count)", "failed_tries": "\(failures)",
                    ])
                }
                failures = 0
                pause = Self.firstPause
                behind.store(false, ordering: .relaxed)
            } catch {
                guard queue.isPassing(error), !givingUp else {
                    await commitOneByOne(batch, after: error)
                    continue
                }
                // Keep them, oldest first, and try again after a pause; new ones join the batch.
                pending = batch + pending
                behind.store(true, ordering: .relaxed)
                failures += 1
                if failures == 1 || failures.isMultiple(of: 30) {
                    logger.error("could not record outcomes; keeping them and trying again", metadata: [
                        "outcomes": "\(pending.count)", "failed_tries": "\(failures)", "error": "\(error)",
                    ])
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, Self.longestPause)
            }
        }
        behind.store(false, ordering: .relaxed)
    }

    /// A batch that failed for a reason retrying cannot cure (or at the end of the grace period):
    /// each settlement alone, so one bad settlement cannot take the others with it.
    private func commitOneByOne(_ batch: [Entry], after error: any Error) async {
        for entry in batch {
            do {
                try await commit([entry.settlement], events: entry.events)
                entry.done(.success(()))
            } catch {
                logger.error("outcome not recorded; the message is delivered again after its lease lapses", metadata: [
                    "message_id": "\(entry.settlement.messageID)", "settlement": "\(entry.settlement.kind)",
                    "error": "\(error)",
                ])
                entry.done(.failure(error))
            }
        }
    }

    private func commit(_ settlements: [Settlement], events: [Event]) async throws {
        let lost = try await queue.settle(settlements, events: events, owner: owner, now: Timestamp.now())
        if !lost.isEmpty {
            logger.warning("lease lost before the outcome was recorded; another worker holds these messages now",
                           metadata: ["message_ids": "\(lost)"])
        }
    }
}
