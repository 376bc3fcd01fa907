import Hummingbird

/// Refuses a request on the TCP listener unless it carries `Authorization: Bearer <token>` or the
/// console's session cookie.
///
/// The public routes (unsubscribe pages, the SMS gateway's inbound webhook, the console's login)
/// are exempt: the recipients and the gateway cannot hold the token, and those routes check their
/// own signatures. A console page asked for without either gets 401 with the login form.
struct BearerToken<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]
    let session: [UInt8]
    let publicPrefixes: [String]

    init(_ token: Secret, publicPrefixes: [String]) {
        expected = Array(token.exposedValue.utf8)
        session = Array(ConsoleSession.value(for: token).utf8)
        self.publicPrefixes = publicPrefixes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if publicPrefixes.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
            return try await next(request, context)
        }
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
           ConstantTime.equal(header.utf8.dropFirst(7), expected)
        {
            return try await next(request, context)
        }
        if let cookie = request.cookies[ConsoleSession.cookie], ConstantTime.equal(cookie.value.utf8, session) {
            return try await next(request, context)
        }
        if path == "/console" || path.hasPrefix("/console/") {
            return HeraldAPI.html(ConsolePage.login(failed: false), status: .unauthorized)
        }
        var error = APIError(.unauthorized, code: "unauthorized",
                             "this listener needs Authorization: Bearer <intake.http.token>")
        error.headers[.wwwAuthenticate] = "Bearer realm=\"herald\""
        throw error
    }
}
