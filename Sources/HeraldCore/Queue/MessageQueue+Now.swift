/// The contract's operations at the current time and with their usual limits: protocol
/// requirements cannot have default arguments, so these spell them once for every engine.
extension MessageQueue {
    public func enqueue(_ messages: [NewMessage]) async throws -> [EnqueueOutcome] {
        try await enqueue(messages, now: Timestamp.now())
    }

    public func claim(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>) async throws -> ClaimBatch {
        try await claim(limit: limit, owner: owner, lease: lease, channels: channels, now: Timestamp.now())
    }

    /// Settles without events (an installation with events off, a test).
    @discardableResult
    public func settle(_ settlements: [Settlement], owner: LeaseOwner, now: Int64 = Timestamp.now()) async throws -> [Int64] {
        try await settle(settlements, events: [], owner: owner, now: now)
    }

    public func suppress(_ entries: [Suppression], events: [Event] = []) async throws {
        try await suppress(entries, events: events, now: Timestamp.now())
    }

    public func unsuppress(_ address: Address) async throws -> Bool {
        try await unsuppress(address, events: [])
    }

    /// The suppression of one address, if any.
    public func suppression(of address: Address) async throws -> Suppression? {
        try await suppressions(of: [address])[address]
    }

    public func suppressions(channel: Channel? = nil, after: Address? = nil) async throws -> [Suppression] {
        try await suppressions(channel: channel, after: after, limit: 1_000)
    }

    public func retry(_ reference: String) async throws -> MessageChange {
        try await retry(reference, now: Timestamp.now())
    }

    public func cancel(_ reference: String, events: [Event] = []) async throws -> MessageChange {
        try await cancel(reference, events: events, now: Timestamp.now())
    }

    public func takePush(_ name: String, owner: LeaseOwner, lease: Duration, now: Int64) async throws -> EventCursor? {
        try await takePush(name, owner: owner, lease: lease, now: now, replacing: nil)
    }

    public func events(after cursor: EventCursor = .start, matching filter: EventFilter = EventFilter()) async throws -> [StoredEvent] {
        try await events(after: cursor, matching: filter, limit: 1_000)
    }

    public func failed(_ filter: FailedFilter) async throws -> [MessageDetail] {
        try await failed(filter, limit: 100)
    }

    public func status() async throws -> QueueStatus {
        try await status(now: Timestamp.now())
    }

    public func sentPerMinute() async throws -> [Int] {
        try await sentPerMinute(minutes: 60, now: Timestamp.now())
    }

    public func intakeFile(name: String, identity: String) async throws -> IntakeFile {
        try await intakeFile(name: name, identity: identity, now: Timestamp.now())
    }

    public func markIntakeFile(_ id: Int64, _ state: IntakeFile.State) async throws {
        try await markIntakeFile(id, state, now: Timestamp.now())
    }

    public func place(_ letter: Letter, batchSize: Int) async throws -> LetterPlacement {
        try await place(letter, batchSize: batchSize, now: Timestamp.now())
    }

    public func beginClosing(openedBefore cutoff: Int64?) async throws -> [LetterBatch] {
        try await beginClosing(openedBefore: cutoff, now: Timestamp.now())
    }

    public func markClosed(_ batchID: Int64, sha256: String, bytes: Int, uploadPending: Bool, events: [Event] = [],
                           now: Int64 = Timestamp.now()) async throws {
        try await markClosed(batchID, sha256: sha256, bytes: bytes, uploadPending: uploadPending, events: events, now: now)
    }

    public func recordUpload(_ batchID: Int64, error: String?, retryAt: Int64?) async throws {
        try await recordUpload(batchID, error: error, retryAt: retryAt, events: [])
    }

    public func uploadsDue() async throws -> [LetterBatch] {
        try await uploadsDue(now: Timestamp.now())
    }

    public func retryUpload(named name: String) async throws -> Bool {
        try await retryUpload(named: name, now: Timestamp.now())
    }

    public func letterBatches() async throws -> [LetterBatch] {
        try await letterBatches(limit: 50)
    }
}
