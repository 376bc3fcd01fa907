import Foundation
import Hummingbird

/// `<tracking path>/o/<token>` (the open pixel) and `<tracking path>/c/<token>` (a rewritten
/// link): public, each token signed for one message (and one URL). A valid one records
/// `email.opened` or `email.clicked`, flagged when software rather than a person made it
/// (`MachineTraffic`), and answers with the pixel or a 302 to the original URL; recording never
/// stands between the recipient and the page. A token that does not verify gets 404 and records
/// nothing.
extension HeraldAPI {
    /// The path part of `tracking.base_url`.
    var trackingPath: String { config.tracking.map(\.path) ?? "/t" }

    func addTrackingRoutes(to router: Router<HeraldRequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            router.on("\(trackingPath)/o/{token}", method: method) { request, context in
                let (tracking, token) = try trackingToken(context)
                guard let target = tracking.links.verify(token, click: false) else { throw APIError.notFound("no such tracking link") }
                await recordEngagement(target, tracking: tracking, request: request, context: context)
                return Response(status: .ok, headers: [
                    .contentType: "image/gif", .cacheControl: "no-store, no-cache, must-revalidate, private",
                ], body: request.method == .head ? .init() : .init(byteBuffer: ByteBuffer(bytes: Self.pixel)))
            }
            router.on("\(trackingPath)/c/{token}", method: method) { request, context in
                let (tracking, token) = try trackingToken(context)
                guard let target = tracking.links.verify(token, click: true), case .click(_, _, _, let url) = target,
                      TrackedHTML.isTrackable(url), !HeaderField.containsLineBreak(url)
                else { throw APIError.notFound("no such tracking link") }
                await recordEngagement(target, tracking: tracking, request: request, context: context)
                return Response(status: .found, headers: [
                    .location: Self.location(url), .cacheControl: "no-store", .init("Referrer-Policy")!: "no-referrer",
                ])
            }
        }
    }

    private func trackingToken(_ context: HeraldRequestContext) throws -> (TrackingConfig, String) {
        guard let tracking = config.tracking else { throw APIError.notFound("tracking is not configured (tracking.base_url)") }
        return (tracking, try context.parameters.require("token"))
    }

    /// Records the open or click; a failure is logged, and the recipient still gets the pixel or the page.
    private func recordEngagement(_ target: TrackingLinks.Target, tracking: TrackingConfig, request: Request,
                                  context: HeraldRequestContext) async {
        let link: (index: Int, url: String)? = if case .click(_, let index, _, let url) = target { (index, url) } else { nil }
        let type: EventType = link == nil ? .emailOpened : .emailClicked
        guard events.types.contains(type) else { return }
        let now = Timestamp.now()
        do {
            guard let message = try await queue.message(String(target.messageID)), message.id == target.messageID,
                  message.channel == .email
            else { return }
            let earlier = try await queue.events(after: .start, matching: EventFilter(types: [type], messageID: message.id), limit: 1_000)
                .map { stored in
                    let fields = (try? JSONValue.parse(Data(stored.event.payload.utf8))).flatMap { value -> [String: JSONValue]? in
                        if case .object(let fields) = value { fields } else { nil }
                    } ?? [:]
                    let linkIndex: Int? = if case .integer(let index) = fields["link"] { Int(index) } else { nil }
                    return MachineTraffic.Earlier(at: stored.event.occurredAt, link: linkIndex, machine: fields["machine"] != .bool(false))
                }
            // Delivered when the attempt that sent it finished, by Herald's own record.
            let delivered = message.attempts.last { $0.outcome == .sent }.map { $0.startedAt + $0.durationMicroseconds / 1_000 }
            let hit = MachineTraffic.Hit(head: request.method == .head, clientIP: clientIP(request, context, behindProxy: tracking.behindProxy),
                                         at: now, link: link?.index)
            let verdict = MachineTraffic.judge(hit, deliveredAt: delivered, earlier: earlier, window: tracking.machineWindow)
            if let event = events.engagement(of: EventSubject(message), link: link, verdict: verdict,
                                             userAgent: request.headers[.userAgent], at: now) {
                try await queue.record([event])
            }
        } catch {
            context.logger.error("could not record an \(type.rawValue) event", metadata: [
                "message_id": "\(target.messageID)", "error": "\(error)",
            ])
        }
    }

    /// The client: the peer, or behind a proxy the address that proxy appended last to
    /// `X-Forwarded-For` (earlier entries are whatever the client claimed).
    private func clientIP(_ request: Request, _ context: HeraldRequestContext, behindProxy: Bool) -> String? {
        if behindProxy {
            return request.headers.value(named: "x-forwarded-for")?.split(separator: ",").last
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return context.remoteAddress?.ipAddress
    }

    /// `url` as a header value: bytes outside printable ASCII (a link with `ü` or a space in it, as
    /// a browser would follow it) percent-encoded, since a header carries no UTF-8.
    static func location(_ url: String) -> String {
        var out = ""
        for byte in url.utf8 {
            if byte > 0x20 && byte < 0x7F {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + Hex.encode(CollectionOfOne(byte)).uppercased()
            }
        }
        return out
    }

    /// A transparent 1×1 GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
        0x02, 0x44, 0x01, 0x00, 0x3B,
    ]
}
