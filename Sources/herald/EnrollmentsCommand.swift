import ArgumentParser
import Foundation
import HeraldCore

struct EnrollmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrollments", abstract: "Leads in drip sequences: list, inspect, end.",
        subcommands: [List.self, Show.self, Exit.self])

    static func state(_ text: String?) throws -> EnrollmentProgress.State? {
        guard let text else { return nil }
        guard let state = EnrollmentProgress.State(rawValue: text) else {
            throw ValidationError("--state: expected active, completed or exited, got \"\(text)\"")
        }
        return state
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enrollments in the order they were made.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this sequence.") var sequence: String?
        @Option(help: "Only active, completed or exited ones.") var state: String?
        @Option(help: "Only ids after this one (to page on from the last line).") var after: Int64 = 0
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            let filter = EnrollmentFilter(sequence: sequence, state: try EnrollmentsCommand.state(state), after: after)
            let found = try await options.withQueue(config) { try await $0.enrollments(filter, limit: max(1, limit)) }
            for enrollment in found {
                if json {
                    try printJSONLine(EnrollmentLine(enrollment))
                } else {
                    let state = enrollment.state == .exited ? "exited:\(enrollment.exitReason ?? "-")" : enrollment.state.rawValue
                    print([String(enrollment.id).leftPadded(7), "  ", shortTime(enrollment.startedAt), "  ",
                           enrollment.sequence, "@", enrollment.version, "  ", state.padding(toLength: 20, withPad: " ", startingAt: 0),
                           " step ", String(enrollment.nextStep), "  ", enrollment.key].joined())
                }
            }
            if found.isEmpty && !json { print("no enrollments match") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One enrollment: where it stands, and each step of its version with its message's state.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The enrollment's key.") var key: String

        func run() async throws {
            _ = options.bootstrapLogging()
            let (config, store) = try SequencesCommand.store(options)
            try await options.withQueue(config) { queue in
                guard let enrollment = try await queue.enrollment(key: key) else {
                    throw ValidationError("no enrollment with key \"\(key)\"")
                }
                print("\(enrollment.key)  (id \(enrollment.id))")
                print("  sequence   \(enrollment.sequence), version \(enrollment.version)")
                let state = enrollment.state == .exited ? "exited (\(enrollment.exitReason ?? "-"))" : enrollment.state.rawValue
                print("  state      \(state)")
                print("  enrolled   \(Timestamp.rfc3339(enrollment.startedAt))\(enrollment.round > 1 ? ", round \(enrollment.round)" : "")")
                if let ended = enrollment.endedAt { print("  ended      \(Timestamp.rfc3339(ended))") }
                if let due = enrollment.nextDue { print("  next look  \(Timestamp.rfc3339(due))") }
                let definition: SequenceDefinition?
                if let current = store.sequence(named: enrollment.sequence), current.version == enrollment.version {
                    definition = current
                } else if let text = try await queue.sequenceVersion(enrollment.sequence, version: enrollment.version) {
                    definition = try? store.parse(text, name: enrollment.sequence)
                } else {
                    definition = nil
                }
                guard let definition else {
                    print("  (its version does not load today: herald sequences check)")
                    return
                }
                print("  steps")
                for (index, step) in definition.steps.enumerated() {
                    let message = try await queue.message(step.messageKey(enrollment: enrollment.key, round: enrollment.round))
                    let standing: String
                    if let message {
                        standing = "\(message.state.rawValue), due \(Timestamp.rfc3339(message.dueAt)), \(message.attemptCount) attempts"
                    } else {
                        standing = index < enrollment.nextStep ? "no message" : "not queued yet"
                    }
                    print("    \(index + 1) \(step.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(step.template)  \(standing)")
                }
            }
        }
    }

    struct Exit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End an active enrollment, as the CRM's POST /v1/enrollments/{key}/exit does.",
            discussion: "Its step message still queued is canceled with it; one being sent goes out and is not tried again.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The enrollment's key.") var key: String
        @Option(help: "Why: \(GoalName.rule).") var reason = "operator"

        func validate() throws {
            guard GoalName.isValid(reason) else { throw ValidationError("--reason: \(GoalName.rule), got \"\(reason)\"") }
        }

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            let exits = try await options.withQueue(config) {
                try await $0.exitEnrollments(.key(key), reason: reason, reporting: config.eventLog, now: Timestamp.now())
            }
            guard let exit = exits.first else {
                FileHandle.standardError.write(Data("enrollments: no active enrollment with key \"\(key)\"\n".utf8))
                throw ExitCode(1)
            }
            var line = "\(exit.key): exited (\(reason))"
            if let canceled = exit.canceledStep { line += "; its queued step \(canceled) canceled" }
            if let inFlight = exit.stepInFlight { line += "; its step \(inFlight) was being sent and goes out" }
            print(line)
        }
    }
}

/// An enrollment as `herald enrollments list --json` prints it.
private struct EnrollmentLine: Encodable {
    let id: Int64
    let key: String
    let sequence: String
    let version: String
    let state: String
    let exit_reason: String?
    let started_at: String
    let round: Int
    let next_step: Int
    let next_due: String?
    let ended_at: String?
    let awaiting: String?
    let awaiting_state: String?

    init(_ enrollment: EnrollmentDetail) {
        id = enrollment.id
        key = enrollment.key
        sequence = enrollment.sequence
        version = enrollment.version
        state = enrollment.state.rawValue
        exit_reason = enrollment.exitReason
        started_at = Timestamp.rfc3339(enrollment.startedAt)
        round = enrollment.round
        next_step = enrollment.nextStep
        next_due = enrollment.nextDue.map(Timestamp.rfc3339)
        ended_at = enrollment.endedAt.map(Timestamp.rfc3339)
        awaiting = enrollment.awaitingKey
        awaiting_state = enrollment.awaitingState?.rawValue
    }
}
