import Foundation
import Hummingbird
import Logging

/// Herald's HTTP API: intake (`POST /v1/messages`), message lookup and operator actions,
/// suppressions, stats, health and metrics, and the public unsubscribe and inbound-SMS routes.
///
/// The same routes are served on the unix socket (trusted by file permissions) and, when
/// configured, on TCP behind a bearer token; `APIListeners` binds them. The routes are listed
/// in `openapi.yaml` beside this file, which a test checks against the router.
public struct HeraldAPI: Sendable {
    let queue: any MessageQueue
    let config: HeraldConfig
    var events: EventLog { config.eventLog }
    /// Made afresh per request, so templates added since start are accepted.
    let validation: @Sendable () -> IntakeValidation
    let metrics: DeliveryMetrics
    /// For the console's previews and gallery; nil: those pages say so.
    let templates: TemplateStore?
    /// The sequences goals are looked up in; nil: a goal exits nothing.
    let sequences: SequenceStore?
    /// Renders previews: without tracking, so the console's frames record no opens.
    let renderer: MessageRenderer?
    let logger: Logger
    /// The console's sign-ins on the TCP listener.
    let sessions = ConsoleSessions()
    /// Fetches SNS signing certificates and confirms SNS subscriptions; nil: SES webhooks answer 503.
    let bounceTransport: (any HTTPTransport)?
    /// SNS signing certificates, fetched once each.
    let snsCertificates: SNSCertificates?

    public init(queue: any MessageQueue, config: HeraldConfig, validation: @escaping @Sendable () -> IntakeValidation,
                metrics: DeliveryMetrics, templates: TemplateStore? = nil, sequences: SequenceStore? = nil,
                bounceTransport: (any HTTPTransport)? = nil, logger: Logger) {
        self.sequences = sequences
        self.bounceTransport = bounceTransport
        snsCertificates = bounceTransport.flatMap { transport in
            config.email?.bounces?.providers.ses.map { SNSCertificates(transport: transport, config: $0) }
        }
        self.queue = queue
        self.config = config
        self.validation = validation
        self.metrics = metrics
        self.templates = templates
        renderer = templates.map { config.renderer($0).forPreview }
        self.logger = logger
    }

    /// The first path segments of Herald's own routes. The unsubscribe pages' path (from
    /// `unsubscribe.base_url`) may not begin with one, so a public route can never shadow or
    /// overlap an authenticated one; the config check refuses such a base URL.
    public static let reservedSegments: Set<String> = ["v1", "console", "healthz", "metrics", "inbound", "receipts"]

    /// The routes that answer without the TCP listener's token, matched exactly: they are reached
    /// by recipients and gateways, and carry their own proof (a signed token, a gateway signature).
    var publicRoutes: PublicRouteSet {
        PublicRouteSet(exact: Set(["/healthz", "/inbound/sms", "/console/login"] + Self.bounceProviders.map { "/inbound/bounces/\($0)" }), tokenUnder: [unsubscribePath, "/receipts/sms", trackingPath + "/o", trackingPath + "/c"])
    }

    /// The path part of `unsubscribe.base_url`, where the unsubscribe pages are served.
    var unsubscribePath: String {
        let path = config.unsubscribe.flatMap { URL(string: $0.baseURL)?.path } ?? ""
        return path.isEmpty || path == "/" ? "/unsubscribe" : path
    }

    /// The router for one listener; `token` makes every non-public route require it.
    public func router(token: Secret?) -> Router<HeraldRequestContext> {
        let router = Router(context: HeraldRequestContext.self)
        router.add(middleware: JSONErrors())
        if let token { router.add(middleware: BearerToken(token, sessions: sessions, publicRoutes: publicRoutes)) }
        router.add(middleware: SameOriginPosts())
        addMessageRoutes(to: router)
        addSuppressionRoutes(to: router)
        addEnrollmentRoutes(to: router)
        addEventRoutes(to: router)
        addStatusRoutes(to: router)
        addPublicRoutes(to: router)
        addReceiptRoutes(to: router)
        addBounceWebhookRoutes(to: router)
        addTrackingRoutes(to: router)
        addConsoleRoutes(to: router, token: token)
        return router
    }
}
