/// A value that must never reach a log: passwords, tokens, signing keys.
///
/// Its `description` is redacted, so interpolating a `Secret` into a log line or an error is safe;
/// code that needs the value reads `exposedValue` on purpose.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let exposedValue: String

    public init(_ value: String) {
        self.exposedValue = value
    }

    public var isEmpty: Bool { exposedValue.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
