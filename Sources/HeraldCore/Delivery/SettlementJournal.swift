import Logging

/// Commits settlements in groups: many workers finishing at once share one SQLite transaction.
///
/// `record` returns only once its settlement is committed, so a worker never frees its slot (and
/// the dispatcher never counts a message as done) before the outcome is durable. A crash can then
/// only repeat the messages that were actually in flight.
actor SettlementJournal {
    private let queue: MessageQueue
    private let owner: LeaseOwner
    private let logger: Logger
    private var pending: [(settlement: Settlement, done: CheckedContinuation<Void, any Error>)] = []
    private var running = true
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(queue: MessageQueue, owner: LeaseOwner, logger: Logger) {
        self.queue = queue
        self.owner = owner
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Commits `settlement` with whatever else is pending and returns when it is durable.
    func record(_ settlement: Settlement) async throws {
        guard running else {
            // The journal has stopped (the process is being cancelled): commit this one alone.
            try await commit([settlement])
            return
        }
        try await withCheckedThrowingContinuation { continuation in
            pending.append((settlement, continuation))
            wake.yield()
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

    private func commitPending() async {
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            do {
                try await commit(batch.map(\.settlement))
                for entry in batch { entry.done.resume() }
            } catch {
                for entry in batch { entry.done.resume(throwing: error) }
            }
        }
    }

    private func commit(_ settlements: [Settlement]) async throws {
        let lost = try await queue.settle(settlements, owner: owner)
        if !lost.isEmpty {
            logger.warning("lease lost before the outcome was recorded; another worker holds these messages now",
                           metadata: ["message_ids": "\(lost)"])
        }
    }
}
