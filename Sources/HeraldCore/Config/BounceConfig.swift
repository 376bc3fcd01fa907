/// `channels.email.bounces`: where bounces come back to, and what they count for.
///
/// ```yaml
/// bounces:
///   return_path: "bounces@bounce.harbor-financial.example"   # VERP: bounces+<id>-<signature>@…
///   secret: "${HERALD_BOUNCE_SECRET}"                         # signs each envelope sender
///   soft: {max: 3, per: 7d}                                   # soft bounces that suppress the address
///   mailbox: {url: "imaps://mail.example/INBOX", username: …, password: "${HERALD_BOUNCE_MAILBOX_PASSWORD}"}
/// ```
public struct BounceConfig: Sendable {
    public var returnPath: ReturnPath
    /// This many soft bounces of one address within `softWindow`, with no delivery to it in
    /// between, suppress it.
    public var softMax: Int
    public var softWindow: Duration
    /// Where the return path's mail is delivered, when Herald reads it itself.
    public var mailbox: BounceMailboxConfig?
    /// Mail providers whose bounce and complaint webhooks Herald takes.
    public var providers = BounceProvidersConfig()

    public init(returnPath: ReturnPath, softMax: Int = 3, softWindow: Duration = .seconds(7 * 86_400)) {
        self.returnPath = returnPath
        self.softMax = softMax
        self.softWindow = softWindow
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["return_path", "secret", "soft", "mailbox", "providers"])
        guard let pathNode = fields["return_path"] else { throw node.error("return_path: required (the bounce mailbox, bounces@bounce.example.com)") }
        guard let secretNode = fields["secret"] else { throw node.error("secret: required (from the environment); it signs each envelope sender") }
        let address = try pathNode.string()
        guard MessageValidation.isEmailAddress(address), let returnPath = ReturnPath(address: address, secret: try secretNode.key()) else {
            throw pathNode.error("not an address without a + in its local part (\"\(address.prefix(200))\"); Herald adds +<token> itself")
        }
        self.init(returnPath: returnPath)
        if let soft = fields["soft"] {
            let window = try soft.fields(allowed: ["max", "per"])
            softMax = try window["max"]?.int(in: 1...1_000) ?? 3
            softWindow = try window["per"]?.duration() ?? softWindow
        }
        mailbox = try fields["mailbox"].map { node throws(ConfigError) in try BounceMailboxConfig(node) }
        if let providersNode = fields["providers"] { providers = try BounceProvidersConfig(providersNode) }
    }
}
