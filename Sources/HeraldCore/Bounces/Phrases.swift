/// Wording looked for in reports (failure phrases, auto-reply subjects), matched on lower-cased
/// UTF-8 bytes: Foundation's `String.contains` and `range(of:)` were a fifth of reading a report.
struct Phrases: Sendable {
    private let needles: [[UInt8]]

    init(_ phrases: [String]) {
        needles = phrases.map { Array($0.lowercased().utf8) }
    }

    /// Whether `text` (already lower-cased) holds any of the phrases.
    func occur(in text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        return needles.contains { bytes.firstRange(of: $0) != nil }
    }
}
