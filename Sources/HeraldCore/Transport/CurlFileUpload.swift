import Foundation

/// Puts a file on a remote server over libcurl: `sftp://`, `ftp://`, `ftps://` (upload) or
/// `http(s)://` (PUT). Throws `TransportError` when the upload did not complete, including an
/// HTTP answer that is not 2xx.
public struct CurlFileUpload: Sendable {
    let multi: CurlMulti

    public init(multi: CurlMulti) {
        self.multi = multi
    }

    public func put(_ bytes: [UInt8], to url: URL, username: String?, password: Secret?, sshKnownHosts: String?,
                    connectTimeout: Duration, timeout: Duration) async throws {
        var spec = CurlTransferSpec(url: url.absoluteString, connectTimeout: connectTimeout, timeout: timeout)
        spec.upload = bytes
        spec.username = username
        spec.password = password?.exposedValue
        spec.sshKnownHosts = sshKnownHosts
        let result = try await multi.perform(spec)
        if ["http", "https"].contains(url.scheme?.lowercased() ?? ""), !(200...299).contains(result.responseCode) {
            throw TransportError.protocolError(
                "HTTP \(result.responseCode) for PUT \(url.lastPathComponent): \(String(decoding: result.bodyPrefix.prefix(200), as: UTF8.self))")
        }
    }
}
