import Foundation
import Testing
@testable import HeraldCore

/// `/metrics`' queue gauges, read from a real SQLite queue.
@Suite("Delivery metrics")
struct DeliveryMetricsTests {
    @Test("the oldest due age is by channel: a waiting webhook shows on webhook only")
    func oldestDueByChannel() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        _ = try await queue.enqueue([NewMessage(key: "waiting", channel: .webhook, template: "t", recipient: Recipient(endpoint: "hook"),
                                          sendAt: now - 90_000)])
        let status = try await queue.status()
        #expect(status.oldestDueByChannel == ["webhook": now - 90_000], "precondition: one webhook due 90 s ago")
        let text = String(decoding: DeliveryMetrics().exposition(status: status, channels: [.webhook, .email]), as: UTF8.self)
        func value(_ channel: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(#"herald_oldest_due_age_seconds{channel="\#(channel)"}"#) }
                .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        }
        let webhook = try #require(value("webhook"), "\(text)")
        #expect(webhook >= 90 && webhook < 90 + 60, "the webhook has waited about 90 s: \(webhook)")
        #expect(value("email") == 0)
    }
}
