import Foundation
import GRDB

extension LetterBatch: FetchableRecord {}
extension Letter: FetchableRecord {}

extension SQLiteQueue {
    /// Puts `letter` in the open batch (opening one if none is), in one transaction. A letter
    /// that already has a place keeps it, so a letter delivered twice is still printed once.
    public func place(_ letter: Letter, batchSize: Int, now: Int64) async throws -> LetterPlacement {
        try await write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT batch_id, position FROM letters WHERE message_id = ?",
                                          arguments: [letter.messageID]) {
                let batch = try LetterBatch.fetchOne(db, sql: "SELECT * FROM letter_batches WHERE id = ?", arguments: [row["batch_id"] as Int64])!
                return LetterPlacement(batch: batch, position: row["position"], filledBatch: false, alreadyPlaced: true)
            }
            var batch: LetterBatch
            if let open = try LetterBatch.fetchOne(db, sql: "SELECT * FROM letter_batches WHERE state = 'open'") {
                batch = open
            } else {
                let next = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM letter_batches")!
                let name = LetterBatch.name(id: next, openedAt: now)
                try db.execute(sql: "INSERT INTO letter_batches (id, name, state, created_at) VALUES (?, ?, 'open', ?)",
                               arguments: [next, name, now])
                batch = try LetterBatch.fetchOne(db, sql: "SELECT * FROM letter_batches WHERE id = ?", arguments: [next])!
            }
            let position = batch.letters + 1
            try db.execute(sql: """
                INSERT INTO letters (message_id, batch_id, position, key, name, line1, line2, city, region, postal_code,
                                     country, campaign, format, body, added_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [letter.messageID, batch.id, position, letter.key, letter.name, letter.line1, letter.line2,
                                 letter.city, letter.region, letter.postalCode, letter.country, letter.campaign,
                                 letter.format.rawValue, letter.body, now])
            batch.letters = position
            let fills = position >= batchSize
            if fills {
                batch.state = .closing
                batch.closingAt = now
            }
            try db.execute(sql: "UPDATE letter_batches SET letters = ?, state = ?, closing_at = ? WHERE id = ?",
                           arguments: [position, batch.state.rawValue, batch.closingAt, batch.id])
            return LetterPlacement(batch: batch, position: position, filledBatch: fills, alreadyPlaced: false)
        }
    }

    /// Stops the open batch from taking letters when it opened at or before `openedBefore` (any
    /// age when nil) and holds at least one letter. Returns every batch whose files are to be
    /// written: those it closed and any a crash left `closing`.
    public func beginClosing(openedBefore cutoff: Int64?, now: Int64) async throws -> [LetterBatch] {
        try await write { db in
            try db.execute(sql: """
                UPDATE letter_batches SET state = 'closing', closing_at = ?
                WHERE state = 'open' AND letters > 0 AND created_at <= ?
                """, arguments: [now, cutoff ?? Int64.max])
            return try LetterBatch.fetchAll(db, sql: "SELECT * FROM letter_batches WHERE state = 'closing' ORDER BY id")
        }
    }

    /// The batch's letters in CSV order, with their messages' templates.
    public func letters(inBatch batchID: Int64) async throws -> [Letter] {
        try await read { db in
            try Letter.fetchAll(db, sql: """
                SELECT letters.*, messages.template FROM letters LEFT JOIN messages ON messages.id = letters.message_id
                WHERE letters.batch_id = ? ORDER BY letters.position
                """, arguments: [batchID])
        }
    }

    /// Records that a batch's files are in place. A no-op when another process got there first.
    public func markClosed(_ batchID: Int64, sha256: String, bytes: Int, uploadPending: Bool, events: [Event],
                           now: Int64) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE letter_batches SET state = 'closed', closed_at = ?, sha256 = ?, bytes = ?, upload_state = ?,
                    upload_next_at = ?
                WHERE id = ? AND state = 'closing'
                """, arguments: [now, sha256, bytes, uploadPending ? LetterBatch.UploadState.pending.rawValue : nil,
                                 uploadPending ? now : nil, batchID])
            if db.changesCount > 0 { try Self.insert(events, db: db) }
        }
    }

    /// Closed batches whose upload is due.
    public func uploadsDue(now: Int64) async throws -> [LetterBatch] {
        try await read { db in
            try LetterBatch.fetchAll(db, sql: """
                SELECT * FROM letter_batches WHERE state = 'closed' AND upload_state = 'pending' AND upload_next_at <= ?
                ORDER BY id
                """, arguments: [now])
        }
    }

    /// Records an upload attempt: done, to be tried again at `retryAt`, or given up (`retryAt` nil).
    public func recordUpload(_ batchID: Int64, error: String?, retryAt: Int64?, events: [Event]) async throws {
        try await write { db in
            try Self.insert(events, db: db)
            let state: LetterBatch.UploadState = error == nil ? .uploaded : retryAt == nil ? .failed : .pending
            try db.execute(sql: """
                UPDATE letter_batches SET upload_state = ?, upload_attempts = upload_attempts + 1, upload_next_at = ?,
                    upload_error = ?
                WHERE id = ?
                """, arguments: [state.rawValue, retryAt, error, batchID])
        }
    }

    /// Requeues a batch's upload now (an operator's retry after a failure).
    public func retryUpload(named name: String, now: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE letter_batches SET upload_state = 'pending', upload_attempts = 0, upload_next_at = ?
                WHERE name = ? AND state = 'closed' AND upload_state IS NOT NULL
                """, arguments: [now, name])
            return db.changesCount > 0
        }
    }

    /// The newest batches first, for operators.
    public func letterBatches(limit: Int) async throws -> [LetterBatch] {
        try await read { db in
            try LetterBatch.fetchAll(db, sql: "SELECT * FROM letter_batches ORDER BY id DESC LIMIT ?", arguments: [limit])
        }
    }

    public func letterBatch(named name: String) async throws -> LetterBatch? {
        try await read { db in try LetterBatch.fetchOne(db, sql: "SELECT * FROM letter_batches WHERE name = ?", arguments: [name]) }
    }
}
