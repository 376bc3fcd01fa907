import Crypto
import Foundation
import Synchronization

/// The console's sessions on the TCP listener: the operator types the API token once; the
/// cookie then carries a random session id of its own, new on every login, valid for 12 hours or
/// until logout. Sessions live in this process: a restart signs everyone out.
///
/// The cookie opens the console only, never the API under `/v1`.
final class ConsoleSessions: Sendable {
    static let cookie = "herald_session"
    static let lifetime: Int64 = 12 * 3_600_000
    /// More than any team of operators needs; the oldest goes first.
    static let capacity = 1_000
    /// Failed logins allowed per minute before the form answers 429 for the rest of the minute.
    static let failuresPerMinute = 10

    private struct State {
        var sessions: [String: Int64] = [:]  // id → expires at (unix ms)
        var failures: [Int64] = []
    }

    private let state = Mutex(State())

    /// A new session; returns its id.
    func start(now: Int64 = Timestamp.now()) -> String {
        let id = Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max) })
        state.withLock { state in
            state.sessions = state.sessions.filter { $0.value > now }
            if state.sessions.count >= Self.capacity, let oldest = state.sessions.min(by: { $0.value < $1.value }) {
                state.sessions[oldest.key] = nil
            }
            state.sessions[id] = now + Self.lifetime
        }
        return id
    }

    /// Whether `id` names a live session.
    func isValid(_ id: String, now: Int64 = Timestamp.now()) -> Bool {
        state.withLock { state in
            guard let expires = state.sessions[id] else { return false }
            return expires > now
        }
    }

    func end(_ id: String) {
        state.withLock { _ = $0.sessions.removeValue(forKey: id) }
    }

    /// Records a failed login; returns false once this minute's allowance is spent.
    func failedLogin(now: Int64 = Timestamp.now()) -> Bool {
        state.withLock { state in
            state.failures = state.failures.filter { $0 > now - 60_000 }
            state.failures.append(now)
            return state.failures.count <= Self.failuresPerMinute
        }
    }

    /// Whether logins are refused for now (too many failures in the last minute).
    func throttled(now: Int64 = Timestamp.now()) -> Bool {
        state.withLock { state in state.failures.filter { $0 > now - 60_000 }.count >= Self.failuresPerMinute }
    }

    /// `Set-Cookie` for a session: HttpOnly, SameSite=Strict, 12 hours, `Secure` when the
    /// request reached the proxy over https.
    static func setCookie(_ id: String, secure: Bool) -> String {
        "\(cookie)=\(id); Path=/console; HttpOnly; SameSite=Strict; Max-Age=\(lifetime / 1_000)" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that removes the session cookie.
    static func clearCookie(secure: Bool) -> String {
        "\(cookie)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0" + (secure ? "; Secure" : "")
    }
}
