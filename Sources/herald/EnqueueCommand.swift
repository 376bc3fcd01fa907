import ArgumentParser
import Foundation
import HeraldCore
import Logging

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue messages from a JSON, JSON array, NDJSON or CSV file (- for standard input).",
        discussion: """
            Prints one result per message: queued, duplicate (the key exists), or rejected with the \
            field at fault. Valid messages are queued even when others in the same input are rejected. \
            A line {"enroll": SEQUENCE, ...} enrolls a lead instead (see herald enroll). \
            Exits 1 when any message was rejected, or when the input could not be read or written to \
            the end: the results printed and the summary are then what was committed, and the \
            summary names the first line that was not.
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
            let validation = IntakeValidation(config: config, templates: templates,
                                              sequences: config.sequenceStore(templates: templates))
            try await InputRun(command: "enqueue", file: file, json: json, logger: logger).run(queue: queue, validation: validation)
        }
    }
}

/// Reads one input file through the queue for `herald enqueue` and `herald enroll`: one result
/// line per item, a summary on stderr, and exit 1 when anything was rejected or not committed.
struct InputRun {
    let command: String
    let file: String
    let json: Bool
    let logger: Logger

    func run(queue: any MessageQueue, validation: IntakeValidation) async throws {
        let handle: FileHandle
        if file == "-" {
            handle = .standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: file) else {
                throw ValidationError("cannot open \(file)")
            }
            handle = opened
        }

        var totals: [EnqueueResult.Status: Int] = [:]
        var seen = 0
        var output = StandardOutput()
        let batches = InputBatches(handle, format: file.lowercased().hasSuffix(".csv") ? .csv : .json)
        // Where the batch that could not be committed began; everything before it is committed.
        var uncommittedFrom: InputPosition?
        var stopped: (any Error)?
        do {
            try await batches.forEach { items in
                let results: [EnqueueResult]
                do {
                    results = try await queue.enqueue(items, validation: validation)
                } catch {
                    uncommittedFrom = items.first?.position
                    throw error
                }
                for result in results {
                    totals[result.status, default: 0] += 1
                    output.write(json ? ResultFormat.json(result) : ResultFormat.text(result))
                }
                let before = seen
                seen += items.count
                if seen / 100_000 > before / 100_000 {
                    logger.info("\(command) progress", metadata: ["read": "\(seen)"])
                }
            }
        } catch {
            stopped = error
        }
        // Always the results and the summary, also after a failure: a CRM that cannot tell what
        // was committed would send everything again, duplicating what has no key.
        output.flush()
        // enqueue's summary names enrollments only when there were some, so scripts reading it see no change.
        let shown = EnqueueResult.Status.allCases.filter { command == "enroll" ? $0 != .queued : $0 != .enrolled || totals[$0] != nil }
        let summary = shown.map { "\(totals[$0, default: 0]) \($0.rawValue)" }
        FileHandle.standardError.write(Data("\(command): \(summary.joined(separator: ", "))\n".utf8))
        if let stopped {
            let verb = command == "enroll" ? "enrolled" : "queued"
            let from = uncommittedFrom.map { "from \($0) on, nothing was \(verb)" } ?? "the rest of the input was not read"
            FileHandle.standardError.write(Data("""
                \(command): stopped: \(stopped)
                \(command): the results above are all that was \(verb); \(from)

                """.utf8))
            throw ExitCode(1)
        }
        if totals[.rejected, default: 0] > 0 { throw ExitCode(1) }
    }
}

/// Buffered standard output: results of a million-line file should not cost a write each.
struct StandardOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

enum ResultFormat {
    static func text(_ result: EnqueueResult) -> String {
        var line = "\(result.position): \(result.status.rawValue)"
        if let id = result.id { line += " id=\(id)" }
        if let key = result.key { line += " key=\(key)" }
        if let reason = result.reason { line += " \(reason)" }
        return line
    }

    static func json(_ result: EnqueueResult) -> String {
        var object: [String: JSONValue] = ["status": .string(result.status.rawValue)]
        switch result.position {
        case .line(let number): object["line"] = .integer(Int64(number))
        case .item(let number): object["item"] = .integer(Int64(number))
        }
        if let id = result.id { object["id"] = .integer(id) }
        if let key = result.key { object["key"] = .string(key) }
        if let reason = result.reason { object["reason"] = .string(reason) }
        return JSONValue.object(object).jsonText
    }
}
