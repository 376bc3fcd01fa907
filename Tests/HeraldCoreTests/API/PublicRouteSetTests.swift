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

    @Test("tracking: a base URL under Herald's own paths is refused naming tracking.base_url; tracking without events, or with both switches off, is refused; the pixel and link routes are public one token deep")
    func trackingConfig() throws {
        func parse(_ tracking: String, events: Bool = true) throws -> HeraldConfig {
            try HeraldConfig.parse(yaml: "\(events ? "events: {}\n" : "")tracking: \(tracking)\n\(TotalParsingTests.minimalChannels)",
                                   root: URL(fileURLWithPath: "/srv/herald"), environment: [:])
        }
        for (tracking, events, expected) in [
            (#"{base_url: "https://crm.example.com/v1/t", secret: "0123456789abcdef0123"}"#, true, "tracking.base_url"),
            (#"{base_url: "https://crm.example.com/t", secret: "0123456789abcdef0123"}"#, false, "add an events section"),
            (#"{base_url: "https://crm.example.com/t", secret: "0123456789abcdef0123", opens: off, clicks: off}"#, true, "both off"),
            (#"{base_url: "https://crm.example.com/t", secret: "short"}"#, true, "tracking.secret: must be at least 16 bytes"),
            (#"{base_url: "https://crm.example.com/t"}"#, true, "secret is required"),
        ] {
            do {
                _ = try parse(tracking, events: events)
                Issue.record("\(tracking): accepted")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        let config = try parse(#"{base_url: "https://crm.example.com/track/", secret: "0123456789abcdef0123", machine_window: 30s}"#)
        #expect(config.tracking?.path == "/track" && config.tracking?.machineWindow == .seconds(30) && config.tracking?.links.opens == true)
        let api = HeraldAPI(queue: try SQLiteQueue(path: try TemporaryFolder().file("q.sqlite").path), config: config,
                            validation: { IntakeValidation(messages: MessageValidation(config: config)) }, metrics: DeliveryMetrics(), logger: .init(label: "test"))
        #expect(api.publicRoutes.contains("/track/o/abc.def") && api.publicRoutes.contains("/track/c/abc.def"))
        #expect(!api.publicRoutes.contains("/track/x/abc.def") && !api.publicRoutes.contains("/track/c/a/b")
                && !api.publicRoutes.contains("/track/c"))
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
