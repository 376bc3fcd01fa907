import Foundation
import Testing
@testable import HeraldCore

@Suite("Intake validation")
struct MessageValidationTests {
    let validation = MessageValidation(channels: [.webhook], webhookEndpoints: ["advisor-alerts"])

    func reason(_ json: String) throws -> String? {
        switch validation.validate(try JSONValue.parse(Data(json.utf8))) {
        case .success: nil
        case .failure(let rejection): rejection.description
        }
    }

    @Test("a valid message keeps every field")
    func valid() throws {
        let json = #"{"key":"lead-1/x","channel":"webhook","template":"hot-lead","to":{"endpoint":"advisor-alerts","timezone":"Europe/Berlin"},"data":{"b":1,"a":"x"},"send_at":"2026-11-24T14:00:00Z","category":"transactional","campaign":"c"}"#
        let message = try validation.validate(try JSONValue.parse(Data(json.utf8))).get()
        #expect(message.key == "lead-1/x")
        #expect(message.recipient.endpoint == "advisor-alerts")
        #expect(message.dataJSON == #"{"a":"x","b":1}"#)
        #expect(message.sendAt == 1_795_528_800_000)
        #expect(message.category == .transactional)
    }

    @Test("each bad field is named with its value", arguments: [
        (#"{"template":"t","to":{"endpoint":"advisor-alerts"}}"#, "channel: required (email, sms, webhook or letter)"),
        (#"{"channel":"fax","template":"t","to":{}}"#, "channel: unknown channel \"fax\" (email, sms, webhook or letter)"),
        (#"{"channel":"sms","template":"t","to":{"phone":"+15551234567"}}"#, "channel: \"sms\" is not configured (configured: webhook)"),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"nope"}}"#, "to.endpoint: unknown endpoint \"nope\" (configured: advisor-alerts)"),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts"},"send_at":12}"#, "send_at: expected a string, got number 12"),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts"},"send_at":"tomorrow"}"#, "send_at: not an RFC 3339 time (\"tomorrow\"), e.g. \"2026-11-24T14:00:00Z\""),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts","phone":"555-1234"}}"#, "to.phone: not E.164 (\"555-1234\"), e.g. \"+15551234567\""),
        (#"{"channel":"webhook","template":"../etc/passwd","to":{"endpoint":"advisor-alerts"}}"#, "template: not a template name (letters, digits, '.', '_', '-'): \"../etc/passwd\""),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts","name":"Eve\r\nBcc: x@y"}}"#, "to.name: must not contain control characters (CR, LF, NUL)"),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts"},"sendat":"x"}"#, "sendat: unknown field (expected one of: campaign, category, channel, data, key, send_at, template, to)"),
        (#"{"key":"has space","channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts"}}"#, "key: must be 1 to 255 printable ASCII characters without spaces (\"has space\")"),
        (#"{"channel":"webhook","template":"t","to":{"endpoint":"advisor-alerts"},"data":[1]}"#, "data: expected an object, got an array"),
        (#"[1]"#, "expected a JSON object, got an array"),
    ])
    func rejections(json: String, expected: String) throws {
        #expect(try reason(json) == expected)
    }

    @Test("NDJSON: bad lines are rejected one by one, blank lines skipped, line numbers kept")
    func ndjsonLines() throws {
        let text = "{\"a\":1}\n\nnot json\n{\"b\":2}\r\n{\"c\":3}"
        let items = try read(text)
        #expect(items.map(\.position) == [.line(1), .line(3), .line(4), .line(5)])
        #expect(items.map { (try? $0.value.get()) != nil } == [true, false, true, true])
    }

    @Test("a pretty-printed single object and an array are read whole")
    func wholeDocuments() throws {
        let object = try read("{\n  \"a\": 1,\n  \"b\": {\"c\": 2}\n}\n")
        #expect(object.map(\.position) == [.item(1)])
        let array = try read("[{\"a\":1}, {\"b\":2}, 3]")
        #expect(array.map(\.position) == [.item(1), .item(2), .item(3)])
    }

    @Test("NDJSON longer than a batch arrives in batches, in order")
    func batches() throws {
        let text = (1...1_201).map { "{\"n\":\($0)}" }.joined(separator: "\n")
        var sizes: [Int] = []
        var last = 0
        let folder = try TemporaryFolder()
        try folder.write("in.ndjson", text)
        let handle = try FileHandle(forReadingFrom: folder.file("in.ndjson"))
        try MessageInput.read(handle) { items in
            sizes.append(items.count)
            if case .line(let number) = items.last?.position { last = number }
        }
        #expect(sizes == [500, 500, 201])
        #expect(last == 1_201)
    }

    private func read(_ text: String) throws -> [InputItem] {
        let folder = try TemporaryFolder()
        try folder.write("in", text)
        var items: [InputItem] = []
        try MessageInput.read(try FileHandle(forReadingFrom: folder.file("in"))) { items += $0 }
        return items
    }
}
