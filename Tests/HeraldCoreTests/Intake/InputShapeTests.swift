import Foundation
import Testing
@testable import HeraldCore

/// How a file's shape is told apart before its messages are read: byte order marks, long first
/// lines, leading whitespace.
@Suite("Input shapes")
struct InputShapeTests {
    static let good = #"{"key": "k", "channel": "webhook", "template": "alert", "to": {"endpoint": "hooks"}}"#

    func items(_ bytes: [UInt8]) throws -> [InputItem] {
        let folder = try TemporaryFolder()
        try Data(bytes).write(to: folder.file("in.ndjson"))
        var items: [InputItem] = []
        try MessageInput.read(try FileHandle(forReadingFrom: folder.file("in.ndjson"))) { items += $0 }
        return items
    }

    @Test("a UTF-8 BOM before NDJSON costs no line: the first line is read like the others")
    func ndjsonBOM() throws {
        let read = try items([0xEF, 0xBB, 0xBF] + Array((Self.good + "\n" + Self.good + "\n").utf8))
        #expect(read.count == 2)
        #expect(read.allSatisfy { (try? $0.value.get()) != nil }, "\(read.map(\.value))")
        let array = try items([0xEF, 0xBB, 0xBF] + Array("[\(Self.good), \(Self.good)]".utf8))
        #expect(array.count == 2 && array.allSatisfy { (try? $0.value.get()) != nil })
    }

    @Test("a UTF-8 BOM before a CSV header: the first column keeps its name")
    func csvBOM() throws {
        let folder = try TemporaryFolder()
        let text = "key,channel,template,to.endpoint\nc1,webhook,alert,hooks\n"
        try Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)).write(to: folder.file("in.csv"))
        var items: [InputItem] = []
        try CSVMessageInput.read(try FileHandle(forReadingFrom: folder.file("in.csv"))) { items += $0 }
        #expect(items.count == 1)
        let object = try items[0].value.get()
        #expect(object["key"]?.string == "c1", "\(object)")
    }

    @Test("a 16 MB first line is refused alone and the line after it is read; looking for its end is one pass (it took 51 s on the old reader, which rescanned from the start per chunk)")
    func longFirstLine() throws {
        var bytes = Array("{\"key\": \"".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "a"), count: 16 << 20)
        bytes += Array("\"}\n\(Self.good)\n".utf8)
        let started = ContinuousClock.now
        let read = try items(bytes)
        let took = ContinuousClock.now - started
        #expect(read.count == 2)
        if case .failure(let rejection) = read.first?.value {
            #expect(rejection.reason.contains("longer than"), "\(rejection)")
        } else {
            Issue.record("the long first line was not refused")
        }
        #expect((try? read.last?.value.get()) != nil, "the second line must be read")
        // Not a speed target: a stall detector, 100 times the old reader's cost away from the fix's.
        #expect(took < .seconds(30), "took \(took)")
    }
}
