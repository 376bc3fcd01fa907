import Hummingbird

/// Refuses a request on the TCP listener unless it carries `Authorization: Bearer <token>` or,
/// for the console's pages only, a live session cookie.
///
/// The public routes (unsubscribe pages, the SMS gateway's inbound webhook, the console's login)
/// are exempt: the recipients and the gateway cannot hold the token, and those routes check their
/// own signatures. A console page asked for without either gets 401 with the login form.
struct BearerToken<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]
    let sessions: ConsoleSessions
    let publicRoutes: PublicRouteSet

    init(_ token: Secret, sessions: ConsoleSessions, publicRoutes: PublicRouteSet) {
        expected = Array(token.exposedValue.utf8)
        self.sessions = sessions
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
        let console = path == "/console" || path.hasPrefix("/console/")
        if console, let cookie = request.cookies[ConsoleSessions.cookie], sessions.isValid(cookie.value) {
            return try await next(request, context)
        }
        if console {
            return HeraldAPI.html(ConsolePage.login(failed: false), status: .unauthorized)
        }
        var error = APIError(.unauthorized, code: "unauthorized",
                             "this listener needs Authorization: Bearer <intake.http.token>")
        error.headers[.wwwAuthenticate] = "Bearer realm=\"herald\""
        throw error
    }
}

/// The paths that need no token: a few exact ones, and one segment directly under the unsubscribe
/// path (a signed token) or under `/receipts/sms` (a message id; the gateway's signature or the
/// URL's token proves the receipt). Nothing is matched by prefix, so `/healthz/x` or
/// `/unsubscribe/a/b` still need the token.
struct PublicRouteSet: Sendable {
    let exact: Set<String>
    /// Paths followed by exactly one more segment (a token, a message id) that proves itself.
    let tokenUnder: [String]

    func contains(_ path: String) -> Bool {
        if exact.contains(path) { return true }
        return tokenUnder.contains { prefix in
            guard path.hasPrefix(prefix + "/") else { return false }
            let token = path.dropFirst(prefix.count + 1)
            return !token.isEmpty && !token.contains("/")
        }
    }
}

/// Refuses a console POST that a browser says comes from elsewhere, so a page on another site (or
/// another port of this host) cannot press the console's buttons with the operator's cookie,
/// whatever the browser does with SameSite. `Sec-Fetch-Site` decides where the browser sends it
/// (only `same-origin` and `none`, a person's own navigation, pass); else `Origin` must name this
/// host (`X-Forwarded-Host` behind a proxy, else `Host`). The console's pages send no Referer, so
/// a browser without Fetch Metadata sends `Origin: null`, which is refused. Clients that are not
/// browsers send neither header and are judged by their token alone.
struct SameOriginPosts<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard request.method == .post, path == "/console" || path.hasPrefix("/console/") else {
            return try await next(request, context)
        }
        if let site = request.headers.value(named: "sec-fetch-site") {
            guard site == "same-origin" || site == "none" else {
                throw APIError(.forbidden, code: "cross_site", "a console POST from another origin (\(site.prefix(20))) is refused")
            }
        } else if let origin = request.headers.value(named: "origin") {
            let host = request.headers.value(named: "x-forwarded-host") ?? request.head.authority ?? ""
            // "scheme://host[:port]"; "null" (a sandboxed or privacy-stripped origin) names no host.
            let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            guard let originHost, originHost.lowercased() == host.lowercased() else {
                throw APIError(.forbidden, code: "cross_site", "a console POST from \(origin.prefix(80)) is refused: not this server's origin")
            }
        }
        return try await next(request, context)
    }
}

extension HTTPFields {
    /// The first value of the field whose lower-case name is `name`, for fields without a
    /// constant of their own.
    func value(named name: String) -> String? {
        first { $0.name.canonicalName == name }?.value
    }
}
