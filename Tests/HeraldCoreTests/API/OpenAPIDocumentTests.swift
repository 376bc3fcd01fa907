import Foundation
import Logging
import Testing
import Yams
@testable import HeraldCore

/// docs/openapi.yaml against the server: the same routes, and every answer a documented status.
@Suite("OpenAPI document", .serialized)
struct OpenAPIDocumentTests {
    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
    }

    static func document() throws -> [Operation: Set<Int>] {
        let text = try String(contentsOf: SupportPaths.packageRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(root["openapi"] as? String == "3.1.0")
        let paths = try #require(root["paths"] as? [String: [String: Any]])
        var operations: [Operation: Set<Int>] = [:]
        for (path, item) in paths {
            for method in ["get", "head", "post", "put", "delete", "patch"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let responses = try #require(operation["responses"] as? [AnyHashable: Any], "\(method) \(path)")
                operations[Operation(method: method.uppercased(), path: path)] = Set(responses.keys.compactMap { Int("\($0)") })
            }
        }
        return operations
    }

    @Test("every route the router serves is documented, and every documented route is served")
    func sameRoutes() throws {
        let fixture = try HeraldFixture(endpoints: ["ok": "http://127.0.0.1:9/"])
        let api = HeraldAPI(queue: fixture.queue, config: fixture.config, validation: { IntakeValidation(messages: MessageValidation(config: fixture.config)) },
                            metrics: DeliveryMetrics(), logger: Logger(label: "test"))
        // The console's HTML pages (/console…) are for people, not part of the API document.
        let served = Set(api.router(token: nil).routes.filter { !"\($0.path)".hasPrefix("console") && !"\($0.path)".hasPrefix("/console") }.map { route in
            // The unsubscribe pages live under unsubscribe.base_url's path; the document uses the default.
            var path = "\(route.path)".replacingOccurrences(of: api.unsubscribePath + "/", with: "/unsubscribe/")
            path = path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return Operation(method: "\(route.method)", path: "/" + path)
        })
        let documented = Set(try Self.document().keys)
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented))")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served))")
        #expect(served.count == 25)
    }

    @Test("each documented operation answers the running server with a documented status; JSON errors have error and reason")
    func documentedStatuses() async throws {
        let fixture = try HeraldFixture(endpoints: ["ok": "http://127.0.0.1:9/"], topLevel: "intake: {drop_folder: off}")
        let run = try await SocketAPITests.start(fixture)
        defer { run.signal(SIGKILL) }
        let client = try APIClient(.socket(fixture.folder.file("var/herald.sock").path))
        let samples = ["{reference}": "999999", "{channel}": "email", "{address}": "nobody@example.com", "{token}": "abc.def"]
        for (operation, statuses) in try Self.document().sorted(by: { $0.key.description < $1.key.description }) {
            var path = operation.path.replacingOccurrences(of: "/unsubscribe/", with: "/u/")
            for (placeholder, value) in samples { path = path.replacingOccurrences(of: placeholder, with: value) }
            let body: Data? = operation.method == "POST" ? Data("{}".utf8) : nil
            let response = try await client.request(operation.method, path, body: body,
                                                    headers: body == nil ? [] : ["Content-Type: application/json"])
            #expect(statuses.contains(response.status), "\(operation) answered \(response.status), documented \(statuses.sorted()): \(response.body.prefix(200))")
            // 422 is a rejected message's result (a Result, naming the field), not an error; HEAD has no body.
            if response.status >= 400, response.status != 422, operation.method != "HEAD", response.headers["content-type"] == "application/json" {
                #expect(response.json?["error"]?.string != nil && response.json?["reason"]?.string != nil, "\(operation): \(response.body)")
            }
        }
    }
}
