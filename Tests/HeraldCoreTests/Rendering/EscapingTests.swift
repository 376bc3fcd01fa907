import Foundation
import Testing
@testable import HeraldCore

/// Data is escaped by the context it lands in, whatever it holds.
@Suite("Escaping by context")
struct EscapingTests {
    static let hostile = "<script>alert('x')</script> \"quoted\" & \\back\\ \r\nBcc: x@y 🎉 שלום عربي"

    let templates: TemplateFolder

    init() throws {
        templates = try TemplateFolder([
            "mail/manifest.yaml": "channel: email\n",
            "mail/subject.txt": "Hello {{data.name}}\n",
            "mail/text.txt": "Text: {{data.name}}\n",
            "mail/html.html": "<p title=\"{{data.name}}\">{{data.name}}</p>\n",
            "hook/manifest.yaml": "channel: webhook\n",
            "hook/body.json": #"{"name": "{{data.name}}", "tags": [{{#data.tags}}"{{.}}",{{/data.tags}} "end"]}"# + "\n",
        ])
    }

    @Test("HTML parts escape markup and quotes; emoji and right-to-left text pass unchanged")
    func html() throws {
        let data: JSONValue = .object(["name": .string("<script>alert('x')</script> \"q\" & 🎉 שלום عربي")])
        let html = try templates.render("mail", data: data)[.html]
        #expect(html == "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;q&quot; &amp; 🎉 שלום عربي\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;q&quot; &amp; 🎉 שלום عربي</p>\n")
    }

    @Test("text parts are raw")
    func text() throws {
        let data: JSONValue = .object(["name": .string("<b>Tom & \"Jerry\"</b> 🎉 שלום")])
        #expect(try templates.render("mail", data: data)[.text] == "Text: <b>Tom & \"Jerry\"</b> 🎉 שלום\n")
    }

    @Test("a subject refuses CR/LF from the data: the message fails, no header is injected")
    func subjectInjection() throws {
        let data: JSONValue = .object(["name": .string("Sarah\r\nBcc: x@y")])
        #expect(throws: RenderError.self) { try templates.render("mail", data: data) }
        do {
            _ = try templates.render("mail", data: data)
        } catch let error as RenderError {
            #expect(error.code == .headerLineBreak)
            #expect(error.detail.contains("Templates/mail/subject.txt"))
            #expect(!error.isTransient)
        }
    }

    @Test("JSON bodies escape the data as JSON strings: the body parses and the values round-trip")
    func json() throws {
        let data: JSONValue = .object(["name": .string(Self.hostile), "tags": .array([.string("a\"b"), .string("\u{0001}\u{2028}")])])
        let body = try #require(try templates.render("hook", data: data)[.body])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(parsed["name"] as? String == Self.hostile)
        #expect(parsed["tags"] as? [String] == ["a\"b", "\u{0001}\u{2028}", "end"])
    }

    @Test("a JSON body that the data would break is a permanent failure, not a broken request")
    func unquotedStringInJSON() throws {
        let folder = try TemplateFolder(["hook/manifest.yaml": "channel: webhook\n", "hook/body.json": #"{"score": {{data.score}}}"#])
        #expect(try folder.render("hook", data: .object(["score": .integer(87)]))[.body] == #"{"score": 87}"#)
        do {
            _ = try folder.render("hook", data: .object(["score": .string("87, \"admin\": true")]))
            Issue.record("expected invalid_json_body")
        } catch let error as RenderError {
            #expect(error.code == .invalidJSON)
        }
    }
}

@Suite("JSON body validation")
struct JSONSyntaxTests {
    @Test("the whole document is checked, also the parts nothing decodes")
    func validation() {
        #expect(JSONParser.isValid(#"{"a": [1, {"b": "c"}], "d": null}"#))
        #expect(JSONParser.isValid("[1, 2]\n"))
        #expect(JSONParser.isValid(#"{"a": "\u00e9\n \ud83c\udf89", "b": -1.5e3}"#))
        for invalid in [#"{"a": 1} x"#, #"{"a": [1,}"#, #"{"a": 1"#, #"{"a": "x\"}"#, #"{"a": {"b": 1 "c": 2}}"#, "", #"{"a": tru}"#,
                        "{\"a\": \"line\nbreak\"}", #"{"a": "\q"}"#, #"{"a": 01}"#, #"{"a": "\ud83c"}"#] {
            #expect(!JSONParser.isValid(invalid), "\(invalid)")
        }
    }
}

@Suite("Data values in templates")
struct DataValueTests {
    @Test("numbers as the CRM wrote them, booleans and null as sections see them, lists looped")
    func values() throws {
        let folder = try TemplateFolder([
            "t/manifest.yaml": "channel: sms\n",
            "t/text.txt": "{{data.count}} {{data.big}} {{data.price}} {{data.tiny}}"
                + " {{#data.vip}}vip{{/data.vip}}{{^data.blocked}} open{{/data.blocked}}{{^data.gone}} no-gone{{/data.gone}}"
                + " [{{#data.items}}{{name}};{{/data.items}}]\n",
        ])
        let data: JSONValue = .object([
            "count": .integer(87), "big": .integer(9_007_199_254_740_993), "price": .number(1234.5), "tiny": .number(0.25),
            "vip": .bool(true), "blocked": .bool(false), "gone": .null,
            "items": .array([.object(["name": .string("a")]), .object(["name": .string("b")])]),
        ])
        #expect(try folder.render("t", data: data)[.text] == "87 9007199254740993 1234.5 0.25 vip open no-gone [a;b;]")
    }
}
