import Foundation

/// `tracking`: open and click tracking in emails' HTML parts, off unless configured (and per
/// template with `tracking: false` in its manifest).
///
/// ```yaml
/// tracking:
///   base_url: "https://crm.example.com/t"   # public; Herald serves <path>/o/<token> and <path>/c/<token>
///   secret: "${HERALD_TRACKING_SECRET}"     # signs every link
///   opens: true                             # the pixel
///   clicks: true                            # rewritten links
///   machine_window: 10s                     # clicks sooner after delivery are a link scanner's
///   behind_proxy: false                     # true: the client is the last X-Forwarded-For entry
/// ```
public struct TrackingConfig: Sendable {
    public var links: TrackingLinks
    /// Clicks sooner than this after delivery are flagged `soon_after_delivery`.
    public var machineWindow: Duration
    /// The public listener is reached through a proxy that appends the client to `X-Forwarded-For`.
    public var behindProxy: Bool

    public init(links: TrackingLinks, machineWindow: Duration = .seconds(10), behindProxy: Bool = false) {
        self.links = links
        self.machineWindow = machineWindow
        self.behindProxy = behindProxy
    }

    /// The path part of `base_url`, where the pixel and link routes are served.
    public var path: String {
        let path = URL(string: links.baseURL)?.path ?? ""
        return path.isEmpty || path == "/" ? "" : path
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["base_url", "secret", "opens", "clicks", "machine_window", "behind_proxy"])
        guard let base = fields["base_url"] else { throw node.error("base_url is required (the public URL of the tracking routes)") }
        guard let secretNode = fields["secret"] else { throw node.error("secret is required (from the environment)") }
        let url = try base.publicBaseURL(of: "tracking links", example: "/t")
        let opens = try fields["opens"]?.bool() ?? true
        let clicks = try fields["clicks"]?.bool() ?? true
        guard opens || clicks else { throw node.error("opens and clicks are both off: leave tracking out instead") }
        self.init(links: TrackingLinks(baseURL: url.absoluteString, secret: try secretNode.key(example: "openssl rand -base64 32"),
                                       opens: opens, clicks: clicks),
                  machineWindow: try fields["machine_window"]?.duration() ?? .seconds(10),
                  behindProxy: try fields["behind_proxy"]?.bool() ?? false)
    }
}
