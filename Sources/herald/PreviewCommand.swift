import ArgumentParser
import Foundation
import HeraldCore

struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a template exactly as it would be sent.",
        discussion: """
            Renders with the template's sample.json, or with --data FILE: a JSON object shaped like a
            message ({"to": {...}, "data": {...}, "campaign": "..."}). With --part, prints that part
            alone, byte for byte; otherwise every part under a heading. SMS previews also print the
            encoding and the segment count.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The template's folder name under Templates/.")
    var template: String

    @Option(help: "A JSON file with to, data and campaign (default: the template's sample.json).")
    var data: String?

    @Flag(help: "Use the template's sample.json (the default without --data).")
    var sample = false

    @Option(help: "subject, text, html, body or all.")
    var part: String = "all"

    @Flag(help: "Print JSON: the parts and, for SMS, the encoding.")
    var json = false

    @Flag(help: "Email: print the whole MIME message as it would go to the SMTP server.")
    var raw = false

    func validate() throws {
        if data != nil, sample { throw ValidationError("--data and --sample exclude each other") }
        if raw, json || part != "all" { throw ValidationError("--raw prints the whole message; it excludes --json and --part") }
        if part != "all", TemplatePart(rawValue: part) == nil {
            throw ValidationError("--part must be subject, text, html, body or all, got \"\(part)\"")
        }
    }

    func run() async throws {
        _ = options.bootstrapLogging()
        let config = try options.loadConfig()
        let store = config.templateStore()
        guard let compiled = store.template(named: template) else {
            if let problem = store.problem(named: template) { throw CommandFailure("template \(template) does not compile:\n  \(problem)") }
            let known = store.templates.map(\.name).joined(separator: ", ")
            throw CommandFailure("no template \"\(template)\" under \(config.templatesPath) (known: \(known))")
        }
        let input: RenderInput
        if let data {
            let bytes: Data
            do {
                bytes = try Data(contentsOf: URL(fileURLWithPath: data))
            } catch {
                throw CommandFailure("\(data): cannot read (\(error.localizedDescription))")
            }
            do {
                input = try RenderInput.parse(bytes)
            } catch {
                throw CommandFailure("\(data): \(error)")
            }
        } else {
            guard let sample = compiled.sample else { throw CommandFailure("\(compiled.displayPath) has no sample.json; pass --data FILE") }
            input = sample
        }
        let rendered: RenderedMessage
        do {
            rendered = try config.renderer(store).render(compiled, input: input)
        } catch {
            throw CommandFailure("\(error.code): \(error.detail)")
        }
        if raw {
            try printRaw(compiled: compiled, rendered: rendered, input: input, config: config)
            return
        }
        let chosen = TemplatePart(rawValue: part)
        let shown = rendered.parts.filter { chosen == nil || $0.key == chosen }
        if let chosen, shown.isEmpty {
            throw CommandFailure("template \(template) has no \(chosen.rawValue) part (it has \(rendered.parts.keys.sorted().map(\.rawValue).joined(separator: ", ")))")
        }
        let sms = compiled.channel == .sms ? rendered[.text].map(SMSEncoding.init) : nil
        if json {
            printJSON(rendered: rendered, shown: shown, sms: sms)
        } else if let chosen {
            FileHandle.standardOutput.write(Data(shown[chosen]!.utf8))
        } else {
            printSections(compiled: compiled, shown: shown, sms: sms)
        }
    }

    /// The MIME message exactly as the email channel would hand it to the SMTP server.
    private func printRaw(compiled: CompiledTemplate, rendered: RenderedMessage, input: RenderInput, config: HeraldConfig) throws {
        guard compiled.channel == .email else { throw CommandFailure("--raw is for email templates; \(template) is \(compiled.channel.rawValue)") }
        guard let email = config.email else { throw CommandFailure("--raw needs channels.email in the config (for the sender)") }
        guard let address = input.recipient.email else { throw CommandFailure("the data has no to.email") }
        let message = ClaimedMessage(id: input.messageID ?? 0, key: input.key, channel: .email, template: compiled.name,
                                     recipient: input.recipient, dataJSON: input.dataJSON, category: input.category,
                                     campaign: input.campaign, attempt: 1, dueAt: Timestamp.now())
        let channel = EmailChannel(config: email, transport: OutboxMailTransport(folder: URL(fileURLWithPath: "/dev/null")))
        let mime = channel.email(for: message, content: rendered, address: address)
        FileHandle.standardOutput.write(Data(mime.bytes(boundarySeed: mime.messageID)))
    }

    private func printSections(compiled: CompiledTemplate, shown: [TemplatePart: String], sms: SMSEncoding?) {
        let manifest = compiled.manifest
        print("template: \(compiled.name) (\(compiled.channel.rawValue))\(manifest.description.map { ": \($0)" } ?? "")")
        if let from = manifest.fromName { print("from:     \(from)") }
        if let replyTo = manifest.replyTo { print("reply-to: \(replyTo)") }
        if let sms { print("sms:      \(sms)") }
        for (part, text) in shown.sorted(by: { $0.key < $1.key }) {
            print("\n--- \(part.rawValue) (\(part.fileName)) ---")
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }

    private func printJSON(rendered: RenderedMessage, shown: [TemplatePart: String], sms: SMSEncoding?) {
        var object: [String: Any] = [
            "template": rendered.template, "channel": rendered.channel.rawValue,
            "parts": Dictionary(uniqueKeysWithValues: shown.map { ($0.key.rawValue, $0.value) }),
        ]
        if let sms { object["sms"] = ["encoding": sms.alphabet.rawValue, "units": sms.units, "segments": sms.segments] }
        if let from = rendered.manifest.fromName { object["from_name"] = from }
        if let replyTo = rendered.manifest.replyTo { object["reply_to"] = replyTo }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// A command that could not do its work: the message goes to standard error, the exit code is 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
