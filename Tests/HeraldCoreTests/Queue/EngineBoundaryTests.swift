import Foundation
import Testing

/// The engines' folders are the only places that know how the queue is stored: everything else
/// talks to the `MessageQueue` contract, so a second engine is a folder, not a search through
/// the code base.
@Suite("Engine boundary")
struct EngineBoundaryTests {
    static let engineFolders = ["Sources/HeraldCore/Queue/SQLite/", "Sources/HeraldCore/Queue/PostgreSQL/"]

    /// Words that only SQL has, as SQL writes them.
    static var sql: Regex<AnyRegexOutput> {
        try! Regex(#"\b(?:SELECT\s+(?:\w|\*|\()|INSERT\s+(?:OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\b|ALTER\s+TABLE\b|FOR\s+UPDATE\b|ON\s+CONFLICT\b)"#)
    }

    static func sources() throws -> [(path: String, text: String)] {
        let root = SupportPaths.packageRoot
        var found: [(String, String)] = []
        for top in ["Sources"] {
            let base = root.appendingPathComponent(top)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" {
                let path = String(url.path.dropFirst(root.path.count + 1))
                found.append((path, try String(contentsOf: url, encoding: .utf8)))
            }
        }
        return found
    }

    @Test("no file outside the engines' folders imports GRDB or PostgresNIO or holds SQL")
    func boundary() throws {
        let files = try Self.sources()
        let core = files
        #expect(core.count > 100, "precondition: the sources were found (\(core.count) files)")
        #expect(core.contains { $0.path.hasPrefix(Self.engineFolders[0]) && $0.text.contains("import GRDB") },
                "precondition: the check would see an import in an engine's folder")
        var offenders: [String] = []
        for file in core where !Self.engineFolders.contains(where: { file.path.hasPrefix($0) }) {
            for line in file.text.split(separator: "\n", omittingEmptySubsequences: false) {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("import GRDB") || code.hasPrefix("import PostgresNIO") || code.hasPrefix("@testable import GRDB") {
                    offenders.append("\(file.path): \(code)")
                } else if !code.hasPrefix("//"), code.contains(Self.sql) {
                    offenders.append("\(file.path): \(code.prefix(120))")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.joined(separator: "\n"))")
    }

    @Test("the check finds what it looks for: SQL and the imports are caught in a file outside the folders")
    func checkBites() throws {
        let planted = ["import GRDB", "let sql = \"SELECT id FROM messages\"", "UPDATE messages SET state = 'x'",
                       "... FOR UPDATE SKIP LOCKED", "INSERT OR REPLACE INTO contacts"]
        for line in planted.dropFirst() { #expect(line.contains(Self.sql), "\(line)") }
        for prose in ["/// Selects the messages to update", "let update = settle()", "deleteFromDisk()"] {
            #expect(!prose.contains(Self.sql), "\(prose)")
        }
    }
}
