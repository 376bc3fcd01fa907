import ArgumentParser
import Foundation
import HeraldCore

struct LettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "letters", abstract: "Direct-mail batches: list, inspect, close, re-upload.",
        subcommands: [List.self, Show.self, Close.self, RetryUpload.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest letter batches, with state and upload.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "How many batches.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            let batches = try await options.withQueue(config) { try await $0.letterBatches(limit: limit) }
            if json { return try printJSON(batches) }
            print("batch".padding(toLength: 19, withPad: " ", startingAt: 0) + "state".padding(toLength: 9, withPad: " ", startingAt: 0)
                  + "letters".leftPadded(8) + "  created (UTC)        closed (UTC)         upload")
            for batch in batches {
                var upload = batch.uploadState?.rawValue ?? "-"
                if batch.uploadState == .pending || batch.uploadState == .failed, batch.uploadAttempts > 0 {
                    upload += " (\(batch.uploadAttempts) attempts)"
                }
                print(batch.name.padding(toLength: 19, withPad: " ", startingAt: 0)
                      + batch.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                      + String(batch.letters).leftPadded(8)
                      + "  " + shortTime(batch.createdAt) + "  " + (batch.closedAt.map(shortTime) ?? "-").padding(toLength: 21, withPad: " ", startingAt: 0)
                      + upload)
            }
            if batches.isEmpty { print("no letter batches yet") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One batch: its files (the CSV's hash checked against the manifest), upload and letters.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The batch name, e.g. 2026-11-22-000003.") var batch: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            try await options.withQueue(config) { queue in
                guard let found = try await queue.letterBatch(named: batch) else {
                    throw CommandFailure("no letter batch \"\(batch)\" (see herald letters list)")
                }
                let letters = try await queue.letters(inBatch: found.id)
                if json { return try printJSON(["batch": AnyEncodable(found), "letters": AnyEncodable(letters)]) }
                let folder = config.resolve(config.letter?.exportDir ?? "var/letters")
                print("batch:     \(found.name) (\(found.state.rawValue)), \(found.letters) letters")
                print("created:   \(Timestamp.rfc3339(found.createdAt))")
                if let closed = found.closedAt { print("closed:    \(Timestamp.rfc3339(closed))") }
                if found.state == .closed {
                    let csv = folder.appendingPathComponent(found.csvFileName)
                    let check: String
                    if let sha = LetterExport.sha256(of: csv) {
                        check = sha == found.sha256 ? "matches" : "DIFFERS: the file's is \(sha)"
                    } else {
                        check = "the file is missing"
                    }
                    print("csv:       \(csv.path) (\(found.bytes ?? 0) bytes)")
                    print("manifest:  \(folder.appendingPathComponent(found.manifestFileName).path)")
                    print("sha256:    \(found.sha256 ?? "-") (\(check))")
                }
                if let upload = found.uploadState {
                    var line = "upload:    \(upload.rawValue), \(found.uploadAttempts) attempts"
                    if let next = found.uploadNextAt, upload == .pending { line += ", next \(Timestamp.rfc3339(next))" }
                    print(line)
                    if let error = found.uploadError { print("           last error: \(error)") }
                }
                print("")
                for (index, letter) in letters.enumerated() {
                    let place = [letter.city, letter.region, letter.postalCode, letter.country].filter { !$0.isEmpty }.joined(separator: " ")
                    print("\(String(index + 1).leftPadded(5))  \(letter.key ?? "msg_\(letter.messageID)")  \(letter.name), \(place)")
                }
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close the open batch now, whatever its size and age (and finish any half-closed one).")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let logger = options.bootstrapLogging()
            let config = try options.loadConfig()
            try await options.withQueue(config) { queue in
                guard let export = config.letterExport(queue: queue, logger: logger) else {
                    throw CommandFailure("channels.letter is not configured")
                }
                let closed = try await export.closeDue(openedBefore: nil)
                print(closed == 0 ? "no open batch holds letters" : "closed \(closed) batch\(closed == 1 ? "" : "es")")
            }
        }
    }

    struct RetryUpload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry-upload", abstract: "Upload a closed batch again on the next round of `herald run`.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The batch name.") var batch: String

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            guard config.letter?.upload != nil else { throw CommandFailure("channels.letter.upload is not configured") }
            guard try await options.withQueue(config, { try await $0.retryUpload(named: batch) }) else {
                throw CommandFailure("no closed batch \"\(batch)\" with an upload (see herald letters list)")
            }
            print("\(batch): upload queued")
        }
    }
}

/// `2026-11-22 20:29:10`: fixed width, for tables.
func shortTime(_ milliseconds: Int64) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Timestamp.date(milliseconds))
    return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
}

/// Type erasure for printing mixed values as one JSON object.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
