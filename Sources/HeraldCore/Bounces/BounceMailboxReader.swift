import Logging
import ServiceLifecycle

/// Reads the bounce mailbox while `herald run` runs: a pass at start, then one every `poll`.
///
/// Each message is recorded (one transaction: report, decision, suppression, events) before it
/// leaves the mailbox, so a crash in between only means it is found recorded next time and moved
/// on then: every report is processed once and none is lost. Mail that is not a report is left
/// where it is, as it was; it is recorded as `unrelated`, so it is not read again while the
/// records keep it. Several processes reading one mailbox record each report once.
public struct BounceMailboxReader: Service, CustomStringConvertible {
    let mailbox: any BounceMailbox
    let processor: BounceProcessor
    let queue: any MessageQueue
    let config: BounceMailboxConfig
    let logger: Logger

    public init(mailbox: any BounceMailbox, processor: BounceProcessor, queue: any MessageQueue, config: BounceMailboxConfig,
                logger: Logger) {
        self.mailbox = mailbox
        self.processor = processor
        self.queue = queue
        self.config = config
        self.logger = logger
    }

    /// Messages fetched, left as they were and recorded, and reports moved out, at once.
    static let removalPage = 50

    public var description: String { "BounceMailboxReader(\(config.server))" }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// Messages in the mailbox when the pass began.
        public var listed = 0
        /// Reports read and recorded now, and moved out of the mailbox.
        public var recorded = 0
        /// Reports recorded before (a pass cut short) and moved out now.
        public var movedOn = 0
        /// Mail that is not a report, read now and left.
        public var left = 0
        /// Mail that is not a report, read in an earlier pass.
        public var leftBefore = 0

        public var summary: String {
            "\(listed) in the mailbox: \(recorded) recorded, \(movedOn) recorded earlier and moved on now, "
                + "\(left + leftBefore) not reports and left (\(left) read now)"
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                do {
                    let pass = try await read()
                    if pass.recorded + pass.movedOn + pass.left > 0 {
                        logger.info("bounce mailbox read", metadata: ["server": "\(config.server)", "pass": "\(pass.summary)"])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("bounce mailbox: the pass failed; trying again at the next poll",
                                 metadata: ["server": "\(config.server)", "error": "\(error)"])
                }
                try await Task.sleep(for: config.poll)
            }
        }
    }

    /// One pass over the mailbox.
    public func read() async throws -> Pass {
        var pass = Pass()
        let entries = try await mailbox.list()
        pass.listed = entries.count
        let known = try await queue.bounceDecisions(source: mailbox.source, sourceIDs: entries.map(\.sourceID))
        var lastReport = ContinuousClock.now
        // Recorded reports leave the mailbox a page at a time (one IMAP command for many); a
        // crash before that leaves them to be found recorded and moved on at the next pass.
        var recorded: [MailboxEntry] = []
        do {
            var done = 0
            for page in stride(from: 0, to: entries.count, by: Self.removalPage).map({ entries[$0..<min($0 + Self.removalPage, entries.count)] }) {
                try Task.checkCancellation()
                // Fetched first and left as they were in one command, before any is recorded: a
                // crash at any point leaves no unrelated mail marked read.
                var fetched: [(entry: MailboxEntry, raw: [UInt8])] = []
                for entry in page {
                    if let decision = known[entry.sourceID] {
                        if decision == .unrelated {
                            pass.leftBefore += 1
                        } else {
                            recorded.append(entry)
                            pass.movedOn += 1
                        }
                    } else {
                        fetched.append((entry, try await mailbox.fetch(entry, limit: config.maxMessageBytes)))
                    }
                }
                try await mailbox.leave(fetched.map(\.entry))
                for (entry, raw) in fetched {
                    let outcome = try await processor.process(raw, source: mailbox.source, sourceID: entry.sourceID)
                    Failpoint.hit(Failpoint.mailboxAfterRecord)
                    if outcome.record.decision == .unrelated {
                        pass.left += 1
                    } else {
                        recorded.append(entry)
                        pass.recorded += 1
                    }
                }
                try await mailbox.remove(recorded)
                recorded.removeAll()
                done += page.count
                if ContinuousClock.now - lastReport > .seconds(5) {
                    // A first pass over a full mailbox takes a while: say how far it got.
                    lastReport = ContinuousClock.now
                    logger.info("bounce mailbox: reading", metadata: ["server": "\(config.server)",
                                                                      "done": "\(done) of \(entries.count)"])
                }
            }
            try await mailbox.remove(recorded)
        } catch {
            try? await mailbox.close()
            throw error
        }
        try await mailbox.close()
        return pass
    }
}

extension HeraldConfig {
    /// The reader of `channels.email.bounces.mailbox`; nil when none is configured.
    public func bounceMailboxReader(queue: any MessageQueue, transports: CurlChannels, logger: Logger) -> BounceMailboxReader? {
        guard let bounces = email?.bounces, let config = bounces.mailbox else { return nil }
        let mailbox: any BounceMailbox = switch config.mailProtocol {
        case .imap: CurlIMAPMailbox(config: config, multi: transports.bounces)
        case .pop3: CurlPOP3Mailbox(config: config, multi: transports.bounces)
        }
        return BounceMailboxReader(mailbox: mailbox, processor: BounceProcessor(queue: queue, config: bounces, events: eventLog),
                                   queue: queue, config: config, logger: logger)
    }
}
