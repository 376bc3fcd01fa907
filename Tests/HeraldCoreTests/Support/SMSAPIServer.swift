import Foundation

/// Tests/Servers/sms_api.py: a Twilio-compatible API and a generic JSON gateway, started on
/// 127.0.0.1 for one test and stopped by PID.
final class SMSAPIServer: @unchecked Sendable {
    struct Request: Decodable {
        var path: String
        var status: Int
        var t: Double
        var auth_ok: Bool
        var to: String
        var from: String?
        var body: String?
        var sid: String?
        var ref: String?
        /// Twilio's StatusCallback, as the sender asked for it.
        var callback: String?
    }

    static let account = "AC0123456789abcdef0123456789abcdef"
    static let token = "test-twilio-token-5f1c"

    let port: Int
    let log: URL
    private let child: ChildProcess

    init(folder: TemporaryFolder) async throws {
        log = folder.file("sms-api-\(UUID().uuidString.prefix(6)).ndjson")
        child = try ChildProcess(SupportPaths.python, [
            SupportPaths.servers.appendingPathComponent("sms_api.py").path,
            "--account", Self.account, "--token", Self.token, "--log", log.path,
        ])
        guard let text = await child.line(startingWith: "PORT "), let port = Int(text) else {
            throw ServerError.didNotStart(child.output().stderr)
        }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func requests() throws -> [Request] {
        guard let data = try? Data(contentsOf: log) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Request.self, from: Data($0)) }
    }

    func stop() async {
        child.signal(SIGTERM)
        await child.wait(timeout: .seconds(5))
    }

    enum ServerError: Error {
        case didNotStart(String)
    }
}
