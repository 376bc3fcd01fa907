import Foundation

/// A wall clock the test can step, as NTP does on a machine whose clock was off: processes
/// started with `environment` run under Debian's libfaketime, which shifts their real-time clock
/// by what the control file says (read again every second). Their monotonic clocks are left
/// alone, as a real step leaves them. A Swift `Task.sleep` begun under a shifted clock was seen
/// not to wake; services end on graceful shutdown without waiting for one.
struct SteppedClock {
    let control: URL

    /// libfaketime's thread-safe library, wherever the architecture put it.
    static let library: String? = {
        let lib = URL(fileURLWithPath: "/usr/lib")
        let arches = (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []
        return arches.map { lib.appendingPathComponent("\($0)/faketime/libfaketimeMT.so.1").path }
            .first { FileManager.default.fileExists(atPath: $0) }
    }()

    init(folder: TemporaryFolder) throws {
        control = folder.file("faketime.rc")
        try "+0s\n".write(to: control, atomically: true, encoding: .utf8)
    }

    /// Starts `herald ARGS --config <fixture config>` on this clock. Through `env`: a Swift
    /// program started directly under libfaketime finds no arguments (the library moves the
    /// environment, which the Swift runtime walks back from to find them); started by a process
    /// that already runs under it, it finds them.
    func start(_ arguments: [String], fixture: HeraldFixture, environment extra: [String: String] = [:]) throws -> ChildProcess {
        let library = try Self.library ?? { throw SteppedClockError.libraryMissing }()
        let clock = ["LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": control.path, "FAKETIME_CACHE_DURATION": "1",
                     "FAKETIME_DONT_FAKE_MONOTONIC": "1"]
        return try ChildProcess("/usr/bin/env", [SupportPaths.herald.path] + arguments + ["--config", fixture.configPath],
                                environment: HeraldCommand.environment().merging(clock) { _, new in new }.merging(extra) { _, new in new },
                                currentDirectory: fixture.folder.url)
    }

    /// From now on (within a second) their clocks read `seconds` later than the real one.
    func step(by seconds: Int) throws {
        try "\(seconds >= 0 ? "+" : "")\(seconds)s\n".write(to: control, atomically: true, encoding: .utf8)
    }
}

enum SteppedClockError: Error, CustomStringConvertible {
    case libraryMissing
    var description: String { "libfaketime is not installed (apt-get install libfaketime)" }
}
