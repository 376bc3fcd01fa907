import Foundation
import Testing
@testable import HeraldCore

/// Intake's own JSON parser, checked against Foundation's on the same inputs.
@Suite("JSON parser")
struct JSONParserTests {
    static let valid = [
        #"{"key": "k-1", "to": {"email": "a@b.example"}, "data": {"n": 1, "x": -2.5e3, "ok": true, "none": null}}"#,
        #"[1, 2.25, -0, 1e2, "a\"b\\c\/d\n\t\u00e9\ud83d\ude00", [], {}, [[[]]]]"#,
        #""Sarah \u202e evil""#,
        "  {\"emoji\": \"👩‍💼\", \"rtl\": \"שלום\"}  ",
        "9223372036854775807",
        "12345678901234567890",
    ]

    @Test("valid documents parse to what Foundation's JSONSerialization reads")
    func agreesWithFoundation() throws {
        for text in Self.valid {
            let ours = try JSONValue.parse(Data(text.utf8))
            let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            #expect(Self.same(ours, theirs), "\(text)")
        }
    }

    @Test("invalid documents are refused with the byte offset and what was there")
    func refusesInvalid() {
        let cases: [(String, String)] = [
            ("{not json", "expected a member name in quotes, got 'n' at byte 1"),
            (#"{"a": 1,}"#, "expected a member name in quotes, got '}' at byte 8"),
            (#"{"a" 1}"#, "expected ':', got '1' at byte 5"),
            ("[1 2]", "expected ',' or ']', got '2' at byte 3"),
            (#"{"a": "unterminated"#, "unterminated string at byte 6"),
            ("\"tab\there\"", "control character 0x9 in a string (escape it) at byte 4"),
            (#""\x""#, "invalid escape \\'x' at byte 2"),
            (#""\ud800""#, "a lone UTF-16 surrogate in \\u escapes at byte 7"),
            ("01", "a number with a leading zero at byte 0"),
            ("1.", "expected a digit after '.', got end of input at byte 2"),
            ("tru", "expected true, got 't' at byte 0"),
            ("{} {}", "unexpected '{' after the value at byte 3"),
            ("", "expected a value, got end of input at byte 0"),
            (String(repeating: "[", count: 300), "nested deeper than 256 levels at byte 256"),
        ]
        for (text, message) in cases {
            #expect(throws: JSONParser.SyntaxError.self, "\(text)") { try JSONValue.parse(Data(text.utf8)) }
            do {
                _ = try JSONValue.parse(Data(text.utf8))
            } catch {
                #expect("\(error)" == message, "\(text)")
            }
        }
        // Invalid UTF-8 is refused, not replaced.
        #expect(throws: JSONParser.SyntaxError.self) { try JSONValue.parse(Data([0x22, 0xC3, 0x28, 0x22])) }
    }

    @Test("jsonText round-trips with sorted keys")
    func serializes() throws {
        let value = try JSONValue.parse(Data(#"{"b": [1, 2.5, "x\"y\u2028"], "a": {"d": null, "c": true}}"#.utf8))
        #expect(value.jsonText == #"{"a":{"c":true,"d":null},"b":[1,2.5,"x\"y\u2028"]}"#)
        #expect(try JSONValue.parse(Data(value.jsonText.utf8)) == value)
    }

    static func same(_ ours: JSONValue, _ theirs: Any) -> Bool {
        switch ours {
        case .null: return theirs is NSNull
        case .bool(let value): return (theirs as? Bool) == value && "\(type(of: theirs))".contains("Bool")
        case .integer(let value): return (theirs as? NSNumber)?.int64Value == value
        case .number(let value): return (theirs as? NSNumber)?.doubleValue == value
        case .string(let value): return (theirs as? String) == value
        case .array(let elements):
            guard let array = theirs as? [Any], array.count == elements.count else { return false }
            return zip(elements, array).allSatisfy { same($0, $1) }
        case .object(let members):
            guard let object = theirs as? [String: Any], object.count == members.count else { return false }
            return members.allSatisfy { key, value in object[key].map { same(value, $0) } ?? false }
        }
    }
}

@Suite("RFC 3339 times")
struct RFC3339Tests {
    @Test("agrees with ISO8601DateFormatter on many instants and offsets")
    func agreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        let formatter = ISO8601DateFormatter()
        for _ in 0..<2_000 {
            let seconds = Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator)  // 1900–2100
            let offset = Int.random(in: -14 * 4...14 * 4, using: &generator) * 15 * 60
            formatter.timeZone = TimeZone(secondsFromGMT: offset)!
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(RFC3339.milliseconds(text) == seconds * 1_000, "\(text)")
        }
        #expect(RFC3339.milliseconds("2026-11-24T14:00:00.250Z") == 1_795_528_800_250)
        #expect(RFC3339.milliseconds("2026-11-24t09:00:00.25-05:00") == 1_795_528_800_250)
        #expect(RFC3339.milliseconds("2024-02-29T00:00:00Z") == 1_709_164_800_000)
    }

    @Test("refuses what is not RFC 3339")
    func refuses() {
        for text in ["yesterday", "2026-11-24", "2026-11-24T14:00:00", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
                     "2026-13-01T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T14:00:00+5:00", "2026-11-24T14:00:00.Z",
                     "2026-11-24T14:00:00Z ", "2026-11-24T14:00:00+05:00:00", "1795960800"] {
            #expect(RFC3339.milliseconds(text) == nil, "\(text)")
        }
    }
}

@Suite("Recipient storage")
struct RecipientStorageTests {
    @Test("the hand-written stored form is what JSONEncoder with sorted keys writes")
    func matchesEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let recipients = [
            Recipient(endpoint: "bench"),
            Recipient(email: "a@b.example", name: "Zoë \"Z\" O'Neil\n<script>/", phone: "+15550100", timezone: "Europe/Berlin"),
            Recipient(name: "Ada", address: PostalAddress(line1: "1 Main St", line2: "Apt 2", city: "Springfield",
                                                          region: "IL", postalCode: "62701", country: "US")),
            Recipient(address: PostalAddress(line1: "x", country: "DE")),
        ]
        for recipient in recipients {
            #expect(recipient.jsonText == String(decoding: try encoder.encode(recipient), as: UTF8.self))
            #expect(try JSONDecoder().decode(Recipient.self, from: Data(recipient.jsonText.utf8)) == recipient)
        }
    }
}
