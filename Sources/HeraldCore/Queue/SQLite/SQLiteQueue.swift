import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// The embedded engine: the queue in one SQLite file in WAL mode, shared by every `herald`
/// process on the host that names it.
///
/// One `SQLiteQueue` per file per process (GRDB's `DatabasePool`: one writer connection, a few
/// readers). Writers wait up to `busyTimeout` for another process's write to finish instead of
/// failing with "database is locked". SQLite serializes writers, so every write transaction sees
/// the queue as the last one left it: claims, rate schedules and contact counts need no locks
/// of their own.
public final class SQLiteQueue: MessageQueue {
    let pool: DatabasePool
    public let path: String
    /// The file opened; every write checks it is still the one at `path`.
    let file: QueueFile
    /// The file did not exist and this queue created it (a command may want to say so).
    public let created: Bool
    private let logger: Logger
    /// This process's idle dispatchers (another process's inserts are found by polling).
    let waiting = Arrivals()

    public init(path: String, busyTimeout: Duration = .seconds(10), logger: Logger = Logger(label: "herald.queue")) throws {
        self.path = path
        self.logger = logger
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.label = "herald.queue"
        configuration.busyMode = .timeout(busyTimeout.seconds)
        configuration.prepareDatabase { db in
            // WAL (set by DatabasePool) with NORMAL sync: durable across process crashes, and a
            // power loss can only drop the last transactions, never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        created = !FileManager.default.fileExists(atPath: path)
        pool = try DatabasePool(path: path, configuration: configuration)
        guard let file = QueueFile.at(path) else { throw QueueFileError(code: .removed, path: path) }
        self.file = file
        try Migrations.migrator.migrate(pool)
    }

    public var location: String { path }

    public var services: [any Service] { [QueueFileWatch(queue: self, logger: logger)] }

    /// Announced after this process queues messages (the socket API, the drop folder); other
    /// processes' inserts are found by the dispatcher's poll.
    public func arrivals() -> AsyncStream<Void> { waiting.stream() }

    /// Reads one row through a reader connection: the cheapest proof that the file is readable.
    public func ping() async throws {
        try checkFile()
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") }
    }

    /// The disk is full, the file is locked or busy, an I/O error, the queue file gone (the
    /// process is about to stop; writing elsewhere would be worse).
    public func isPassing(_ error: any Error) -> Bool {
        if error is QueueFileError { return true }
        guard let error = error as? DatabaseError else { return false }
        return [.SQLITE_FULL, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PROTOCOL]
            .contains(error.resultCode)
    }

    /// Runs `updates` in one IMMEDIATE transaction on GRDB's writer queue, off the cooperative pool.
    ///
    /// Deliberately not cancellable: once a change (a claim, an outcome, a release) has been
    /// asked for, it is carried out and reported, so task cancellation at shutdown can never leave
    /// an outcome unrecorded.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            // The file is checked inside the write lock, so nothing is committed to a file that
            // nobody else can see any more.
            pool.asyncWrite({ [self] db in
                try checkFile()
                return try updates(db)
            }) { _, result in continuation.resume(with: result) }
        }
    }

    /// Runs `value` against a snapshot on a reader connection, off the cooperative pool.
    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.asyncRead { db in
                continuation.resume(with: Result { try value(db.get()) })
            }
        }
    }
}
