/// Whether a refused delivery means the address is gone (hard) or may work later (soft), by the
/// enhanced status code (RFC 3463), not the reply's first digit: 5.1.x (bad mailbox, bad domain,
/// moved) is hard; a full mailbox (5.2.2), any 4.x.x, a policy refusal (5.7.x) and anything
/// unclassifiable are soft. Where a report gives no usable code, the diagnostic's own code, or
/// failing that its wording, stands in for it.
public enum BounceClassification {
    public enum Severity: String, Sendable, Equatable {
        case hard, soft
    }

    /// The severity, and the status code it was judged by (nil when none could be found).
    public static func judge(status: String?, diagnostic: String?) -> (severity: Severity, status: String?) {
        let given = status.flatMap(enhancedCode(in:))
        let fromText = diagnostic.flatMap(enhancedCode(in:)) ?? diagnostic.flatMap(inferredCode(from:))
        // A generic code (5.0.0, 4.0.0) says less than the diagnostic's own.
        let code = given.map { $0.hasSuffix(".0.0") ? (fromText ?? $0) : $0 } ?? fromText
        guard let code else { return (.soft, nil) }
        return (code.hasPrefix("5.1.") ? .hard : .soft, code)
    }

    /// The first enhanced status code (`5.1.1`) in `text`; the `#5.1.1` of qmail and Exchange included.
    static func enhancedCode(in text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let before = index == 0 ? UInt8(ascii: " ") : bytes[index - 1]
            if (byte == UInt8(ascii: "2") || byte == UInt8(ascii: "4") || byte == UInt8(ascii: "5")),
               !isDigitOrDot(before), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ".")
            {
                var cursor = index + 2
                let subject = digits(bytes, &cursor, maximum: 3)
                if subject > 0, cursor < bytes.count, bytes[cursor] == UInt8(ascii: ".") {
                    cursor += 1
                    let detail = digits(bytes, &cursor, maximum: 3)
                    if detail > 0, cursor == bytes.count || !isDigitOrDot(bytes[cursor]) || isSentenceDot(bytes, cursor) {
                        return String(decoding: bytes[index..<cursor], as: UTF8.self)
                    }
                }
            }
            index += 1
        }
        return nil
    }

    /// What wording alone says, for bounces without a code: the common texts for a mailbox that
    /// does not exist (→ 5.1.1) and for one that is full (→ 5.2.2).
    static func inferredCode(from text: String) -> String? {
        let lower = text.lowercased()
        if hardPhrases.occur(in: lower) { return "5.1.1" }
        if fullPhrases.occur(in: lower) { return "5.2.2" }
        return nil
    }

    static let hardPhrases = Phrases([
        "user unknown", "unknown user", "no such user", "no such recipient", "recipient unknown", "unknown recipient",
        "no mailbox here by that name", "mailbox not found", "mailbox does not exist", "address does not exist",
        "account does not exist", "user doesn't exist", "does not exist here", "invalid recipient", "recipient not found",
        "unrouteable address", "no such mailbox",
    ])
    static let fullPhrases = Phrases(["mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage",
                                      "insufficient storage"])

    private static func digits(_ bytes: [UInt8], _ cursor: inout Int, maximum: Int) -> Int {
        let start = cursor
        while cursor < bytes.count, cursor - start < maximum, bytes[cursor] >= UInt8(ascii: "0"), bytes[cursor] <= UInt8(ascii: "9") {
            cursor += 1
        }
        return cursor - start
    }

    private static func isDigitOrDot(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
    }

    /// A dot that ends a sentence ("… 5.1.1."), not one that continues a number.
    private static func isSentenceDot(_ bytes: [UInt8], _ index: Int) -> Bool {
        bytes[index] == UInt8(ascii: ".") && (index + 1 == bytes.count || !isDigitOrDot(bytes[index + 1]))
    }
}
