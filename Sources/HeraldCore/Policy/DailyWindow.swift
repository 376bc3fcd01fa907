import Foundation

/// A stretch of local time each day, `HH:MM-HH:MM` with the start before the end: when quiet
/// hours allow a channel, when a sequence step may go out.
public struct DailyWindow: Sendable, Equatable {
    /// Minutes after local midnight; `start < end`, `end` at most 24:00.
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Parses `HH:MM-HH:MM`; the error names the node's key and the text.
    init(_ node: ConfigNode) throws(ConfigError) {
        let text = try node.string()
        let bounds = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard bounds.count == 2, let start = Self.minutes(bounds[0]), let end = Self.minutes(bounds[1]), start < end else {
            throw node.error("expected HH:MM-HH:MM with the start before the end (local time), got \"\(text.prefix(40))\"")
        }
        self.init(start: start, end: end)
    }

    /// Whether the local time of day `minute` (after midnight) falls inside.
    func contains(minute: Int) -> Bool {
        minute >= start && minute < end
    }

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 24 * 60
        else { return nil }
        return hour * 60 + minute
    }
}
