import ServiceLifecycle

/// The queue contract: everything Herald keeps — messages and their attempts, suppressions,
/// letter batches, drop-folder records, rate-limit schedules and frequency-cap contacts — and
/// every change to it, each one atomic.
///
/// Two engines keep it: `SQLiteQueue` (one file, every process on one host) and
/// `PostgresQueue` (one database, processes on several hosts). Intake, the dispatcher, the API,
/// the console and the commands talk only to this protocol; the engines' folders are the only
/// places that know SQL. What to do about a message (suppress it, put it off, send it) is
/// decided in `Policy/`, over what the engine hands it; an engine provides the atomic
/// primitives those decisions need, each correct when several processes write at once.
///
/// Times are unix milliseconds. Every operation is async and none blocks the cooperative pool.
public protocol MessageQueue: Sendable {
    /// Where the queue lives, for logs and errors: the file, or the database URL without its password.
    var location: String { get }

    /// Work the engine needs done while `herald run` runs (watching its file, holding its
    /// connection pool open, listening for new work); run them beside the dispatcher.
    var services: [any Service] { get }

    /// Resolves when the engine thinks new work may have arrived (another process enqueued),
    /// so idle workers need not wait for their next poll. Engines that cannot tell never yield.
    func arrivals() -> AsyncStream<Void>

    /// The cheapest proof that the queue can be read.
    func ping() async throws

    /// Whether `error` (thrown by this engine) may pass if the same change is tried again later:
    /// a full disk, a lock held too long, a lost connection. Outcomes that fail so are kept and
    /// retried rather than forgotten.
    func isPassing(_ error: any Error) -> Bool

    // MARK: Intake

    /// Inserts `messages` in one transaction. A message whose key exists already is not inserted
    /// and comes back as `.duplicate`; the outcomes are in the order of `messages`.
    func enqueue(_ messages: [NewMessage], now: Int64) async throws -> [EnqueueOutcome]

    /// The record of the dropped file with this identity, creating one (`reading`, position 0) if none.
    func intakeFile(name: String, identity: String, now: Int64) async throws -> IntakeFile

    /// Queues one batch of a dropped file, enrolls its leads, records its rejections and moves the file's position to
    /// `batch.through`, all in one transaction: after a crash the file resumes exactly after the
    /// last batch recorded, so no line is queued twice or skipped.
    func record(_ batch: IntakeBatch, now: Int64) async throws -> [EnqueueOutcome]

    func markIntakeFile(_ id: Int64, _ state: IntakeFile.State, now: Int64) async throws

    /// The rejected lines of a dropped file, in file order.
    func intakeRejections(file: Int64) async throws -> [IntakeFileRejection]

    // MARK: Dispatch

    /// Leases up to `limit` due messages on `channels` to `owner`, oldest due first, in one
    /// statement. Expired leases of holders on other hosts (dead or cut off: this host cannot see
    /// their processes) are returned to the queue first. Leases of holders on `owner`'s own host
    /// are never taken by time: the PID check decides those (`releaseLeasesOfDeadOwners`), so a
    /// wall clock that steps forward cannot hand a live holder's message to a second one.
    /// No message is ever handed to two live holders, whatever the number of processes claiming.
    func claim(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>, now: Int64) async throws -> ClaimBatch

    /// Extends to `now + lease` the leases `owner` holds on `holding` (the messages it is still
    /// working on), and in the same transaction returns to the queue `owner`'s other leases that
    /// have expired (ones it gave up on, say an outcome it could not record). Returns the ids of
    /// `holding` whose leases were renewed; the others are no longer `owner`'s (settled, or
    /// taken by another host after they expired).
    func renewLeases(holding: [Int64], owner: LeaseOwner, lease: Duration, now: Int64) async throws -> [Int64]

    /// Records how claimed messages left their leases, in one transaction. A settlement changes a
    /// message only while it is still leased to `owner`; the attempt is recorded either way, the
    /// message's `events` only with the change. Returns the ids whose lease was lost.
    func settle(_ settlements: [Settlement], events: [Event], owner: LeaseOwner, now: Int64) async throws -> [Int64]

    /// Who holds leases now (`LeaseOwner` text), for finding those of crashed processes.
    func leaseOwners() async throws -> [String]

    /// Returns every message leased by one of `owners` to the queue; how many were.
    func releaseLeases(of owners: [String], now: Int64) async throws -> Int

    // MARK: Sequences

    /// Inserts `enrollments` in one transaction, with the sequence versions they follow (a version
    /// already kept is left as it is). An enrollment whose key exists is a duplicate.
    func enroll(_ enrollments: [NewEnrollment], versions: [SequenceVersion], now: Int64) async throws -> [EnrollOutcome]

    /// The kept text of one version of a sequence.
    func sequenceVersion(_ sequence: String, version: String) async throws -> String?

    /// Active enrollments due to be looked at by `now`, soonest first, with their last step's message.
    func dueEnrollments(now: Int64, limit: Int) async throws -> [EnrollmentProgress]

    /// Up to `limit` enrollments matching `filter`, by id.
    func enrollments(_ filter: EnrollmentFilter, limit: Int) async throws -> [EnrollmentDetail]

    /// The enrollment with this key, in any state.
    func enrollment(key: String) async throws -> EnrollmentDetail?

    /// Moves enrollments to `version` (kept with its text) in one transaction, each fenced on the
    /// version and step it was planned from; it is looked at again at once. Returns the ids moved.
    func migrate(_ moves: [EnrollmentMove], to version: SequenceVersion, now: Int64) async throws -> [Int64]

    /// Ends the active enrollments `selection` names, with `reason`, in one transaction that also
    /// cancels each one's step message still queued. A step message leased at the exit is
    /// canceled whenever it would come back to the queue (the engine's rule, in its schema).
    /// Records `enrollment.exited` for each one ended, as `log` makes it, in that transaction.
    func exitEnrollments(_ selection: EnrollmentSelection, reason: String, reporting log: EventLog, now: Int64) async throws -> [EnrollmentExit]

    /// Applies each advance whose enrollment is still active at its expected step, in one
    /// transaction: a step's message is queued with the enrollment's move, so a crash cannot send
    /// a step twice or skip one. Each applied advance's `events` are recorded with it. Returns the
    /// ids of the advances applied.
    func advance(_ advances: [EnrollmentAdvance], now: Int64) async throws -> [Int64]

    /// Removes (or counts) up to `limit` enrollments that ended (completed or exited) before
    /// `cutoff`, oldest first. Their key is then free to enroll again, as a message's key is
    /// once its message is pruned.
    func pruneEnrollments(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int

    /// Enrollments by sequence and state, for the console's list of sequences.
    func enrollmentCounts() async throws -> [String: [EnrollmentProgress.State: Int]]

    /// `sequence` at a glance: its enrollments by state, exit reason and version, the messages
    /// of the steps named `steps` by state, and where active enrollments on `version` stand.
    func sequenceReport(_ sequence: String, steps: [String], version: String) async throws -> SequenceReport

    // MARK: Policy primitives

    /// The suppressions of those of `addresses` that have one.
    func suppressions(of addresses: [Address]) async throws -> [Address: Suppression]

    /// For each check in order, atomically across processes: when the recipient already has
    /// `cap.max` contacts (other than this message) in any of its windows, the answer is when the
    /// blocking one leaves its window; otherwise the contact is recorded at `now` and the answer nil.
    func countContacts(_ checks: [ContactCheck], now: Int64) async throws -> [Int64?]

    /// Forgets contacts older than `cutoff`: no cap can count them any more.
    func pruneContacts(before cutoff: Int64) async throws

    /// Runs `body` over the rate-limit schedules named by `keys` (their theoretical arrival
    /// times, nil before a schedule's first message) with the other processes kept out, and
    /// stores what it leaves in `schedules`. `body` gets the engine's clock as read once they are
    /// kept out, so the order processes pass is the order of their times.
    func withRateSchedules<T: Sendable>(
        _ keys: [String], _ body: @escaping @Sendable (_ schedules: inout [String: Double], _ now: Int64) -> T
    ) async throws -> T

    // MARK: Suppressions

    /// Adds or updates suppressions (the latest reason wins), and records `events` with them.
    func suppress(_ entries: [Suppression], events: [Event], now: Int64) async throws

    /// Suppressions in (channel, address) order, at most `limit`, of one channel or all, starting
    /// after `after` (the last one of the previous page).
    func suppressions(channel: Channel?, after: Address?, limit: Int) async throws -> [Suppression]

    /// Removes a suppression, recording `events` with it; false (and nothing recorded) when there was none.
    func unsuppress(_ address: Address, events: [Event]) async throws -> Bool

    // MARK: Operators

    /// A message by id, or by key when `reference` is not a number or no id matches, with its attempts.
    func message(_ reference: String) async throws -> MessageDetail?

    /// Queues a failed or canceled message again, due now, with a fresh round of attempts (the
    /// earlier ones stay on record and attempt numbers go on).
    func retry(_ reference: String, now: Int64) async throws -> MessageChange

    /// Ends a queued or failed message as `canceled`, recording `events` with it. One being
    /// delivered cannot be (and then nothing is recorded).
    func cancel(_ reference: String, events: [Event], now: Int64) async throws -> MessageChange

    /// Failed messages matching `filter`, the most recently failed first (attempts not loaded).
    func failed(_ filter: FailedFilter, limit: Int) async throws -> [MessageDetail]

    /// The ids of every failed message matching `filter`.
    func failedIDs(_ filter: FailedFilter) async throws -> [Int64]

    func status(now: Int64) async throws -> QueueStatus

    /// Messages sent per minute over the last `minutes` minutes, oldest first (zeros included).
    func sentPerMinute(minutes: Int, now: Int64) async throws -> [Int]

    // MARK: Events

    /// Records events that are changes of their own (an open, a click, a delivery receipt).
    func record(_ events: [Event]) async throws

    /// Up to `limit` events after `cursor` in stream order, of those matching `filter`. Only events
    /// whose place is settled are returned: a later read from the last cursor never finds an
    /// earlier one written meanwhile.
    func events(after cursor: EventCursor, matching filter: EventFilter, limit: Int) async throws -> [StoredEvent]

    /// Events after `cursor`: how many, and when the oldest occurred.
    func eventBacklog(after cursor: EventCursor) async throws -> EventBacklog

    /// Takes (or renews) the push named `name` for `owner` until `now + lease`, so one process
    /// pushes at a time; returns where it stands, nil while another holds it (unless that is
    /// `stale`, a holder known to be dead, whose lease is taken at once).
    func takePush(_ name: String, owner: LeaseOwner, lease: Duration, now: Int64, replacing stale: String?) async throws -> EventCursor?

    /// Who holds the push named `name` (`LeaseOwner` text), if anyone.
    func pushHolder(_ name: String) async throws -> String?

    /// Moves the push on past what the CRM accepted; false when `owner` no longer holds it.
    func advancePush(_ name: String, to cursor: EventCursor, owner: LeaseOwner) async throws -> Bool

    /// Where the push stands (`start` before its first delivery).
    func pushCursor(_ name: String) async throws -> EventCursor

    /// Removes (or counts) up to `limit` events that occurred before `cutoff`, oldest first.
    func pruneEvents(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int

    // MARK: Bounces

    /// Records a processed bounce with the suppression and events it brings, in one transaction.
    /// False, and nothing recorded, when a bounce with the same `source` and `sourceID` already
    /// was (a mailbox message taken again after a crash). A suppression for a complaint is never
    /// replaced by a bounce's.
    func recordBounce(_ bounce: BounceRecord, suppression: Suppression?, events: [Event]) async throws -> Bool

    /// Soft bounces counted for `address` received at or after `since`, of messages sent after
    /// its last good delivery before `sentBefore` (a message sent and not bounced resets the count).
    func softBounces(of address: Address, since: Int64, sentBefore: Int64) async throws -> Int

    /// Processed bounces, newest first: before id `before`, and about `recipient`, when given.
    func bounces(before: Int64?, recipient: Address?, limit: Int) async throws -> [BounceRecord]

    func bounce(_ id: Int64) async throws -> BounceRecord?

    /// What was decided for each of `sourceIDs` of `source` that is recorded: a mailbox reader
    /// asks for the messages it sees, so mail left there (unrelated) is not read again and a
    /// report recorded just before a crash is only moved on.
    func bounceDecisions(source: String, sourceIDs: [String]) async throws -> [String: BounceRecord.Decision]

    /// Removes (or counts) up to `limit` bounce records received before `cutoff`, oldest first.
    func pruneBounces(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int

    // MARK: Letters

    /// Puts `letter` in the open batch (opening one if none is), atomically across processes. A
    /// letter that already has a place keeps it, so a letter delivered twice is printed once.
    func place(_ letter: Letter, batchSize: Int, now: Int64) async throws -> LetterPlacement

    /// Stops the open batch from taking letters when it opened at or before `cutoff` (any age when
    /// nil) and holds one; returns every batch whose files are to be written (`closing`).
    func beginClosing(openedBefore cutoff: Int64?, now: Int64) async throws -> [LetterBatch]

    /// A batch's letters in CSV order.
    func letters(inBatch batchID: Int64) async throws -> [Letter]

    /// Records that a batch's files are in place, with `events`; a no-op (nothing recorded) when
    /// another process got there first.
    func markClosed(_ batchID: Int64, sha256: String, bytes: Int, uploadPending: Bool, events: [Event], now: Int64) async throws

    /// Closed batches whose upload is due.
    func uploadsDue(now: Int64) async throws -> [LetterBatch]

    /// Records an upload attempt: done (`error` nil), to be tried again at `retryAt`, or given up;
    /// `events` with it.
    func recordUpload(_ batchID: Int64, error: String?, retryAt: Int64?, events: [Event]) async throws

    /// Queues a closed batch's upload again now; false when no such batch has an upload.
    func retryUpload(named name: String, now: Int64) async throws -> Bool

    /// The newest batches first.
    func letterBatches(limit: Int) async throws -> [LetterBatch]

    func letterBatch(named name: String) async throws -> LetterBatch?

    // MARK: Retention

    /// Removes one batch of history: up to `request.limit` messages of one final state and channel,
    /// finished before `request.cutoff`, with their attempts (or counts them, `dryRun`).
    func prune(_ request: PruneRequest) async throws -> PruneBatch

    /// An id bound for `cutoff`: every message below it was created before the cutoff, and the
    /// first one at or above it was not (one past the last id when every message is older).
    func idHorizon(createdBefore cutoff: Int64) async throws -> Int64

    /// Removes (or counts) the letters of batches closed before `cutoff`, one batch of letters per
    /// transaction, and the records of drop-folder files archived before it.
    func pruneLettersAndIntake(before cutoff: Int64, dryRun: Bool, pause: Duration) async throws -> (letters: Int, intakeFiles: Int)
}
