import Crypto
import Foundation

/// Twilio's request signature (`X-Twilio-Signature`): base64 of HMAC-SHA1, keyed with the
/// account's auth token, over the URL Twilio posted to followed by every form field's name and
/// value, sorted by name. Proves an inbound message came from Twilio and was not altered.
enum TwilioSignature {
    static func expected(url: String, parameters: [(name: String, value: String)], authToken: Secret) -> String {
        var signed = url
        for (name, value) in parameters.sorted(by: { ($0.name, $0.value) < ($1.name, $1.value) }) {
            signed += name + value
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(signed.utf8),
                                                          using: SymmetricKey(data: Data(authToken.exposedValue.utf8)))
        return Data(mac).base64EncodedString()
    }

    static func isValid(_ signature: String, url: String, parameters: [(name: String, value: String)], authToken: Secret) -> Bool {
        ConstantTime.equal(signature.utf8, expected(url: url, parameters: parameters, authToken: authToken).utf8)
    }
}
