import Foundation

/// HTTP over libcurl's multi interface.
public struct CurlHTTPTransport: HTTPTransport {
    let multi: CurlMulti

    public init(multi: CurlMulti) {
        self.multi = multi
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        let spec = CurlTransferSpec(
            url: request.url.absoluteString,
            method: request.method,
            headers: request.headers.map { "\($0.name): \($0.value)" },
            body: request.method == "GET" ? nil : request.body,
            connectTimeout: request.connectTimeout,
            timeout: request.timeout,
            bodyLimit: request.responseBodyLimit,
            username: request.basicAuth?.username,
            password: request.basicAuth?.password.exposedValue,
            caFile: request.caFile)
        let result = try await multi.perform(spec)
        return OutboundResponse(status: result.responseCode, headers: result.headers, bodyPrefix: result.bodyPrefix,
                            duration: result.duration)
    }
}
