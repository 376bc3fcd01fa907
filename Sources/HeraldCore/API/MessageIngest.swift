import AsyncAlgorithms
import Foundation
import Hummingbird
import Logging

/// `POST /v1/messages` with an NDJSON body: reads the stream batch by batch and answers with one
/// NDJSON result line per message or enrollment as each batch is committed, so a stream of any length runs in
/// constant memory and the client sees progress.
///
/// While one batch is written to SQLite (on GRDB's writer thread), the next is parsed and
/// validated: the two costs overlap instead of adding up.
///
/// A batch is committed when it is full **or** at the next tick (every `flushInterval`) once it
/// holds anything, so a CRM that streams its changes as they happen has each line queued and
/// answered within about half a second. A stream silent for `silenceLimit` is ended there.
struct MessageIngest: Sendable {
    let queue: any MessageQueue
    let validation: IntakeValidation
    let silenceLimit: Duration
    let logger: Logger

    static let progressEvery = 100_000
    static let flushInterval: Duration = .milliseconds(500)

    func streamingResponse(to body: RequestBody) -> Response {
        Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: ResponseBody { writer in
            // The body and a ticker feed one channel; `send` waits for the reader, so the body is
            // still read no faster than batches are committed.
            let inputs = AsyncThrowingChannel<StreamInput, any Error>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await chunk in body { await inputs.send(.bytes(chunk)) }
                        inputs.finish()
                    } catch {
                        inputs.fail(error)
                    }
                }
                group.addTask {
                    while (try? await Task.sleep(for: Self.flushInterval)) != nil { await inputs.send(.tick) }
                }
                try await ingest(from: inputs, to: &writer)
                group.cancelAll()
            }
        })
    }

    private func ingest(from inputs: AsyncThrowingChannel<StreamInput, any Error>, to writer: inout some ResponseBodyWriter) async throws {
        // The first tick after the last bytes may come at once: one more makes the silence at
        // least `silenceLimit` long.
        let ticksOfSilence = max(1, Int((silenceLimit / Self.flushInterval).rounded(.up))) + 1
        var reader = BatchReader(inputs: inputs.makeAsyncIterator(), ticksOfSilence: ticksOfSilence)
        var counts = (queued: 0, enrolled: 0, duplicate: 0, rejected: 0)
        var batch = try await reader.next(validation: validation)
        while let current = batch {
            let validated: ValidatedBatch
            if reader.lastBatchWasFull {
                // A fast stream: parse the next batch while this one is written.
                async let committed = queue.commit(current, now: Timestamp.now())
                batch = try await reader.next(validation: validation)
                validated = try await committed
            } else {
                // A slow one (or its end): answer now rather than after the next line arrives.
                validated = try await queue.commit(current, now: Timestamp.now())
                batch = nil
            }
            var out: [UInt8] = []
            out.reserveCapacity(validated.results.count * 64)
            for result in validated.results {
                result.appendJSONLine(to: &out)
                switch result.status {
                case .queued: counts.queued += 1
                case .enrolled: counts.enrolled += 1
                case .duplicate: counts.duplicate += 1
                case .rejected: counts.rejected += 1
                }
            }
            try await writer.write(ByteBuffer(bytes: out))
            let total = counts.queued + counts.enrolled + counts.duplicate + counts.rejected
            if total / Self.progressEvery != (total - validated.results.count) / Self.progressEvery {
                logger.info("API ingest in progress", metadata: ["messages": "\(total)"])
            }
            if batch == nil && !reader.atEnd { batch = try await reader.next(validation: validation) }
        }
        try await writer.finish(nil)
        if reader.silent {
            logger.notice("API ingest: the stream was silent too long; ended it", metadata: [
                "idle_timeout": "\(silenceLimit.configText)", "queued": "\(counts.queued)",
            ])
        }
        logger.info("API ingest done", metadata: [
            "queued": "\(counts.queued)", "enrolled": "\(counts.enrolled)", "duplicate": "\(counts.duplicate)",
            "rejected": "\(counts.rejected)",
        ])
    }
}

/// What the reader of a streamed body sees: bytes as they arrive, and a tick now and then.
enum StreamInput: Sendable {
    case bytes(ByteBuffer)
    case tick
}

/// Reads a request body into validated batches of up to `batchSize` items.
private struct BatchReader {
    /// Larger than a file's batches: each one costs a transaction, two task hops and a response
    /// write, and a stream's client waits for nothing in between.
    static let batchSize = 2_000

    var inputs: AsyncThrowingChannel<StreamInput, any Error>.AsyncIterator
    /// Ticks without a byte after which the stream counts as ended.
    let ticksOfSilence: Int
    var lines = NDJSONLines()
    var atEnd = false
    /// Whether the stream was ended for its silence.
    private(set) var silent = false
    /// Whether the last batch was cut at `batchSize` (more is probably waiting) rather than by a
    /// tick or the end of the stream.
    private(set) var lastBatchWasFull = false
    private var quietTicks = 0

    init(inputs: AsyncThrowingChannel<StreamInput, any Error>.AsyncIterator, ticksOfSilence: Int) {
        self.inputs = inputs
        self.ticksOfSilence = ticksOfSilence
    }

    mutating func next(validation: IntakeValidation) async throws -> ValidatedBatch? {
        var items: [InputItem] = []
        items.reserveCapacity(Self.batchSize)
        reading: while items.count < Self.batchSize {
            if let item = lines.next(atEnd: atEnd) {
                items.append(item)
                continue
            }
            if atEnd { break }
            switch try await inputs.next() {
            case .bytes(let chunk):
                quietTicks = 0
                chunk.withUnsafeReadableBytes { lines.append($0) }
            case .tick:
                quietTicks += 1
                if quietTicks >= ticksOfSilence {
                    silent = true
                    atEnd = true
                } else if !items.isEmpty {
                    break reading  // A slow stream: commit what it has sent so far.
                }
            case nil:
                atEnd = true
            }
        }
        lastBatchWasFull = items.count == Self.batchSize
        return items.isEmpty ? nil : ValidatedBatch(items, validation: validation, now: Timestamp.now())
    }
}

extension EnqueueResult {
    /// `{"line":3,"status":"queued","id":17,"key":"k"}` and a newline, written by hand: a million
    /// of these through JSONEncoder would cost more than the inserts.
    func appendJSONLine(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"line":"#.utf8)
        out.append(contentsOf: String(position.number).utf8)
        out.append(contentsOf: #","status":""#.utf8)
        out.append(contentsOf: status.rawValue.utf8)
        out.append(UInt8(ascii: "\""))
        if let id {
            out.append(contentsOf: #","id":"#.utf8)
            out.append(contentsOf: String(id).utf8)
        }
        if let key {
            out.append(contentsOf: #","key":"#.utf8)
            JSONStringEscaping.append(key, to: &out)
        }
        if let reason {
            out.append(contentsOf: #","reason":"#.utf8)
            JSONStringEscaping.append(reason, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
    }
}
