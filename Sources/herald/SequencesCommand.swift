import ArgumentParser
import Foundation
import HeraldCore
import Logging

struct SequencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequences", abstract: "Work with drip sequences (Sequences/NAME.yaml).", subcommands: [Check.self, Preview.self, Migrate.self])

    /// The config's sequences, checked against its templates, with template logging off.
    static func store(_ options: GlobalOptions) throws -> (HeraldConfig, SequenceStore) {
        let config = try options.loadConfig()
        let templates = config.templateStore(logger: .init(label: "herald.templates", factory: { _ in SwiftLogNoOpLogHandler() }))
        return (config, config.sequenceStore(templates: templates))
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every sequence file; report problems by file, line and key.",
            discussion: "Exits 1 when any file has a problem.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            _ = options.bootstrapLogging()
            let (config, store) = try SequencesCommand.store(options)
            for problem in store.problems { print(problem) }
            for sequence in store.sequences {
                print("\(sequence.name): \(sequence.steps.count) steps, version \(sequence.version)")
            }
            print("\(config.sequencesPath): \(store.sequences.count) sequences, \(store.problems.count) with problems")
            if !store.problems.isEmpty { throw ExitCode(1) }
        }
    }

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the calendar of every step for a lead enrolled at --start in --timezone.",
            discussion: """
                The dates are the ones Herald queues for an enrollment with this key: spreads such as
                after_previous: 2-3d are seeded by the enrollment key, so --key shows one lead's calendar.
                """)

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The sequence's name (its file under Sequences/ without .yaml).")
        var name: String

        @Option(help: "When the lead is enrolled, RFC 3339 (default: now).")
        var start: String?

        @Option(help: "The lead's IANA time zone (default: the config's timezone).")
        var timezone: String?

        @Option(help: "The enrollment key (seeds spread delays and windows).")
        var key = "preview"

        @Flag(help: "Print JSON lines, one per step.")
        var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            let (config, store) = try SequencesCommand.store(options)
            guard let sequence = store.sequence(named: name) else {
                if let problem = store.problems.first(where: { $0.file.hasSuffix("/\(name).yaml") }) {
                    throw ValidationError("sequence \"\(name)\" does not load: \(problem)")
                }
                let known = store.sequences.map(\.name).joined(separator: ", ")
                throw ValidationError("no sequence \"\(name)\" in \(config.sequencesPath)/ (there are: \(known.isEmpty ? "none" : known))")
            }
            let zoneName = timezone ?? config.timezone
            guard let zone = TimeZone(identifier: zoneName) else {
                throw ValidationError("--timezone: unknown IANA time zone \"\(zoneName)\"")
            }
            let enrolled: Int64
            if let start {
                guard let time = Timestamp.milliseconds(rfc3339: start) else {
                    throw ValidationError("--start: expected an RFC 3339 time such as 2026-12-04T16:30:00Z, got \"\(start)\"")
                }
                enrolled = time
            } else {
                enrolled = Timestamp.now()
            }
            let local = DateFormatter()
            local.locale = Locale(identifier: "en_US_POSIX")
            local.timeZone = zone
            local.dateFormat = "EEE yyyy-MM-dd HH:mm zzz"
            let schedule = sequence.schedule(start: enrolled, key: key, timeZone: zone)
            if json {
                for (index, item) in schedule.enumerated() {
                    let line: [String: Any] = [
                        "step": index + 1, "name": item.step.name, "due": Timestamp.rfc3339(item.due),
                        "local": local.string(from: Timestamp.date(item.due)), "template": item.step.template,
                        "channel": item.step.channel.rawValue, "category": item.step.category.rawValue,
                    ]
                    let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            print("\(sequence.name) (version \(sequence.version)), enrolled \(local.string(from: Timestamp.date(enrolled))), key \(key)")
            let rows = [["step", "due (UTC)", "local", "template", "channel"]] + schedule.enumerated().map { index, item in
                ["\(index + 1) \(item.step.name)", Timestamp.rfc3339(item.due), local.string(from: Timestamp.date(item.due)),
                 item.step.template, item.step.channel.rawValue]
            }
            let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces))
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a sequence's active enrollments on older versions to the file's current version.",
            discussion: """
                By default an edit changes only later enrollments. This moves the earlier ones, matching \
                steps by name: a step a lead already had is never sent again, a step added before its \
                place is not back-filled, a removed step is never sent (its message still queued is \
                canceled). --dry-run prints the same counts and changes nothing. Safe while herald run runs.
                """)

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The sequence's name (its file under Sequences/ without .yaml).")
        var name: String

        @Flag(help: "Show how many enrollments would move and where each lands; change nothing.")
        var dryRun = false

        func run() async throws {
            let logger = options.bootstrapLogging()
            let (config, store) = try SequencesCommand.store(options)
            guard store.sequence(named: name) != nil else {
                if let problem = store.problems.first(where: { $0.file.hasSuffix("/\(name).yaml") }) {
                    throw ValidationError("sequence \"\(name)\" does not load: \(problem)")
                }
                throw ValidationError("no sequence \"\(name)\" in \(config.sequencesPath)/")
            }
            let report = try await options.withQueue(config) { queue in
                try await store.migrate(name, queue: queue, dryRun: dryRun, now: Timestamp.now())
            }
            let total = report.groups.reduce(0) { $0 + $1.count }
            print("\(name): \(total) active enrollments on older versions; the current version is \(report.version)")
            for group in report.groups {
                let canceled = group.cancelsAwaiting ? ", its removed step's queued message canceled" : ""
                print("  \(group.count) on \(group.fromVersion), \(group.from) -> \(group.to)\(canceled)")
            }
            for version in report.unreadable {
                print("  \(version.count) on \(version.version) stay: that version does not load today (\(version.reason))")
            }
            if dryRun {
                print("dry run: \(report.moved) would move; nothing was changed")
            } else {
                print("moved \(report.moved) to version \(report.version)")
                if report.skipped > 0 {
                    print("\(report.skipped) moved along meanwhile and were left as they are; run migrate again for them")
                }
                logger.notice("sequence migrated", metadata: ["sequence": "\(name)", "version": "\(report.version)", "moved": "\(report.moved)"])
            }
        }
    }
}
