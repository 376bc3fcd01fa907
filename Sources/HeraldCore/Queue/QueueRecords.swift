/// A queue's rows as `herald copy` moves them from one engine to another: every column, so the
/// copy is the installation, not a replay of it.
public enum QueueRecords: Sendable {
    case messages([MessageRecord])
    case attempts([DeliveryAttempt])
    case suppressions([Suppression])
    case letterBatches([LetterBatch])
    case letters([LetterRecord])
    case intakeFiles([IntakeFileRecord])
    case intakeRejections([(file: Int64, rejection: IntakeFileRejection)])
    case rateSlots([(key: String, tat: Double)])
    case contacts([ContactRecord])
    case events([StoredEvent])
    case eventPushes([EventPushRecord])
    case bounces([BounceRecord])
    case enrollments([EnrollmentRecord])
    case sequenceVersions([SequenceVersionRecord])

    public var count: Int {
        switch self {
        case .messages(let rows): rows.count
        case .attempts(let rows): rows.count
        case .suppressions(let rows): rows.count
        case .letterBatches(let rows): rows.count
        case .letters(let rows): rows.count
        case .intakeFiles(let rows): rows.count
        case .intakeRejections(let rows): rows.count
        case .rateSlots(let rows): rows.count
        case .contacts(let rows): rows.count
        case .events(let rows): rows.count
        case .eventPushes(let rows): rows.count
        case .bounces(let rows): rows.count
        case .enrollments(let rows): rows.count
        case .sequenceVersions(let rows): rows.count
        }
    }
}

/// The tables `herald copy` moves, in an order that keeps every reference valid.
public enum QueueTable: String, Sendable, CaseIterable {
    case messages, attempts, suppressions
    case letterBatches = "letter_batches"
    case letters
    case intakeFiles = "intake_files"
    case intakeRejections = "intake_rejections"
    case rateSlots = "rate_slots"
    case contacts
    case events
    case eventPushes = "event_pushes"
    case bounces
    case enrollments
    case sequenceVersions = "sequence_versions"
}

/// One message row, every column.
public struct MessageRecord: Sendable, Equatable {
    public var id: Int64
    public var key: String?
    public var channel: String
    public var template: String
    public var recipient: String
    public var data: String
    public var category: String
    public var campaign: String?
    public var state: String
    public var dueAt: Int64
    public var createdAt: Int64
    public var updatedAt: Int64
    public var attempts: Int
    public var leaseOwner: String?
    public var leaseUntil: Int64?
    public var lastErrorCode: String?
    public var lastError: String?
    public var deferred: String?
    public var retryBase: Int
}

/// One enrollment row, every column, named as the tables name them (the PostgreSQL load reads
/// them as a record set).
public struct EnrollmentRecord: Sendable, Equatable, Encodable {
    public var id: Int64
    public var key: String
    public var sequence: String
    public var version: String
    public var recipient: String
    public var email: String?
    public var phone: String?
    public var data: String
    public var campaign: String?
    public var state: String
    public var exit_reason: String?
    public var started_at: Int64
    public var next_step: Int
    public var next_due: Int64?
    public var shift: Int64
    public var awaiting: Int64?
    public var awaiting_due: Int64?
    public var updated_at: Int64
    public var ended_at: Int64?
    public var round: Int
}

/// One kept version of a sequence, with when it was first enrolled under.
public struct SequenceVersionRecord: Sendable, Equatable, Encodable {
    public var sequence: String
    public var version: String
    public var definition: String
    public var created_at: Int64
}

/// A letter with its place in its batch.
public struct LetterRecord: Sendable, Equatable {
    public var letter: Letter
    public var batchID: Int64
    public var position: Int
    public var addedAt: Int64
}

/// A drop-folder file's record with its times.
public struct IntakeFileRecord: Sendable, Equatable {
    public var file: IntakeFile
    public var startedAt: Int64
    public var finishedAt: Int64?
}

/// Where a push of events stands, and who held it.
public struct EventPushRecord: Sendable, Equatable {
    public var name: String
    public var cursor: EventCursor
    public var leaseOwner: String?
    public var leaseUntil: Int64?
}

public struct ContactRecord: Sendable, Equatable {
    public var messageID: Int64
    public var address: Address
    public var category: String
    public var at: Int64
}

/// An engine `herald copy` can read from: its rows table by table, in pages.
public protocol QueueSource: Sendable {
    /// Up to `limit` rows of `table` after the row whose paging key is `after` (0 for the first
    /// page), and the key to pass for the next page (nil when this was the last).
    func records(of table: QueueTable, after: Int64, limit: Int) async throws -> (records: QueueRecords, next: Int64?)
}

/// An engine `herald copy` can write to.
public protocol QueueTarget: Sendable {
    /// Whether any table holds a row: a copy goes only into an empty queue.
    func holdsData() async throws -> Bool

    /// Inserts rows as they are (ids included), in one transaction.
    func load(_ records: QueueRecords) async throws

    /// After the last load: id sequences continue after the highest id copied.
    func finishLoad() async throws
}
