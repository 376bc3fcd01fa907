import Foundation

/// Where the tests find what the package built and what it ships.
enum SupportPaths {
    /// The package root (this file is Tests/HeraldCoreTests/Support/SupportPaths.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let servers = packageRoot.appendingPathComponent("Tests/Servers")

    /// Debian's interpreter: the modules the test servers need are installed for it, and the
    /// `python3` first on PATH may be another one.
    static let python = "/usr/bin/python3"

    /// The `herald` executable `swift build` put beside the test bundle (or HERALD_BINARY).
    static var herald: URL {
        if let path = ProcessInfo.processInfo.environment["HERALD_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("herald")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/herald")
    }
}
