import Foundation
import HeraldCore

/// Reads the bounce corpus (Tests/Corpus/bounces) `count` times over, round robin, through
/// `BounceReport.parse` (MIME, the report, VERP) and prints reports per second on one core.
func runBounceParse(corpus: String, count: Int) throws {
    let returnPath = ReturnPath(address: "bounces@bounce.harbor.example", secret: Secret("bench-bounce-key-0123456789"))!
    let folder = URL(fileURLWithPath: corpus)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }.sorted()
    let messages = try names.map { name in
        Array(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            .replacingOccurrences(of: "${VERP}", with: returnPath.address(for: 42)).utf8)
    }
    var matched = 0
    let start = ContinuousClock.now
    for index in 0..<count {
        let report = BounceReport.parse(messages[index % messages.count], returnPath: returnPath)
        if report.messageIDs == [42] { matched += 1 }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("corpus_messages \(messages.count)")
    print("mean_bytes \(messages.map(\.count).reduce(0, +) / max(messages.count, 1))")
    print("matched \(matched)")
    print("herald_reports_per_s \(Int(Double(count) / seconds))")
}
