import Dispatch
import Foundation

/// How an input file is written.
public enum InputFormat: Sendable {
    /// One JSON object, an array of them, or NDJSON.
    case json
    /// A header row, then one message per row.
    case csv
}

/// The items of a JSON, NDJSON or CSV input, batch by batch, for async code.
///
/// The readers are push parsers over blocking reads, so they run on a thread of their own
/// (`BlockingWork`), never on the cooperative pool; `prepare` runs there too (validation, say),
/// and the thread stays at most `lookahead` batches ahead of the consumer. While the consumer
/// writes batch N, the thread reads and prepares batch N+1: on two cores the costs overlap
/// instead of adding up, and memory stays bounded whatever the input's length.
public struct InputBatches<Batch: Sendable>: Sendable {
    let handle: FileHandle
    let format: InputFormat
    let lookahead: Int
    let prepare: @Sendable ([InputItem]) -> Batch

    public init(_ handle: FileHandle, format: InputFormat, lookahead: Int = 2,
                prepare: @escaping @Sendable ([InputItem]) -> Batch) {
        self.handle = handle
        self.format = format
        self.lookahead = max(1, lookahead)
        self.prepare = prepare
    }

    /// Calls `body` with each batch in input order. An error from `body` stops the reading and is
    /// rethrown; so is a read or parse error, after the batches before it were consumed.
    public func forEach(_ body: (Batch) async throws -> Void) async throws {
        let (batches, continuation) = AsyncThrowingStream<Batch, any Error>.makeStream()
        // Made empty and then signalled: libdispatch traps when a semaphore is freed holding less
        // than it was made with, which a consumer that stops early would otherwise leave.
        let space = DispatchSemaphore(value: 0)
        for _ in 0..<lookahead { space.signal() }
        let stopped = StopFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [handle, format, prepare] in
                do {
                    try await BlockingWork.run {
                        let consume: ([InputItem]) throws -> Void = { items in
                            space.wait()
                            if stopped.isSet { throw CancellationError() }
                            continuation.yield(prepare(items))
                        }
                        switch format {
                        case .json: try MessageInput.read(handle, consume)
                        case .csv: try CSVMessageInput.read(handle, consume)
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            do {
                for try await batch in batches {
                    space.signal()
                    try await body(batch)
                }
                // The stream also ends when this task is cancelled: that is not the end of the
                // input, and a caller that took it for one would mark a half-read file done.
                try Task.checkCancellation()
            } catch {
                // The reading thread waits for space or checks the flag before its next batch.
                stopped.set()
                space.signal()
                try? await group.waitForAll()
                throw error
            }
            try await group.waitForAll()
        }
    }
}

extension InputBatches where Batch == [InputItem] {
    public init(_ handle: FileHandle, format: InputFormat, lookahead: Int = 2) {
        self.init(handle, format: format, lookahead: lookahead) { $0 }
    }
}
