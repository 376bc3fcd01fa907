import Foundation

/// A tmpfs of its own for the queue's folder, so the test can fill it without filling the machine.
final class SmallDisk: @unchecked Sendable {
    let mountPoint: URL

    init(at mountPoint: URL, megabytes: Int) throws {
        self.mountPoint = mountPoint
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint.path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw DiskError.mountFailed(mount.terminationStatus) }
    }

    /// Writes a filler file until the disk is full; returns the bytes it took.
    func fill() -> Int {
        let filler = mountPoint.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: filler) else { return 0 }
        let chunk = Data(count: 64 * 1024)
        var written = 0
        while (try? handle.write(contentsOf: chunk)) != nil { written += chunk.count }
        try? handle.close()
        return written
    }

    func free() {
        try? FileManager.default.removeItem(at: mountPoint.appendingPathComponent("filler"))
    }

    var available: Int {
        (try? FileManager.default.attributesOfFileSystem(forPath: mountPoint.path)[.systemFreeSize] as? Int) ?? -1
    }

    deinit {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = ["-l", mountPoint.path]
        try? umount.run()
        umount.waitUntilExit()
    }

    enum DiskError: Error {
        case mountFailed(Int32)
    }
}
