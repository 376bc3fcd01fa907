import Foundation
import Testing
@testable import HeraldCore

/// A token without a value never renders as nothing ("Hi ,"): the message fails, naming the
/// token and the file, unless the template gives a fallback.
@Suite("Missing tokens and fallbacks")
struct MissingTokenTests {
    let templates: TemplateFolder

    init() throws {
        templates = try TemplateFolder([
            "strict/manifest.yaml": "channel: email\n",
            "strict/subject.txt": "Your guide\n",
            "strict/text.txt": "Intro line\nHi {{data.first_name}},\n",
            "kind/manifest.yaml": "channel: email\nfallbacks:\n  data.first_name: there\n",
            "kind/subject.txt": "Hi {{capitalize(data.first_name)}}\n",
            "kind/text.txt": "Hi {{data.first_name}}, {{#data.city}}greetings to {{data.city}}{{/data.city}}{{^data.city}}hello{{/data.city}}\n",
        ])
    }

    @Test("no value and no fallback: token_missing, naming the token, file and line")
    func missingFails() throws {
        for data: JSONValue in [.object([:]), .object(["first_name": .string("")]), .object(["first_name": .null])] {
            do {
                _ = try templates.render("strict", data: data)
                Issue.record("expected token_missing for \(data)")
            } catch let error as RenderError {
                #expect(error.code == .tokenMissing)
                #expect(error.detail.hasPrefix("Templates/strict/text.txt:2: {{data.first_name}} has no value"), "\(error.detail)")
            }
        }
    }

    @Test("a fallback fills a missing or empty value; sections guard optional ones")
    func fallbacks() throws {
        let missing = try templates.render("kind", data: .object([:]))
        #expect(missing[.subject] == "Hi There")
        #expect(missing[.text] == "Hi there, hello\n")
        let empty = try templates.render("kind", data: .object(["first_name": .string(" "), "city": .string("Springfield")]))
        #expect(empty[.text] == "Hi there, greetings to Springfield\n")
        let given = try templates.render("kind", data: .object(["first_name": .string("sarah")]))
        #expect(given[.subject] == "Hi Sarah")
    }

    @Test("a date filter on text that is not a date counts as missing")
    func badDate() throws {
        let folder = try TemplateFolder(["d/manifest.yaml": "channel: sms\n", "d/text.txt": "On {{date(data.at)}}\n"])
        #expect(try folder.render("d", data: .object(["at": .string("2026-03-08T07:30:00Z")]))[.text] == "On Sunday, March 8, 2026")
        #expect(throws: RenderError.self) { try folder.render("d", data: .object(["at": .string("next Tuesday")])) }
    }

    @Test("through the dispatcher: the message ends failed after one attempt, the token named")
    func missingFailsTheMessage() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], folder: folder)
        try folder.write("Templates/alert/body.json", #"{"hello": "{{data.first_name}}"}"#)
        try folder.write("Templates/kind/manifest.yaml", "channel: webhook\nfallbacks:\n  data.first_name: there\n")
        try folder.write("Templates/kind/body.json", #"{"hello": "{{data.first_name}}"}"#)
        try await fixture.enqueueWebhooks(1, endpoint: "hook", prefix: "strict")
        _ = try await fixture.queue.enqueue([NewMessage(key: "kind-0", channel: .webhook, template: "kind",
                                                  recipient: Recipient(endpoint: "hook"), dataJSON: "{}", sendAt: Timestamp.now())])
        try await fixture.deliverUntilSettled()
        await receiver.stop()

        #expect(try fixture.state(ofKey: "strict-0") == "failed")
        let attempts = try fixture.attempts(ofKey: "strict-0")
        #expect(attempts.count == 1)
        #expect(attempts.first?.error_code == "token_missing")
        #expect(attempts.first?.remote_text?.contains("Templates/alert/body.json:1: {{data.first_name}}") == true, "\(attempts)")
        #expect(try fixture.state(ofKey: "kind-0") == "sent")
        #expect(try receiver.requests().map(\.body) == [#"{"hello": "there"}"#])
    }
}
