import ArgumentParser
import Foundation
import HeraldCore
import Logging

struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "Move an installation's queue from its SQLite file to PostgreSQL.",
        discussion: """
            Copies every message (in every state), attempt, suppression, letter batch and letter, drop-folder record, \
            rate-limit schedule and frequency-cap contact from one consistent snapshot of the SQLite file into an empty \
            PostgreSQL database (migrated first). Stop `herald run` first: messages leased at the snapshot are copied \
            leased and go back to the queue when their leases expire. Then point `database:` at the PostgreSQL URL. \
            The password comes from the URL (${NAME} from the environment) or PGPASSWORD.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The SQLite queue file (default: the config's database).") var from: String?
    @Option(help: "postgres://user@host:5432/database[?sslmode=…]") var to: String

    func run() async throws {
        let logger = options.bootstrapLogging()
        let source: String
        if let from {
            source = from
        } else {
            let config = try options.loadConfig()
            guard config.postgres == nil else { throw ValidationError("the config's database is already PostgreSQL; give --from") }
            source = config.resolve(config.databasePath).path
        }
        guard FileManager.default.fileExists(atPath: source) else { throw ValidationError("--from: no SQLite file at \(source)") }
        let target: PostgresSettings
        do {
            guard let parsed = try PostgresSettings.parse(to, environment: ProcessInfo.processInfo.environment) else {
                throw ValidationError("--to: expected a postgres:// URL, got \"\(to.prefix(60))\"")
            }
            target = parsed
        } catch let error as ConfigError {
            throw ValidationError("--to: \(error.reason)")
        }
        let stderr = FileHandle.standardError
        var lastReport = ContinuousClock.now
        let counts = try await QueueDatabase.copy(fromSQLite: source, to: target, logger: logger) { table, soFar in
            guard ContinuousClock.now - lastReport >= .seconds(1) else { return }
            lastReport = ContinuousClock.now
            stderr.write(Data("copy: \(table.rawValue): \(soFar) rows\n".utf8))
        }
        for table in QueueTable.allCases {
            stderr.write(Data("copy: \(table.rawValue): \(counts[table, default: 0]) rows\n".utf8))
        }
        print("copied \(source) to \(target.location)")
    }
}
