import Foundation
import Testing
@testable import HeraldCore

/// Every number and duration Herald reads from outside (config, query parameters, a remote's
/// Retry-After) parses totally: a value or an error naming the key, never a trap.
@Suite("Total parsing of numbers and durations")
struct TotalParsingTests {
    @Test("durations: plain decimal with a unit, at most 36500d; everything else nil")
    func durations() {
        #expect(DurationParsing.parse("250ms") == .milliseconds(250))
        #expect(DurationParsing.parse("1.5m") == .seconds(90))
        #expect(DurationParsing.parse(" 2d ") == .seconds(2 * 86_400))
        #expect(DurationParsing.parse("36500d") == DurationParsing.maximum)
        for bad in ["99999999999999d", "170000000000000000d", "36501d", "36500.5d", "9223372036854775807ms",
                    "99999999999999999999999999s", "-1s", "1e3s", "0x10s", "infs", "nans", "s", "1.s", ".5s", "1..5s",
                    "5", "5 s", "5sec", "", String(repeating: "9", count: 400) + "d"]
        {
            #expect(DurationParsing.parse(bad) == nil, "\(bad.prefix(30))")
        }
    }

    @Test("the config: a huge duration is an error naming its key (config check used to die with SIGILL)")
    func hugeDurationsInConfig() throws {
        for (key, yaml) in [("shutdown_grace", "shutdown_grace: 99999999999999d\n"),
                            ("policies.jitter", "policies: {jitter: 170000000000000000d}\n"),
                            ("retry.max", "retry: {max: 99999999999999d}\n")]
        {
            do {
                _ = try HeraldConfig.parse(yaml: yaml + Self.minimalChannels, root: URL(fileURLWithPath: "/srv/herald"), environment: [:])
                Issue.record("\(key): accepted")
            } catch {
                #expect(error.description.contains(key), "\(error.description)")
                #expect(error.description.contains("36500d"), "\(error.description)")
            }
        }
    }

    @Test("Retry-After from a remote: a huge number is capped at a year, and the backoff built on it does not trap")
    func hugeRetryAfter() throws {
        let year = Duration.seconds(365 * 86_400)
        #expect(RetryAfter.parse("9223372036854775807") == year)
        #expect(RetryAfter.parse("99999999999999999999999") == nil)
        #expect(RetryAfter.parse("Fri, 31 Dec 9999 23:59:59 GMT") == year)
        let delay = RetryPolicy().delay(afterAttempt: 1, retryAfter: RetryAfter.parse("9223372036854775807"))
        #expect(delay == RetryPolicy.longestRetryAfter)
        #expect(Duration.seconds(Int64.max).milliseconds == .max)
        #expect(Duration.seconds(Int64.min).milliseconds == .min)
    }

    @Test("the failed-message filter (console and CLI): a huge since is refused naming since")
    func hugeSince() {
        do {
            _ = try FailedFilter.parse(channel: nil, campaign: nil, since: "99999999999999d", error: nil)
            Issue.record("accepted")
        } catch {
            #expect(error.field == "since" && error.reason.contains("36500d"), "\(error)")
        }
    }

    static let minimalChannels = """
        channels:
          webhook:
            endpoints:
              alerts: {url: "http://x.test/", secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
        """
}

/// Config errors that point at the right place.
@Suite("Config errors name their place")
struct ConfigErrorPlaceTests {
    func check(_ yaml: [UInt8]) throws -> String {
        let folder = try TemporaryFolder()
        try folder.write("Config/herald.yaml", "")  // makes the folder
        try Data(yaml).write(to: folder.file("Config/herald.yaml"))
        do {
            _ = try HeraldConfig.load(from: folder.file("Config/herald.yaml"), environment: [:])
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test("a duplicate key is named with its lines; invalid UTF-8 has a line and column; a token of spaces and a URL ending in CRLF are refused")
    func places() throws {
        let channels = Array(TotalParsingTests.minimalChannels.utf8)
        let duplicate = try check(Array("workers: 2\nlease: 1m\nworkers: 3\n".utf8) + channels)
        #expect(duplicate.contains("workers") && duplicate.contains("lines 1, 3"), "\(duplicate)")
        #expect(!duplicate.contains("lease: 1m"), "the whole document as context: \(duplicate)")
        let utf8 = try check(Array("workers: 2\ndatabase: \"var/".utf8) + [0xFF] + Array(".sqlite\"\n".utf8) + channels)
        #expect(utf8.contains("not UTF-8: line 2, column 16"), "\(utf8)")
        let spaces = try check(Array("intake: {http: {listen: \"127.0.0.1:1\", token: \"                \"}}\n".utf8) + channels)
        #expect(spaces.contains("intake.http.token") && spaces.contains("white space"), "\(spaces)")
        let crlf = try check(Array("""
            channels:
              webhook:
                endpoints:
                  a: {url: "http://127.0.0.1:9/\\r\\n", secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
            """.utf8))
        #expect(crlf.contains("channels.webhook.endpoints.a.url") && crlf.contains("control characters"), "\(crlf)")
    }
}
