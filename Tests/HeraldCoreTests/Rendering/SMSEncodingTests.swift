import Testing
@testable import HeraldCore

@Suite("SMS encoding and segments")
struct SMSEncodingTests {
    @Test("GSM-7: 160 characters in one segment, 153 per segment after that")
    func gsm7() {
        #expect(SMSEncoding(String(repeating: "a", count: 160)).segments == 1)
        #expect(SMSEncoding(String(repeating: "a", count: 161)).segments == 2)
        #expect(SMSEncoding(String(repeating: "a", count: 306)).segments == 2)
        #expect(SMSEncoding(String(repeating: "a", count: 307)).segments == 3)
        #expect(SMSEncoding("Café £5 @ 10:00").alphabet == .gsm7)
    }

    @Test("extension characters take two septets")
    func extensionTable() {
        let text = String(repeating: "€", count: 80)
        #expect(SMSEncoding(text).alphabet == .gsm7)
        #expect(SMSEncoding(text).units == 160)
        #expect(SMSEncoding(text + "[").segments == 2)
    }

    @Test("anything outside GSM-7 makes the whole text UCS-2: 70, then 67 per segment")
    func ucs2() {
        #expect(SMSEncoding("Hi 🎉").alphabet == .ucs2)
        #expect(SMSEncoding("Hi 🎉").units == 5)  // the emoji is two UTF-16 units
        #expect(SMSEncoding(String(repeating: "ж", count: 70)).segments == 1)
        #expect(SMSEncoding(String(repeating: "ж", count: 71)).segments == 2)
        #expect(SMSEncoding(String(repeating: "ж", count: 135)).segments == 3)
        #expect(SMSEncoding("10:00\u{202F}AM").alphabet == .ucs2)
    }
}
