import Foundation
import Testing
@testable import HeraldCore

/// The bounce corpus under Tests/Corpus/bounces: DSNs from the MTAs and providers people meet
/// (Postfix, Exim, Sendmail, qmail, Gmail, Microsoft 365, Exchange, Yahoo, SES, Mimecast), ARF
/// complaints, auto-replies, ordinary mail and broken reports, each with its expected reading in
/// expected.json. `${VERP}` in a file is the return path of message 42, signed with the test key.
@Suite("Bounce reports")
struct BounceReportTests {
    static let returnPath = ReturnPath(address: "bounces@bounce.harbor.example", secret: Secret("test-bounce-key-0123456789"))!
    static let folder = SupportPaths.packageRoot.appendingPathComponent("Tests/Corpus/bounces")

    struct Expected: Decodable {
        var kind: String
        var severity: String?
        var status: String?
        var feedback: String?
        var problem: String?
        var recipients: Int?
    }

    static func corpus() throws -> [(name: String, bytes: [UInt8], expected: Expected)] {
        let expected = try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let forged = returnPath.address(for: 43).replacingOccurrences(of: "+43-", with: "+42-")
        return try expected.keys.sorted().map { name in
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: "${VERP_FORGED}", with: forged)
                .replacingOccurrences(of: "${VERP}", with: returnPath.address(for: 42))
                .replacingOccurrences(of: "${RCPT}", with: "sarah.jones@example.com")
            return (name, Array(text.utf8), expected[name]!)
        }
    }

    /// Corpus message `name` as a report about message `id`.
    static func message(_ name: String, about id: Int64) throws -> [UInt8] {
        Array(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            .replacingOccurrences(of: "${VERP}", with: returnPath.address(for: id))
            .replacingOccurrences(of: "${RCPT}", with: "sarah.jones@example.com").utf8)
    }

    @Test("every message of the corpus (at least 30) reads as expected: kind, hard or soft by the enhanced status code, the feedback type, and message 42 from its VERP address")
    func corpus() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count >= 30, "the corpus has \(corpus.count) messages")
        for (name, bytes, expected) in corpus {
            let report = BounceReport.parse(bytes, returnPath: Self.returnPath)
            #expect(report.kind.rawValue == expected.kind, "\(name): \(report.kind) (\(report.problem ?? "no problem"))")
            if ["bounce", "complaint"].contains(expected.kind) {
                #expect(report.messageIDs == [42], "\(name): \(report.messageIDs)")
            }
            if let severity = expected.severity {
                let failed = report.recipients.filter { $0.action == "failed" }
                let verdict = try #require(failed.first.map { BounceClassification.judge(status: $0.status, diagnostic: $0.diagnostic) }, "\(name)")
                #expect(verdict.severity.rawValue == severity && verdict.status == expected.status,
                        "\(name): \(verdict) from \(failed.first.map { "\($0)" } ?? "")")
            }
            if let count = expected.recipients { #expect(report.recipients.count == count, "\(name)") }
            if let feedback = expected.feedback { #expect(report.feedbackType == feedback, "\(name)") }
            if let problem = expected.problem { #expect(report.problem?.contains(problem) == true, "\(name): \(report.problem ?? "none")") }
        }
    }

    @Test("the enhanced status code decides, not the first digit: 5.0.0 defers to the diagnostic's 5.1.1; 5.7.1 and 5.2.2 are soft; wording stands in for a missing code")
    func classification() {
        #expect(BounceClassification.judge(status: "5.0.0", diagnostic: "smtp; 550 5.1.1 user unknown") == (.hard, "5.1.1"))
        #expect(BounceClassification.judge(status: "5.7.1", diagnostic: "550 5.1.1 spoofed") == (.soft, "5.7.1"))
        #expect(BounceClassification.judge(status: "5.2.2", diagnostic: nil) == (.soft, "5.2.2"))
        #expect(BounceClassification.judge(status: "4.4.7", diagnostic: nil) == (.soft, "4.4.7"))
        #expect(BounceClassification.judge(status: nil, diagnostic: "Sorry, no mailbox here by that name. (#5.1.1)") == (.hard, "5.1.1"))
        #expect(BounceClassification.judge(status: nil, diagnostic: "550 User unknown") == (.hard, "5.1.1"))
        #expect(BounceClassification.judge(status: nil, diagnostic: "it went wrong") == (.soft, nil))
        #expect(BounceClassification.enhancedCode(in: "version 15.1.1234.5 said 5.1.1.") == "5.1.1", "not inside a longer number")
        #expect(BounceClassification.enhancedCode(in: "192.0.2.10") == nil)
    }

    @Test("VERP: the address names its message; a changed id or signature, another key's address, or another mailbox names none")
    func verp() {
        let address = Self.returnPath.address(for: 4_711)
        #expect(address.hasPrefix("bounces+4711-") && address.hasSuffix("@bounce.harbor.example") && address.count <= 64 + 23)
        #expect(Self.returnPath.messageID(of: address) == 4_711)
        #expect(Self.returnPath.messageID(of: address.uppercased()) == 4_711, "a relay that changes the case keeps it valid")
        #expect(Self.returnPath.messageID(of: address.replacingOccurrences(of: "+4711-", with: "+4712-")) == nil)
        let other = ReturnPath(address: "bounces@bounce.harbor.example", secret: Secret("another-key-0123456789abcd"))!
        #expect(other.messageID(of: address) == nil)
        #expect(Self.returnPath.messageID(of: address.replacingOccurrences(of: "bounce.harbor", with: "evil")) == nil)
        #expect(Self.returnPath.messageIDs(in: "To: <\(address)>, x\(address), \(Self.returnPath.address(for: 5)).") == [4_711, 5])
    }

    @Test("10,000 fuzzed variants of the corpus (truncated, boundaries broken, bytes flipped, huge headers, deep nesting) each end as a reading, none crashes, none is lost")
    func fuzz() throws {
        var generator = SeededGenerator(seed: 20_261_202)
        let corpus = try Self.corpus().map(\.bytes)
        var kinds: [BounceReport.Kind: Int] = [:]
        // 20 KB: 20 times the longest line RFC 5322 allows, and more than a field is cut to (16 KB).
        let huge = Array("X-Huge: \(String(repeating: "a", count: 20 << 10))\r\n".utf8)
        var read = 0
        for round in 0..<10_000 {
            var bytes = corpus[round % corpus.count]
            switch round % 6 {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            case 1:
                for _ in 0..<8 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            case 2: bytes = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "--B0UND", with: "--BOUND").utf8)
            case 3: bytes = huge + bytes
            case 4:
                let nest = (0..<20).map { "Content-Type: multipart/mixed; boundary=\"n\($0)\"\r\n\r\n--n\($0)\r\n" }.joined()
                bytes = Array(nest.utf8) + bytes
            default:
                let cut = Int.random(in: 0..<bytes.count, using: &generator)
                bytes.insert(contentsOf: Array("\r\n--\r\n=\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%".utf8), at: cut)
            }
            let report = BounceReport.parse(bytes, returnPath: Self.returnPath)
            kinds[report.kind, default: 0] += 1
            read += 1
        }
        #expect(read == 10_000)
        #expect(kinds.values.reduce(0, +) == 10_000, "every variant has a reading: \(kinds)")
        #expect((kinds[.review] ?? 0) > 0 && (kinds[.bounce] ?? 0) > 0, "broken ones go to review, intact enough ones still read: \(kinds)")
    }
}
