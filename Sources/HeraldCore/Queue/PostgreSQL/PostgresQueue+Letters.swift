import PostgresNIO

extension PostgresQueue {
    /// Advisory transaction lock key under which letters are placed: one host at a time opens,
    /// fills and closes batches, so every letter has exactly one place.
    static let lettersLockKey: Int64 = 0x6865_7261_6c64_4c54

    public func place(_ letter: Letter, batchSize: Int, now: Int64) async throws -> LetterPlacement {
        try await transaction { connection in
            try await execute("SELECT pg_advisory_xact_lock(\(Self.lettersLockKey))", on: connection)
            if let row = try await rows("SELECT batch_id, position FROM letters WHERE message_id = \(letter.messageID)",
                                        on: connection).first {
                let batchID: Int64 = try row.get("batch_id")
                let batch = try LetterBatch(try await rows("SELECT * FROM letter_batches WHERE id = \(batchID)", on: connection)[0])
                return LetterPlacement(batch: batch, position: try row.get("position"), filledBatch: false, alreadyPlaced: true)
            }
            var batch: LetterBatch
            if let open = try await rows("SELECT * FROM letter_batches WHERE state = 'open'", on: connection).first {
                batch = try LetterBatch(open)
            } else {
                let id = try await value("SELECT nextval('letter_batches_id_seq')", as: Int64.self, on: connection)!
                let name = LetterBatch.name(id: id, openedAt: now)
                batch = try LetterBatch(try await rows("""
                    INSERT INTO letter_batches (id, name, state, created_at) VALUES (\(id), \(name), 'open', \(now)) RETURNING *
                    """, on: connection)[0])
            }
            let position = batch.letters + 1
            try await execute("""
                INSERT INTO letters (message_id, batch_id, position, key, name, line1, line2, city, region, postal_code,
                                     country, campaign, format, body, added_at)
                VALUES (\(letter.messageID), \(batch.id), \(position), \(letter.key), \(letter.name), \(letter.line1),
                        \(letter.line2), \(letter.city), \(letter.region), \(letter.postalCode), \(letter.country),
                        \(letter.campaign), \(letter.format.rawValue), \(letter.body), \(now))
                """, on: connection)
            batch.letters = position
            let fills = position >= batchSize
            if fills {
                batch.state = .closing
                batch.closingAt = now
            }
            try await execute("""
                UPDATE letter_batches SET letters = \(position), state = \(batch.state.rawValue), closing_at = \(batch.closingAt)
                WHERE id = \(batch.id)
                """, on: connection)
            return LetterPlacement(batch: batch, position: position, filledBatch: fills, alreadyPlaced: false)
        }
    }

    public func beginClosing(openedBefore cutoff: Int64?, now: Int64) async throws -> [LetterBatch] {
        try await transaction { connection in
            try await execute("SELECT pg_advisory_xact_lock(\(Self.lettersLockKey))", on: connection)
            try await execute("""
                UPDATE letter_batches SET state = 'closing', closing_at = \(now)
                WHERE state = 'open' AND letters > 0 AND created_at <= \(cutoff ?? Int64.max)
                """, on: connection)
            return try await rows("SELECT * FROM letter_batches WHERE state = 'closing' ORDER BY id", on: connection)
                .map(LetterBatch.init)
        }
    }

    public func letters(inBatch batchID: Int64) async throws -> [Letter] {
        try await rows("""
            SELECT letters.*, messages.template FROM letters LEFT JOIN messages ON messages.id = letters.message_id
            WHERE letters.batch_id = \(batchID) ORDER BY letters.position
            """).map(Letter.init)
    }

    public func markClosed(_ batchID: Int64, sha256: String, bytes: Int, uploadPending: Bool, events: [Event],
                           now: Int64) async throws {
        let upload: String? = uploadPending ? LetterBatch.UploadState.pending.rawValue : nil
        let next: Int64? = uploadPending ? now : nil
        try await transaction { connection in
            let closed = try await self.rows("""
                UPDATE letter_batches SET state = 'closed', closed_at = \(now), sha256 = \(sha256), bytes = \(bytes),
                    upload_state = \(upload), upload_next_at = \(next)
                WHERE id = \(batchID) AND state = 'closing'
                RETURNING id
                """, on: connection)
            if !closed.isEmpty { try await self.record(events, on: connection) }
        }
    }

    public func uploadsDue(now: Int64) async throws -> [LetterBatch] {
        try await rows("""
            SELECT * FROM letter_batches WHERE state = 'closed' AND upload_state = 'pending' AND upload_next_at <= \(now) ORDER BY id
            """).map(LetterBatch.init)
    }

    public func recordUpload(_ batchID: Int64, error: String?, retryAt: Int64?, events: [Event]) async throws {
        let state: LetterBatch.UploadState = error == nil ? .uploaded : retryAt == nil ? .failed : .pending
        try await transaction { connection in
            try await self.execute("""
                UPDATE letter_batches SET upload_state = \(state.rawValue), upload_attempts = upload_attempts + 1,
                    upload_next_at = \(retryAt), upload_error = \(error)
                WHERE id = \(batchID)
                """, on: connection)
            try await self.record(events, on: connection)
        }
    }

    public func retryUpload(named name: String, now: Int64) async throws -> Bool {
        try await !rows("""
            UPDATE letter_batches SET upload_state = 'pending', upload_attempts = 0, upload_next_at = \(now)
            WHERE name = \(name) AND state = 'closed' AND upload_state IS NOT NULL
            RETURNING id
            """).isEmpty
    }

    public func letterBatches(limit: Int) async throws -> [LetterBatch] {
        try await rows("SELECT * FROM letter_batches ORDER BY id DESC LIMIT \(limit)").map(LetterBatch.init)
    }

    public func letterBatch(named name: String) async throws -> LetterBatch? {
        try await rows("SELECT * FROM letter_batches WHERE name = \(name)").first.map(LetterBatch.init)
    }
}

extension LetterBatch {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), name: try row.get("name"), state: State(rawValue: try row.get("state")) ?? .open,
            letters: try row.get("letters"), createdAt: try row.get("created_at"), closingAt: try row.get("closing_at"),
            closedAt: try row.get("closed_at"), sha256: try row.get("sha256"), bytes: try row.get("bytes"),
            uploadState: (try row.get("upload_state", as: String?.self)).flatMap(UploadState.init(rawValue:)),
            uploadAttempts: try row.get("upload_attempts"), uploadNextAt: try row.get("upload_next_at"),
            uploadError: try row.get("upload_error"))
    }
}

extension Letter {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(
            messageID: try row.get("message_id"), key: try row.get("key"), name: try row.get("name"),
            address: PostalAddress(line1: try row.get("line1"), line2: try row.get("line2"), city: try row.get("city"),
                                   region: try row.get("region"), postalCode: try row.get("postal_code"),
                                   country: try row.get("country")),
            campaign: try row.get("campaign"), format: Format(rawValue: try row.get("format")) ?? .text, body: try row.get("body"),
            template: row.contains("template") ? try row.get("template") : nil)
    }
}
