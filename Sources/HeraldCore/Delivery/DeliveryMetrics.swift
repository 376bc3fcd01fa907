import Prometheus
import Synchronization

/// What `/metrics` exposes, in Prometheus text: attempt durations and deferrals as they happen
/// in this process, and the queue's counts read from the database at each scrape (so every
/// process sharing the file reports the same queue).
public final class DeliveryMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()

    private static let attemptBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]

    private static func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "herald", metricName: metric, unitName: unit, helpText: help)
    }

    /// The attempt histograms made so far: every delivery records into one, and asking the
    /// registry for it builds its name and labels each time.
    private let attemptHistograms = Mutex<[AttemptLabels: DurationHistogram]>([:])

    private struct AttemptLabels: Hashable {
        var channel: Channel
        var outcome: DeliveryAttempt.Outcome
    }

    public init() {}

    /// One delivery attempt and how long it took (rendering and the remote's answer included).
    public func recordAttempt(channel: Channel, outcome: DeliveryAttempt.Outcome, duration: Duration) {
        let labels = AttemptLabels(channel: channel, outcome: outcome)
        let histogram = attemptHistograms.withLock { made in
            if let histogram = made[labels] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.name("attempt_duration", unit: "seconds", "Time from claim to outcome of one delivery attempt"),
                labels: [("channel", channel.rawValue), ("outcome", outcome.rawValue)],
                buckets: Self.attemptBuckets)
            made[labels] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    /// A message put off to a later time. Reasons: `retry` (a transient failure), and the
    /// policies' `quiet_hours`, `rate_limit`, `frequency_cap`.
    public func recordDeferral(reason: String, channel: Channel) {
        registry.makeCounter(
            descriptor: Self.name("deferrals", unit: "total", "Messages deferred to a later time, by reason"),
            labels: [("reason", reason), ("channel", channel.rawValue)]
        ).increment()
    }

    /// A message ended `suppressed` at dispatch.
    public func recordSuppressed(channel: Channel, reason: Suppression.Reason) {
        registry.makeCounter(
            descriptor: Self.name("suppressed", unit: "total", "Messages not sent because the recipient is suppressed"),
            labels: [("channel", channel.rawValue), ("reason", reason.rawValue)]
        ).increment()
    }

    /// One POST of events to the CRM: `sent` or `failed`.
    public func recordEventPush(outcome: String, events: Int) {
        registry.makeCounter(
            descriptor: Self.name("event_pushes", unit: "total", "POSTs of events to the CRM, by outcome"),
            labels: [("outcome", outcome)]
        ).increment()
        if outcome == "sent" {
            registry.makeCounter(descriptor: Self.name("events_pushed", unit: "total", "Events the CRM accepted")).increment(by: Int64(events))
        }
    }

    /// The Prometheus text exposition, with the queue gauges set from `status`, and the events
    /// waiting for the CRM from `events` (when they are pushed).
    public func exposition(status: QueueStatus, channels: Set<Channel>, events: EventBacklog? = nil) -> [UInt8] {
        if let events {
            registry.makeGauge(descriptor: Self.name("events_waiting", "Events recorded and not yet accepted by the CRM"))
                .set(Double(events.count))
            registry.makeGauge(descriptor: Self.name("events_oldest_waiting_age", unit: "seconds",
                                                     "How long ago the oldest event waiting for the CRM occurred (0 when none)"))
                .set(events.oldest.map { Double(max(0, status.takenAt - $0)) / 1_000 } ?? 0)
        }
        // Every state of every channel, so a count that drops to zero reads 0 instead of vanishing.
        let reported = channels.union(status.counts.compactMap { Channel(rawValue: $0.channel) })
        for channel in reported {
            for state in MessageState.allCases {
                registry.makeGauge(
                    descriptor: Self.name("messages", "Messages in the queue database by state and channel"),
                    labels: [("state", state.rawValue), ("channel", channel.rawValue)]
                ).set(Double(status.count(state: state, channel: channel)))
            }
            registry.makeGauge(
                descriptor: Self.name("queue_depth", "Queued messages already due, waiting for a worker"),
                labels: [("channel", channel.rawValue)]
            ).set(Double(status.dueNow.first { $0.channel == channel.rawValue }?.count ?? 0))
            // By channel: one channel's stuck peer shows as that channel's age, not everyone's.
            registry.makeGauge(
                descriptor: Self.name("oldest_due_age", unit: "seconds",
                                      "How long the oldest due queued message of the channel has waited past its due time (0 when none)"),
                labels: [("channel", channel.rawValue)]
            ).set(status.oldestDueByChannel[channel.rawValue].map { Double(max(0, status.takenAt - $0)) / 1_000 } ?? 0)
        }
        return registry.emitToBuffer()
    }
}
