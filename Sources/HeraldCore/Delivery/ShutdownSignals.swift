import Foundation

/// The signals `herald run` shuts down on.
public enum ShutdownSignals {
    /// Unblocks SIGTERM, SIGINT and SIGHUP for the calling thread (call it on the main thread
    /// first thing). A process inherits its parent's signal mask across exec, and some parents
    /// (test runners, careless supervisors) block everything; a worker that cannot see SIGTERM
    /// cannot shut down gracefully.
    public static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
