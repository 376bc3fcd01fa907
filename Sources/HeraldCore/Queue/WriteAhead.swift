import Dispatch
import GRDB

/// Writes on GRDB's writer queue while the submitting thread goes on with the next batch, with
/// at most one write in flight: on two cores, validating batch N+1 overlaps inserting batch N.
///
/// For blocking callers only (the drop folder's reading thread): `submit` and `finish` wait on a
/// semaphore, which must never happen on the cooperative pool.
final class WriteAhead: @unchecked Sendable {
    private let queue: MessageQueue
    private let idle = DispatchSemaphore(value: 1)
    /// Set by a failed write before it signals `idle`, read after waiting on it.
    private var failure: (any Error)?

    init(queue: MessageQueue) {
        self.queue = queue
    }

    /// Waits for the previous write, rethrowing its error, then starts `updates`.
    func submit(_ updates: @escaping @Sendable (Database) throws -> Void) throws {
        idle.wait()
        if let failure {
            idle.signal()
            throw failure
        }
        queue.asyncWrite(updates) { [self] result in
            if case .failure(let error) = result { failure = error }
            idle.signal()
        }
    }

    /// Waits for the last write; rethrows its error.
    func finish() throws {
        idle.wait()
        defer { idle.signal() }
        if let failure { throw failure }
    }
}
