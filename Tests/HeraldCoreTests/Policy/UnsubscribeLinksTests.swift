import Foundation
import Testing
@testable import HeraldCore

@Suite("Unsubscribe links")
struct UnsubscribeLinksTests {
    let links = UnsubscribeLinks(baseURL: "https://crm.example.com/u/", secret: Secret("test-unsubscribe-key-0123456789"))

    @Test("a link carries the channel, the normalized address and the campaign, and verifies")
    func roundTrip() throws {
        let url = links.url(channel: .email, recipient: Recipient(email: "Sarah.Jones@Example.com"), campaign: "nurture")
        #expect(url.hasPrefix("https://crm.example.com/u/"))
        let token = String(url.dropFirst("https://crm.example.com/u/".count))
        #expect(links.verify(token) == .init(address: try Address("sarah.jones@example.com", channel: .email), campaign: "nurture"))
    }

    @Test("a forged or altered token is refused")
    func tampering() throws {
        let token = links.token(.init(address: try Address("+15551234567", channel: .sms), campaign: nil))
        let other = UnsubscribeLinks(baseURL: "https://x", secret: Secret("another-key-0123456789abcdef"))
        #expect(other.verify(token) == nil)
        let pieces = token.split(separator: ".")
        let forgedPayload = SignedToken.base64URL(.init("sms\n+15550000000\n".utf8))
        #expect(links.verify(forgedPayload + "." + pieces[1]) == nil)
        #expect(links.verify(String(token.dropLast())) == nil)
        #expect(links.verify("garbage") == nil)
        #expect(links.verify(token) != nil)
    }

    @Test("only the canonical spelling verifies: padding appended or a last character with other unused bits is refused (both verified before)")
    func canonicalOnly() throws {
        let token = links.token(.init(address: try Address("sarah@example.com", channel: .email), campaign: nil))
        #expect(links.verify(token) != nil)
        #expect(links.verify(token + "=") == nil)
        #expect(links.verify(token + "==") == nil)
        // A SHA-256 MAC is 32 bytes: 43 base64url characters, the last carrying 4 bits and 2 unused.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = token.last!
        let index = alphabet.firstIndex(of: last)!
        let sibling = alphabet[(index & ~0b11) | ((index + 1) & 0b11)]
        #expect(sibling != last)
        let altered = String(token.dropLast()) + String(sibling)
        #expect(SignedToken.decodeBase64URL(Substring(altered.split(separator: ".")[1]))
                == SignedToken.decodeBase64URL(Substring(token.split(separator: ".")[1])), "the same bytes, spelled otherwise")
        #expect(links.verify(altered) == nil)
    }
}
