import Foundation

/// docs/events.schema.json, applied by Python's jsonschema to events a test received.
enum EventSchema {
    /// One line per event that does not conform; empty when all do.
    static func problems(_ payloads: [String]) async throws -> [String] {
        let scratch = try TemporaryFolder("herald-event-schema")
        let input = scratch.file("events.ndjson")
        try Data(payloads.joined(separator: "\n").utf8).write(to: input)
        let child = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" \"$1\" \"$2\" < \"$3\"", SupportPaths.python,
                                                 SupportPaths.servers.appendingPathComponent("check_events.py").path,
                                                 SupportPaths.packageRoot.appendingPathComponent("docs/events.schema.json").path, input.path])
        let status = await child.wait(timeout: .seconds(60))
        let output = child.output()
        guard status == 0 || status == 1 else { throw TestFailure("check_events.py exited \(status): \(output.stderr)") }
        return output.stdout.split(separator: "\n").map(String.init)
    }
}
