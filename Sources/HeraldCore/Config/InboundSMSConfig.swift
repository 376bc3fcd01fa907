/// `channels.sms.inbound`: how Herald knows that a reply posted to `/inbound/sms` really comes
/// from the gateway.
///
/// ```yaml
/// inbound:
///   url: "https://crm.example.com/herald/inbound/sms"   # twilio: the exact URL configured at Twilio
///   token: "${SMS_INBOUND_TOKEN}"                        # kannel, http: ?token=… on the gateway's URL
/// ```
public struct InboundSMSConfig: Sendable {
    /// The public URL the gateway posts to; Twilio signs it (with the form fields) using the
    /// account's auth token, sent as `X-Twilio-Signature`.
    public var publicURL: String?
    /// A shared secret the gateway adds as `?token=` (Kannel's get-url, other gateways).
    public var token: Secret?

    init(_ node: ConfigNode, gateway: SMSChannelConfig.Gateway) throws(ConfigError) {
        let fields = try node.fields(allowed: ["url", "token"])
        publicURL = try fields["url"].map { node throws(ConfigError) in try node.url(schemes: ["http", "https"]).absoluteString }
        token = try fields["token"]?.key()
        switch gateway {
        case .twilio:
            guard publicURL != nil else {
                throw node.error("twilio: url is required (the URL Twilio posts to, which its signature covers)")
            }
        case .kannel, .http:
            guard token != nil else {
                throw node.error("token is required (from the environment); the gateway adds it to its URL as ?token=")
            }
        }
    }
}
