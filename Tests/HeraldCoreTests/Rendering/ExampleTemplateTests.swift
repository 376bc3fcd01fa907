import Foundation
import Testing
@testable import HeraldCore

/// The templates shipped in Templates/, rendered with their own sample data.
@Suite("Example templates")
struct ExampleTemplateTests {
    let shipped = TemplateFolder.shipped()

    func render(_ name: String) throws -> RenderedMessage {
        let template = try #require(shipped.store.template(named: name), "\(shipped.store.problems)")
        return try shipped.renderer.render(template, input: try #require(template.sample))
    }

    @Test("every example compiles, has sample data and passes the template check")
    func allExamplesPass() throws {
        let names = shipped.store.templates.map(\.name)
        #expect(names == ["consultation-reminder", "hot-lead-alert", "offer-letter", "re-engagement", "retirement-nurture-2",
                          "retirement-nurture-5", "retirement-nurture-9", "welcome-guide"])
        #expect(shipped.store.problems.isEmpty)
        #expect(TemplateCheck().run(shipped.store, renderer: shipped.renderer).isEmpty)
        for name in names { _ = try render(name) }
    }

    @Test("email: the welcome subject and text part, exactly")
    func welcomeEmail() throws {
        let message = try render("welcome-guide")
        #expect(message[.subject] == #"Sarah, your copy of "Your Guide to a Secure Retirement" is here"#)
        let token = TemplateFolder.unsubscribe.token(.init(address: try Address("sarah.jones@example.com", channel: .email), campaign: "guide-download"))
        #expect(message[.text] == """
            Hi Sarah,

            Thank you for downloading "Your Guide to a Secure Retirement". You can read it any time here:
            https://harbor-financial.example/guides/secure-retirement.pdf

            Three pages most readers come back to:
              - How much is enough? (page 4)
              - Social Security timing (page 11)
              - A one-page budget for year one (page 19)

            If a question comes up while you read, reply to this email and Daniel Reyes will answer
            personally. Most conversations take fifteen minutes and there is no obligation.

            Warm regards,
            Daniel Reyes
            Harbor Financial Planning

            You received this because you downloaded a guide from our website.
            Unsubscribe: https://crm.example.com/u/\(token)

            """)
        #expect(message.manifest.fromName == "Harbor Financial Planning")
        // The HTML part is valid enough to open in a browser and escapes the data.
        let html = try #require(message[.html])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<li>How much is enough? (page 4)</li>"))
    }

    @Test("sms: the consultation reminder in the recipient's time zone, GSM-7 in 2 segments")
    func consultationReminder() throws {
        let message = try render("consultation-reminder")
        let text = try #require(message[.text])
        #expect(text == "Hi Sarah, a reminder of your consultation with Daniel Reyes on Tuesday, November 24, 2026 at 10:00 AM. Reply C to confirm or call 555-010-4400 to move it. Reply STOP to opt out.")
        let encoding = SMSEncoding(text)
        #expect(encoding.alphabet == .gsm7)
        #expect(encoding.units == 177)
        #expect(encoding.segments == 2)
    }

    @Test("webhook: the hot-lead alert body, exactly, and it parses as JSON")
    func hotLeadAlert() throws {
        let body = try #require(try render("hot-lead-alert")[.body])
        #expect(body == """
            {
              "type": "lead.hot",
              "text": "Sarah downloaded the guide and read 3 posts",
              "lead": {"name": "Sarah", "email": "sarah.jones@example.com", "score": 87},
              "event": "downloaded the guide and read 3 posts",
              "campaign": "hot-leads",
              "message_key": "lead-4711/hot-lead/1"
            }

            """)
        #expect(try JSONSerialization.jsonObject(with: Data(body.utf8)) is [String: Any])
    }

    @Test("letter: the address block, date and offer of the printed letter, exactly")
    func offerLetter() throws {
        let html = try #require(try render("offer-letter")[.html])
        let start = try #require(html.range(of: "<div class=\"address\">"))
        let end = try #require(html.range(of: "<p>With kind regards,</p>"))
        #expect(String(html[start.lowerBound..<end.lowerBound]) == """
            <div class="address">
            Sarah Jones<br>
            12 Elm St<br>
            Apt 3<br>
            Springfield, IL 62701
            </div>
            <p>Nov 24, 2026</p>
            <p>Dear Ms. Jones,</p>
            <p>Earlier this year you asked for our guide to retirement planning. Many readers tell us the guide raised as many questions as it answered, so we would like to offer you a retirement review at no cost.</p>
            <div class="offer">
            <p><strong>Your free 60-minute retirement review</strong></p>
            <p>Bring your statements; leave with a one-page plan: when you can retire, what you can spend, and what to do first. Call (555) 010-4400 or visit harbor-financial.example/review before Sunday, January 31, 2027 and quote:</p>
            <p class="code">REVIEW-4711</p>
            </div>

            """)
    }
}
