import Foundation

/// Three network namespaces made for one test, each a separate "host": `db` (PostgreSQL and the
/// webhook receiver) and hosts `a` and `b`, each joined to `db` by a veth pair, and a veth from
/// this (the test's) namespace to `db` so the test can look at the database. Needs root and
/// iproute2; removed when the value is released (after the processes in them are stopped).
final class TestNetwork: @unchecked Sendable {
    let tag: String
    let db: String
    let a: String
    let b: String
    /// 10.<subnet>.0.0/16: one per test run, so two runs cannot collide.
    let subnet: Int

    /// The database host's address as the test, host a and host b reach it.
    var dbFromTest: String { "10.\(subnet).0.1" }
    var dbFromA: String { "10.\(subnet).1.1" }
    var dbFromB: String { "10.\(subnet).2.1" }

    init() throws {
        guard getuid() == 0 else { throw NetworkError("network namespaces need root (ip netns); run the tests as root, as CI does") }
        subnet = Int.random(in: 100...199)
        tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        db = "herald-db-\(tag)"
        a = "herald-a-\(tag)"
        b = "herald-b-\(tag)"
        for namespace in [db, a, b] {
            try Self.ip(["netns", "add", namespace])
            try Self.ip(["netns", "exec", namespace, "ip", "link", "set", "lo", "up"])
        }
        try link(local: nil, localName: "vt\(tag)", localAddress: "10.\(subnet).0.2", dbName: "vd\(tag)", dbAddress: dbFromTest)
        try link(local: a, localName: "va\(tag)", localAddress: "10.\(subnet).1.2", dbName: "vx\(tag)", dbAddress: dbFromA)
        try link(local: b, localName: "vb\(tag)", localAddress: "10.\(subnet).2.2", dbName: "vy\(tag)", dbAddress: dbFromB)
    }

    /// A veth pair from `local` (nil: the test's namespace) to `db`, a /24 on each end.
    private func link(local: String?, localName: String, localAddress: String, dbName: String, dbAddress: String) throws {
        try Self.ip(["link", "add", localName, "type", "veth", "peer", "name", dbName])
        try Self.ip(["link", "set", dbName, "netns", db])
        if let local { try Self.ip(["link", "set", localName, "netns", local]) }
        let prefix = local.map { ["netns", "exec", $0, "ip"] } ?? []
        try Self.ip(prefix + ["addr", "add", "\(localAddress)/24", "dev", localName])
        try Self.ip(prefix + ["link", "set", localName, "up"])
        try Self.ip(["netns", "exec", db, "ip", "addr", "add", "\(dbAddress)/24", "dev", dbName])
        try Self.ip(["netns", "exec", db, "ip", "link", "set", dbName, "up"])
    }

    deinit {
        for namespace in [a, b, db] { try? Self.ip(["netns", "del", namespace]) }
        try? Self.ip(["link", "del", "vt\(tag)"])
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else { throw NetworkError("ip \(arguments.joined(separator: " ")): \(text)") }
        return text
    }
}

struct NetworkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
