import Foundation
import Hummingbird

extension HeraldAPI {
    func addMessageRoutes(to router: Router<HeraldRequestContext>) {
        router.post("/v1/messages") { request, context in
            try await postMessages(request, context: context)
        }
        router.get("/v1/messages/{reference}") { _, context in
            let reference = try context.reference()
            guard let message = try await queue.message(reference) else {
                throw APIError.notFound("no message with id or key \"\(reference)\"")
            }
            return APIJSON.response(MessageBody(message))
        }
        router.post("/v1/messages/{reference}/retry") { _, context in
            try change(try await queue.retry(try context.reference()), action: "retry",
                       allowed: "failed or canceled")
        }
        router.post("/v1/messages/{reference}/cancel") { _, context in
            try change(try await queue.cancel(try context.reference(), reporting: events), action: "cancel",
                       allowed: "queued or failed")
        }
    }

    private func change(_ change: MessageChange, action: String, allowed: String) throws -> Response {
        switch change {
        case .done(let message):
            return APIJSON.response(MessageBody(message))
        case .notFound:
            throw APIError.notFound("no such message")
        case .refused(let state):
            throw APIError.conflict("cannot \(action) a message that is \(state.rawValue); only \(allowed) messages")
        }
    }

    /// `POST /v1/messages`: `application/json` (one object or an array, read whole up to
    /// `max_body`) or `application/x-ndjson` (a stream of any length, answered as a stream).
    private func postMessages(_ request: Request, context: HeraldRequestContext) async throws -> Response {
        let type = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        switch type {
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
            return MessageIngest(queue: queue, validation: validation(), silenceLimit: config.intake.idleTimeout,
                                 logger: context.logger)
                .streamingResponse(to: request.body)
        case "application/json", "":
            let body = try await request.collectBody(upTo: config.intake.maxBody, setting: "intake.max_body")
            return try await postJSON(Data(buffer: body))
        default:
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                           "Content-Type \(type) is not accepted: send application/json (an object or an array) or application/x-ndjson")
        }
    }

    private func postJSON(_ body: Data) async throws -> Response {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw APIError.badRequest("the body is not valid JSON (\(MessageInput.describe(error))); nothing was queued")
        }
        let items: [InputItem]
        switch value {
        case .array(let elements):
            items = elements.enumerated().map { InputItem(position: .item($0.offset + 1), value: .success($0.element)) }
        case .object:
            items = [InputItem(position: .item(1), value: .success(value))]
        default:
            throw APIError.badRequest("expected a message object or an array of them, got \(value.errorDescription)")
        }
        let results = try await queue.enqueue(items, validation: validation())
        if case .object = value, let result = results.first {
            let status: HTTPResponse.Status = switch result.status {
            case .queued, .enrolled: .created
            case .duplicate: .ok
            case .rejected: .unprocessableContent
            }
            return APIJSON.response(ResultBody(result, numbered: false), status: status)
        }
        return APIJSON.response(BatchBody(results: results.map { ResultBody($0, numbered: true) }))
    }
}

/// One message's result as the API reports it.
struct ResultBody: Encodable {
    var item: Int?
    var status: String
    var id: Int64?
    var key: String?
    var reason: String?

    init(_ result: EnqueueResult, numbered: Bool) {
        item = numbered ? result.position.number : nil
        status = result.status.rawValue
        id = result.id
        key = result.key
        reason = result.reason
    }
}

struct BatchBody: Encodable {
    var queued: Int
    var enrolled: Int
    var duplicate: Int
    var rejected: Int
    var results: [ResultBody]

    init(results: [ResultBody]) {
        queued = results.count { $0.status == "queued" }
        enrolled = results.count { $0.status == "enrolled" }
        duplicate = results.count { $0.status == "duplicate" }
        rejected = results.count { $0.status == "rejected" }
        self.results = results
    }
}

/// A message with its attempts, times in RFC 3339 UTC.
struct MessageBody: Encodable {
    var id: Int64
    var key: String?
    var channel: String
    var template: String
    var to: JSONValue
    var data: JSONValue
    var category: String
    var campaign: String?
    var state: String
    var due_at: String
    var created_at: String
    var updated_at: String
    var attempt_count: Int
    var last_error_code: String?
    var last_error: String?
    var attempts: [AttemptBody]

    init(_ message: MessageDetail) {
        id = message.id
        key = message.key
        channel = message.channel.rawValue
        template = message.template
        to = (try? JSONValue.parse(Data(message.recipientJSON.utf8))) ?? .null
        data = (try? JSONValue.parse(Data(message.dataJSON.utf8))) ?? .null
        category = message.category.rawValue
        campaign = message.campaign
        state = message.state.rawValue
        due_at = Timestamp.rfc3339(message.dueAt)
        created_at = Timestamp.rfc3339(message.createdAt)
        updated_at = Timestamp.rfc3339(message.updatedAt)
        attempt_count = message.attemptCount
        last_error_code = message.lastErrorCode
        last_error = message.lastError
        attempts = message.attempts.map(AttemptBody.init)
    }
}

struct AttemptBody: Encodable {
    var number: Int
    var started_at: String
    var duration_ms: Double
    var worker: String
    var outcome: String
    var error_code: String?
    var remote_code: String?
    var remote_text: String?
    var remote_id: String?
    var retry_at: String?

    init(_ attempt: DeliveryAttempt) {
        number = attempt.number
        started_at = Timestamp.rfc3339(attempt.startedAt)
        duration_ms = Double(attempt.durationMicroseconds) / 1_000
        worker = attempt.worker
        outcome = attempt.outcome.rawValue
        error_code = attempt.errorCode
        remote_code = attempt.remoteCode
        remote_text = attempt.remoteText
        remote_id = attempt.remoteID
        retry_at = attempt.retryAt.map(Timestamp.rfc3339)
    }
}

extension HeraldRequestContext {
    /// The `{reference}` path parameter, percent-decoded: keys often hold slashes (`lead-4711/welcome`).
    func reference() throws -> String {
        let raw = try parameters.require("reference")
        return raw.removingPercentEncoding ?? raw
    }
}

/// `herald status` as the API reports it, times in RFC 3339 UTC.
struct StatsBody: Encodable {
    var counts: [QueueStatus.Count]
    var deferred: [QueueStatus.ReasonCount]
    var dueNow: [QueueStatus.ChannelCount]
    var oldestDueAt: String?
    var nextDueAt: String?
    var sentLastMinute: Int
    var sentLastHour: Int
    var errorsLastHour: Int
    var takenAt: String

    init(_ status: QueueStatus) {
        counts = status.counts
        deferred = status.deferred
        dueNow = status.dueNow
        oldestDueAt = status.oldestDueAt.map(Timestamp.rfc3339)
        nextDueAt = status.nextDueAt.map(Timestamp.rfc3339)
        sentLastMinute = status.sentLastMinute
        sentLastHour = status.sentLastHour
        errorsLastHour = status.errorsLastHour
        takenAt = Timestamp.rfc3339(status.takenAt)
    }
}
