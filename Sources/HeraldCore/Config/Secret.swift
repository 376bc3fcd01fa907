/// A value that must never reach a log: passwords, tokens, signing keys.
///
/// Its `description` is redacted, so interpolating a `Secret` into a log line or an error is safe;
/// code that needs the value reads `exposedValue` on purpose.
///
/// A secret read from an environment variable that is not set is *unset*: the config still loads
/// (commands that never use it work without it), and what would use it refuses instead (`herald
/// run` will not start; previews mark their unsubscribe links as unsigned).
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let exposedValue: String
    /// The environment variable the value should have come from, when it was not set.
    public let unsetVariable: String?

    public init(_ value: String) {
        self.exposedValue = value
        self.unsetVariable = nil
    }

    /// The secret `${variable}` names, with the variable not set.
    public static func unset(variable: String) -> Secret {
        Secret(exposedValue: "", unsetVariable: variable)
    }

    private init(exposedValue: String, unsetVariable: String?) {
        self.exposedValue = exposedValue
        self.unsetVariable = unsetVariable
    }

    public var isUnset: Bool { unsetVariable != nil }
    /// One of the development values `make run` sets (they all start `development-only`).
    public var isDevelopmentValue: Bool { exposedValue.hasPrefix("development-only") }
    /// Configured as empty (an unset variable is not empty: it is missing).
    public var isEmpty: Bool { exposedValue.isEmpty && !isUnset }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
