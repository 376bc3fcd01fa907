import Crypto
import Foundation

/// `channels.email.bounces.providers`: the mail providers whose bounce and complaint webhooks
/// Herald takes on the public listener, at `/inbound/bounces/<provider>`, each with what proves a
/// request came from it.
///
/// ```yaml
/// providers:
///   ses: {topic_arns: ["arn:aws:sns:us-east-1:123456789012:ses-bounces"]}   # SNS signature, signing certificate from sns.<region>.amazonaws.com
///   sendgrid: {public_key: "${SENDGRID_WEBHOOK_PUBLIC_KEY}"}               # the Event Webhook's verification key (ECDSA)
///   mailgun: {signing_key: "${MAILGUN_WEBHOOK_SIGNING_KEY}"}               # HMAC-SHA256 of timestamp and token
///   postmark: {username: postmark, password: "${POSTMARK_WEBHOOK_PASSWORD}"}   # basic auth on the webhook URL
///   max_age: 15m       # a signed timestamp older than this is a replay
/// ```
public struct BounceProvidersConfig: Sendable {
    public struct SES: Sendable {
        /// Only notifications of these topics are taken: anyone can make a topic, and SNS signs
        /// theirs as it signs yours.
        public var topicARNs: Set<String>
        /// Hosts (with port, if not 443) the signing certificate and the subscription URL may be
        /// on; empty: Amazon SNS's own, `sns.<region>.amazonaws.com`.
        public var certificateHosts: Set<String> = []
        /// A CA bundle to trust for those hosts instead of the system's.
        public var caFile: String?
    }

    public struct SendGrid: @unchecked Sendable {
        public var publicKey: P256.Signing.PublicKey
    }

    public struct Mailgun: Sendable {
        public var signingKey: Secret
    }

    public struct Postmark: Sendable {
        public var username: String
        public var password: Secret
    }

    public var ses: SES?
    public var sendGrid: SendGrid?
    public var mailgun: Mailgun?
    public var postmark: Postmark?
    /// How old a provider's signed timestamp may be (SES, SendGrid, Mailgun).
    public var maxAge: Duration = .seconds(15 * 60)

    public init() {}

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["ses", "sendgrid", "mailgun", "postmark", "max_age"])
        if let sesNode = fields["ses"] {
            let ses = try sesNode.fields(allowed: ["topic_arns", "certificate_hosts", "ca_file"])
            guard let arns = ses["topic_arns"] else {
                throw sesNode.error("topic_arns: required (the SNS topics your SES identities notify, arn:aws:sns:…)")
            }
            var topics = Set<String>()
            for item in try arns.items() {
                let arn = try item.nonEmptyString()
                guard arn.hasPrefix("arn:aws") && arn.split(separator: ":").count >= 6 else {
                    throw item.error("not an SNS topic ARN (\"\(arn.prefix(200))\"); expected arn:aws:sns:<region>:<account>:<topic>")
                }
                topics.insert(arn)
            }
            if topics.isEmpty { throw arns.error("at least one topic ARN") }
            var config = SES(topicARNs: topics)
            if let hosts = ses["certificate_hosts"] {
                config.certificateHosts = Set(try hosts.items().map { item throws(ConfigError) in try item.nonEmptyString().lowercased() })
            }
            if let caFile = ses["ca_file"] { config.caFile = try caFile.nonEmptyString() }
            self.ses = config
        }
        if let sendGridNode = fields["sendgrid"] {
            let sendGrid = try sendGridNode.fields(allowed: ["public_key"])
            guard let keyNode = sendGrid["public_key"] else {
                throw sendGridNode.error("public_key: required (the Event Webhook's verification key, from the environment)")
            }
            let text = try keyNode.secret().exposedValue.filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: text), let key = try? P256.Signing.PublicKey(derRepresentation: der) else {
                throw keyNode.error("not a base64 ECDSA P-256 public key (as SendGrid shows it under Signed Event Webhook)")
            }
            self.sendGrid = SendGrid(publicKey: key)
        }
        if let mailgunNode = fields["mailgun"] {
            let mailgun = try mailgunNode.fields(allowed: ["signing_key"])
            guard let keyNode = mailgun["signing_key"] else {
                throw mailgunNode.error("signing_key: required (the HTTP webhook signing key, from the environment)")
            }
            self.mailgun = Mailgun(signingKey: try keyNode.key())
        }
        if let postmarkNode = fields["postmark"] {
            let postmark = try postmarkNode.fields(allowed: ["username", "password"])
            guard let user = postmark["username"], let password = postmark["password"] else {
                throw postmarkNode.error("username and password: required (the basic auth you put in the webhook's URL)")
            }
            self.postmark = Postmark(username: try user.nonEmptyString(), password: try password.key(example: "openssl rand -hex 24"))
        }
        if let maxAgeNode = fields["max_age"] { maxAge = try maxAgeNode.duration() }
    }
}
