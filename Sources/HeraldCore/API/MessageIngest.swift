import Foundation
import Hummingbird
import Logging

/// `POST /v1/messages` with an NDJSON body: reads the stream batch by batch and answers with one
/// NDJSON result line per message as each batch is committed, so a stream of any length runs in
/// constant memory and the client sees progress.
///
/// While one batch is written to SQLite (on GRDB's writer thread), the next is parsed and
/// validated: the two costs overlap instead of adding up.
struct MessageIngest: Sendable {
    let queue: MessageQueue
    let validation: MessageValidation
    let logger: Logger

    static let progressEvery = 100_000

    func streamingResponse(to body: RequestBody) -> Response {
        Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: ResponseBody { writer in
            var reader = BatchReader(body: body.makeAsyncIterator())
            var counts = (queued: 0, duplicate: 0, rejected: 0)
            var batch = try await reader.next(validation: validation)
            while let current = batch {
                var validated = current
                async let outcomes = queue.enqueueAsync(current.accepted.map(\.message))
                batch = try await reader.next(validation: validation)
                validated.record(try await outcomes)
                var out: [UInt8] = []
                out.reserveCapacity(validated.results.count * 64)
                for result in validated.results {
                    result.appendJSONLine(to: &out)
                    switch result.status {
                    case .queued: counts.queued += 1
                    case .duplicate: counts.duplicate += 1
                    case .rejected: counts.rejected += 1
                    }
                }
                try await writer.write(ByteBuffer(bytes: out))
                let total = counts.queued + counts.duplicate + counts.rejected
                if total / Self.progressEvery != (total - validated.results.count) / Self.progressEvery {
                    logger.info("API ingest in progress", metadata: ["messages": "\(total)"])
                }
            }
            try await writer.finish(nil)
            logger.info("API ingest done", metadata: [
                "queued": "\(counts.queued)", "duplicate": "\(counts.duplicate)", "rejected": "\(counts.rejected)",
            ])
        })
    }
}

/// Reads a request body into validated batches of up to `batchSize` items.
private struct BatchReader {
    /// Larger than a file's batches: each one costs a transaction, two task hops and a response
    /// write, and a stream's client waits for nothing in between.
    static let batchSize = 2_000

    var body: RequestBody.AsyncIterator
    var lines = NDJSONLines()
    var atEnd = false

    mutating func next(validation: MessageValidation) async throws -> ValidatedBatch? {
        var items: [InputItem] = []
        items.reserveCapacity(Self.batchSize)
        while items.count < Self.batchSize {
            if let item = lines.next(atEnd: atEnd) {
                items.append(item)
                continue
            }
            if atEnd { break }
            if let chunk = try await body.next() {
                chunk.withUnsafeReadableBytes { lines.append($0) }
            } else {
                atEnd = true
            }
        }
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
