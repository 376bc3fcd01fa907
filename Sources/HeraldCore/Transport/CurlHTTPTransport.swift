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
        let headers = result.headerLines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            return (name, value)
        }
        return OutboundResponse(status: result.responseCode, headers: headers, bodyPrefix: result.bodyPrefix,
                            duration: result.duration)
    }
}
