/// The console's pages: server-side HTML, one small stylesheet, no scripts and nothing from a
/// CDN (the machines are offline). Every value from the queue or a template is HTML-escaped.
enum ConsolePage {
    static func h(_ text: String) -> String { UnsubscribePage.escape(text) }

    /// A page; `signedIn` adds the Log out button (not on the sign-in form itself).
    static func layout(_ title: String, _ body: String, signedIn: Bool = true) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(h(title)) · Herald</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
        header{background:#1f4e79;color:#fff;padding:.7rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
        header a{color:#fff;text-decoration:none}header strong{margin-right:1rem}
        main{padding:1.5rem;max-width:72rem}
        table{border-collapse:collapse;background:#fff;margin:.5rem 0 1.5rem}
        th,td{border:1px solid #d5dce4;padding:.3rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
        td.n{text-align:right;font-variant-numeric:tabular-nums}
        pre{background:#fff;border:1px solid #d5dce4;padding:.6rem;white-space:pre-wrap;max-width:60rem}
        form.inline{display:inline}button{background:#1f4e79;color:#fff;border:0;border-radius:3px;padding:.35rem .9rem;cursor:pointer}
        .card{background:#fff;border:1px solid #d5dce4;padding:1rem;margin-bottom:1.2rem}
        iframe{width:100%;height:26rem;border:1px solid #d5dce4;background:#fff}
        .muted{color:#6b7785}
        </style>
        </head>
        <body>
        <header><strong>Herald</strong><a href="/console">Overview</a><a href="/console/failed">Failed</a><a href="/console/bounces">Bounces</a><a href="/console/templates">Templates</a><a href="/console/sequences">Sequences</a>\(signedIn ? #"<form method="post" action="/console/logout" class="inline"><button>Log out</button></form>"# : "")</header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    static func login(failed: Bool) -> String {
        layout("Sign in", """
            <h1>Sign in</h1>
            \(failed ? "<p><strong>That token is not right.</strong></p>" : "")
            <form method="post" action="/console/login">
            <label>API token (intake.http.token) <input type="password" name="token" autocomplete="current-password" autofocus></label>
            <button type="submit">Sign in</button>
            </form>
            """, signedIn: false)
    }

    static func overview(_ status: QueueStatus, perMinute: [Int]) -> String {
        let channels = Set(status.counts.map(\.channel)).sorted()
        var rows = ""
        for state in MessageState.allCases {
            rows += "<tr><th>\(state.rawValue)</th>"
            for channel in channels {
                rows += "<td class=\"n\">\(status.count(state: state, channel: Channel(rawValue: channel)))</td>"
            }
            rows += "<td class=\"n\"><strong>\(status.count(state: state))</strong></td></tr>\n"
        }
        let deferred = status.deferred.map { "\($0.count) \(h($0.reason.replacingOccurrences(of: "_", with: " ")))" }
        return layout("Overview", """
            <h1>Queue</h1>
            <table id="counts"><tr><th>state</th>\(channels.map { "<th>\(h($0))</th>" }.joined())<th>total</th></tr>
            \(rows)</table>
            <p>Oldest due: \(status.oldestDueAt.map { h(Timestamp.rfc3339($0)) } ?? "none waiting") ·
            deferred: \(deferred.isEmpty ? "none" : deferred.joined(separator: ", ")) ·
            sent: \(status.sentLastMinute) in the last minute, \(status.sentLastHour) in the last hour ·
            \(status.errorsLastHour) failed attempts in the last hour</p>
            <h2>Sent per minute, last hour</h2>
            \(ThroughputChart.svg(perMinute))
            """)
    }

    static func failedList(_ messages: [MessageDetail], filter: [String: String]) -> String {
        func field(_ name: String, _ label: String) -> String {
            "<label>\(label) <input name=\"\(name)\" value=\"\(h(filter[name] ?? ""))\" size=\"12\"></label>"
        }
        var rows = ""
        for message in messages {
            rows += """
                <tr><td class="n"><a href="/console/messages/\(message.id)">\(message.id)</a></td><td>\(h(message.key ?? "-"))</td>
                <td>\(message.channel.rawValue)</td><td>\(h(message.campaign ?? ""))</td><td>\(h(Timestamp.rfc3339(message.updatedAt)))</td>
                <td>\(h(message.lastErrorCode ?? ""))</td><td>\(h(String((message.lastError ?? "").prefix(160))))</td>
                <td><form class="inline retry" method="post" action="/console/messages/\(message.id)/retry"><button type="submit">Retry</button></form></td></tr>

                """
        }
        return layout("Failed deliveries", """
            <h1>Failed deliveries</h1>
            <form method="get" action="/console/failed">\(field("channel", "Channel")) \(field("campaign", "Campaign"))
            \(field("error", "Error text")) \(field("since", "Since (6h)")) <button type="submit">Filter</button></form>
            <table id="failed"><tr><th>id</th><th>key</th><th>channel</th><th>campaign</th><th>failed at</th><th>code</th><th>error</th><th></th></tr>
            \(rows.isEmpty ? "<tr><td colspan=\"8\" class=\"muted\">No failed messages match.</td></tr>" : rows)</table>
            """)
    }

    /// Processed bounces, complaints and auto-replies, newest first, with what was decided.
    static func bounces(_ records: [BounceRecord]) -> String {
        var rows = ""
        for record in records {
            let message = record.messageID.map { "<a href=\"/console/messages/\($0)\">\($0)</a>" } ?? "-"
            rows += """
                <tr><td class="n">\(record.id)</td><td>\(h(Timestamp.rfc3339(record.receivedAt)))</td><td>\(h(record.source))</td>
                <td>\(h(record.kind.rawValue))</td><td>\(message)</td><td>\(h(record.recipient ?? "-"))</td><td>\(h(record.status ?? ""))</td>
                <td class="decision">\(h(record.decision.rawValue))</td><td>\(h(String(record.reason.prefix(200))))</td></tr>

                """
        }
        return layout("Bounces", """
            <h1>Bounces and complaints</h1>
            <p class="muted">The latest 100 reports as they were read and decided; <code>herald bounces show ID</code> prints one as received.</p>
            <table id="bounces"><tr><th>id</th><th>received</th><th>source</th><th>read as</th><th>message</th><th>recipient</th><th>status</th><th>decision</th><th>why</th></tr>
            \(rows.isEmpty ? "<tr><td colspan=\"9\" class=\"muted\">No bounces processed.</td></tr>" : rows)</table>
            """)
    }

    /// - Parameter events: what the CRM was told about the message, oldest first (nil: events are off).
    static func message(_ message: MessageDetail, rendered: Result<RenderedMessage, RenderError>, events: [StoredEvent]? = nil)
        -> String
    {
        var eventRows = ""
        for stored in events ?? [] {
            eventRows += """
                <tr><td>\(h(Timestamp.rfc3339(stored.event.occurredAt)))</td><td>\(h(stored.event.type.rawValue))</td>
                <td><code>\(h(stored.event.payload))</code></td></tr>

                """
        }
        let eventsSection = events == nil ? "" : """
            <h2>Events</h2>
            <table id="events"><tr><th>occurred</th><th>type</th><th>as the CRM receives it</th></tr>
            \(eventRows.isEmpty ? "<tr><td colspan=\"3\" class=\"muted\">none</td></tr>" : eventRows)</table>
            """
        var attempts = ""
        for attempt in message.attempts {
            attempts += """
                <tr><td class="n">\(attempt.number)</td><td>\(h(Timestamp.rfc3339(attempt.startedAt)))</td><td>\(attempt.outcome.rawValue)</td>
                <td>\(h(attempt.errorCode ?? ""))</td><td>\(h(attempt.remoteCode ?? ""))</td><td><pre>\(h(attempt.remoteText ?? ""))</pre></td></tr>

                """
        }
        let retry = [MessageState.failed, .canceled].contains(message.state)
            ? "<form class=\"inline retry\" method=\"post\" action=\"/console/messages/\(message.id)/retry\"><button type=\"submit\">Retry</button></form>"
            : ""
        let preview: String = switch rendered {
        case .success(let rendered): parts(rendered)
        case .failure(let error): "<p>Does not render: \(h(error.code.rawValue)): \(h(error.detail))</p>"
        }
        return layout("Message \(message.id)", """
            <h1>Message \(message.id) <span class="muted">\(h(message.key ?? ""))</span></h1>
            <p id="state">State: <strong>\(message.state.rawValue)</strong> · \(message.attemptCount) attempts · \(message.channel.rawValue),
            template \(h(message.template)), \(message.category.rawValue)\(message.campaign.map { ", campaign \(h($0))" } ?? "") \(retry)</p>
            \(message.lastError.map { "<p>Last error: [\(h(message.lastErrorCode ?? ""))] \(h($0))</p>" } ?? "")
            <p>To: <code>\(h(message.recipientJSON))</code><br>Data: <code>\(h(message.dataJSON))</code></p>
            <h2>Attempts</h2>
            <table><tr><th>#</th><th>started</th><th>outcome</th><th>code</th><th>remote</th><th>remote's reply</th></tr>
            \(attempts.isEmpty ? "<tr><td colspan=\"6\" class=\"muted\">none</td></tr>" : attempts)</table>
            \(eventsSection)
            <h2>Rendered now</h2>
            \(preview)
            """)
    }

    static func gallery(_ entries: [(template: CompiledTemplate, rendered: Result<RenderedMessage, RenderError>?)]) -> String {
        var cards = ""
        for (template, rendered) in entries {
            let body: String = switch rendered {
            case nil: "<p class=\"muted\">No sample.json to preview with.</p>"
            case .failure(let error)?: "<p>Does not render: \(h(error.code.rawValue)): \(h(error.detail))</p>"
            case .success(let rendered)?: parts(rendered)
            }
            cards += """
                <section class="card" id="template-\(h(template.name))"><h2>\(h(template.name)) <span class="muted">\(template.channel.rawValue)\(template.manifest.description.map { ": \(h($0))" } ?? "")</span></h2>
                \(body)</section>

                """
        }
        return layout("Templates", "<h1>Templates</h1>\n<p class=\"muted\">Each rendered with its sample.json, as it would be sent.</p>\n" + cards)
    }

    /// A rendered message's parts: HTML in a sandboxed iframe (no scripts, no same-origin), text
    /// as text, an SMS with its encoding and segment count.
    private static func parts(_ rendered: RenderedMessage) -> String {
        var out = ""
        for (part, text) in rendered.parts.sorted(by: { $0.key < $1.key }) {
            out += "<h3>\(part.rawValue)</h3>\n"
            if part == .html {
                out += "<iframe sandbox=\"\" title=\"\(part.rawValue)\" srcdoc=\"\(h(text))\"></iframe>\n"
            } else {
                out += "<pre>\(h(text))</pre>\n"
            }
            if rendered.channel == .sms, part == .text {
                let sms = SMSEncoding(text)
                out += "<p class=\"sms\">\(sms.alphabet.rawValue), \(sms.units) characters, <strong>\(sms.segments) segment\(sms.segments == 1 ? "" : "s")</strong></p>\n"
            }
        }
        return out
    }
}
