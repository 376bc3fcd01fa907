import Foundation

/// Named points where a test can have the process die with SIGKILL, to prove that a crash at
/// exactly that point loses and duplicates nothing. Off unless `HERALD_FAILPOINTS` (a
/// comma-separated list of names) is set in the environment.
enum Failpoint {
    static let armed: Set<String> = Set(
        (ProcessInfo.processInfo.environment["HERALD_FAILPOINTS"] ?? "").split(separator: ",").map(String.init))

    /// The letter batch's CSV is in place, its manifest is not.
    static let letterAfterCSV = "letters.after-csv"
    /// A batch of events is read (their changes committed long ago), not yet POSTed.
    static let eventsBeforePost = "events.before-post"
    /// The CRM accepted a batch; the push has not moved past it.
    static let eventsAfterPost = "events.after-post"

    /// A mailbox report's outcome is committed; it is still in the mailbox.
    static let mailboxAfterRecord = "mailbox.after-record"

    static func hit(_ name: String) {
        guard armed.contains(name) else { return }
        FileHandle.standardError.write(Data("herald: failpoint \(name): SIGKILL\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
