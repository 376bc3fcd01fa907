import Foundation
import X509
import _CryptoExtras

/// The certificates Amazon SNS signs with, fetched from the URL a message names once that URL
/// is on an allowed host (Amazon SNS's own, `sns.<region>.amazonaws.com`, unless configured), and
/// kept by URL. The TLS connection that fetches one is what vouches for it.
actor SNSCertificates {
    let transport: any HTTPTransport
    let config: BounceProvidersConfig.SES
    private var keys: [String: _RSA.Signing.PublicKey] = [:]

    init(transport: any HTTPTransport, config: BounceProvidersConfig.SES) {
        self.transport = transport
        self.config = config
    }

    /// True for an https URL on a host SNS certificates and subscription URLs may come from.
    nonisolated func isAllowed(_ url: URL) -> Bool {
        guard url.scheme?.lowercased() == "https", let host = url.host?.lowercased(), url.user == nil else { return false }
        if !config.certificateHosts.isEmpty {
            return config.certificateHosts.contains(url.port.map { "\(host):\($0)" } ?? host)
        }
        let labels = host.split(separator: ".")
        return url.port == nil && (labels.count == 4 || (labels.count == 5 && labels[4] == "cn")) && labels[0] == "sns"
            && labels[2] == "amazonaws" && labels[3] == "com" && labels[1].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }

    /// The signing key at `urlText`.
    func key(at urlText: String) async throws(WebhookRefusal) -> _RSA.Signing.PublicKey {
        if let key = keys[urlText] { return key }
        guard let url = URL(string: urlText), isAllowed(url), url.path.hasSuffix(".pem") else {
            throw WebhookRefusal(code: "bad_certificate", reason: "SigningCertURL is not an Amazon SNS certificate URL")
        }
        let response: OutboundResponse
        do {
            response = try await transport.send(OutboundRequest(method: "GET", url: url, timeout: .seconds(10),
                                                                responseBodyLimit: 64 << 10, caFile: config.caFile))
        } catch {
            throw WebhookRefusal(code: "certificate_unavailable", reason: "the signing certificate could not be fetched")
        }
        guard response.status == 200, let certificate = try? Certificate(pemEncoded: response.bodyText),
              certificate.notValidBefore <= Date(), certificate.notValidAfter >= Date(),
              let key = try? _RSA.Signing.PublicKey(derRepresentation: certificate.publicKey.subjectPublicKeyInfoBytes)
        else {
            throw WebhookRefusal(code: "bad_certificate", reason: "the signing certificate is not a valid RSA certificate")
        }
        keys[urlText] = key
        return key
    }
}
