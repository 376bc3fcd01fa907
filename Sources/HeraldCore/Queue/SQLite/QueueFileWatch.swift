import Logging
import ServiceLifecycle

/// Ends `herald run` when its queue database is removed or replaced (see `QueueFile`): loudly,
/// with a non-zero exit, so the service manager starts it again on the file now at the path.
/// Writes check the file themselves; this also catches an idle process.
struct QueueFileWatch: Service, CustomStringConvertible {
    let queue: SQLiteQueue
    let interval: Duration
    let logger: Logger

    init(queue: SQLiteQueue, interval: Duration = .seconds(1), logger: Logger) {
        self.queue = queue
        self.interval = interval
        self.logger = logger
    }

    var description: String { "QueueFileWatch" }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    try check()
                }
            }
        } catch is CancellationError {
            return  // graceful shutdown
        }
    }

    private func check() throws {
        do {
            try queue.checkFile()
        } catch {
            logger.critical("queue database gone; stopping", metadata: ["error": "\(error)"])
            throw error
        }
    }
}
