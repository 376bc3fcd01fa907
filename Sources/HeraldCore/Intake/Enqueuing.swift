/// The result of offering one input item to the queue, as `herald enqueue` and the socket API
/// report it.
public struct EnqueueResult: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case queued
        /// An enrollment: the lead entered its sequence (`id` is the enrollment's).
        case enrolled
        /// A message or enrollment whose key is taken already.
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
/// given their ids), the messages and enrollments to insert, and the rejections.
struct ValidatedBatch: Sendable {
    var results: [EnqueueResult] = []
    var accepted: [(index: Int, message: NewMessage)] = []
    var enrollments: [(index: Int, enrollment: NewEnrollment)] = []
    /// The sequence versions the enrollments follow, one each.
    var versions: [SequenceVersion] = []
    var rejections: [(item: InputItem, rejection: IntakeRejection)] = []

    init(_ items: [InputItem], validation: IntakeValidation, now: Int64) {
        var versionKeys: Set<String> = []
        for item in items {
            switch item.value.flatMap({ validation.validate($0, now: now) }) {
            case .success(.message(let message)):
                accepted.append((results.count, message))
                results.append(EnqueueResult(position: item.position, status: .queued, key: message.key))
            case .success(.enrollment(let enrollment, let version)):
                enrollments.append((results.count, enrollment))
                if versionKeys.insert("\(version.sequence)@\(version.version)").inserted { versions.append(version) }
                results.append(EnqueueResult(position: item.position, status: .enrolled, key: enrollment.key))
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

    /// Fills in what inserting `enrollments` gave.
    mutating func record(_ outcomes: [EnrollOutcome]) {
        for (entry, outcome) in zip(enrollments, outcomes) {
            switch outcome {
            case .enrolled(let id):
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
        return IntakeBatch(file: file, through: through, messages: accepted.map(\.message), rejections: rejected,
                           enrollments: enrollments.map(\.enrollment), versions: versions)
    }
}

extension MessageQueue {
    /// Inserts a validated batch's messages and enrollments (a transaction each) and fills in
    /// their ids and duplicates.
    func commit(_ batch: ValidatedBatch, now: Int64) async throws -> ValidatedBatch {
        var batch = batch
        if !batch.accepted.isEmpty { batch.record(try await enqueue(batch.accepted.map(\.message), now: now)) }
        if !batch.enrollments.isEmpty {
            batch.record(try await enroll(batch.enrollments.map(\.enrollment), versions: batch.versions, now: now))
        }
        return batch
    }

    /// Validates `items` and enqueues the valid messages and enrollments; a rejected item never
    /// keeps the others out. Results are in input order.
    public func enqueue(_ items: [InputItem], validation: IntakeValidation, now: Int64 = Timestamp.now()) async throws
        -> [EnqueueResult]
    {
        try await commit(ValidatedBatch(items, validation: validation, now: now), now: now).results
    }
}
