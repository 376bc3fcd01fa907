import Crypto
import Foundation

/// The one place a bounce, complaint or auto-reply becomes a decision, whichever way it came in
/// (`herald bounces ingest`, a mailbox, a provider's webhook): read it, match it to its message by
/// VERP, judge it (`BounceClassification`, the soft window), and record the report, the decision,
/// any suppression and the events in one transaction. The same report taken twice (same source
/// and source id) is recorded once.
public struct BounceProcessor: Sendable {
    let queue: any MessageQueue
    let config: BounceConfig
    let events: EventLog

    public init(queue: any MessageQueue, config: BounceConfig, events: EventLog) {
        self.queue = queue
        self.config = config
        self.events = events
    }

    /// What became of one report.
    public struct Outcome: Sendable {
        public var record: BounceRecord
        /// False when the same report was recorded before (nothing changed now).
        public var recorded: Bool
    }

    /// - Parameter sourceID: what identifies the report at its source; a digest of its bytes when nil.
    public func process(_ raw: [UInt8], source: String, sourceID: String? = nil, now: Int64 = Timestamp.now()) async throws -> Outcome {
        try await process(BounceReport.parse(raw, returnPath: config.returnPath), raw: raw, source: source, sourceID: sourceID, now: now)
    }

    /// Decides a report already read (a provider's event), `raw` kept as what was received.
    public func process(_ report: BounceReport, raw: [UInt8], source: String, sourceID: String? = nil,
                        now: Int64 = Timestamp.now()) async throws -> Outcome {
        var record = BounceRecord(receivedAt: now, source: source, sourceID: sourceID ?? Hex.encode(SHA256.hash(data: raw).prefix(16)),
                                  kind: report.kind, format: report.format, feedbackType: report.feedbackType,
                                  decision: .review, reason: report.problem ?? "", raw: raw)
        var suppression: Suppression?
        var made: [Event] = []
        switch report.kind {
        case .review:
            record.reason = report.problem ?? "could not be read"
        case .unrelated:
            record.decision = .unrelated
            record.reason = report.problem ?? "not a bounce, complaint or auto-reply"
        case .delay, .autoReply:
            record.messageID = report.messageIDs.first
            record.decision = .ignored
            record.reason = report.kind == .delay ? "a delay warning: the relay is still trying" : "an automatic reply: the mail arrived"
        case .bounce, .complaint:
            guard let id = report.messageIDs.first, let message = try await queue.message(String(id)), message.id == id,
                  message.channel == .email
            else {
                record.reason = "message \(report.messageIDs.first.map(String.init) ?? "?") named by the return path is no longer kept"
                record.messageID = report.messageIDs.first
                break
            }
            let subject = EventSubject(message)
            guard let recipient = subject.recipient, !recipient.isEmpty else {
                record.reason = "message \(id)'s recipient cannot be read"
                break
            }
            let address = Address(normalized: recipient, channel: .email)
            record.messageID = id
            record.recipient = address.value
            record.messageSentAt = message.attempts.last { $0.outcome == .sent }?.startedAt
            if report.kind == .complaint {
                record.decision = .complained
                record.reason = "a \(report.feedbackType ?? "abuse") report"
                    + (report.recipients.first?.diagnostic.map { " from \($0.prefix(80))" } ?? "")
                suppression = Suppression(address, reason: .complained, source: "complaint (\(report.feedbackType ?? "abuse"))")
                made += [events.complained(record, about: subject, at: now)].compactMap { $0 }
                break
            }
            // The recipient the report names, else its first failure: a message of Herald's has one.
            let failed = report.recipients.filter { $0.action == "failed" }
            let entry = failed.first { $0.address?.lowercased() == address.value } ?? failed.first
            let verdict = BounceClassification.judge(status: entry?.status, diagnostic: entry?.diagnostic)
            record.severity = verdict.severity
            record.status = verdict.status
            let said = entry?.diagnostic.map { ": \($0.prefix(200))" } ?? ""
            switch verdict.severity {
            case .hard:
                record.decision = .suppressed
                record.reason = "hard bounce \(verdict.status ?? "")\(said)"
                suppression = Suppression(address, reason: .bounced, source: "bounce \(verdict.status ?? "")")
            case .soft:
                let earlier = try await queue.softBounces(of: address, since: now - config.softWindow.milliseconds,
                                                          sentBefore: record.messageSentAt ?? now)
                let count = earlier + 1
                let window = "\(count) of \(config.softMax) within \(config.softWindow.configText)"
                if count >= config.softMax {
                    record.decision = .suppressedSoft
                    record.reason = "soft bounce \(verdict.status ?? "(no code)"), \(window)\(said)"
                    suppression = Suppression(address, reason: .bounced,
                                              source: "\(count) soft bounces within \(config.softWindow.configText)")
                } else {
                    record.decision = .counted
                    record.reason = "soft bounce \(verdict.status ?? "(no code)"), \(window)\(said)"
                }
            }
            made += [events.bounced(record, diagnostic: entry?.diagnostic, about: subject, at: now)].compactMap { $0 }
        }
        let recorded = try await queue.recordBounce(record, suppression: suppression, events: made)
        return Outcome(record: record, recorded: recorded)
    }
}
