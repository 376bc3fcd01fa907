import Foundation
import HeraldCore
import Logging
import Mustache

/// The benchmark template: a 2 KB HTML email with 10 personalization tokens.
enum RenderFixture {
    static let tokens = ["first_name", "last_name", "guide", "advisor", "phone", "city", "company", "offer", "deadline", "url"]

    static var html: String {
        var text = "<!DOCTYPE html>\n<html><body>\n"
        for (index, name) in tokens.enumerated() { text += "<p>Token \(index): {{data.\(name)}}</p>\n" }
        let filler = "<p>Retirement planning is easier when you start early and review your plan every year with someone you trust.</p>\n"
        while text.utf8.count < 2_000 { text += filler }
        return text + "</body></html>\n"
    }

    /// Values with characters that need escaping, as real names and offers have.
    static var data: [String: String] {
        Dictionary(uniqueKeysWithValues: tokens.map { ($0, "Value of \($0) <&> \"quoted\" O'Brien") })
    }
}

/// Runs `body` repeatedly for about `seconds` on this thread; returns calls per second.
func rate(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var count = 0
    while true {
        for _ in 0..<200 { try body() }
        count += 200
        let elapsed = start.duration(to: clock.now)
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if secs >= seconds { return Double(count) / secs }
    }
}

/// `herald-bench render`: Herald's renderer (stored data JSON parsed, scope built, tokens
/// checked, rendered, HTML-escaped) against swift-mustache alone on a prepared dictionary.
func runRender(seconds: Double) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-render-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let template = folder.appendingPathComponent("bench")
    try FileManager.default.createDirectory(at: template, withIntermediateDirectories: true)
    try "channel: email\n".write(to: template.appendingPathComponent("manifest.yaml"), atomically: true, encoding: .utf8)
    try "Hello {{data.first_name}}\n".write(to: template.appendingPathComponent("subject.txt"), atomically: true, encoding: .utf8)
    try RenderFixture.html.write(to: template.appendingPathComponent("html.html"), atomically: true, encoding: .utf8)
    let store = TemplateStore(folder: folder, displayRoot: "bench", logger: Logger(label: "bench"))
    guard store.template(named: "bench") != nil else { throw BenchError("the bench template does not compile: \(store.problems)") }
    let renderer = MessageRenderer(store: store, defaultTimeZone: .gmt)
    let dataJSON = String(decoding: try JSONSerialization.data(withJSONObject: RenderFixture.data), as: UTF8.self)
    let message = ClaimedMessage(id: 1, key: "bench-1", channel: .email, template: "bench",
                                 recipient: Recipient(email: "sarah@example.com", name: "Sarah Jones"), dataJSON: dataJSON,
                                 category: .marketing, campaign: "bench", attempt: 1, dueAt: 0)
    var bytes = 0
    let herald = try rate(seconds: seconds) { bytes &+= try renderer.render(message).parts[.html]!.utf8.count }

    let engine = try MustacheTemplate(string: "{{% CONTENT_TYPE: HTML}}" + RenderFixture.html)
    let context: [String: Any] = ["data": RenderFixture.data]
    let raw = rate(seconds: seconds) { bytes &+= engine.render(context).utf8.count }

    print("template_bytes \(RenderFixture.html.utf8.count)")
    print(String(format: "herald_renders_per_s %.0f", herald))
    print(String(format: "mustache_alone_renders_per_s %.0f", raw))
    print(String(format: "ratio_herald_to_mustache %.3f", herald / raw))
    if bytes == 42 { print("") }  // keeps the work observable
}

/// `herald-bench render-template`: microseconds per render of one shipped template through the
/// whole renderer (what each delivery of that template pays), with its sample or with the first
/// message of `messageFile` (what a benchmark actually delivers).
func runRenderTemplate(folder: String, name: String, seconds: Double, messageFile: String?) throws {
    let store = TemplateStore(folder: URL(fileURLWithPath: folder), displayRoot: folder, logger: Logger(label: "bench"))
    guard let template = store.template(named: name) else { throw BenchError("no template \(name) under \(folder)") }
    let sample: RenderInput
    if let messageFile {
        let firstLine = try String(contentsOfFile: messageFile, encoding: .utf8).split(separator: "\n").first ?? ""
        sample = try RenderInput.parse(Data(firstLine.utf8))
    } else if let own = template.sample {
        sample = own
    } else {
        throw BenchError("template \(name) has no sample.json; give a message file")
    }
    let renderer = MessageRenderer(store: store, defaultTimeZone: .gmt)
    let message = ClaimedMessage(id: 1, key: sample.key, channel: template.channel, template: name, recipient: sample.recipient,
                                 dataJSON: sample.dataJSON, category: sample.category, campaign: sample.campaign, attempt: 1, dueAt: 0)
    var bytes = 0
    let perSecond = try rate(seconds: seconds) { bytes &+= try renderer.render(message).parts.count }
    print(String(format: "render_us_per_message %.2f", 1e6 / perSecond))

    // The floor: swift-mustache alone on the same part files, its values prepared once (no data
    // parse, no checks, no escaping). No renderer built on this engine can be cheaper.
    let root = EngineValue.object([
        "data": EngineValue.make(try JSONSerialization.jsonObject(with: Data(sample.dataJSON.utf8))),
        "campaign": EngineValue.text(sample.campaign ?? ""),
        "message": EngineValue.object(["key": EngineValue.text(sample.key ?? "")]),
        "to": EngineValue.object(["name": EngineValue.text(sample.recipient.name ?? "")]),
    ])
    let templateFolder = URL(fileURLWithPath: folder).appendingPathComponent(name)
    let engines = try TemplatePart.allowed(for: template.channel).compactMap { part -> MustacheTemplate? in
        guard let text = try? String(contentsOf: templateFolder.appendingPathComponent(part.fileName), encoding: .utf8) else { return nil }
        return try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
    }
    let enginePerSecond = rate(seconds: seconds) { for engine in engines { bytes &+= engine.render(root).utf8.count } }
    print(String(format: "engine_alone_us_per_message %.2f", 1e6 / enginePerSecond))
    if bytes == 42 { print("") }
}

/// Values as cheap as swift-mustache can take them: plain structs, no escaping, for the floor.
enum EngineValue {
    struct Text: MustacheCustomRenderable, MustacheParent {
        let text: String
        var renderText: String { text }
        var isNull: Bool { text.isEmpty }
        func child(named: String) -> Any? { nil }
    }

    struct Object: MustacheParent, MustacheCustomRenderable {
        let fields: [String: Any]
        func child(named name: String) -> Any? { fields[name] }
        var renderText: String { "" }
        var isNull: Bool { fields.isEmpty }
    }

    static func text(_ text: String) -> Any { Text(text: text) }
    static func object(_ fields: [String: Any]) -> Any { Object(fields: fields) }

    static func make(_ json: Any) -> Any {
        switch json {
        case let object as [String: Any]: Object(fields: object.mapValues(make))
        case let array as [Any]: array.map(make)
        default: Text(text: "\(json)")
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
