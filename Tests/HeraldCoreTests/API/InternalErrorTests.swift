import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// What a client sees when something breaks inside Herald: an incident id, never the error's
/// own text (which names files and SQL); the log has the full error under that id.
@Suite("Internal errors on the API", .serialized)
struct InternalErrorTests {
    @Test("the queue's tables renamed under a running herald run: 500 and 503 with an incident id, no path or SQL; the log line with that id has the full error")
    func incidentInsteadOfInternals() async throws {
        let fixture = try HeraldFixture(endpoints: ["ok": "http://127.0.0.1:9/"],
                                        topLevel: "intake: {socket: var/herald.sock, drop_folder: off}")
        let run = try await SocketAPITests.start(fixture)
        defer { run.signal(SIGKILL) }
        let api = try APIClient(.socket(fixture.folder.file("var/herald.sock").path))
        // Precondition: the routes work before the damage.
        #expect(try await api.get("/v1/stats").status == 200)
        #expect(try await api.get("/healthz").status == 200)

        // An operator's mistake behind Herald's back, in the real file: the tables it reads are gone.
        try fixture.queue.writeNow { db in
            try db.execute(sql: "ALTER TABLE messages RENAME TO messages_moved; ALTER TABLE grdb_migrations RENAME TO migrations_moved")
        }

        for (path, status, code) in [("/v1/stats", 500, "internal"), ("/healthz", 503, "database_unavailable")] {
            let answer = try await api.get(path)
            #expect(answer.status == status, "\(path): \(answer.status) \(answer.body)")
            let json = try #require(answer.json, "\(path): \(answer.body)")
            #expect(json["error"]?.string == code)
            let incident = try #require(json["incident"]?.string, "\(path): \(answer.body)")
            #expect(incident.count == 12 && incident.allSatisfy(\.isHexDigit), "\(incident)")
            #expect(json["reason"]?.string?.contains(incident) == true)
            for leak in ["SQLite", "SELECT", "FROM", "no such table", "messages", "sqlite", fixture.folder.url.path, "/tmp"] {
                #expect(!answer.body.contains(leak), "\(path) leaked \"\(leak)\": \(answer.body)")
            }
            // The log line with the same id carries the whole error.
            let logged = try await waitUntil(timeout: .seconds(10)) { run.output().stderr.contains(incident) }
            #expect(logged, "no log line names incident \(incident)")
            let line = run.output().stderr.split(separator: "\n").first { $0.contains(incident) }.map(String.init) ?? ""
            #expect(line.contains("no such table"), "\(line)")
            print("internal error: \(path) answered \(answer.body.trimmingCharacters(in: .whitespacesAndNewlines)); logged: \(line.prefix(240))")
        }
    }
}
