import Foundation

/// An HTTP request as a channel hands it to a transport.
public struct OutboundRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var connectTimeout: Duration
    /// The whole exchange, connection included.
    public var timeout: Duration
    /// HTTP Basic credentials, handed to libcurl rather than written into a header, so they never
    /// appear in an outbox file.
    public var basicAuth: (username: String, password: Secret)?
    /// How much of the response body to keep (a provider's JSON answer can put its id past 1 KB).
    public var responseBodyLimit: Int
    /// A CA bundle to trust instead of the system's.
    public var caFile: String?

    public init(method: String = "POST", url: URL, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(10),
                basicAuth: (username: String, password: Secret)? = nil, responseBodyLimit: Int = OutboundResponse.bodyLimit,
                caFile: String? = nil) {
        self.caFile = caFile
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.basicAuth = basicAuth
        self.responseBodyLimit = responseBodyLimit
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// What came back: the status, the headers, and the start of the body.
public struct OutboundResponse: Sendable {
    public var status: Int
    /// Header names lower-cased, in arrival order.
    public var headers: [(name: String, value: String)]
    /// At most the first `OutboundRequest.responseBodyLimit` bytes (by default `OutboundResponse.bodyLimit`).
    public var bodyPrefix: [UInt8]
    public var duration: Duration

    public static let bodyLimit = 1_024

    public init(status: Int, headers: [(name: String, value: String)] = [], bodyPrefix: [UInt8] = [],
                duration: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.bodyPrefix = bodyPrefix
        self.duration = duration
    }

    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.last { $0.name == name }?.value
    }

    /// The body prefix as text, invalid UTF-8 repaired.
    public var bodyText: String { String(decoding: bodyPrefix, as: UTF8.self) }
}

/// Sends HTTP requests. The real one is libcurl (`CurlHTTPTransport`); the development outbox
/// writes requests to files instead.
public protocol HTTPTransport: Sendable {
    /// Throws `TransportError` when no response arrived, `CancellationError` when the task was
    /// cancelled before it did.
    func send(_ request: OutboundRequest) async throws -> OutboundResponse
}
