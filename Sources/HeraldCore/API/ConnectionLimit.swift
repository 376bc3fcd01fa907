import Foundation
import Logging
import NIOCore
import Synchronization

/// Caps the connections one listener holds open. A connection past the cap is closed as it
/// arrives and a warning says so (at most every 10 s), so a flood of idle clients cannot take
/// every file descriptor: the queue, the templates, the drop folder and the other listener keep
/// theirs.
final class ConnectionLimit: Sendable {
    let maximum: Int
    let listener: String
    private let open = Atomic<Int>(0)
    private let refusedSinceWarning = Atomic<Int>(0)
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)
    private let logger: Logger

    init(maximum: Int?, listener: String, logger: Logger) {
        self.maximum = maximum ?? Self.defaultMaximum()
        self.listener = listener
        self.logger = logger
    }

    /// A quarter of the open-file limit (after `OpenFileLimit.raise()`), at least 16.
    static func defaultMaximum() -> Int {
        max(16, OpenFileLimit.current() / 4)
    }

    /// A handler for one connection's pipeline.
    func handler() -> Handler { Handler(limit: self) }

    fileprivate func admit() -> Bool {
        if open.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maximum { return true }
        open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        let refused = refusedSinceWarning.wrappingAdd(1, ordering: .relaxed).newValue
        let now = ContinuousClock.now
        let due = lastWarning.withLock { last in
            guard last.map({ now - $0 >= .seconds(10) }) ?? true else { return false }
            last = now
            return true
        }
        if due {
            refusedSinceWarning.store(0, ordering: .relaxed)
            logger.warning("connection limit reached; closing new connections until some end", metadata: [
                "listener": "\(listener)", "max_connections": "\(maximum)", "refused": "\(refused)",
            ])
        }
        return false
    }

    fileprivate func release() {
        open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }

    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        private let limit: ConnectionLimit
        private var counted = false

        fileprivate init(limit: ConnectionLimit) {
            self.limit = limit
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { count(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            if !counted { count(context) }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            if counted {
                counted = false
                limit.release()
            }
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if counted {
                counted = false
                limit.release()
            }
        }

        private func count(_ context: ChannelHandlerContext) {
            if limit.admit() {
                counted = true
            } else {
                context.close(promise: nil)
            }
        }
    }
}

/// The process's open-file limit (RLIMIT_NOFILE).
enum OpenFileLimit {
    /// Raises the soft limit to the hard one, as a daemon should: the soft default of 1,024 is
    /// for interactive shells, and the hard limit is what the operator (or the unit's
    /// `LimitNOFILE`) allows. Returns the limit now in force.
    @discardableResult
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    static func current() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        return Int(clamping: limit.rlim_cur)
    }
}
