import ArgumentParser
import Foundation
import HeraldCore

struct Enroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enroll leads into sequences from a JSON, JSON array or NDJSON file (- for standard input).",
        discussion: """
            Each item is {"enroll": SEQUENCE, "key": KEY, "to": {...}, "data": {...}, "campaign": ...}. \
            Prints one result per item: enrolled, duplicate (the key is enrolled already), or rejected \
            with the field at fault; valid items are enrolled even when others are rejected. Each \
            step becomes an ordinary message when it is due (herald run). Exits 1 when any item was \
            rejected or the input could not be read or written to the end.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The file to read, or - for standard input.")
    var file: String

    @Flag(help: "Print results as NDJSON.")
    var json = false

    func run() async throws {
        let logger = options.bootstrapLogging()
        let config = try options.loadConfig()
        try await options.withQueue(config) { queue in
            let templates = config.templateStore(logger: logger)
            let messages = MessageValidation(config: config, templates: templates)
            // Enrollments only: a message line here is a mistake, not something to send.
            let validation = IntakeValidation(messages: nil, enrollments: EnrollmentValidation(
                messages: messages, sequences: config.sequenceStore(templates: templates), timeZone: config.timezone,
                events: config.eventLog))
            try await InputRun(command: "enroll", file: file, json: json, logger: logger).run(queue: queue, validation: validation)
        }
    }
}
