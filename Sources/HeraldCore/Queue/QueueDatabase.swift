import Logging

/// Which engine keeps the queue, from the config's `database:`: a file path means the embedded
/// SQLite engine, a `postgres://` URL the PostgreSQL engine.
public enum QueueDatabase {
    /// Opens the queue the config names (applying its migrations), runs `body` with it, and
    /// closes it: PostgreSQL's connection pool runs only while `body` does.
    public static func withQueue<T>(_ config: HeraldConfig, logger: Logger,
                                    _ body: (any MessageQueue) async throws -> T) async throws -> T {
        if let settings = config.postgres {
            let queue = try PostgresQueue(settings: settings, logger: logger)
            return try await queue.whileConnected { try await body(queue) }
        }
        let queue = try SQLiteQueue(path: config.resolve(config.databasePath).path, logger: logger)
        if queue.created {
            // A queue created by mistake (a wrong `--config`, a file removed under a running
            // `herald run`) is a queue nobody delivers from.
            logger.notice("created a new, empty queue database", metadata: ["path": "\(queue.path)"])
        }
        return try await body(queue)
    }
}

extension QueueDatabase {
    /// `herald copy`: the SQLite queue at `path` into the PostgreSQL database `target` names
    /// (migrated first, and refused unless empty). Returns the rows copied per table.
    public static func copy(fromSQLite path: String, to target: PostgresSettings, logger: Logger,
                            progress: (QueueTable, Int) -> Void) async throws -> [QueueTable: Int] {
        let source = try SQLiteQueue(path: path, logger: logger)
        let snapshot = try source.snapshotSource()
        let destination = try PostgresQueue(settings: target, logger: logger)
        return try await destination.whileConnected {
            try await QueueCopy.copy(from: snapshot, to: destination, targetLocation: target.location, progress: progress)
        }
    }
}
