import Testing
@testable import HeraldCore

@Suite("Machine traffic")
struct MachineTrafficTests {
    let delivered: Int64 = 1_000_000
    let window = Duration.seconds(10)

    func judge(head: Bool = false, ip: String? = "203.0.113.9", after: Int64, link: Int? = nil,
               earlier: [MachineTraffic.Earlier] = []) -> MachineTraffic.Verdict {
        MachineTraffic.judge(.init(head: head, clientIP: ip, at: delivered + after, link: link), deliveredAt: delivered,
                             earlier: earlier, window: window)
    }

    @Test("a person's GET long after delivery is human and first; a later one is not first")
    func person() {
        #expect(judge(after: 60_000, link: 0) == .init(machine: nil, first: true))
        #expect(judge(after: 60_000) == .init(machine: nil, first: true))
        #expect(judge(after: 90_000, link: 0, earlier: [.init(at: delivered + 60_000, link: 0, machine: false)]).first == false)
        #expect(judge(after: 90_000, link: 0, earlier: [.init(at: delivered + 1_000, link: 0, machine: true)]).first == true,
                "a scanner's click before does not take the first")
    }

    @Test("HEAD, Apple's proxy (opens), a click inside the window, a second link within 3 s: each flagged, never first")
    func machines() {
        #expect(judge(head: true, after: 60_000) == .init(machine: .headRequest, first: false))
        #expect(judge(head: true, after: 60_000, link: 0).machine == .headRequest)
        #expect(judge(ip: "17.58.63.10", after: 60_000) == .init(machine: .applePrivacyProxy, first: false))
        #expect(judge(ip: "::ffff:17.58.63.10", after: 60_000).machine == .applePrivacyProxy)
        #expect(judge(ip: "170.58.63.10", after: 60_000).machine == nil, "170/8 is not Apple's")
        #expect(judge(ip: "17.58.63.10", after: 60_000, link: 0).machine == nil, "the proxy fetches images, not links")
        #expect(judge(after: 1_000, link: 0) == .init(machine: .soonAfterDelivery, first: false))
        #expect(judge(after: 9_999, link: 0).machine == .soonAfterDelivery)
        #expect(judge(after: 10_000, link: 0).machine == nil)
        #expect(judge(after: 1_000).machine == nil, "opens are not judged by the window")
        let scanned = [MachineTraffic.Earlier(at: delivered + 60_000, link: 0, machine: false)]
        #expect(judge(after: 61_000, link: 1, earlier: scanned) == .init(machine: .manyLinksAtOnce, first: false))
        #expect(judge(after: 61_000, link: 0, earlier: scanned).machine == nil, "the same link again is a person's double click")
        #expect(judge(after: 63_000, link: 1, earlier: scanned).machine == nil, "3 s apart is a person's")
    }
}
