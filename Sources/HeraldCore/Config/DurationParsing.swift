import Foundation

/// Parses the human durations used in the config: `250ms`, `30s`, `5m`, `6h`, `2d`.
public enum DurationParsing {
    public static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            // "5ms" also ends in "s": only accept when the rest is a plain number.
            guard let value = Double(number), value >= 0, value.isFinite else { continue }
            return .milliseconds(Int64((value * Double(unit.milliseconds)).rounded()))
        }
        return nil
    }
}

extension Duration {
    /// Whole milliseconds, rounding toward zero; the unit the queue stores times in.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
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
