import Logging

/// Which engine keeps the queue, from the config's `database:`: a file path means the embedded
/// SQLite engine.
public enum QueueDatabase {
    /// Opens the queue the config names, applying its migrations.
    public static func open(_ config: HeraldConfig, logger: Logger) throws -> any MessageQueue {
        let queue = try SQLiteQueue(path: config.resolve(config.databasePath).path, logger: logger)
        if queue.created {
            // A queue created by mistake (a wrong `--config`, a file removed under a running
            // `herald run`) is a queue nobody delivers from.
            logger.notice("created a new, empty queue database", metadata: ["path": "\(queue.path)"])
        }
        return queue
    }
}
