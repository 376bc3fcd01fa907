import Foundation

/// `events`: what Herald tells the CRM. Present, the events of `types` are recorded (and can be
/// read with `GET /v1/events`); with a `url` they are also pushed there, signed the Standard
/// Webhooks way with `secret`, as JSON arrays of up to `batch.max` events.
public struct EventsConfig: Sendable {
    public var types: Set<EventType>
    /// Where to push; nil: the CRM reads `/v1/events` instead.
    public var push: WebhookEndpoint?
    /// The most events one POST carries.
    public var batchMax: Int
    /// How long the first waiting event waits for others to fill its batch.
    public var batchWait: Duration
    public var connectTimeout: Duration

    public init(types: Set<EventType> = EventType.recordedByDefault, push: WebhookEndpoint? = nil, batchMax: Int = 100,
                batchWait: Duration = .seconds(1), connectTimeout: Duration = .seconds(5)) {
        self.types = types
        self.push = push
        self.batchMax = batchMax
        self.batchWait = batchWait
        self.connectTimeout = connectTimeout
    }

    /// What the rest of Herald builds its events with.
    public var log: EventLog { EventLog(types: types) }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["url", "secret", "types", "batch", "timeout", "connect_timeout", "headers"])
        self.init()
        if let typesNode = fields["types"] {
            var types: Set<EventType> = []
            for item in try typesNode.items() {
                let name = try item.string()
                do throws(UnknownEventType) {
                    types.formUnion(try EventType.set(from: [name]))
                } catch {
                    throw item.error(error.description)
                }
            }
            guard !types.isEmpty else { throw typesNode.error("name at least one event type, or leave events out") }
            self.types = types
        }
        if let batchNode = fields["batch"] {
            let batch = try batchNode.fields(allowed: ["max", "wait"])
            batchMax = try batch["max"]?.int(in: 1...1_000) ?? 100
            batchWait = try batch["wait"]?.duration() ?? .seconds(1)
        }
        connectTimeout = try fields["connect_timeout"]?.duration() ?? .seconds(5)
        if fields["url"] != nil || fields["secret"] != nil {
            var endpoint: [String: ConfigNode] = [:]
            for key in ["url", "secret", "timeout", "headers"] { endpoint[key] = fields[key] }
            guard fields["url"] != nil else { throw node.error("url: required with a secret (where to push the events)") }
            push = try WebhookEndpoint(name: "events", fields: endpoint, node: node, defaultTimeout: .seconds(10))
        } else if fields["timeout"] != nil || fields["headers"] != nil {
            throw node.error("timeout and headers apply to a push: add url and secret")
        }
    }
}
