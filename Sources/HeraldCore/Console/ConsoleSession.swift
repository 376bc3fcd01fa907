import Crypto
import Foundation

/// The console's login on the TCP listener: the operator types the API token once; the cookie
/// then carries a value derived from it (HMAC-SHA256 of a fixed label), never the token itself.
/// Changing the token ends every session.
enum ConsoleSession {
    static let cookie = "herald_session"

    static func value(for token: Secret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("herald console session v1".utf8),
                                                  using: SymmetricKey(data: Data(token.exposedValue.utf8)))
        return Hex.encode(Array(mac))
    }

    /// `Set-Cookie` for a valid login: HttpOnly, SameSite=Strict (a page on another site cannot
    /// make the browser press the console's buttons), 12 hours.
    static func setCookie(_ value: String) -> String {
        "\(cookie)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=43200"
    }
}
