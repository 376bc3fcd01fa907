import Logging
import ServiceLifecycle

/// Applies the `Retention` while `herald run` runs: a first sweep shortly after start, then one
/// every `interval`. Each sweep deletes in small transactions, so deliveries go on beside it.
public struct RetentionSweep: Service, CustomStringConvertible {
    let queue: any MessageQueue
    let retention: Retention
    let firstSweepAfter: Duration
    let interval: Duration
    let logger: Logger

    /// - Parameters:
    ///   - firstSweepAfter: lets a restarted process get its backlog moving first.
    public init(queue: any MessageQueue, retention: Retention, firstSweepAfter: Duration = .seconds(60),
                interval: Duration = .seconds(3_600), logger: Logger) {
        self.queue = queue
        self.retention = retention
        self.firstSweepAfter = firstSweepAfter
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "RetentionSweep(\(retention.summary))" }

    public func run() async throws {
        guard retention.sent != nil || retention.failed != nil || retention.events != nil || retention.bounces != nil else { return }
        // The graceful shutdown cancels the wait, or a sweep between two of its transactions:
        // only whole batches are ever deleted.
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: firstSweepAfter)
            while true {
                await sweep()
                try await Task.sleep(for: interval)
            }
        }
    }

    func sweep() async {
        var nextReport = 100_000
        do {
            let pruned = try await queue.prune(retention) { soFar in
                // A first sweep of an old database can take a while: say how far it got.
                guard soFar.messageCount >= nextReport else { return }
                nextReport += 100_000
                logger.info("retention: pruning", metadata: ["so_far": "\(soFar.summary)"])
            }
            if !pruned.isEmpty {
                logger.info("retention: pruned history", metadata: ["pruned": "\(pruned.summary)", "retention": "\(retention.summary)"])
            }
        } catch is CancellationError {
            return
        } catch {
            logger.error("retention: sweep failed; trying again at the next one", metadata: ["error": "\(error)"])
        }
    }
}
