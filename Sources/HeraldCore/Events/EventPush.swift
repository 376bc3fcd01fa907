import Foundation
import Logging
import ServiceLifecycle

/// Pushes recorded events to the CRM (`events.url`): JSON arrays of up to `batch.max` events in
/// stream order, signed the Standard Webhooks way, at least once.
///
/// One process at a time pushes (it holds the push's lease in the queue; another takes over
/// when it dies). The push moves on only past what the CRM accepted with a 2xx; a refusal or a
/// silence is tried again with the same batch after a growing pause (honouring `Retry-After`),
/// so events wait in the database, in order, however long the CRM is down, and deliveries go on
/// meanwhile. A batch repeated after a crash carries the same event ids: receivers de-duplicate
/// on `id`.
public struct EventPush: Service, CustomStringConvertible {
    let queue: any MessageQueue
    let config: EventsConfig
    let endpoint: WebhookEndpoint
    let signature: WebhookSignature
    let transport: any HTTPTransport
    let owner: LeaseOwner
    let metrics: DeliveryMetrics?
    let logger: Logger
    let clock: @Sendable () -> Date

    /// The push's name in the queue (one per installation today).
    public static let name = "crm"
    /// The first pause after a failed push; it doubles up to `longestPause`.
    static let firstPause: Duration = .seconds(1)
    static let longestPause: Duration = .seconds(30)
    /// How often an idle push looks for new events (and another process for a dead holder).
    static let idlePoll: Duration = .milliseconds(250)

    /// nil when `config` has no push.
    public init?(queue: any MessageQueue, config: EventsConfig, transport: any HTTPTransport, owner: LeaseOwner = .current(),
                 metrics: DeliveryMetrics? = nil, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        guard let endpoint = config.push, let signature = WebhookSignature(secret: endpoint.secret) else { return nil }
        self.queue = queue
        self.config = config
        self.endpoint = endpoint
        self.signature = signature
        self.transport = transport
        self.owner = owner
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
    }

    public var description: String { "EventPush(\(endpoint.url.absoluteString))" }

    /// Long enough to outlast one POST and its pause, short enough that a dead holder's push is
    /// taken over soon.
    var lease: Duration { max(.seconds(30), (endpoint.timeout + config.connectTimeout) * 3) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await push()
        }
    }

    private func push() async {
        var pending: [StoredEvent] = []
        var pause = Self.firstPause
        var failures = 0
        // The lease is renewed once a third of it has passed, not on every look for new events: an
        // idle push would otherwise write to the queue four times a second.
        var held: (cursor: EventCursor, renewed: ContinuousClock.Instant)?
        while !Task.isCancelled {
            do {
                if held == nil || ContinuousClock.now - held!.renewed > lease / 3 {
                    held = try await takePush().map { ($0, ContinuousClock.now) }
                }
                guard let cursor = held?.cursor else {
                    pending = []
                    try await Task.sleep(for: Self.idlePoll * 4)  // another process pushes
                    continue
                }
                if pending.first.map({ $0.cursor <= cursor }) == true { pending = [] }  // moved on meanwhile
                if pending.isEmpty { pending = try await nextBatch(after: cursor) }
                guard let last = pending.last else {
                    try await Task.sleep(for: Self.idlePoll)
                    continue
                }
                Failpoint.hit(Failpoint.eventsBeforePost)
                let outcome = await post(pending)
                switch outcome {
                case .sent:
                    Failpoint.hit(Failpoint.eventsAfterPost)
                    metrics?.recordEventPush(outcome: "sent", events: pending.count)
                    if try await queue.advancePush(Self.name, to: last.cursor, owner: owner) {
                        held?.cursor = last.cursor
                    } else {
                        held = nil
                        logger.warning("the event push was taken over by another process while a batch was in flight; it may be pushed twice",
                                       metadata: ["events": "\(pending.count)"])
                    }
                    if failures > 0 {
                        logger.notice("events delivered to the CRM again", metadata: ["failed_tries": "\(failures)"])
                    }
                    pending = []
                    failures = 0
                    pause = Self.firstPause
                case .transient(let error, _), .permanent(let error):
                    metrics?.recordEventPush(outcome: "failed", events: pending.count)
                    failures += 1
                    let wait = min(max(pause, Self.retryAfter(outcome) ?? .zero), Self.longestPause)
                    if failures == 1 || failures.isMultiple(of: 10) {
                        logger.error("the CRM did not take the events; keeping them and trying again", metadata: [
                            "url": "\(endpoint.url.absoluteString)", "error": "\(error)", "events": "\(pending.count)",
                            "failed_tries": "\(failures)", "next_try_in": "\(wait.configText)",
                        ])
                    }
                    try await Task.sleep(for: wait)
                    pause = min(pause * 2, Self.longestPause)
                }
            } catch is CancellationError {
                return
            } catch {
                held = nil
                logger.error("could not read the events to push; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: Self.firstPause)
            }
        }
    }

    /// The push's lease, renewed; taken over at once from a holder on this host that died.
    private func takePush() async throws -> EventCursor? {
        if let cursor = try await queue.takePush(Self.name, owner: owner, lease: lease, now: Timestamp.now(), replacing: nil) {
            return cursor
        }
        guard let holder = try await queue.pushHolder(Self.name), LeaseOwner(holder)?.isDead(relativeTo: owner) == true else { return nil }
        logger.notice("taking over the event push from a process of this host that is gone", metadata: ["holder": "\(holder)"])
        return try await queue.takePush(Self.name, owner: owner, lease: lease, now: Timestamp.now(), replacing: holder)
    }

    /// The events after `cursor`, up to `batch.max`: when fewer wait, the oldest of them waits
    /// out `batch.wait` (from when it occurred) for others to join it.
    private func nextBatch(after cursor: EventCursor) async throws -> [StoredEvent] {
        let batch = try await queue.events(after: cursor, matching: EventFilter(), limit: config.batchMax)
        guard let first = batch.first, batch.count < config.batchMax else { return batch }
        let ready = first.event.occurredAt + config.batchWait.milliseconds
        let now = Timestamp.now()
        guard ready > now else { return batch }
        try await Task.sleep(for: .milliseconds(ready - now))
        return try await queue.events(after: cursor, matching: EventFilter(), limit: config.batchMax)
    }

    private func post(_ batch: [StoredEvent]) async -> DeliveryOutcome {
        // The same id for the same batch: a receiver that de-duplicates on webhook-id drops a
        // repeat, and a batch that grew between two tries is a different message.
        let request = signature.request(to: endpoint, id: "evtb_\(batch[0].event.id.dropFirst(4))_\(batch.count)", body: batch.jsonArray,
                                        timestamp: Int64(clock().timeIntervalSince1970), connectTimeout: config.connectTimeout)
        do {
            return try await HTTPStatusClassification.outcome(sending: request, through: transport)
        } catch {
            return .transient(DeliveryError(code: .configuration, detail: "\(error)"), retryAfter: nil)
        }
    }

    private static func retryAfter(_ outcome: DeliveryOutcome) -> Duration? {
        if case .transient(_, let retryAfter) = outcome { return retryAfter }
        return nil
    }
}
