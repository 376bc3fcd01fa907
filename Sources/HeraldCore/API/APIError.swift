import Foundation
import Hummingbird
import NIOCore

/// An API error: an HTTP status, a stable code for scripts, and a reason for people.
///
/// Every error the API returns has this JSON body, `{"error": "<code>", "reason": "<text>"}`,
/// including the framework's own (unknown route, body too large), which `JSONErrors` converts.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var reason: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, _ reason: String) {
        self.status = status
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(status.code) \(code): \(reason)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        let body = APIJSON.encode(Body(error: code, reason: reason))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct Body: Encodable {
        var error: String
        var reason: String
    }

    static func badRequest(_ reason: String) -> APIError { APIError(.badRequest, code: "bad_request", reason) }
    static func notFound(_ reason: String) -> APIError { APIError(.notFound, code: "not_found", reason) }
    static func conflict(_ reason: String) -> APIError { APIError(.conflict, code: "conflict", reason) }
}

/// Turns every error a route or the router throws into an `APIError`, so a client always gets
/// JSON with a reason, and logs the ones that are Herald's fault.
struct JSONErrors<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large",
                           "the body is larger than intake.max_body; send a long batch as application/x-ndjson, which streams")
        } catch let error as HTTPError {
            let reason = error.body ?? Self.reason(for: error.status, request: request)
            var converted = APIError(error.status, code: Self.code(for: error.status), reason)
            converted.headers = error.headers
            throw converted
        } catch {
            context.logger.error("API request failed", metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)",
            ])
            throw APIError(.internalServerError, code: "internal", "\(error)")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "body_too_large"
        case .unauthorized: "unauthorized"
        case .unsupportedMediaType: "unsupported_media_type"
        default: status.code < 500 ? "bad_request" : "internal"
        }
    }

    static func reason(for status: HTTPResponse.Status, request: Request) -> String {
        switch status {
        case .notFound: "no route for \(request.method) \(request.uri.path)"
        case .contentTooLarge: "the body is larger than intake.max_body"
        default: status.reasonPhrase
        }
    }
}

/// The API's JSON encoding: compact, snake_case keys, sorted, slashes as written.
enum APIJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array((try? encoder.encode(value)) ?? Data("null".utf8))
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        var bytes = encode(value)
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
