/// When to try a transiently failed delivery again: exponential backoff with jitter, capped,
/// for at most `maxAttempts` attempts in all.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var initial: Duration
    public var maximum: Duration

    /// A server's Retry-After is honoured up to this long; beyond it the hint is treated as noise.
    public static let longestRetryAfter: Duration = .seconds(86_400)

    public init(maxAttempts: Int = 8, initial: Duration = .seconds(30), maximum: Duration = .seconds(6 * 3_600)) {
        self.maxAttempts = maxAttempts
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before attempt `attempt + 1`, after `attempt` attempts have failed transiently,
    /// or nil when no attempt is left.
    ///
    /// The backoff doubles from `initial` up to `maximum`; "equal jitter" keeps at least half of
    /// it, so retries spread out without collapsing back to zero. `retryAfter` is a floor: the
    /// next attempt never comes sooner than the server asked.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let exponent = Double(max(0, attempt - 1))
        let backoff = min(maximum.seconds, initial.seconds * pow2(exponent))
        let jittered = backoff / 2 + random(0...1) * backoff / 2
        let floor = min(retryAfter?.seconds ?? 0, Self.longestRetryAfter.seconds)
        return .milliseconds(Int64((max(jittered, floor) * 1_000).rounded(.up)))
    }

    private func pow2(_ exponent: Double) -> Double {
        // 2^63 overflows nothing as a Double, and min() above caps it.
        Double(sign: .plus, exponent: Int(min(exponent, 1_000)), significand: 1)
    }
}
