/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// How long a test waits for a server or a `herald` process to come up. That is a precondition,
/// not a verdict about Herald, so it is generous: on a machine kept busy by other suites (and,
/// in CI, by other jobs) starting nine Python servers at once has taken over 20 s.
let startupTimeout: Duration = .seconds(120)
