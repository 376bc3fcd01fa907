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

    /// Reads and validates the config; the error names the file and the key at fault.
    func loadConfig() throws -> HeraldConfig {
        let file = URL(fileURLWithPath: config)
        do {
            return try HeraldConfig.load(from: file)
        } catch let error as ConfigError {
            throw ConfigFileError(file: config, error: error)
        }
    }

    /// Sends swift-log output to standard error at the chosen level; returns the root logger.
    func bootstrapLogging(label: String = "herald") -> Logger {
        let name = logLevel ?? ProcessInfo.processInfo.environment["HERALD_LOG_LEVEL"] ?? "info"
        let level = Logger.Level(rawValue: name.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }

    /// Opens the queue database, creating it when there is none, and says so: a queue created
    /// by mistake (a wrong `--config`, a file removed under a running `herald run`) is a queue
    /// that nobody delivers from.
    func openQueue(_ config: HeraldConfig) throws -> MessageQueue {
        let queue = try MessageQueue(path: config.resolve(config.databasePath).path)
        if queue.created {
            FileHandle.standardError.write(Data("herald: created a new, empty queue database at \(queue.path)\n".utf8))
        }
        return queue
    }
}

struct ConfigFileError: Error, CustomStringConvertible {
    let file: String
    let error: ConfigError
    var description: String { "\(file): \(error)" }
}
