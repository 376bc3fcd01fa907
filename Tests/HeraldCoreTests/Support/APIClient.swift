import Foundation
@testable import HeraldCore

/// A real HTTP client for Herald's API: Debian's curl, over the unix socket or TCP.
struct APIClient {
    enum Target {
        case socket(String)
        case tcp(port: Int)
    }

    struct Response {
        var status: Int
        var body: String
        /// Header names lower-cased.
        var headers: [String: String]

        var json: JSONValue? { try? JSONValue.parse(Data(body.utf8)) }

        /// The body's NDJSON lines, parsed.
        var lines: [JSONValue] {
            body.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)) }
        }
    }

    let target: Target
    var token: String?
    let scratch: TemporaryFolder

    init(_ target: Target, token: String? = nil) throws {
        self.target = target
        self.token = token
        scratch = try TemporaryFolder("herald-api-client")
    }

    func get(_ path: String, headers: [String] = []) async throws -> Response {
        try await request("GET", path, headers: headers)
    }

    func post(_ path: String, json: String, headers: [String] = []) async throws -> Response {
        try await request("POST", path, body: Data(json.utf8), headers: ["Content-Type: application/json"] + headers)
    }

    func post(_ path: String, ndjson lines: [String]) async throws -> Response {
        try await request("POST", path, body: Data((lines.joined(separator: "\n") + "\n").utf8),
                          headers: ["Content-Type: application/x-ndjson"])
    }

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String] = []) async throws -> Response {
        let id = UUID().uuidString.prefix(8)
        let bodyFile = scratch.file("\(id).out"), headerFile = scratch.file("\(id).headers")
        // -X HEAD would wait for the body the headers announce; -I asks for none.
        var arguments = ["-sS"] + (method == "HEAD" ? ["-I"] : ["-X", method])
            + ["-o", bodyFile.path, "-D", headerFile.path, "-w", "%{http_code}", "-H", "Expect:"]
        let url: String
        switch target {
        case .socket(let socket):
            arguments += ["--unix-socket", socket]
            url = "http://herald\(path)"
        case .tcp(let port):
            url = "http://127.0.0.1:\(port)\(path)"
        }
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        for header in headers { arguments += ["-H", header] }
        if let body {
            let file = scratch.file("\(id).body")
            try body.write(to: file)
            // -T streams the file as it reads it, the way a CRM streams a long NDJSON batch.
            arguments += ["-T", file.path]
        }
        let child = try ChildProcess("/usr/bin/curl", arguments + [url])
        let exit = await child.wait(timeout: .seconds(120))
        let output = child.output()
        guard exit == 0, let status = Int(output.stdout) else {
            throw ClientError.failed(exit, output.stderr)
        }
        var headerFields: [String: String] = [:]
        for line in ((try? String(contentsOf: headerFile, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headerFields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, body: (try? String(contentsOf: bodyFile, encoding: .utf8)) ?? "", headers: headerFields)
    }

    enum ClientError: Error {
        case failed(Int32, String)
    }
}
