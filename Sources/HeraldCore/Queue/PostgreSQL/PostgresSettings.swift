import Foundation

/// Where the PostgreSQL engine connects, from `database: postgres://user@host:5432/herald?…`.
///
/// The password comes from the environment: `${NAME}` in the URL (the config reads it from the
/// environment like every value), or `PGPASSWORD` when the URL has none; it is never logged.
/// Query parameters:
/// - `sslmode`: `disable`, `prefer` (the default, like libpq), `require` or `verify-full`;
/// - `pool`: connections per process (default 10);
/// - `notify`: `off` for PgBouncer in transaction mode, where LISTEN does not work; idle
///   workers then find new work by polling only.
public struct PostgresSettings: Sendable, Equatable {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: Secret?
    public var database: String
    public var sslMode: SSLMode
    public var poolSize: Int
    public var notify: Bool

    /// The URL without its password, for logs and errors.
    public var location: String {
        "postgres://\(username)@\(host):\(port)/\(database)"
    }

    /// Parses the URL; nil when `text` is not a `postgres://` or `postgresql://` URL at all (a
    /// file path), throws naming what is wrong with one that is.
    public static func parse(_ text: String, environment: [String: String]) throws(ConfigError) -> PostgresSettings? {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else { return nil }
        func fail(_ reason: String) -> ConfigError { ConfigError(path: "database", reason) }
        guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw fail("expected postgres://user@host:5432/database, got a URL without a host")
        }
        guard let user = url.user, !user.isEmpty else { throw fail("the URL names no user (postgres://user@\(host)/…)") }
        let name = String(url.path.drop { $0 == "/" })
        guard !name.isEmpty, !name.contains("/") else { throw fail("the URL names no database (postgres://\(user)@\(host)/herald)") }
        var settings = PostgresSettings(host: host, port: url.port ?? 5432, username: user, password: nil, database: name,
                                        sslMode: .prefer, poolSize: 10, notify: true)
        if let password = url.password?.removingPercentEncoding, !password.isEmpty {
            settings.password = Secret(password)
        } else if let password = environment["PGPASSWORD"], !password.isEmpty {
            settings.password = Secret(password)
        }
        for item in url.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw fail("sslmode: expected \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(value.prefix(40))\"")
                }
                settings.sslMode = mode
            case "pool":
                guard let size = Int(value), (1...1_000).contains(size) else {
                    throw fail("pool: expected 1 to 1000 connections, got \"\(value.prefix(40))\"")
                }
                settings.poolSize = size
            case "notify":
                guard ["on", "off"].contains(value) else { throw fail("notify: expected on or off, got \"\(value.prefix(40))\"") }
                settings.notify = value == "on"
            default:
                throw fail("unknown URL parameter \"\(item.name.prefix(40))\" (expected sslmode, pool or notify)")
            }
        }
        return settings
    }
}
