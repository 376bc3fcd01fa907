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

    func run() async throws {
        let logger = options.bootstrapLogging()
        let config = try options.loadConfig()
        try await options.withQueue(config) { queue in
            let templates = config.templateStore(logger: logger)
            let validation = EnrollmentValidation(messages: MessageValidation(config: config, templates: templates),
                                                  sequences: config.sequenceStore(templates: templates), timeZone: config.timezone)
            let handle: FileHandle
            if file == "-" {
                handle = .standardInput
            } else {
                guard let opened = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot open \(file)") }
                handle = opened
            }
            var totals = ["enrolled": 0, "duplicate": 0, "rejected": 0]
            var output = StandardOutput()
            var stopped: (any Error)?
            do {
                try await InputBatches(handle, format: .json).forEach { items in
                    let now = Timestamp.now()
                    var accepted: [(index: Int, enrollment: NewEnrollment)] = []
                    var versions: [String: SequenceVersion] = [:]
                    var lines: [String] = []
                    for item in items {
                        switch item.value.flatMap({ validation.validate($0, now: now) }) {
                        case .success(let (enrollment, version)):
                            accepted.append((lines.count, enrollment))
                            versions["\(version.sequence)@\(version.version)"] = version
                            lines.append("\(item.position): ")
                        case .failure(let rejection):
                            totals["rejected", default: 0] += 1
                            lines.append("\(item.position): rejected \(rejection)")
                        }
                    }
                    let outcomes = try await queue.enroll(accepted.map(\.enrollment), versions: Array(versions.values), now: now)
                    for ((index, enrollment), outcome) in zip(accepted, outcomes) {
                        switch outcome {
                        case .enrolled(let id):
                            totals["enrolled", default: 0] += 1
                            lines[index] += "enrolled id=\(id) key=\(enrollment.key)"
                        case .duplicate(let id):
                            totals["duplicate", default: 0] += 1
                            lines[index] += "duplicate id=\(id) key=\(enrollment.key)"
                        }
                    }
                    for line in lines { output.write(line) }
                }
            } catch {
                stopped = error
            }
            output.flush()
            let summary = ["enrolled", "duplicate", "rejected"].map { "\(totals[$0, default: 0]) \($0)" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("enroll: \(summary)\n".utf8))
            if let stopped {
                FileHandle.standardError.write(Data("enroll: stopped: \(stopped); the results above are all that was enrolled\n".utf8))
                throw ExitCode(1)
            }
            if totals["rejected", default: 0] > 0 { throw ExitCode(1) }
        }
    }
}
