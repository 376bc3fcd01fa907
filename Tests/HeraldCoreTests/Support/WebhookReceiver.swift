import Foundation

/// Tests/Servers/webhook_receiver.py, started on 127.0.0.1 for one test and stopped by PID.
final class WebhookReceiver: @unchecked Sendable {
    struct Request: Decodable {
        var id: String
        var path: String
        var verified: Bool
        var status: Int
        var t: Double
        var body: String
    }

    static let secret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 & 0xFF) }).base64EncodedString()

    let port: Int
    let log: URL
    private let child: ChildProcess

    /// - Parameters:
    ///   - namespace: run inside this network namespace (made by the test), listening on all its
    ///     addresses; on 127.0.0.1 of this one when nil.
    ///   - anyTimestamp: accept signed requests whatever their timestamp (senders on a test clock).
    init(folder: TemporaryFolder, namespace: String? = nil, anyTimestamp: Bool = false) async throws {
        log = folder.file("received-\(UUID().uuidString.prefix(6)).ndjson")
        let script = [SupportPaths.servers.appendingPathComponent("webhook_receiver.py").path, "--secret", Self.secret, "--log", log.path]
            + (anyTimestamp ? ["--any-timestamp"] : [])
        if let namespace {
            child = try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace, SupportPaths.python] + script + ["--host", "0.0.0.0"])
        } else {
            child = try ChildProcess(SupportPaths.python, script)
        }
        guard let text = await child.line(startingWith: "PORT "), let port = Int(text) else {
            throw ReceiverError.didNotStart(child.output().stderr)
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request received so far, in arrival order.
    func requests() throws -> [Request] {
        guard let data = try? Data(contentsOf: log) else { return [] }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(Request.self, from: Data($0)) }
    }

    func stop() async {
        child.signal(SIGTERM)
        await child.wait(timeout: .seconds(5))
    }

    enum ReceiverError: Error {
        case didNotStart(String)
    }
}
