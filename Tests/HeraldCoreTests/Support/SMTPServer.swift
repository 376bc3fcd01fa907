import Foundation

/// Tests/Servers/smtp_server.py (aiosmtpd), started on 127.0.0.1 for one test and stopped by PID.
final class SMTPServer: @unchecked Sendable {
    struct Message: Decodable {
        var peer: String
        var tls: Bool
        var mail_from: String
        var rcpt_tos: [String]
        var subject: String
        var from: String
        var to: String
        var reply_to: String?
        var message_id: String
        var date: String
        var list_unsubscribe: String?
        var list_unsubscribe_post: String?
        var content_type: String
        var text: String?
        var html: String?
        var defects: [String]
        var longest_line: Int
        /// Every top-level header, by its name as written (the last of a repeated one).
        var headers: [String: String]?
    }

    private struct Event: Decodable {
        var event: String
        var peer: String
    }

    let port: Int
    let log: URL
    private let child: ChildProcess

    /// - Parameters:
    ///   - tls: a certificate and key: the server offers STARTTLS and requires it.
    ///   - auth: `user:password` the server requires.
    ///   - rawFolder: also keep each message as received, `<n>.eml` in this folder.
    init(folder: TemporaryFolder, tls: (cert: URL, key: URL)? = nil, auth: String? = nil, rawFolder: URL? = nil) async throws {
        log = folder.file("smtp-\(UUID().uuidString.prefix(6)).ndjson")
        var arguments = [SupportPaths.servers.appendingPathComponent("smtp_server.py").path, "--log", log.path]
        if let rawFolder { arguments += ["--raw-folder", rawFolder.path] }
        if let tls { arguments += ["--tls-cert", tls.cert.path, "--tls-key", tls.key.path] }
        if let auth { arguments += ["--auth", auth] }
        child = try ChildProcess(SupportPaths.python, arguments)
        guard let text = await child.line(startingWith: "PORT "), let port = Int(text) else {
            throw ServerError.didNotStart(child.output().stderr)
        }
        self.port = port
    }

    /// Every message received so far, parsed by Python's email package.
    func messages() throws -> [Message] {
        try lines().filter { $0.contains(#""event": "message""#) }.map { try JSONDecoder().decode(Message.self, from: Data($0.utf8)) }
    }

    /// Distinct client connections (one EHLO or more each).
    func connections() throws -> Int {
        Set(try lines().map { try JSONDecoder().decode(Event.self, from: Data($0.utf8)) }.filter { $0.event == "ehlo" }.map(\.peer)).count
    }

    private func lines() throws -> [String] {
        guard let data = try? Data(contentsOf: log) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func stop() async {
        child.signal(SIGTERM)
        await child.wait(timeout: .seconds(5))
    }

    /// A self-signed certificate for 127.0.0.1 and localhost, made with openssl; it is its own CA.
    static func makeCertificate(in folder: TemporaryFolder) async throws -> (cert: URL, key: URL) {
        let cert = folder.file("smtp-cert.pem"), key = folder.file("smtp-key.pem")
        let openssl = try ChildProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", cert.path, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        guard await openssl.wait(timeout: .seconds(30)) == 0 else { throw ServerError.didNotStart(openssl.output().stderr) }
        return (cert, key)
    }

    enum ServerError: Error {
        case didNotStart(String)
    }
}
