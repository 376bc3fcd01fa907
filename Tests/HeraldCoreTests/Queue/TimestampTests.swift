import Foundation
import Testing
@testable import HeraldCore

@Suite("Timestamp.rfc3339")
struct TimestampFormatTests {
    @Test("writes what Foundation's ISO 8601 formatter writes, with the milliseconds, for instants from 1900 to 2400")
    func agreesWithFoundation() {
        // The whole seconds from Foundation (a Double's fraction can round the milliseconds).
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] = [0, -1, 999, 1_000, -86_400_000, 951_782_400_000, 4_107_542_399_999]
            + (0..<20_000).map { _ in Int64.random(in: -2_208_988_800_000...13_569_465_600_000, using: &generator) }
        for milliseconds in samples {
            let (seconds, millis) = (milliseconds - ((milliseconds % 1_000) + 1_000) % 1_000, ((milliseconds % 1_000) + 1_000) % 1_000)
            let whole = formatter.string(from: Date(timeIntervalSince1970: Double(seconds / 1_000)))
            let expected = whole.dropLast() + "." + String(String(millis + 1_000).dropFirst()) + "Z"
            #expect(Timestamp.rfc3339(milliseconds) == expected, "\(milliseconds)")
        }
    }
}
