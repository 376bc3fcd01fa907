import Foundation
import Testing
@testable import HeraldCore

/// Which paths answer without the token: exact routes only, and a public path can never be
/// configured over an authenticated one.
@Suite("Public routes cannot shadow the API")
struct PublicRouteSetTests {
    @Test("an unsubscribe base URL under /v1, /console, /healthz, /metrics or /inbound is refused naming unsubscribe.base_url")
    func reservedBaseURLs() {
        for path in ["/v1", "/v1/", "/console", "/console/u", "/healthz", "/metrics", "/inbound/x"] {
            let yaml = """
                unsubscribe: {base_url: "http://127.0.0.1:18480\(path)", secret: "0123456789abcdef0123"}
                \(TotalParsingTests.minimalChannels)
                """
            do {
                _ = try HeraldConfig.parse(yaml: yaml, root: URL(fileURLWithPath: "/srv/herald"), environment: [:])
                Issue.record("\(path): accepted (on main it was, and /v1/* then answered without the token)")
            } catch {
                #expect(error.description.contains("unsubscribe.base_url"), "\(error.description)")
                #expect(error.description.contains("Herald's own"), "\(error.description)")
            }
        }
        // Paths of their own are fine, also ones that merely start with the same letters.
        for path in ["/u", "/unsubscribe", "/v1x", "/consoles", ""] {
            let yaml = """
                unsubscribe: {base_url: "https://crm.example.com\(path)", secret: "0123456789abcdef0123"}
                \(TotalParsingTests.minimalChannels)
                """
            #expect(throws: Never.self, "\(path)") {
                _ = try HeraldConfig.parse(yaml: yaml, root: URL(fileURLWithPath: "/srv/herald"), environment: [:])
            }
        }
    }

    @Test("exact matching: one token segment under the unsubscribe path, the exact public routes, nothing by prefix")
    func exactMatching() {
        let routes = PublicRouteSet(exact: ["/healthz", "/inbound/sms", "/console/login"], tokenUnder: ["/u"])
        for path in ["/healthz", "/inbound/sms", "/console/login", "/u/abc.def_-"] {
            #expect(routes.contains(path), "\(path)")
        }
        for path in ["/healthz/x", "/inbound", "/inbound/sms/x", "/console", "/console/login/x", "/console/failed",
                     "/u", "/u/", "/u/a/b", "/ux/abc", "/v1/stats", "/metrics"] {
            #expect(!routes.contains(path), "\(path)")
        }
    }
}
