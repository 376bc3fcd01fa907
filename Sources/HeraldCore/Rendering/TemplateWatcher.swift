import Logging
import ServiceLifecycle
import UnixSignals

/// Keeps a `TemplateStore` in step with the files: looks for changes every `interval` and at
/// once on SIGHUP (the reload signal operators know from nginx and Postfix).
public struct TemplateWatcher: Service, CustomStringConvertible {
    let store: TemplateStore
    /// nil: only SIGHUP reloads.
    let interval: Duration?
    let logger: Logger

    public init(store: TemplateStore, interval: Duration?, logger: Logger = Logger(label: "herald.templates")) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "TemplateWatcher(\(store.displayRoot))" }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // Checking a few dozen file stamps takes microseconds: fine on the cooperative pool.
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() {
                    let changed = store.reload()
                    logger.notice("SIGHUP: templates checked", metadata: ["changed": "\(changed)"])
                }
            }
            if let interval {
                group.addTask {
                    while !Task.isCancelled, !Task.isShuttingDownGracefully {
                        try? await Task.sleep(for: interval)
                        store.reload()
                    }
                }
            }
            // Both loops end with the graceful shutdown; cancellation of the group ends them too.
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
