import Foundation

/// A process the test started and will stop by PID: test servers and `herald` itself.
///
/// Its standard output and error go to files, not pipes: reading a pipe blocks a thread, and the
/// cooperative pool has only two.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let stdoutFile: URL
    let stderrFile: URL

    /// - Parameter inheriting: start from this process's environment and add `environment` (the
    ///   default), or give the child exactly `environment` (a test that must control what is set:
    ///   `make test` exports the Makefile's development values to every test).
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
         currentDirectory: URL? = nil, inheriting: Bool = true) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("herald-child-\(UUID().uuidString)")
        stdoutFile = base.appendingPathExtension("out")
        stderrFile = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = inheriting ? ProcessInfo.processInfo.environment.merging(environment) { _, new in new } : environment
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end, up to `timeout`; kills it (SIGKILL) if it is still running then.
    @discardableResult
    func wait(timeout: Duration = .seconds(120)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            signal(SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
        return process.terminationStatus
    }

    /// What it wrote so far.
    func output() -> (stdout: String, stderr: String) {
        let out = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        return (out, err)
    }

    /// Waits until standard output holds a line starting with `prefix`; returns the rest of it.
    func line(startingWith prefix: String, timeout: Duration = startupTimeout) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output().stdout.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            if !process.isRunning { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stdoutFile)
        try? FileManager.default.removeItem(at: stderrFile)
    }
}
