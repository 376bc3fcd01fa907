import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Moves enrollments along: each step becomes an ordinary queued message when it is due, so
/// every policy and channel applies to it unchanged; an enrollment whose recipient is
/// suppressed, or that is older than its sequence's `max_age`, ends.
///
/// A swift-service-lifecycle `Service`: a pass every `interval` until graceful shutdown. Passes
/// from several processes are safe: each move is fenced on the step the enrollment was at.
public struct Sequencer: Service, CustomStringConvertible {
    let queue: any MessageQueue
    let sequences: SequenceStore
    /// The zone of recipients whose `to.timezone` is not given.
    let timeZone: String
    let interval: Duration
    /// How often the sequence files are read again (the templates' reload interval); nil: never.
    let reload: Duration?
    /// What a move records: `enrollment.step`, `.completed`, `.exited`.
    let events: EventLog
    let logger: Logger
    private let versions = DefinitionCache()

    /// Enrollments looked at per transaction.
    static let batch = 500
    /// How long an enrollment whose sequence version does not load waits before it is looked at again.
    static let unavailableWait: Duration = .seconds(300)

    public init(queue: any MessageQueue, sequences: SequenceStore, timeZone: String, interval: Duration = .seconds(1),
                reload: Duration? = .seconds(2), events: EventLog = .off, logger: Logger = Logger(label: "herald.sequences")) {
        self.events = events
        self.queue = queue
        self.sequences = sequences
        self.timeZone = timeZone
        self.interval = interval
        self.reload = reload
        self.logger = logger
    }

    public var description: String { "Sequencer" }

    public func run() async throws {
        // A pass in progress finishes (its moves are one transaction); the wait between passes
        // ends at once on graceful shutdown.
        try? await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var nextReload = reload.map { clock.now + $0 }
            while !Task.isCancelled {
                if let reload, let due = nextReload, clock.now >= due {
                    nextReload = clock.now + reload
                    sequences.reload()
                }
                do {
                    _ = try await pass(now: Timestamp.now())
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("could not move enrollments along; trying again", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Moves every enrollment due by `now`; returns how many moved.
    @discardableResult
    public func pass(now: Int64) async throws -> Int {
        var moved = 0
        while true {
            let due = try await queue.dueEnrollments(now: now, limit: Self.batch)
            guard !due.isEmpty else { return moved }
            var advances: [EnrollmentAdvance] = []
            var addresses: [Int64: Address] = [:]
            var definitions: [Int64: SequenceDefinition] = [:]
            for enrollment in due {
                guard let definition = try await definition(enrollment.sequence, version: enrollment.version) else {
                    // A template the version sends is broken or gone: an edit in progress, most
                    // likely. The lead waits rather than leaving the drip for good.
                    logger.error("an enrollment's sequence version does not load (see herald sequences check and herald templates check); it waits", metadata: [
                        "enrollment_id": "\(enrollment.id)", "sequence": "\(enrollment.sequence)", "version": "\(enrollment.version)",
                    ])
                    advances.append(EnrollmentAdvance(id: enrollment.id, expectedStep: enrollment.nextStep,
                                                      action: .wait(until: now + Self.unavailableWait.milliseconds, shift: enrollment.shift)))
                    continue
                }
                definitions[enrollment.id] = definition
                addresses[enrollment.id] = Address(of: enrollment.recipient, on: definition.channel(after: enrollment))
            }
            let suppressions = try await queue.suppressions(of: Array(Set(addresses.values)))
            for enrollment in due {
                guard let definition = definitions[enrollment.id] else { continue }
                let zone = TimeZone(identifier: enrollment.recipient.timezone ?? timeZone) ?? TimeZone(identifier: "UTC")!
                let action = definition.nextMove(for: enrollment, now: now, timeZone: zone,
                                                 suppression: addresses[enrollment.id].flatMap { suppressions[$0] })
                advances.append(EnrollmentAdvance(id: enrollment.id, expectedStep: enrollment.nextStep, action: action,
                                                  events: recorded(action, for: enrollment, following: definition, now: now)))
            }
            let applied = try await queue.advance(advances, now: now)
            moved += applied.count
            for advance in advances where applied.contains(advance.id) {
                switch advance.action {
                case .queue(let step, let message, _, _, _):
                    logger.debug("step queued", metadata: ["enrollment_id": "\(advance.id)", "step": "\(step + 1)", "key": "\(message.key ?? "")"])
                case .exit(let reason):
                    logger.info("enrollment exited", metadata: ["enrollment_id": "\(advance.id)", "reason": "\(reason)"])
                case .complete, .wait:
                    break
                }
            }
            // Every one moved, or another process moved them: the next batch. Only fewer than
            // asked for means nothing more is due.
            if due.count < Self.batch { return moved }
        }
    }

    /// The event a move records, if events are on.
    private func recorded(_ action: EnrollmentAdvance.Action, for enrollment: EnrollmentProgress,
                        following definition: SequenceDefinition, now: Int64) -> [Event] {
        guard events.isOn else { return [] }
        let subject = EnrollmentSubject(enrollment)
        let event: Event?
        switch action {
        case .queue(let step, let message, let due, _, _):
            event = events.enrollmentStep(subject, step: definition.steps[step].name, number: step + 1,
                                          of: definition.steps.count, message: message, due: due, at: now)
        case .complete:
            event = events.enrollmentCompleted(subject, steps: definition.steps.count, at: now)
        case .exit(let reason):
            // The step message queued last, as the engine's exit finds it: canceled if still
            // queued, in flight if being sent.
            let sentLast = min(enrollment.nextStep, definition.steps.count) - 1
            let last = enrollment.awaiting != nil && sentLast >= 0
                ? definition.steps[sentLast].messageKey(enrollment: enrollment.key, round: enrollment.round) : nil
            event = events.enrollmentExited(subject, reason: reason,
                                            canceledStep: enrollment.awaitingState == .queued ? last : nil,
                                            stepInFlight: enrollment.awaitingState == .leased ? last : nil, at: now)
        case .wait:
            event = nil
        }
        return [event].compactMap { $0 }
    }

    /// The definition an enrollment follows: the file's when it is still that version, else
    /// the version kept when the lead was enrolled.
    private func definition(_ name: String, version: String) async throws -> SequenceDefinition? {
        if let current = sequences.sequence(named: name), current.version == version { return current }
        if let cached = versions.get(name, version) { return cached }
        guard let text = try await queue.sequenceVersion(name, version: version),
              let parsed = try? sequences.parse(text, name: name)
        else { return nil }
        versions.put(parsed)
        return parsed
    }
}

/// Sequence versions other than the files' current ones, parsed once.
private final class DefinitionCache: Sendable {
    private let cache = Mutex<[String: SequenceDefinition]>([:])

    func get(_ name: String, _ version: String) -> SequenceDefinition? {
        cache.withLock { $0["\(name)@\(version)"] }
    }

    func put(_ definition: SequenceDefinition) {
        cache.withLock { $0["\(definition.name)@\(definition.version)"] = definition }
    }
}
