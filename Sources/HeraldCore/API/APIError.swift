import Foundation
import Hummingbird
import Logging
import NIOCore

/// An API error: an HTTP status, a stable code for scripts, and a reason for people.
///
/// Every error the API returns has this JSON body, `{"error": "<code>", "reason": "<text>"}`,
/// including the framework's own (unknown route, body too large), which `JSONErrors` converts.
/// An error that is Herald's fault carries an `incident` id instead of its own text: the text
/// may hold paths or SQL, so it goes only to the log, under the same id.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var reason: String
    public var headers: HTTPFields = [:]
    /// The id under which the log holds the full error, for errors that are Herald's fault.
    public var incident: String?

    public init(_ status: HTTPResponse.Status, code: String, _ reason: String) {
        self.status = status
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(status.code) \(code): \(reason)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        let body = APIJSON.encode(Body(error: code, reason: reason, incident: incident))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct Body: Encodable {
        var error: String
        var reason: String
        var incident: String?
    }

    /// An unexpected `error`: logged in full under a new incident id, answered with the id alone.
    static func incident(_ error: any Error, status: HTTPResponse.Status = .internalServerError, code: String = "internal",
                         reason: String = "an unexpected error on the server", request: Request, logger: Logger) -> APIError {
        let id = Incident.newID()
        logger.error("API request failed", metadata: [
            "incident": "\(id)", "method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)",
        ])
        var answer = APIError(status, code: code, "\(reason); the server's log has the details under incident \(id)")
        answer.incident = id
        return answer
    }

    /// A request body larger than `limit`, naming what sets it: `intake.max_body`, or the fixed
    /// size of a form that has no setting.
    static func bodyTooLarge(limit: Int, setting: String?) -> APIError {
        let size = limit >= 1 << 20 ? "\(limit >> 20) MB" : "\(limit >> 10) KB"
        return APIError(.contentTooLarge, code: "body_too_large", setting.map {
            "the body is larger than \($0) (\(size)); send a long batch as application/x-ndjson, which streams"
        } ?? "the body is larger than this form takes (\(size))")
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
            // Routes collect through `collectBody`, which names their limit; this is a safety net.
            throw APIError(.contentTooLarge, code: "body_too_large", "the body is too large")
        } catch let error as HTTPError {
            let reason = error.body ?? Self.reason(for: error.status, request: request)
            var converted = APIError(error.status, code: Self.code(for: error.status), reason)
            converted.headers = error.headers
            throw converted
        } catch {
            throw APIError.incident(error, request: request, logger: context.logger)
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
        case .contentTooLarge: "the body is too large"
        default: status.reasonPhrase
        }
    }
}

/// Incident ids: short, random, and easy to search for in a log.
enum Incident {
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() & 0xFFFF_FFFF_FFFF, radix: 16).leftPadded(to: 12)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
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

extension Request {
    /// The whole body, at most `limit` bytes; more is a 413 that names `setting` (the config key
    /// that sets the limit) or, for a form of fixed size, the size alone.
    func collectBody(upTo limit: Int, setting: String?) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit, setting: setting)
        }
    }
}
