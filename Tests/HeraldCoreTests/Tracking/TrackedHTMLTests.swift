import Foundation
import Testing
@testable import HeraldCore

@Suite("Tracked HTML")
struct TrackedHTMLTests {
    let links = TrackingLinks(baseURL: "https://crm.example.com/t/", secret: Secret("test-tracking-key-0123456789"))

    static let html = """
        <html><body>
        <a href="https://harbor.example/guide?a=1&amp;b=2">Guide</a>
        <A class="x" HREF='http://harbor.example/book'>Book</A>
        <a href=https://harbor.example/bare>bare</a>
        <a href="mailto:advisors@harbor.example">mail</a> <a href="#top">top</a> <a name="x">anchor</a>
        <!--[if mso]><a href="https://harbor.example/outlook">vml</a><![endif]-->
        <a href="https://crm.example.com/unsubscribe/TOKEN">Unsubscribe</a>
        <abbr title="https://not.a.link">abbr</abbr>
        </BODY></html>
        """

    /// The click targets of the rewritten links, in order.
    func targets(_ html: String) -> [TrackingLinks.Target] {
        TrackedHTML.hrefs(in: Array(html.utf8)).compactMap { anchor in
            guard anchor.url.hasPrefix("https://crm.example.com/t/c/") else { return nil }
            return links.verify(String(anchor.url.dropFirst("https://crm.example.com/t/c/".count)), click: true)
        }
    }

    @Test("http(s) links become signed click links carrying their URL (entities decoded), numbered in order; mailto, anchors, comments and the unsubscribe link are left as written")
    func rewritesLinks() throws {
        let rewritten = TrackedHTML.rewrite(Self.html, messageID: 42, links: links) { $0.hasPrefix("https://crm.example.com/unsubscribe/") }
        #expect(targets(rewritten) == [
            .click(messageID: 42, index: 0, count: 3, url: "https://harbor.example/guide?a=1&b=2"),
            .click(messageID: 42, index: 1, count: 3, url: "http://harbor.example/book"),
            .click(messageID: 42, index: 2, count: 3, url: "https://harbor.example/bare"),
        ])
        for kept in ["href=\"mailto:advisors@harbor.example\"", "href=\"#top\"", "<a href=\"https://harbor.example/outlook\">",
                     "<a href=\"https://crm.example.com/unsubscribe/TOKEN\">Unsubscribe</a>", "title=\"https://not.a.link\"",
                     "<A class=\"x\" HREF=", ">Book</A>"] {
            #expect(rewritten.contains(kept), "\(kept) kept")
        }
        #expect(!rewritten.contains("harbor.example/guide"), "the original URL is only inside the token")
    }

    @Test("the pixel goes right before </body> (any case), or at the end without one; its token is an open of the message")
    func pixel() throws {
        let rewritten = TrackedHTML.rewrite(Self.html, messageID: 7, links: links) { _ in false }
        let pixelAt = try #require(rewritten.range(of: "<img src=\"https://crm.example.com/t/o/"))
        let bodyAt = try #require(rewritten.range(of: "</BODY>"))
        #expect(pixelAt.upperBound < bodyAt.lowerBound)
        let token = rewritten[pixelAt.upperBound...].prefix { $0 != "\"" }
        #expect(links.verify(String(token), click: false) == .open(messageID: 7))
        #expect(links.verify(String(token), click: true) == nil, "an open token is not a click token")
        let fragment = TrackedHTML.rewrite("<p>Hello</p>", messageID: 7, links: links) { _ in false }
        #expect(fragment.hasPrefix("<p>Hello</p><img src=\"https://crm.example.com/t/o/"))
    }

    @Test("opens: false adds no pixel; clicks: false leaves the links")
    func switches() {
        let opensOnly = TrackingLinks(baseURL: "https://crm.example.com/t", secret: Secret("test-tracking-key-0123456789"), clicks: false)
        let clicksOnly = TrackingLinks(baseURL: "https://crm.example.com/t", secret: Secret("test-tracking-key-0123456789"), opens: false)
        let withPixel = TrackedHTML.rewrite(Self.html, messageID: 1, links: opensOnly) { _ in false }
        #expect(withPixel.contains("/t/o/") && !withPixel.contains("/t/c/") && withPixel.contains("harbor.example/guide"))
        let withLinks = TrackedHTML.rewrite(Self.html, messageID: 1, links: clicksOnly) { _ in false }
        #expect(!withLinks.contains("/t/o/") && withLinks.contains("/t/c/"))
    }

    @Test("a token with any one byte changed, another key's token, or a bare payload does not verify")
    func tampering() throws {
        let url = links.url(.click(messageID: 42, index: 0, count: 1, url: "https://harbor.example/guide"))
        let token = String(url.dropFirst("https://crm.example.com/t/c/".count))
        #expect(links.verify(token, click: true) != nil)
        var refused = 0
        for index in token.indices {
            for replacement in ["A", "z", "-"] where String(token[index]) != replacement {
                var altered = token
                altered.replaceSubrange(index...index, with: replacement)
                if links.verify(altered, click: true) != nil, altered != token {
                    Issue.record("\(altered) verified")
                } else {
                    refused += 1
                }
            }
        }
        #expect(refused >= token.count * 2)
        let other = TrackingLinks(baseURL: "https://crm.example.com/t", secret: Secret("another-key-0123456789abcdef"))
        #expect(other.verify(token, click: true) == nil)
        #expect(links.verify(String(token.split(separator: ".")[0]), click: true) == nil)
    }

    @Test("the renderer tracks a queued email's HTML only: not its text part, not a preview, not a template with tracking: false")
    func renderer() throws {
        let folder = try TemporaryFolder()
        for (name, manifest) in [("tracked", "channel: email\n"), ("untracked", "channel: email\ntracking: false\n")] {
            try folder.write("Templates/\(name)/manifest.yaml", manifest)
            try folder.write("Templates/\(name)/subject.txt", "Hello")
            try folder.write("Templates/\(name)/text.txt", "Read https://harbor.example/guide")
            try folder.write("Templates/\(name)/html.html", "<body><a href=\"{{data.url}}\">Guide</a></body>")
        }
        let store = TemplateStore(folder: folder.file("Templates"), displayRoot: "Templates")
        let renderer = MessageRenderer(store: store, defaultTimeZone: .gmt, tracking: links)
        let input = RenderInput(recipient: Recipient(email: "sarah@example.com"), data: .object(["url": .string("https://harbor.example/guide")]),
                                messageID: 9)
        let tracked = try renderer.render(try #require(store.template(named: "tracked")), input: input)
        #expect(tracked[.html]?.contains("/t/c/") == true && tracked[.html]?.contains("/t/o/") == true)
        #expect(tracked[.text] == "Read https://harbor.example/guide")
        var preview = input
        preview.messageID = nil
        #expect(try renderer.render(try #require(store.template(named: "tracked")), input: preview)[.html]?.contains("/t/") == false)
        #expect(try renderer.forPreview.render(try #require(store.template(named: "tracked")), input: input)[.html]?.contains("/t/") == false)
        #expect(try renderer.render(try #require(store.template(named: "untracked")), input: input)[.html]?.contains("/t/") == false)
    }
}

@Suite("Tracking redirects")
struct TrackingRedirectTests {
    @Test("the Location of a click: printable ASCII as it is, other bytes percent-encoded as UTF-8")
    func location() {
        #expect(HeraldAPI.location("https://harbor.example/guide?a=1&b=%20") == "https://harbor.example/guide?a=1&b=%20")
        #expect(HeraldAPI.location("https://harbor.example/für sie") == "https://harbor.example/f%C3%BCr%20sie")
    }
}
