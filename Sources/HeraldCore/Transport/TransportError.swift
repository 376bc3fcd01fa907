/// A failure below the protocol: the request never got an answer.
///
/// `code` is stable (logs, metrics, the attempts table); `detail` is libcurl's own words.
public struct TransportError: Error, Sendable, CustomStringConvertible, Equatable {
    private enum Base: String, Sendable {
        case dns = "dns"
        case connect = "connect_failed"
        case timeout = "timeout"
        case tls = "tls"
        case protocolError = "protocol"
        case network = "network"
        case local = "local"
    }

    private let base: Base
    /// libcurl's CURLcode, 0 when the error did not come from libcurl.
    public let curlCode: Int32
    public let detail: String

    private init(_ base: Base, curlCode: Int32, detail: String) {
        self.base = base
        self.curlCode = curlCode
        self.detail = detail
    }

    /// The stable code, safe as a metric label.
    public var code: String { base.rawValue }
    public var description: String { "\(code): \(detail)" }

    public static func dns(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.dns, curlCode: curlCode, detail: detail) }
    public static func connect(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.connect, curlCode: curlCode, detail: detail) }
    public static func timeout(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.timeout, curlCode: curlCode, detail: detail) }
    public static func tls(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.tls, curlCode: curlCode, detail: detail) }
    public static func protocolError(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.protocolError, curlCode: curlCode, detail: detail) }
    public static func network(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.network, curlCode: curlCode, detail: detail) }
    /// A problem on this side: the request could not be set up, a file could not be written.
    public static func local(_ detail: String, curlCode: Int32 = 0) -> Self { .init(.local, curlCode: curlCode, detail: detail) }

    public var isTimeout: Bool { base == .timeout }
}
