/// The small pages a recipient sees after following an unsubscribe link. Self-contained HTML
/// (no scripts, no external resources); every value from the token is HTML-escaped.
enum UnsubscribePage {
    /// GET: asks for a click. Mail scanners follow links; only a person presses the button, so
    /// GET alone never unsubscribes anyone.
    static func confirm(_ subject: UnsubscribeLinks.Subject) -> String {
        page(title: "Unsubscribe", body: """
            <h1>Unsubscribe</h1>
            <p>Stop \(what(subject)) to <strong>\(escape(subject.address.value))</strong>?</p>
            <form method="post"><button type="submit">Unsubscribe</button></form>
            """)
    }

    /// POST: done.
    static func done(_ subject: UnsubscribeLinks.Subject) -> String {
        page(title: "Unsubscribed", body: """
            <h1>You are unsubscribed</h1>
            <p><strong>\(escape(subject.address.value))</strong> will receive no more \(what(subject)).</p>
            """)
    }

    static let invalid = page(title: "Link not valid", body: """
        <h1>This link is not valid</h1>
        <p>It may have been cut short or changed. Please use the complete link from the message, or reply to it to ask us to stop.</p>
        """)

    private static func what(_ subject: UnsubscribeLinks.Subject) -> String {
        let kind = switch subject.channel {
        case .email: "emails"
        case .sms: "text messages"
        case .letter: "letters"
        case .webhook: "messages"
        }
        return subject.campaign.map { "\(kind) from \u{201C}\(escape($0))\u{201D}" } ?? kind
    }

    private static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>\(title)</title>
        <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
        button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:4px;background:#1f4e79;color:#fff;cursor:pointer}</style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    static func escape(_ text: String) -> String {
        HTMLContentType().escapeText(text)
    }
}
