import Foundation
import Logging
import Synchronization

/// libcurl for one channel: one or more lanes, each a multi handle on a thread of its own.
///
/// Every channel has its own `CurlMulti`, so a slow or silent peer of one channel never holds
/// another channel's transfers (libcurl blocks its thread in places: an SMTP server's reply to
/// the end of DATA and to QUIT). Email gets several lanes for the same reason within the channel:
/// a transfer goes to an idle lane, a new lane opens while every lane is busy, up to `lanes`.
///
/// Call `shutdown()` when done: it cancels what is still running and ends the threads.
public final class CurlMulti: Sendable {
    private let open = Mutex<[CurlLoop]>([])
    private let maxLanes: Int
    private let connectionsPerLane: Int
    private let name: String
    private let logger: Logger

    /// - Parameters:
    ///   - maxConnections: how many idle connections the lanes keep for reuse, in all.
    ///   - lanes: how many threads transfers may spread over; one is enough for protocols libcurl
    ///     never blocks in (HTTP).
    ///   - name: the threads' name, which `top -H` and debuggers show.
    public init(maxConnections: Int = 64, lanes: Int = 1, name: String = "herald-curl",
                logger: Logger = Logger(label: "herald.curl")) {
        self.maxLanes = max(1, lanes)
        self.connectionsPerLane = max(2, maxConnections / self.maxLanes)
        self.name = name
        self.logger = logger
    }

    /// Runs one transfer to its end. Throws `TransportError`, or `CancellationError` when the
    /// calling task is cancelled (the transfer is then aborted).
    func perform(_ spec: CurlTransferSpec) async throws -> CurlTransferResult {
        try await lane().perform(spec)
    }

    /// The first idle lane (the earliest, whose connections are most likely cached), else a new
    /// one while there is room, else the least busy.
    private func lane() -> CurlLoop {
        open.withLock { lanes in
            if let idle = lanes.first(where: { $0.load == 0 }) { return idle }
            if lanes.count < maxLanes {
                let lane = CurlLoop(maxConnections: connectionsPerLane,
                                    name: lanes.isEmpty ? name : "\(name)-\(lanes.count)", logger: logger)
                lanes.append(lane)
                return lane
            }
            return lanes.min { $0.load < $1.load }!
        }
    }

    /// Aborts the transfers still running and ends the lanes' threads, waiting at most `limit`:
    /// libcurl may still be closing a connection to a server that does not answer, and the
    /// process must not outlive its stop timeout for that.
    public func shutdown(within limit: Duration = .seconds(2)) async {
        let lanes = open.withLock { lanes in
            defer { lanes.removeAll() }
            return lanes
        }
        let stuck = await withTaskGroup(of: Bool.self) { group in
            for lane in lanes { group.addTask { await lane.shutdown(within: limit) } }
            return await group.reduce(0) { $0 + ($1 ? 0 : 1) }
        }
        if stuck > 0 {
            logger.warning("libcurl still waiting on a server at shutdown; not waiting for it",
                           metadata: ["transport": "\(name)", "lanes": "\(stuck)", "waited": "\(limit)"])
        }
    }
}
