import Foundation
import Testing
@testable import HeraldCore

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, initial: .seconds(30), maximum: .seconds(300))

    @Test("backoff doubles within [half, full] of each step and stops at the cap")
    func backoffBounds() {
        let steps: [Int64] = [30, 60, 120, 240, 300]
        for attempt in 1...4 {
            let low = policy.delay(afterAttempt: attempt, retryAfter: nil, random: { _ in 0 })
            let high = policy.delay(afterAttempt: attempt, retryAfter: nil, random: { _ in 1 })
            #expect(low == .seconds(steps[attempt - 1] / 2))
            #expect(high == .seconds(steps[attempt - 1]))
        }
        let capped = RetryPolicy(maxAttempts: 50, initial: .seconds(30), maximum: .seconds(300))
        #expect(capped.delay(afterAttempt: 40, retryAfter: nil, random: { _ in 1 }) == .seconds(300))
    }

    @Test("no delay once the attempts are used up")
    func exhaustion() {
        #expect(policy.delay(afterAttempt: 5, retryAfter: nil) == nil)
        #expect(policy.delay(afterAttempt: 4, retryAfter: nil) != nil)
    }

    @Test("Retry-After is a floor, never a ceiling")
    func retryAfterFloor() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(120), random: { _ in 1 }) == .seconds(120))
        #expect(policy.delay(afterAttempt: 3, retryAfter: .seconds(2), random: { _ in 1 }) == .seconds(120))
    }

    @Test("Retry-After parses seconds and HTTP dates")
    func retryAfterParsing() {
        #expect(RetryAfter.parse("2") == .seconds(2))
        #expect(RetryAfter.parse("-1") == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("soon") == nil)
    }

    @Test("an outcome becomes the right settlement")
    func settlements() throws {
        let message = ClaimedMessage(id: 7, key: "k", channel: .webhook, template: "t", recipient: Recipient(),
                                     dataJSON: "{}", category: .marketing, campaign: nil, attempt: 1, dueAt: 0)
        let owner = LeaseOwner(host: "h", pid: 1, nonce: "n")
        let error = DeliveryError(code: .httpStatus, detail: "HTTP 503", remoteCode: "503", remoteText: "busy")
        let retry = Settlement.after(.transient(error, retryAfter: nil), of: message, startedAt: 1_000,
                                     duration: .milliseconds(5), worker: owner, retry: policy, random: { _ in 0 })
        guard case .retry(let attempt, let lastError) = retry else {
            Issue.record("expected a retry, got \(retry)")
            return
        }
        #expect(try #require(attempt.retryAt) == 16_005)
        #expect(attempt.remoteText == "busy")
        #expect(lastError == "http_status: HTTP 503")

        var last = message
        last.attempt = 5
        let exhausted = Settlement.after(.transient(error, retryAfter: nil), of: last, startedAt: 0, duration: .zero,
                                         worker: owner, retry: policy)
        guard case .failed(_, let reason, _) = exhausted else {
            Issue.record("expected failed, got \(exhausted)")
            return
        }
        #expect(reason.contains("gave up after 5 attempts"))
    }
}
