import Logging
import ServiceLifecycle
import Synchronization

/// The worker: claims due messages in batches, delivers up to `workers` of them at once through
/// their channel adapters, and records every outcome.
///
/// A swift-service-lifecycle `Service`. On graceful shutdown (SIGTERM, SIGINT) it stops claiming,
/// gives in-flight deliveries `shutdownGrace` to finish, then cancels the rest and returns their
/// messages to the queue without spending an attempt.
public struct Dispatcher: Service, CustomStringConvertible {
    public struct Settings: Sendable {
        public var workers: Int
        public var lease: Duration
        public var pollInterval: Duration
        public var shutdownGrace: Duration
        public var retry: RetryPolicy
        /// Checked for each claimed message before delivery.
        public var policies: PolicyConfig
        /// Return once nothing due is left (`herald run --once`) instead of running until shutdown.
        public var drainAndExit: Bool
        /// The events each outcome records for the CRM.
        public var events: EventLog

        public init(workers: Int, lease: Duration, pollInterval: Duration, shutdownGrace: Duration,
                    retry: RetryPolicy, policies: PolicyConfig = PolicyConfig(), drainAndExit: Bool = false,
                    events: EventLog = .off) {
            self.workers = workers
            self.lease = lease
            self.pollInterval = pollInterval
            self.shutdownGrace = shutdownGrace
            self.retry = retry
            self.policies = policies
            self.drainAndExit = drainAndExit
            self.events = events
        }

        public init(_ config: HeraldConfig, workers: Int? = nil, drainAndExit: Bool = false) {
            self.init(workers: workers ?? config.workers, lease: config.lease, pollInterval: config.pollInterval,
                      shutdownGrace: config.shutdownGrace, retry: config.retry, policies: config.policies,
                      drainAndExit: drainAndExit, events: config.events?.log ?? .off)
        }
    }

    let queue: any MessageQueue
    let adapters: [Channel: any ChannelAdapter]
    let renderer: MessageRenderer
    let settings: Settings
    let owner: LeaseOwner
    let metrics: DeliveryMetrics?
    let logger: Logger

    /// How often leases of crashed processes on this host are looked for.
    static let deadOwnerScanInterval: Duration = .seconds(15)
    /// The longest a worker holds a message for a rate limit's next conforming instant. Sends
    /// planned on their slots wait a few milliseconds at most; only lateness makes this longer.
    static let admissionHold: Duration = .seconds(1)
    /// An alarm for a message due now still sleeps this long, so a message that cannot be
    /// claimed (another process holds the write lock) cannot make the loop spin.
    static let minimumAlarmDelay: Int64 = 5

    public init(queue: any MessageQueue, adapters: [any ChannelAdapter], renderer: MessageRenderer, settings: Settings,
                owner: LeaseOwner = .current(), metrics: DeliveryMetrics? = nil,
                logger: Logger = Logger(label: "herald.dispatch")) {
        self.queue = queue
        self.metrics = metrics
        self.renderer = renderer
        self.adapters = Dictionary(adapters.map { ($0.channel, $0) }, uniquingKeysWith: { first, _ in first })
        self.settings = settings
        self.owner = owner
        var logger = logger
        logger[metadataKey: "worker"] = "\(owner)"
        self.logger = logger
    }

    /// Short on purpose: service-lifecycle prints services in its errors, and the adapters hold secrets.
    public var description: String { "Dispatcher(\(owner))" }

    public func run() async throws {
        let held = HeldLeases()
        let journal = SettlementJournal(queue: queue, owner: owner, held: held, events: settings.events, logger: logger)
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        logger.info("dispatcher started", metadata: [
            "workers": "\(settings.workers)", "channels": "\(adapters.keys.map(\.rawValue).sorted())",
            "mode": "\(settings.drainAndExit ? "drain and exit" : "continuous")",
        ])
        await withTaskGroup(of: Void.self) { helpers in
            helpers.addTask { await journal.run() }
            // The ticker makes an idle dispatcher look for newly due messages every poll interval,
            // and renew its leases in time.
            helpers.addTask { [tick = min(settings.pollInterval, renewalInterval)] in
                while (try? await Task.sleep(for: tick)) != nil { wake.yield() }
            }
            // New work announced by the engine (PostgreSQL's NOTIFY): idle workers start at once.
            helpers.addTask { [queue] in
                for await _ in queue.arrivals() { wake.yield() }
            }
            await withGracefulShutdownHandler {
                await dispatch(journal: journal, held: held, wakeups: wakeups, wake: wake)
            } onGracefulShutdown: {
                wake.yield()
            }
            journal.finish()
            // Every delivery awaited its settlement, so nothing is pending: stop the ticker.
            helpers.cancelAll()
        }
        logger.info("dispatcher stopped")
    }

    /// How often the leases of messages in hand are renewed: three times a lease.
    var renewalInterval: Duration { settings.lease / 3 }

    private func dispatch(journal: SettlementJournal, held: HeldLeases, wakeups: AsyncStream<Void>,
                          wake: AsyncStream<Void>.Continuation) async {
        let inFlight = InFlightCount()
        var nextWake = wakeups.makeAsyncIterator()
        // Claim in batches: wait until a quarter of the slots are free rather than claiming one
        // message per finished delivery, which would cost a transaction each.
        let lowWater = max(1, settings.workers / 4)
        let clock = ContinuousClock()
        var nextDeadOwnerScan = clock.now
        var nextRenewal = clock.now + renewalInterval
        // The earliest wake-up already set for the next due message (unix ms).
        var alarm: Int64?

        await withDiscardingTaskGroup { deliveries in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                if clock.now >= nextDeadOwnerScan {
                    nextDeadOwnerScan = clock.now + Self.deadOwnerScanInterval
                    await releaseLeasesOfDeadOwners()
                    if let longest = settings.policies.frequencyCaps.map(\.window).max() {
                        try? await queue.pruneContacts(before: Timestamp.now() - longest)
                    }
                }
                // In this loop rather than beside it, so a renewal never falls between a claim's
                // commit and the claimed messages being counted as held.
                if clock.now >= nextRenewal {
                    nextRenewal = clock.now + renewalInterval
                    await renewLeases(held)
                }
                let busy = inFlight.value
                let free = settings.workers - busy
                // While outcomes wait to be written, deliver nothing new: the database refuses
                // writes, and a message claimed now could not be settled either.
                if free >= (busy == 0 ? 1 : lowWater), !journal.isBehind {
                    var claimed = ClaimBatch(messages: [])
                    var claim = Screening()
                    do {
                        let now = Timestamp.now()
                        claimed = try await queue.claim(limit: free, owner: owner, lease: settings.lease,
                                                        channels: Set(adapters.keys), now: now)
                        held.hold(claimed.messages.map(\.id), until: now + settings.lease.milliseconds)
                    } catch {
                        logger.error("claiming failed; trying again", metadata: ["error": "\(error)"])
                    }
                    do {
                        claim = try await settings.policies.screen(claimed.messages, queue: queue, now: Timestamp.now())
                    } catch {
                        logger.error("could not apply the policies; the claimed messages go back to the queue",
                                     metadata: ["error": "\(error)", "messages": "\(claimed.messages.count)"])
                        try? await journal.record(all: claimed.messages.map { (.release(messageID: $0.id), $0) })
                    }
                    if !claim.settlements.isEmpty {
                        await settleScreened(claim, journal: journal)
                    }
                    for message in claim.deliver {
                        inFlight.add(1)
                        deliveries.addTask {
                            // The slot is free once the outcome is durable, which may be after
                            // this task has ended (see `deliver`).
                            await deliver(message, journal: journal, held: held) {
                                inFlight.add(-1)
                                wake.yield()
                            }
                        }
                    }
                    if claimed.messages.count == free { continue }  // More may be due right now.
                    if claimed.messages.isEmpty && busy == 0 && settings.drainAndExit { break }
                    // Wake when the next message is due (a rate limit's slot, a retry) rather than
                    // up to a poll interval later, when lateness would have bunched them. Messages
                    // just deferred were still leased when the claim looked for the next due one.
                    let now = Timestamp.now()
                    let nextDue = ([claimed.nextDue].compactMap { $0 } + claim.deferred.map(\.deferral.until)).min()
                    if let due = nextDue, due < now + settings.pollInterval.milliseconds,
                       alarm.map({ due < $0 || $0 <= now }) ?? true
                    {
                        alarm = due
                        deliveries.addTask {
                            try? await Task.sleep(for: .milliseconds(max(due - Timestamp.now(), Self.minimumAlarmDelay)))
                            wake.yield()
                        }
                    }
                }
                // A delivery finished, the poll interval passed, or shutdown began.
                guard await nextWake.next() != nil else { break }
            }

            // Stop claiming; let in-flight deliveries finish within the grace period.
            let deadline = clock.now + settings.shutdownGrace
            while inFlight.value > 0 {
                if clock.now >= deadline || Task.isCancelled {
                    logger.warning("shutdown grace period over; abandoning deliveries still in flight",
                                   metadata: ["in_flight": "\(inFlight.value)"])
                    deliveries.cancelAll()
                    await journal.abandonUnwritten()
                    break
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            // Only alarms are left: they would only wake a loop that has ended.
            deliveries.cancelAll()
        }
    }

    /// Ends the leases of messages the policies suppressed or put off, logging each; one commit.
    private func settleScreened(_ claim: Screening, journal: SettlementJournal) async {
        for (message, suppression) in claim.suppressed {
            logger.info("suppressed at dispatch; not sent", metadata: [
                "message_id": "\(message.id)", "channel": "\(message.channel.rawValue)",
                "reason": "\(suppression.reason.rawValue)",
            ])
            metrics?.recordSuppressed(channel: message.channel, reason: suppression.reason)
        }
        for (message, deferral) in claim.deferred {
            logger.debug("deferred by policy", metadata: [
                "message_id": "\(message.id)", "reason": "\(deferral.reason.rawValue)",
                "until": "\(Timestamp.rfc3339(deferral.until))",
            ])
            metrics?.recordDeferral(reason: deferral.reason.rawValue, channel: message.channel)
        }
        do {
            try await journal.record(all: claim.settlements)
        } catch {
            logger.error("could not record what the policies decided; those messages return to the queue when their leases expire",
                         metadata: ["error": "\(error)"])
        }
    }

    /// Delivers `message` and hands its outcome to the journal; `finished` runs once that outcome
    /// is durable (or given up), so the worker's slot is not freed before. The task does not wait
    /// for the commit itself: that saved a suspension and a resumption per delivery.
    private func deliver(_ message: ClaimedMessage, journal: SettlementJournal, held: HeldLeases,
                         finished: @escaping @Sendable () -> Void) async {
        let log = MessageLog(logger: logger, message: message)

        var startedAt = Timestamp.now()
        var start = ContinuousClock.now
        let outcome: DeliveryOutcome?
        if let adapter = adapters[message.channel] {
            do {
                let content = try renderer.render(message)
                let limits = settings.policies.rateLimits(
                    channel: message.channel, address: Address(of: message.recipient, on: message.channel))
                if !limits.isEmpty {
                    switch await admission(of: message, to: limits) {
                    case .admitted(let at):
                        startedAt = at
                        start = .now
                    case .wait(let until):
                        await putOff(message, until: until, journal: journal, log: log)
                        finished()
                        return
                    }
                }
                guard held.holds(message.id, for: settings.lease.milliseconds / 4, after: Timestamp.now()) else {
                    await giveBack(message, journal: journal, log: log)
                    finished()
                    return
                }
                outcome = try await adapter.deliver(message, content: content)
            } catch let error as RenderError {
                let failure = DeliveryError(code: .rendering(error), detail: error.detail)
                outcome = error.isTransient ? .transient(failure, retryAfter: nil) : .permanent(failure)
            } catch {
                outcome = nil
            }
        } else {
            outcome = nil  // Claims name only channels with adapters; this is a safety net.
        }
        guard let outcome else {
            // Cancelled at the end of the shutdown grace period: the attempt is not spent.
            do {
                try await journal.record(.release(messageID: message.id), of: message)
                log.log(.notice, "delivery abandoned; message returned to the queue")
            } catch {
                log.log(.error, "could not release the message; it returns to the queue when its lease expires", ["error": "\(error)"])
            }
            finished()
            return
        }
        let settlement = Settlement.after(outcome, of: message, startedAt: startedAt, duration: .now - start,
                                          worker: owner, retry: settings.retry)
        await journal.submit(settlement, of: message) { [self, start] written in
            // A failure comes only at the end of the shutdown grace period (the journal logged it).
            if case .success = written {
                record(settlement, in: log)
                if let metrics, let attempt = settlement.attempt {
                    metrics.recordAttempt(channel: message.channel, outcome: attempt.outcome, duration: .now - start)
                    if case .retry = settlement { metrics.recordDeferral(reason: "retry", channel: message.channel) }
                }
            }
            finished()
        }
    }

    private func record(_ settlement: Settlement, in log: MessageLog) {
        switch settlement {
        case .sent(let attempt):
            log.log(.debug, "sent", ["remote_code": "\(attempt.remoteCode ?? "")"])
        case .retry(let attempt, let lastError):
            log.log(.info, "delivery failed, will retry", [
                "error": "\(lastError)", "retry_at": "\(Timestamp.rfc3339(attempt.retryAt ?? 0))",
            ])
        case .failed(_, let lastError, _):
            log.log(.warning, "delivery failed permanently", ["error": "\(lastError)"])
        case .release, .deferred, .suppressed:
            break
        }
    }
}

/// Deliveries in flight, shared between the claim loop and the delivery tasks.
private final class InFlightCount: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .acquiring) }

    func add(_ delta: Int) {
        count.add(delta, ordering: .acquiringAndReleasing)
    }
}
