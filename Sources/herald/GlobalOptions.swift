import ArgumentParser
import Foundation
import HeraldCore
import Logging

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The config file.")
    var config: String = "Config/herald.yaml"

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (or HERALD_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .long, help: "text (the default) or json: one JSON object per line, every field a key (or HERALD_LOG_FORMAT).")
    var logFormat: String?

    func validate() throws {
        let environment = ProcessInfo.processInfo.environment
        if let format = logFormat ?? environment["HERALD_LOG_FORMAT"], !["text", "json"].contains(format.lowercased()) {
            throw ValidationError("\(logFormat == nil ? "HERALD_LOG_FORMAT" : "--log-format"): expected text or json, got \"\(format)\"")
        }
        if let level = logLevel ?? environment["HERALD_LOG_LEVEL"], Logger.Level(rawValue: level.lowercased()) == nil {
            throw ValidationError("\(logLevel == nil ? "HERALD_LOG_LEVEL" : "--log-level"): expected trace, debug, info, notice, warning, error or critical, got \"\(level)\"")
        }
    }

    /// Reads and validates the config; the error names the file and the key at fault.
    func loadConfig() throws -> HeraldConfig {
        let file = URL(fileURLWithPath: config)
        do {
            return try HeraldConfig.load(from: file)
        } catch let error as ConfigError {
            throw ConfigFileError(file: config, error: error)
        }
    }

    /// Sends swift-log output to standard error at the chosen level and format; returns the root
    /// logger.
    func bootstrapLogging(label: String = "herald") -> Logger {
        let environment = ProcessInfo.processInfo.environment
        let name = logLevel ?? environment["HERALD_LOG_LEVEL"] ?? "info"
        let level = Logger.Level(rawValue: name.lowercased()) ?? .info
        let json = (logFormat ?? environment["HERALD_LOG_FORMAT"])?.lowercased() == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }

    /// Runs `body` with the queue the config names (SQLite creates an empty file when there is
    /// none, and says so; PostgreSQL's connections stay open only while `body` runs).
    func withQueue<T>(_ config: HeraldConfig, _ body: (any MessageQueue) async throws -> T) async throws -> T {
        // Every command has bootstrapped logging by now: the engine's lines take the chosen format.
        try await QueueDatabase.withQueue(config, logger: Logger(label: "herald"), body)
    }
}

struct ConfigFileError: Error, CustomStringConvertible {
    let file: String
    let error: ConfigError
    var description: String { "\(file): \(error)" }
}
