import Foundation
import Hummingbird

/// `GET /v1/events`: the events stream for CRMs that read rather than receive pushes.
///
/// `after` is the `next` of the previous page (omitted: from the first event kept); paging on
/// from it never skips or repeats an event, also while events are being written. `limit` is
/// 1–1000 (default 100); `type` filters (`message.sent,email.clicked`, or repeated).
extension HeraldAPI {
    static let eventPageLimit = 1...1_000

    func addEventRoutes(to router: Router<HeraldRequestContext>) {
        router.get("/v1/events") { request, _ in
            guard events.isOn else {
                throw APIError.notFound("events are not recorded (add an events section to the config)")
            }
            let query = request.uri.queryParameters
            var cursor = EventCursor.start
            if let after = query["after"].map(String.init) {
                guard let parsed = EventCursor(after) else {
                    throw APIError.badRequest("after: not a cursor from a previous page (\"\(after.prefix(80))\")")
                }
                cursor = parsed
            }
            var limit = 100
            if let text = query["limit"].map(String.init) {
                guard let value = Int(text), Self.eventPageLimit.contains(value) else {
                    throw APIError.badRequest("limit: expected a number from 1 to 1000, got \"\(text.prefix(80))\"")
                }
                limit = value
            }
            var filter = EventFilter()
            let typeNames = query.getAll("type").map { String($0) }
            if !typeNames.isEmpty {
                do {
                    filter.types = try EventType.set(from: typeNames)
                } catch {
                    throw APIError.badRequest("type: \(error)")
                }
            }
            let page = try await queue.events(after: cursor, matching: filter, limit: limit)
            return Self.eventPage(page, next: page.last?.cursor ?? cursor)
        }
    }

    /// `{"events": [...], "next": "..."}`, the stored payloads as they are.
    static func eventPage(_ page: [StoredEvent], next: EventCursor) -> Response {
        var bytes: [UInt8] = Array(#"{"events":"#.utf8) + page.jsonArray
        bytes.append(contentsOf: #","next":""#.utf8)
        bytes.append(contentsOf: next.description.utf8)
        bytes.append(contentsOf: "\"}\n".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
