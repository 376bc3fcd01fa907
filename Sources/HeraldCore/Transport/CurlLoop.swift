import CCurl
import Foundation
import Logging
import Synchronization

/// One libcurl multi handle on a thread of its own: a lane of a `CurlMulti`.
///
/// The cooperative pool has few threads (two on the machines Herald targets); a blocking libcurl
/// call there would stall every task. Here one thread drives the lane's transfers with
/// `curl_multi_poll`, and `perform` bridges to it with a continuation. Transfers share the multi
/// handle's connection cache, so consecutive requests to one host reuse connections.
///
/// libcurl does block inside `curl_multi_perform` in places: SMTP waits there for the reply to
/// the end of DATA and to QUIT. So every wait is bounded twice: libcurl's own timeouts (the
/// server response timeout included, else QUIT waits 120 s), and a deadline on this side that
/// answers the caller even while the thread is still stuck.
final class CurlLoop: @unchecked Sendable {
    private struct Inbox {
        var submitted: [CurlTransfer] = []
        var cancelled: [CurlTransfer] = []
        var stopping = false
        var stopped: (@Sendable (Bool) -> Void)?
    }

    // Touched only on the loop thread.
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private let maxIdleHandles: Int

    private let inbox = Mutex(Inbox())
    private let logger: Logger
    private let transfersOnLane = Atomic<Int>(0)

    /// Transfers submitted to this lane that its thread has not yet let go of: a transfer whose
    /// caller was answered by the deadline still counts while libcurl holds it.
    var load: Int { transfersOnLane.load(ordering: .relaxed) }

    /// How long past a transfer's own timeout the caller is answered when libcurl has not.
    static let deadlineMargin: Duration = .milliseconds(500)
    /// How often the watchdog looks: the deadline is kept to within this.
    static let watchdogInterval: Duration = .milliseconds(250)

    /// Transfers submitted and not yet seen finished, with the instant past which the watchdog
    /// answers them. One timer per lane rather than one per transfer: a timer each cost 23 % more
    /// CPU per webhook (256 vs 209 µs) and 33 MB more RSS (91 vs 58 MB) in the throughput
    /// benchmark (100,000 messages, 64 workers, same machine and hour).
    private let watched = Mutex<[ObjectIdentifier: (deadline: ContinuousClock.Instant, transfer: CurlTransfer)]>([:])
    private let watchdog: DispatchSourceTimer

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    /// - Parameter maxConnections: how many idle connections the cache keeps for reuse.
    init(maxConnections: Int, name: String, logger: Logger) {
        _ = Self.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        self.maxIdleHandles = maxConnections
        self.logger = logger
        _ = herald_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        watchdog = DispatchSource.makeTimerSource(queue: .global())
        let interval = DispatchTimeInterval.milliseconds(Int(Self.watchdogInterval.milliseconds))
        watchdog.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(50))
        watchdog.setEventHandler { [weak self] in self?.answerOverdue() }
        watchdog.resume()
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    /// Runs one transfer to its end. Throws `TransportError`, or `CancellationError` when the
    /// calling task is cancelled (the transfer is then aborted).
    func perform(_ spec: CurlTransferSpec) async throws -> CurlTransferResult {
        let transfer = CurlTransfer(spec: spec)
        transfersOnLane.add(1, ordering: .relaxed)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                let alreadyCancelled = transfer.phase.withLock { phase in
                    guard phase == .created else { return true }
                    phase = .submitted
                    return false
                }
                if alreadyCancelled {
                    transfersOnLane.add(-1, ordering: .relaxed)
                    transfer.finish(.failure(CancellationError()))
                    return
                }
                // Wake under the lock: the loop frees the multi handle under it when stopping.
                let accepted = inbox.withLock { inbox in
                    guard !inbox.stopping else { return false }
                    // The loop empties the inbox under this lock: one wake-up per emptying is enough
                    // (the syscall each was a cost of every transfer).
                    if inbox.submitted.isEmpty && inbox.cancelled.isEmpty { curl_multi_wakeup(multi) }
                    inbox.submitted.append(transfer)
                    return true
                }
                if !accepted {
                    transfersOnLane.add(-1, ordering: .relaxed)
                    transfer.finish(.failure(TransportError.local("the transport is shut down")))
                    return
                }
                watched.withLock { $0[ObjectIdentifier(transfer)] = (.now + spec.timeout + Self.deadlineMargin, transfer) }
            }
        } onCancel: {
            let wasSubmitted = transfer.phase.withLock { phase in
                switch phase {
                case .created:
                    phase = .cancelled
                    return false
                case .submitted:
                    return true
                case .cancelled, .finished:
                    return false
                }
            }
            if wasSubmitted {
                inbox.withLock { inbox in
                    guard !inbox.stopping else { return }
                    if inbox.submitted.isEmpty && inbox.cancelled.isEmpty { curl_multi_wakeup(multi) }
                    inbox.cancelled.append(transfer)
                }
                // Answer now: the thread may be stuck in a blocking wait; it lets go later.
                transfer.finish(.failure(CancellationError()))
            }
        }
    }

    /// Forgets finished transfers and answers those past their deadline (their thread is stuck).
    private func answerOverdue() {
        let now = ContinuousClock.now
        let overdue = watched.withLock { watched -> [CurlTransfer] in
            var overdue: [CurlTransfer] = []
            for (key, entry) in watched where entry.transfer.isFinished || entry.deadline <= now {
                watched.removeValue(forKey: key)
                if !entry.transfer.isFinished { overdue.append(entry.transfer) }
            }
            return overdue
        }
        for transfer in overdue { transfer.answerPastDeadline() }
    }

    /// Aborts the transfers still running and ends the loop thread. Returns false when the thread
    /// had not finished within `limit` (libcurl still waiting on a server); it ends with the process.
    func shutdown(within limit: Duration) async -> Bool {
        watchdog.cancel()
        let answered = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resume: @Sendable (Bool) -> Void = { finished in
                let first = answered.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: finished) }
            }
            let alreadyStopping = inbox.withLock { inbox in
                guard !inbox.stopping else { return true }
                inbox.stopping = true
                inbox.stopped = resume
                curl_multi_wakeup(multi)
                return false
            }
            if alreadyStopping {
                resume(true)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(limit.milliseconds))) { resume(false) }
        }
    }

    // MARK: - The loop thread

    private func runLoop() {
        var running: Int32 = 0
        while true {
            let (submitted, cancelled, stopping, stopped) = inbox.withLock { inbox in
                defer {
                    inbox.submitted.removeAll(keepingCapacity: true)
                    inbox.cancelled.removeAll(keepingCapacity: true)
                }
                return (inbox.submitted, inbox.cancelled, inbox.stopping, inbox.stopped)
            }
            for transfer in submitted { start(transfer) }
            for transfer in cancelled { abort(transfer, with: CancellationError()) }
            if stopping {
                for transfer in Array(active.values) {
                    abort(transfer, with: TransportError.local("the transport is shut down"))
                }
                transfersOnLane.store(0, ordering: .relaxed)
                for handle in idleHandles { curl_easy_cleanup(handle) }
                idleHandles.removeAll()
                _ = inbox.withLock { _ in curl_multi_cleanup(multi) }
                stopped?(true)
                return
            }
            curl_multi_perform(multi, &running)
            collectFinished()
            curl_multi_poll(multi, nil, 0, 1_000, nil)
        }
    }

    private func start(_ transfer: CurlTransfer) {
        let handle = idleHandles.popLast() ?? curl_easy_init()
        guard let handle else {
            transfersOnLane.add(-1, ordering: .relaxed)
            transfer.finish(.failure(TransportError.local("curl_easy_init failed")))
            return
        }
        if let problem = Self.configure(handle, for: transfer) {
            recycle(handle)
            transfersOnLane.add(-1, ordering: .relaxed)
            transfer.finish(.failure(problem))
            return
        }
        transfer.started = .now
        active[handle] = transfer
        curl_multi_add_handle(multi, handle)
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                  let transfer = active.removeValue(forKey: handle)
            else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            transfersOnLane.add(-1, ordering: .relaxed)
            let duration = ContinuousClock.now - transfer.started
            var status = 0
            _ = herald_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            var connectedAfter: curl_off_t = 0
            _ = herald_easy_getinfo_off_t(handle, CURLINFO_CONNECT_TIME_T, &connectedAfter)
            // Recycle before resuming: the waiting task may free the transfer's buffers at once.
            recycle(handle)
            transfer.finish(CurlOutcome.judge(code: code, status: status, connected: connectedAfter > 0,
                                              transfer: transfer, duration: duration))
        }
    }

    private func abort(_ transfer: CurlTransfer, with error: any Error) {
        if let handle = active.first(where: { $0.value === transfer })?.key {
            active.removeValue(forKey: handle)
            transfersOnLane.add(-1, ordering: .relaxed)
            curl_multi_remove_handle(multi, handle)
            recycle(handle)
        }
        transfer.finish(.failure(error))
    }

    private func recycle(_ handle: UnsafeMutableRawPointer) {
        // Reset drops the options (and our callbacks' pointers) but keeps the handle's caches.
        curl_easy_reset(handle)
        if idleHandles.count < maxIdleHandles {
            idleHandles.append(handle)
        } else {
            curl_easy_cleanup(handle)
        }
    }
}
