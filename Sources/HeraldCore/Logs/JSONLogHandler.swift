import Foundation
import Logging
import Synchronization

/// swift-log lines as JSON, one object per line on standard error, for journald, Loki and the
/// like: `timestamp`, `level`, `label`, `source`, `message`, and every metadata field as a key of
/// its own (`message_id`, `channel`, `error` …), so a query can pick them out.
///
/// Hand-written because none of the logging packages this project can depend on has one; it is
/// only the formatting, on top of swift-log's own API.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// Keys the handler writes itself; a metadata field of the same name is written as `meta_<key>`.
    static let reserved: Set<String> = ["timestamp", "level", "label", "source", "message"]
    /// One line at a time, whole, whatever the thread.
    private static let output = Mutex(())

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "timestamp": .string(Self.timestamp()),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "source": .string(event.source),
            "message": .string(event.message.description),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged {
            fields[Self.reserved.contains(key) ? "meta_\(key)" : key] = Self.json(value)
        }
        var line = Array(JSONValue.object(fields).jsonText.utf8)
        line.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }

    /// RFC 3339 in UTC with milliseconds, as the rest of Herald writes times.
    static func timestamp() -> String {
        Timestamp.rfc3339(Timestamp.now())
    }
}
