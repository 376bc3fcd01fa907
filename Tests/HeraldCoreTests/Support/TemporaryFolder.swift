import Foundation

/// A folder under the system's temporary directory, removed when the value is released.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL

    init(_ name: String = "herald-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func file(_ path: String) -> URL {
        url.appendingPathComponent(path)
    }

    func write(_ path: String, _ text: String) throws {
        let file = file(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }
}

/// Gives `url` and everything under it to `user` (servers that will not run as root read and
/// write the test's folders as their own user).
func changeOwner(_ url: URL, to user: String) throws {
    guard let entry = getpwnam(user) else { throw OwnerError(reason: "no user \(user)") }
    let paths = [url.path] + ((FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String]) ?? [])
        .map { url.appendingPathComponent($0).path }
    for path in paths where chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) != 0 {
        throw OwnerError(reason: "chown \(path) to \(user): errno \(errno)")
    }
}

struct OwnerError: Error {
    var reason: String
}
