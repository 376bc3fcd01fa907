/// The result of offering one input item to the queue, as `herald enqueue` and the socket API
/// report it.
public struct EnqueueResult: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case queued
        case duplicate
        case rejected
    }

    public var position: InputPosition
    public var status: Status
    public var id: Int64?
    public var key: String?
    /// Why it was rejected, naming the field.
    public var reason: String?
}

/// A batch of input items after validation: results in input order (accepted ones still to be
/// given their ids), the messages to insert, and the rejections.
struct ValidatedBatch: Sendable {
    var results: [EnqueueResult] = []
    var accepted: [(index: Int, message: NewMessage)] = []
    var rejections: [(item: InputItem, rejection: IntakeRejection)] = []

    init(_ items: [InputItem], validation: MessageValidation, now: Int64) {
        for item in items {
            switch item.value.flatMap({ validation.validate($0, now: now) }) {
            case .success(let message):
                accepted.append((results.count, message))
                results.append(EnqueueResult(position: item.position, status: .queued, key: message.key))
            case .failure(let rejection):
                rejections.append((item, rejection))
                results.append(EnqueueResult(position: item.position, status: .rejected, reason: rejection.description))
            }
        }
    }

    /// Fills in what inserting `accepted` gave: ids, and duplicates.
    mutating func record(_ outcomes: [EnqueueOutcome]) {
        for (entry, outcome) in zip(accepted, outcomes) {
            switch outcome {
            case .queued(let id):
                results[entry.index].id = id
            case .duplicate(let id):
                results[entry.index].status = .duplicate
                results[entry.index].id = id
            }
        }
    }
}

extension ValidatedBatch {
    /// This batch as one batch of dropped file `file`, ending at `through`.
    func intakeBatch(file: Int64, through: Int) -> IntakeBatch {
        let rejected = rejections.map { item, rejection in
            let input: String = switch item.value {
            case .success(let value): item.source ?? value.jsonText
            case .failure: item.source ?? ""
            }
            return IntakeFileRejection(position: item.position.number, field: rejection.field, reason: rejection.reason,
                                       input: input)
        }
        return IntakeBatch(file: file, through: through, messages: accepted.map(\.message), rejections: rejected)
    }
}

extension MessageQueue {
    /// Validates `items` and enqueues the valid ones in one transaction; a rejected item never
    /// keeps the others out. Results are in input order.
    public func enqueue(_ items: [InputItem], validation: MessageValidation, now: Int64 = Timestamp.now()) async throws
        -> [EnqueueResult]
    {
        var batch = ValidatedBatch(items, validation: validation, now: now)
        batch.record(try await enqueue(batch.accepted.map(\.message), now: now))
        return batch.results
    }
}
