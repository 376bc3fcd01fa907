import Foundation
import Logging
import Testing
@testable import HeraldCore

/// A Templates/ folder written by a test, with a store and a renderer over it.
struct TemplateFolder {
    let folder: TemporaryFolder
    let store: TemplateStore
    let renderer: MessageRenderer

    static let unsubscribe = UnsubscribeLinks(baseURL: "https://crm.example.com/u", secret: Secret("test-unsubscribe-key-0123456789"))

    /// - Parameter files: path under Templates/ → contents, e.g. `"t/manifest.yaml": "channel: email"`.
    init(_ files: [String: String], timeZone: String = "America/New_York") throws {
        folder = try TemporaryFolder("herald-templates")
        for (path, text) in files { try folder.write("Templates/\(path)", text) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        store = TemplateStore(folder: folder.file("Templates"), displayRoot: "Templates", logger: logger)
        renderer = MessageRenderer(store: store, defaultTimeZone: TimeZone(identifier: timeZone)!, unsubscribe: Self.unsubscribe)
    }

    /// The shipped Templates/ folder.
    static func shipped() -> (store: TemplateStore, renderer: MessageRenderer) {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = TemplateStore(folder: SupportPaths.packageRoot.appendingPathComponent("Templates"), displayRoot: "Templates", logger: logger)
        return (store, MessageRenderer(store: store, defaultTimeZone: TimeZone(identifier: "America/New_York")!, unsubscribe: unsubscribe))
    }

    func render(_ name: String, data: JSONValue, to recipient: Recipient = Recipient(email: "a@example.com")) throws -> RenderedMessage {
        let template = try #require(store.template(named: name), "template \(name): \(store.problems)")
        return try renderer.render(template, input: RenderInput(recipient: recipient, data: data, campaign: "c", key: "k-1"))
    }
}
