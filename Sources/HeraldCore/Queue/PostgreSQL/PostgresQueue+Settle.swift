import PostgresNIO

extension PostgresQueue {
    /// How one settlement changes its message (`nil`: keep what is there).
    private struct Change: Encodable {
        let id: Int64
        let state: String
        var due_at: Int64?
        var attempts_delta = 0
        var set_deferred = false
        var deferred: String?
        var set_error = false
        var error_code: String?
        var last_error: String?
    }

    private struct SuppressionRow: Encodable {
        let channel: String
        let address: String
        let reason: String
        let source: String?
    }

    /// One statement for the whole group (`SettleBatch`).
    public func settle(_ settlements: [Settlement], events: [Event], owner: LeaseOwner, now: Int64) async throws -> [Int64] {
        guard !settlements.isEmpty else { return [] }
        var changes: [Change] = []
        var attempts: [AttemptRow] = []
        var suppressions: [Address: SuppressionRow] = [:]
        var failed: [Int64] = []
        for settlement in settlements {
            switch settlement {
            case .sent(let attempt):
                changes.append(Change(id: attempt.messageID, state: MessageState.sent.rawValue, set_deferred: true, set_error: true))
            case .failed(let attempt, let lastError, let suppression):
                changes.append(Change(id: attempt.messageID, state: MessageState.failed.rawValue, set_deferred: true, set_error: true,
                                      error_code: attempt.errorCode, last_error: lastError))
                if let suppression {
                    // Deduplicated: one statement may not upsert the same row twice.
                    suppressions[suppression.address] = SuppressionRow(
                        channel: suppression.channel.rawValue, address: suppression.address.value,
                        reason: suppression.reason.rawValue, source: suppression.source)
                }
                failed.append(attempt.messageID)
            case .retry(let attempt, let lastError):
                changes.append(Change(id: attempt.messageID, state: MessageState.queued.rawValue, due_at: attempt.retryAt ?? now,
                                      set_deferred: true, set_error: true, error_code: attempt.errorCode, last_error: lastError))
            case .release(let id):
                changes.append(Change(id: id, state: MessageState.queued.rawValue, attempts_delta: -1))
            case .deferred(let id, let deferral):
                changes.append(Change(id: id, state: MessageState.queued.rawValue, due_at: deferral.until, attempts_delta: -1,
                                      set_deferred: true, deferred: deferral.reason.rawValue))
            case .suppressed(let id, let suppression):
                changes.append(Change(id: id, state: MessageState.suppressed.rawValue, attempts_delta: -1, set_deferred: true,
                                      set_error: true, error_code: "suppressed", last_error: suppression.summary))
            }
            if let attempt = settlement.attempt { attempts.append(AttemptRow(attempt)) }
        }
        let updated = try await rows(SettleBatch(
            changes: try Self.recordset(changes), now: now, owner: owner.description, attempts: try Self.recordset(attempts),
            suppressions: try Self.recordset(Array(suppressions.values)), failed: failed,
            events: try Self.eventRecordset(events)))
        let kept = Set(try updated.map { try $0.get("id", as: Int64.self) })
        return settlements.map(\.messageID).filter { !kept.contains($0) }
    }
}

/// One attempt as `jsonb_to_recordset` reads it (settlements and `herald copy` both insert them).
struct AttemptRow: Encodable {
    let message_id: Int64
    let number: Int
    let started_at: Int64
    let duration_us: Int64
    let worker: String
    let outcome: String
    let error_code: String?
    let remote_code: String?
    let remote_text: String?
    let retry_at: Int64?
    let remote_id: String?

    init(_ attempt: DeliveryAttempt) {
        message_id = attempt.messageID
        number = attempt.number
        started_at = attempt.startedAt
        duration_us = attempt.durationMicroseconds
        worker = attempt.worker
        outcome = attempt.outcome.rawValue
        error_code = attempt.errorCode
        remote_code = attempt.remoteCode
        remote_text = attempt.remoteText
        retry_at = attempt.retryAt
        remote_id = attempt.remoteID
    }
}
