import Hummingbird

/// Refuses a request on the TCP listener unless it carries `Authorization: Bearer <token>`.
///
/// The public routes (unsubscribe pages, the SMS gateway's inbound webhook) are exempt: the
/// recipients and the gateway cannot hold the token, and those routes check their own signatures.
struct BearerToken<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]
    let publicPrefixes: [String]

    init(_ token: Secret, publicPrefixes: [String]) {
        expected = Array(token.exposedValue.utf8)
        self.publicPrefixes = publicPrefixes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if publicPrefixes.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              ConstantTime.equal(header.utf8.dropFirst(7), expected)
        else {
            var error = APIError(.unauthorized, code: "unauthorized",
                                 "this listener needs Authorization: Bearer <intake.http.token>")
            error.headers[.wwwAuthenticate] = "Bearer realm=\"herald\""
            throw error
        }
        return try await next(request, context)
    }
}
