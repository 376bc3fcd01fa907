import Foundation

/// Tests/Servers/faulty_smtp.py or faulty_http.py: a server that misbehaves in one chosen way,
/// started on 127.0.0.1 for one test and stopped by PID.
final class FaultyServer: @unchecked Sendable {
    struct Event: Decodable {
        var event: String?
        var path: String?
        var verb: String?
        var t: Double
    }

    let port: Int
    let log: URL
    private let child: ChildProcess

    /// - Parameter smtpFault: one of faulty_smtp.py's faults; nil starts the HTTP server, whose
    ///   fault is chosen by the request's path.
    init(folder: TemporaryFolder, smtpFault: String? = nil, delay: Double = 3) async throws {
        log = folder.file("faulty-\(UUID().uuidString.prefix(6)).ndjson")
        var arguments: [String]
        if let smtpFault {
            arguments = [SupportPaths.servers.appendingPathComponent("faulty_smtp.py").path, "--fault", smtpFault,
                         "--delay", String(delay)]
        } else {
            arguments = [SupportPaths.servers.appendingPathComponent("faulty_http.py").path]
        }
        arguments += ["--log", log.path]
        child = try ChildProcess(SupportPaths.python, arguments)
        guard let text = await child.line(startingWith: "PORT "), let port = Int(text) else {
            throw SMTPServer.ServerError.didNotStart(child.output().stderr)
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func events() throws -> [Event] {
        guard let data = try? Data(contentsOf: log) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n")
            .map { try JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    func stop() async {
        child.signal(SIGTERM)
        await child.wait(timeout: .seconds(5))
    }
}
