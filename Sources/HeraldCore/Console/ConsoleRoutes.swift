import Foundation
import Hummingbird

/// The web console under `/console`: queue overview, failed deliveries with a retry button,
/// processed bounces, one message in full, the template gallery and the sequences. On TCP it needs the API token (a login form
/// sets a session cookie); on the unix socket, file permissions are the access control.
extension HeraldAPI {
    func addConsoleRoutes(to router: Router<HeraldRequestContext>, token: Secret?) {
        router.get("/console") { _, _ in
            let status = try await queue.status()
            return Self.html(ConsolePage.overview(status, perMinute: try await queue.sentPerMinute()))
        }
        router.get("/console/login") { _, _ in
            token == nil ? Self.redirect("/console") : Self.html(ConsolePage.login(failed: false))
        }
        router.post("/console/login") { request, context in
            guard let token else { return Self.redirect("/console") }
            if sessions.throttled() {
                var refused = Self.html(ConsolePage.login(failed: true), status: .tooManyRequests)
                refused.headers[.retryAfter] = "60"
                return refused
            }
            let form = FormFields.parse(String(buffer: try await request.collectBody(upTo: 16 << 10, setting: nil)))
            guard let given = form.first(where: { $0.name == "token" })?.value,
                  ConstantTime.equal(given.utf8, token.exposedValue.utf8)
            else {
                if !sessions.failedLogin() {
                    context.logger.warning("console: too many failed logins; refusing logins for a minute")
                }
                return Self.html(ConsolePage.login(failed: true), status: .unauthorized)
            }
            var response = Self.redirect("/console")
            response.headers[.setCookie] = ConsoleSessions.setCookie(sessions.start(), secure: Self.viaHTTPS(request))
            return response
        }
        router.post("/console/logout") { request, _ in
            if let cookie = request.cookies[ConsoleSessions.cookie] { sessions.end(cookie.value) }
            var response = Self.redirect(token == nil ? "/console" : "/console/login")
            response.headers[.setCookie] = ConsoleSessions.clearCookie(secure: Self.viaHTTPS(request))
            return response
        }
        router.get("/console/failed") { request, _ in
            let query = request.uri.queryParameters
            var values: [String: String] = [:]
            for name in ["channel", "campaign", "error", "since"] {
                if let value = query.get(name), !value.isEmpty { values[name] = value }
            }
            let filter: FailedFilter
            do {
                filter = try FailedFilter.parse(channel: values["channel"], campaign: values["campaign"], since: values["since"],
                                                error: values["error"])
            } catch {
                throw APIError.badRequest("\(error)")
            }
            return Self.html(ConsolePage.failedList(try await queue.failed(filter, limit: 500), filter: values))
        }
        router.get("/console/messages/{reference}") { _, context in
            let reference = try context.reference()
            guard let message = try await queue.message(reference) else {
                throw APIError.notFound("no message with id or key \"\(reference)\"")
            }
            let recorded = events.isOn
                ? try await queue.events(after: .start, matching: EventFilter(messageID: message.id), limit: 200) : nil
            return Self.html(ConsolePage.message(message, rendered: preview(message), events: recorded))
        }
        router.post("/console/messages/{reference}/retry") { _, context in
            let reference = try context.reference()
            switch try await queue.retry(reference) {
            case .done(let message):
                context.logger.info("retried from the console", metadata: ["message_id": "\(message.id)"])
                return Self.redirect("/console/messages/\(message.id)")
            case .notFound:
                throw APIError.notFound("no such message")
            case .refused(let state):
                throw APIError.conflict("cannot retry a message that is \(state.rawValue)")
            }
        }
        router.get("/console/bounces") { _, _ in
            Self.html(ConsolePage.bounces(try await queue.bounces(before: nil, recipient: nil, limit: 100)))
        }
        router.get("/console/templates") { _, _ in
            guard let templates, let renderer else { throw APIError.notFound("templates are not loaded in this process") }
            let entries = templates.templates.sorted { $0.name < $1.name }.map { template in
                (template, template.sample.map { sample in Result { () throws(RenderError) in try renderer.render(template, input: sample) } })
            }
            return Self.html(ConsolePage.gallery(entries))
        }
        addSequencePages(to: router)
    }

    func addSequencePages(to router: Router<HeraldRequestContext>) {
        router.get("/console/sequences") { _, _ in
            guard let sequences else { throw APIError.notFound("sequences are not loaded in this process") }
            return Self.html(ConsolePage.sequences(sequences.sequences, problems: sequences.problems.map { "\($0)" },
                                                   counts: try await queue.enrollmentCounts()))
        }
        router.get("/console/sequences/{name}") { _, context in
            let name = try context.parameters.require("name")
            guard let definition = sequences?.sequence(named: name) else {
                throw APIError.notFound("no sequence \"\(name.prefix(80))\"")
            }
            let report = try await queue.sequenceReport(name, steps: definition.steps.map(\.name), version: definition.version)
            return Self.html(ConsolePage.sequence(definition, report))
        }
    }

    private func preview(_ message: MessageDetail) -> Result<RenderedMessage, RenderError> {
        guard let renderer else { return .failure(RenderError(.templateUnavailable, "templates are not loaded in this process")) }
        return Result { () throws(RenderError) in
            guard let claimed = try? message.claimed() else { throw RenderError(.invalidData, "the stored recipient is not valid JSON") }
            return try renderer.render(claimed)
        }
    }

    /// Whether the browser reached the proxy in front of Herald over https: the session cookie
    /// is then `Secure`.
    static func viaHTTPS(_ request: Request) -> Bool {
        request.headers.value(named: "x-forwarded-proto")?.lowercased() == "https"
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
