import Synchronization

/// A secret the config names whose environment variable is not set.
public struct UnsetSecret: Sendable, Equatable, CustomStringConvertible {
    /// The config key, e.g. `unsubscribe.secret`.
    public let path: String
    public let variable: String

    /// What `config check` warns and `herald run` refuses with: the key, the variable, and the
    /// line that sets it.
    public var description: String {
        "\(path): environment variable \(variable) is not set (export \(variable)=...)"
    }
}

/// Collects `UnsetSecret`s while a config is read.
final class UnsetSecretList: Sendable {
    private let items = Mutex<[UnsetSecret]>([])

    func append(_ secret: UnsetSecret) {
        items.withLock { $0.append(secret) }
    }

    var all: [UnsetSecret] { items.withLock { $0 } }
}
