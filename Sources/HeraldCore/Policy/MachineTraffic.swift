/// Whether an open or a click was a person or software acting on the mail, so the CRM scores
/// leads on people. Software is flagged, never dropped: the event still reaches the CRM with
/// `"machine": true` and the reason, and only a person's first open (or click) is `"first": true`.
///
/// The signs, each one a pattern the mail world documents:
/// - `head_request`: a HEAD asks whether the URL exists; a mail client showing an image, or a
///   person following a link, sends GET.
/// - `apple_privacy_proxy`: Apple Mail Privacy Protection fetches every image of every message
///   through its proxies (17.0.0.0/8) when the mail arrives, whether anyone reads it or not.
/// - `soon_after_delivery`: link scanners (Microsoft Safe Links, Mimecast, Proofpoint) follow
///   links within seconds of the message's arrival; a click sooner than `window` after Herald's
///   recorded delivery is theirs.
/// - `many_links_at_once`: a scanner follows every link of the message at once; a click on a
///   second link of the same message within `burstWindow` of the first is not a person's.
public enum MachineTraffic {
    public enum Reason: String, Sendable {
        case headRequest = "head_request"
        case applePrivacyProxy = "apple_privacy_proxy"
        case soonAfterDelivery = "soon_after_delivery"
        case manyLinksAtOnce = "many_links_at_once"
    }

    /// One request for a pixel or a link.
    public struct Hit: Sendable {
        public var head: Bool
        /// The client's IP address as text; nil when unknown.
        public var clientIP: String?
        /// Unix ms, when Herald received it.
        public var at: Int64
        /// The link's place in the email; nil for the pixel.
        public var link: Int?

        public init(head: Bool, clientIP: String?, at: Int64, link: Int?) {
            self.head = head
            self.clientIP = clientIP
            self.at = at
            self.link = link
        }
    }

    /// An open or click of the same message recorded before, of the same kind as the hit.
    public struct Earlier: Sendable {
        public var at: Int64
        public var link: Int?
        public var machine: Bool

        public init(at: Int64, link: Int?, machine: Bool) {
            self.at = at
            self.link = link
            self.machine = machine
        }
    }

    public struct Verdict: Sendable, Equatable {
        /// Why this was software; nil for a person.
        public var machine: Reason?
        /// A person's first open (or click) of this message.
        public var first: Bool
    }

    /// Two different links of one message clicked closer together than this are one scanner.
    public static let burstWindow: Int64 = 3_000

    /// - Parameters:
    ///   - deliveredAt: when Herald's attempt that delivered the message started (unix ms); nil
    ///     if the record is gone.
    ///   - window: clicks sooner than this after delivery are a scanner's (`tracking.machine_window`).
    public static func judge(_ hit: Hit, deliveredAt: Int64?, earlier: [Earlier], window: Duration) -> Verdict {
        let reason: Reason? =
            if hit.head { .headRequest }
            else if hit.link == nil, let ip = hit.clientIP, isApplePrivacyProxy(ip) { .applePrivacyProxy }
            else if hit.link != nil, let deliveredAt, hit.at - deliveredAt < window.milliseconds { .soonAfterDelivery }
            else if let link = hit.link,
                    earlier.contains(where: { $0.link != nil && $0.link != link && abs(hit.at - $0.at) < burstWindow }) {
                .manyLinksAtOnce
            } else { nil }
        return Verdict(machine: reason, first: reason == nil && !earlier.contains { !$0.machine })
    }

    /// Apple's 17.0.0.0/8, as IPv4 or IPv4-mapped IPv6.
    static func isApplePrivacyProxy(_ ip: String) -> Bool {
        let v4 = ip.lowercased().hasPrefix("::ffff:") ? ip.dropFirst(7) : Substring(ip)
        return v4.hasPrefix("17.") && v4.split(separator: ".").count == 4
    }
}
