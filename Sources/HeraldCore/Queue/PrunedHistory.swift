import Foundation

/// What a retention sweep removed, or with `dryRun` would remove.
public struct PrunedHistory: Sendable, Equatable, Codable {
    /// Messages by final state (`sent`, `suppressed`, `canceled`, `failed`).
    public var messages: [String: Int] = [:]
    public var attempts = 0
    /// Letters of closed batches (the batch's own record stays, with its count and checksum).
    public var letters = 0
    /// Records of archived drop-folder files, with their rejected lines.
    public var intakeFiles = 0
    /// Events recorded for the CRM.
    public var events = 0
    /// Processed bounces, complaints and auto-replies.
    public var bounces = 0
    /// Enrollments that completed or exited.
    public var enrollments = 0

    public init() {}

    public var messageCount: Int { messages.values.reduce(0, +) }
    public var isEmpty: Bool {
        messageCount == 0 && attempts == 0 && letters == 0 && intakeFiles == 0 && events == 0 && bounces == 0 && enrollments == 0
    }

    /// `1200 messages (sent 1100, failed 100), 1300 attempts, 0 letters, 2 drop-folder files, 2400 events, 3 bounces, 5 enrollments`
    public var summary: String {
        let states = messages.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "\(messageCount) messages" + (states.isEmpty ? "" : " (\(states.joined(separator: ", ")))")
            + ", \(attempts) attempts, \(letters) letters, \(intakeFiles) drop-folder files, \(events) events, \(bounces) bounces"
            + ", \(enrollments) enrollments"
    }
}

/// Messages removed per transaction: small enough that a claim waiting for the writer is never
/// held up for long, large enough that a first sweep of millions of rows ends.
let pruneBatchSize = 2_000

extension MessageQueue {
    /// Removes finished messages (and what hangs off them) older than `retention`, measured
    /// from when they reached their final state. Queued and leased messages are never touched,
    /// however old.
    ///
    /// - Parameters:
    ///   - dryRun: count, delete nothing.
    ///   - pause: between transactions, so claims and settlements get the writer.
    ///   - progress: called after each transaction with the totals so far.
    public func prune(_ retention: Retention, now: Int64 = Timestamp.now(), dryRun: Bool = false,
                      pause: Duration = .milliseconds(5),
                      progress: (PrunedHistory) -> Void = { _ in }) async throws -> PrunedHistory {
        var pruned = PrunedHistory()
        let groups: [(states: [MessageState], period: Duration?)] = [
            ([.sent, .suppressed, .canceled], retention.sent), ([.failed], retention.failed),
        ]
        for (states, period) in groups {
            guard let period else { continue }
            let cutoff = now - period.milliseconds
            // Message ids grow with creation time, so everything old enough has an id below the
            // first one created at the cutoff: the index scan stops there instead of walking every
            // message kept (which, in the steady state, is all of them).
            let horizon = try await idHorizon(createdBefore: cutoff)
            for state in states {
                for channel in Channel.allCases {
                    var request = PruneRequest(state: state, channel: channel, after: 0, before: horizon, cutoff: cutoff,
                                               limit: pruneBatchSize, dryRun: dryRun)
                    while true {
                        let batch = try await prune(request)
                        pruned.messages[state.rawValue, default: 0] += batch.messages
                        pruned.attempts += batch.attempts
                        if batch.messages > 0 { progress(pruned) }
                        guard batch.messages == pruneBatchSize, let last = batch.lastID else { break }
                        request.after = last
                        if !dryRun { try await Task.sleep(for: pause) }  // reads do not hold the writer up
                    }
                }
            }
        }
        if let period = retention.sent {
            let removed = try await pruneLettersAndIntake(before: now - period.milliseconds, dryRun: dryRun, pause: pause)
            pruned.letters = removed.letters
            pruned.intakeFiles = removed.intakeFiles
            // An ended enrollment's step messages follow the same retention.
            pruned.enrollments = try await pruneInBatches(dryRun: dryRun, pause: pause, progress: { pruned.enrollments = $0; progress(pruned) }) {
                try await pruneEnrollments(before: now - period.milliseconds, limit: $0, dryRun: $1)
            }
        }
        if let period = retention.events {
            pruned.events = try await pruneInBatches(dryRun: dryRun, pause: pause, progress: { pruned.events = $0; progress(pruned) }) {
                try await pruneEvents(before: now - period.milliseconds, limit: $0, dryRun: $1)
            }
        }
        if let period = retention.bounces {
            pruned.bounces = try await pruneInBatches(dryRun: dryRun, pause: pause, progress: { pruned.bounces = $0; progress(pruned) }) {
                try await pruneBounces(before: now - period.milliseconds, limit: $0, dryRun: $1)
            }
        }
        return pruned
    }

    /// Calls `batch` with `pruneBatchSize` until a batch removes fewer (with `dryRun`, once,
    /// counting everything); returns the total, reporting it after each batch that removed some.
    private func pruneInBatches(dryRun: Bool, pause: Duration, progress: (Int) -> Void,
                                _ batch: (_ limit: Int, _ dryRun: Bool) async throws -> Int) async throws -> Int {
        if dryRun { return try await batch(Int(Int32.max), true) }
        var total = 0
        while true {
            let removed = try await batch(pruneBatchSize, false)
            total += removed
            if removed > 0 { progress(total) }
            guard removed == pruneBatchSize else { return total }
            try await Task.sleep(for: pause)
        }
    }
}

/// One retention batch (see `MessageQueue.prune(_:)`).
public struct PruneRequest: Sendable, Equatable {
    public var state: MessageState
    public var channel: Channel
    /// Only ids above this (the last one of the previous batch) ...
    public var after: Int64
    /// ... and below this (every message below was created before the cutoff).
    public var before: Int64
    /// Finished (last updated) before this.
    public var cutoff: Int64
    public var limit: Int
    public var dryRun: Bool
}

/// What one retention batch removed (or would).
public struct PruneBatch: Sendable, Equatable {
    public var messages = 0
    public var attempts = 0
    /// The last message id of the batch; nil when the batch was empty.
    public var lastID: Int64?

    public init(messages: Int = 0, attempts: Int = 0, lastID: Int64? = nil) {
        self.messages = messages
        self.attempts = attempts
        self.lastID = lastID
    }
}
