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
    let publicRoutes: PublicRouteSet

    init(_ token: Secret, publicRoutes: PublicRouteSet) {
        expected = Array(token.exposedValue.utf8)
        session = Array(ConsoleSession.value(for: token).utf8)
        self.publicRoutes = publicRoutes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if publicRoutes.contains(path) {
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

/// The paths that need no token: a few exact ones, and one segment (a signed token) directly
/// under the unsubscribe path. Nothing is matched by prefix, so `/healthz/x` or
/// `/unsubscribe/a/b` still need the token.
struct PublicRouteSet: Sendable {
    let exact: Set<String>
    let tokenUnder: String

    func contains(_ path: String) -> Bool {
        if exact.contains(path) { return true }
        guard path.hasPrefix(tokenUnder + "/") else { return false }
        let token = path.dropFirst(tokenUnder.count + 1)
        return !token.isEmpty && !token.contains("/")
    }
}
