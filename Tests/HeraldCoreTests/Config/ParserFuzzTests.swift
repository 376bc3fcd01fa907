import Foundation
import Testing
@testable import HeraldCore

/// A seeded generator of hostile numbers and durations, 100,000 inputs through each parser that
/// reads them from outside. The seed is fixed, so a failure names an input that reproduces.
@Suite("Parser fuzzing (seeded)")
struct ParserFuzzTests {
    static let inputs = 100_000

    /// Pieces a careless or hostile value is made of: long digit runs, signs, exponents, units,
    /// hex, spaces, control and non-ASCII characters.
    static let pieces = ["0", "1", "7", "9", "99999999999999", "9223372036854775807", "18446744073709551616", ".", "-", "+",
                         "e", "E", "e308", "x", "0x", "inf", "nan", "ms", "s", "m", "h", "d", "min", " ", "\t", "\r\n", "\u{0}",
                         "é", "٣", "½", "𝟗", "_", ",", ":", "/", "1e-9", "KB", "MB", "GB", "B", "-0", "00000000000000000000"]

    static func value(_ random: inout SeededGenerator) -> String {
        let count = Int.random(in: 1...6, using: &random)
        return (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    @Test("durations and Retry-After: 100,000 inputs, no trap, every result within the bound")
    func durations() {
        var random = SeededGenerator(seed: 14)
        var accepted = 0
        for _ in 0..<Self.inputs {
            let text = Self.value(&random)
            if let duration = DurationParsing.parse(text) {
                accepted += 1
                #expect(duration >= .zero && duration <= DurationParsing.maximum, "\(text.debugDescription)")
            }
            if let hint = RetryAfter.parse(text) {
                #expect(hint >= .zero && hint <= .seconds(365 * 86_400), "\(text.debugDescription)")
                _ = RetryPolicy().delay(afterAttempt: 1, retryAfter: hint)
            }
        }
        #expect(accepted > 100, "the generator must also make valid durations (\(accepted))")
    }

    @Test("the failed-message filter's query parameters: 100,000 inputs, each refused naming its parameter or accepted")
    func failedFilter() {
        var random = SeededGenerator(seed: 15)
        var refused = 0
        for index in 0..<Self.inputs {
            let since = Self.value(&random)
            let channel = index % 7 == 0 ? Self.value(&random) : nil
            do {
                _ = try FailedFilter.parse(channel: channel, campaign: nil, since: since, error: nil)
            } catch {
                refused += 1
                #expect(error.field == "since" || error.field == "channel", "\(error)")
                #expect(error.reason.contains("got"), "\(error)")
            }
        }
        #expect(refused > 1_000 && refused < Self.inputs, "refused \(refused)")
    }

    /// Keys that take a number, a duration, a size or a rate, with the top-level YAML that sets one.
    static let configKeys: [(key: String, yaml: @Sendable (String) -> String)] = [
        ("workers", { "workers: \($0)\n" }),
        ("lease", { "lease: \($0)\n" }),
        ("poll_interval", { "poll_interval: \($0)\n" }),
        ("shutdown_grace", { "shutdown_grace: \($0)\n" }),
        ("retry.max_attempts", { "retry: {max_attempts: \($0)}\n" }),
        ("retry.initial", { "retry: {initial: \($0)}\n" }),
        ("retry.max", { "retry: {max: \($0)}\n" }),
        ("policies.jitter", { "policies: {jitter: \($0)}\n" }),
        ("retention.sent", { "retention: {sent: \($0)}\n" }),
        ("intake.max_body", { "intake: {max_body: \($0)}\n" }),
    ]

    @Test("the config loader: 100,000 mutated values in number, duration and size keys, each loaded or refused naming its key")
    func config() {
        var random = SeededGenerator(seed: 16)
        let root = URL(fileURLWithPath: "/srv/herald")
        var refused = 0
        for _ in 0..<Self.inputs {
            let (key, yaml) = Self.configKeys.randomElement(using: &random)!
            // Quoted, so the value reaches Herald's parsers rather than stopping in YAML's.
            let value = "\"" + Self.value(&random).replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "")
                .replacingOccurrences(of: "\r\n", with: "\\r\\n").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\u{0}", with: "\\0") + "\""
            do {
                _ = try HeraldConfig.parse(yaml: yaml(value) + TotalParsingTests.minimalChannels, root: root, environment: [:])
            } catch {
                refused += 1
                let leaf = String(key.split(separator: ".").last!)
                if !error.description.contains(leaf) {
                    Issue.record("\(key) = \(value): the error does not name the key: \(error.description)")
                    return
                }
            }
        }
        #expect(refused > 1_000 && refused < Self.inputs, "refused \(refused)")
    }
}
