import Foundation

/// Parses the human durations used in the config and in queries: `250ms`, `30s`, `1.5m`, `6h`, `2d`.
///
/// Total: any text gives a duration or nil, never a trap. The number is plain decimal digits with
/// an optional fraction (no signs, exponents, hex or `inf`), and the result is at most `maximum`,
/// so adding it to any timestamp Herald stores cannot overflow.
public enum DurationParsing {
    /// 100 years.
    public static let maximum: Duration = .seconds(100 * 365 * 86_400)
    /// Said in errors about a duration, so a person sees the grammar and the bound at once.
    public static let expected = "a duration such as 250ms, 30s, 5m, 6h or 2d, at most 36500d"

    public static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // At most 36,500 days of the largest unit, plus a fraction: anything longer is too long.
        guard trimmed.utf8.count <= 32 else { return nil }
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            // "5ms" also ends in "s": only accept when the rest is a plain number.
            guard let millis = milliseconds(trimmed.utf8.dropLast(unit.suffix.utf8.count), unit: unit.milliseconds) else { continue }
            return .milliseconds(millis)
        }
        return nil
    }

    /// `digits[.digits]` times `unit`, rounded to the millisecond, or nil when it is not such a
    /// number or exceeds `maximum`.
    private static func milliseconds(_ number: Substring.UTF8View, unit: Int64) -> Int64? {
        let limit = maximum.milliseconds
        var whole: Int64 = 0
        var index = number.startIndex
        var digits = 0
        while index != number.endIndex, let digit = decimal(number[index]) {
            whole = whole * 10 + digit
            guard whole <= limit else { return nil }
            digits += 1
            index = number.index(after: index)
        }
        guard digits > 0 else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow, scaled <= limit else { return nil }
        guard index != number.endIndex else { return scaled }
        guard number[index] == UInt8(ascii: ".") else { return nil }
        index = number.index(after: index)
        // The fraction, to a millisecond of the unit at most (the unit is ≤ 86,400,000 ms).
        var fraction = 0.0
        var scale = 1.0
        var fractionDigits = 0
        while index != number.endIndex, let digit = decimal(number[index]) {
            if fractionDigits < 12 {
                scale /= 10
                fraction += Double(digit) * scale
            }
            fractionDigits += 1
            index = number.index(after: index)
        }
        guard fractionDigits > 0, index == number.endIndex else { return nil }
        let total = scaled + Int64((fraction * Double(unit)).rounded())
        return total <= limit ? total : nil
    }

    private static func decimal(_ byte: UInt8) -> Int64? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int64(byte - UInt8(ascii: "0")) : nil
    }
}

extension Duration {
    /// Whole milliseconds, rounding toward zero; the unit the queue stores times in. Saturates
    /// at Int64's bounds instead of trapping, whatever the duration came from.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return carry ? (whole < 0 ? .min : .max) : total
    }

    /// Seconds as a floating-point number, for timeouts handed to C APIs and for display.
    public var seconds: Double {
        Double(milliseconds) / 1_000
    }
}

extension Duration {
    /// The config's own notation (`250ms`, `30s`, `2m`, `6h`), for messages that echo a setting.
    public var configText: String {
        let ms = milliseconds
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        where ms >= size && ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }
}
