import Foundation
import Testing
@testable import HeraldCore

/// The webhook channel against a real HTTP server (Tests/Servers/webhook_receiver.py) that
/// verifies every signature.
@Suite("Webhook channel over real HTTP", .serialized)
struct WebhookChannelTests {
    @Test("200 is sent, signed, with the body rendered from the message's template")
    func okIsSent() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], folder: folder)
        try await fixture.enqueueWebhooks(3, endpoint: "hook")
        try await fixture.deliverUntilSettled()
        await receiver.stop()

        let requests = try receiver.requests()
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.verified })
        #expect(Set(requests.map(\.id)) == ["k-0", "k-1", "k-2"])
        #expect(requests.first { $0.id == "k-1" }?.body == #"{"n": 1, "key": "k-1"}"# + "\n")
        for key in ["k-0", "k-1", "k-2"] {
            #expect(try fixture.state(ofKey: key) == "sent")
            let attempts = try fixture.attempts(ofKey: key)
            #expect(attempts.count == 1)
            #expect(attempts.first?.outcome == "sent")
            #expect(attempts.first?.remote_code == "200")
            #expect(attempts.first?.remote_text == #"{"status": 200}"#)
        }
    }

    @Test("500 then 200 is sent on attempt 2, with the same webhook-id")
    func serverErrorIsRetried() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/status/500,200")], folder: folder)
        try await fixture.enqueueWebhooks(1, endpoint: "hook")
        try await fixture.deliverUntilSettled()
        await receiver.stop()

        #expect(try fixture.state(ofKey: "k-0") == "sent")
        let attempts = try fixture.attempts(ofKey: "k-0")
        #expect(attempts.map(\.outcome) == ["transient", "sent"])
        #expect(attempts.map(\.remote_code) == ["500", "200"])
        #expect(attempts.first?.error_code == "http_status")
        let requests = try receiver.requests()
        #expect(requests.map(\.status) == [500, 200])
        #expect(requests.map(\.id) == ["k-0", "k-0"])
    }

    @Test("429 with Retry-After: 2 waits at least 2 s before the next attempt")
    func retryAfterIsHonoured() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/retry-after/2")], folder: folder)
        try await fixture.enqueueWebhooks(1, endpoint: "hook")
        try await fixture.deliverUntilSettled()
        await receiver.stop()

        let attempts = try fixture.attempts(ofKey: "k-0")
        #expect(attempts.map(\.outcome) == ["transient", "sent"])
        #expect(attempts.first?.remote_code == "429")
        let first = try #require(attempts.first)
        #expect(try #require(first.retry_at) >= first.started_at + 2_000)
        #expect(attempts[1].started_at - first.started_at >= 2_000)
        let requests = try receiver.requests()
        #expect(requests.count == 2)
        #expect(requests[1].t - requests[0].t >= 2.0)
    }

    @Test("400 fails after one attempt")
    func clientErrorIsPermanent() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/status/400")], folder: folder)
        try await fixture.enqueueWebhooks(1, endpoint: "hook")
        try await fixture.deliverUntilSettled()
        await receiver.stop()

        #expect(try fixture.state(ofKey: "k-0") == "failed")
        let attempts = try fixture.attempts(ofKey: "k-0")
        #expect(attempts.map(\.outcome) == ["permanent"])
        #expect(attempts.first?.remote_code == "400")
        #expect(try receiver.requests().count == 1)
        let lastError = try fixture.queue.readNow { db in
            try String.fetchOne(db, sql: "SELECT last_error FROM messages WHERE key = 'k-0'")
        }
        #expect(lastError == "http_status: HTTP 400")
    }

    @Test("a server that never answers times out, and that is transient")
    func silentServerTimesOut() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/hang")],
                                        retry: "{max_attempts: 2, initial: 100ms, max: 100ms}", timeout: "1s",
                                        folder: folder)
        try await fixture.enqueueWebhooks(1, endpoint: "hook")
        let start = ContinuousClock.now
        try await fixture.deliverUntilSettled()
        let elapsed = ContinuousClock.now - start
        await receiver.stop()

        let attempts = try fixture.attempts(ofKey: "k-0")
        #expect(attempts.map(\.outcome) == ["transient", "transient"])
        #expect(attempts.allSatisfy { $0.error_code == "transport_timeout" })
        #expect(attempts.allSatisfy { $0.duration_us >= 1_000_000 })
        #expect(elapsed < .seconds(10))
        // Two transient attempts with max_attempts 2: failed, saying why.
        #expect(try fixture.state(ofKey: "k-0") == "failed")
    }

    @Test("a receiver that refuses the signature is a permanent failure")
    func wrongSecretIsRefused() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], folder: folder)
        var config = try #require(fixture.config.webhook)
        config.endpoints["hook"]?.secret = Secret("whsec_" + Data(repeating: 1, count: 32).base64EncodedString())
        let multi = CurlMulti()
        let channel = WebhookChannel(config: config, transport: CurlHTTPTransport(multi: multi))
        let message = ClaimedMessage(id: 1, key: "k", channel: .webhook, template: "alert",
                                     recipient: Recipient(endpoint: "hook"), dataJSON: #"{"n": 1}"#, category: .marketing,
                                     campaign: nil, attempt: 1, dueAt: 0)
        let content = try fixture.config.renderer(fixture.config.templateStore()).render(message)
        let outcome = try await channel.deliver(message, content: content)
        await multi.shutdown()
        await receiver.stop()
        guard case .permanent(let error) = outcome else {
            Issue.record("expected a permanent failure, got \(outcome)")
            return
        }
        #expect(error.remoteCode == "401")
        #expect(try receiver.requests().first?.verified == false)
    }
}
