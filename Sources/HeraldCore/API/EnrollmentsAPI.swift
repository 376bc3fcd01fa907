import Foundation
import Hummingbird

extension HeraldAPI {
    func addEnrollmentRoutes(to router: Router<HeraldRequestContext>) {
        // The CRM ends one lead's drip: it converted, booked, asked to stop.
        router.post("/v1/enrollments/{key}/exit") { request, context in
            let raw = try context.parameters.require("key")
            let key = raw.removingPercentEncoding ?? raw
            let body = try await Self.object(request, limit: config.intake.maxBody)
            let reason = try Self.name(body, "reason")
            guard let exit = try await queue.exitEnrollments(.key(key), reason: reason, reporting: events, now: Timestamp.now()).first else {
                throw APIError.notFound("no active enrollment with key \"\(key.prefix(200))\"")
            }
            return APIJSON.response(ExitBody(exit, reason: reason))
        }
        // A goal the lead reached: every active enrollment of that recipient whose sequence
        // names the goal ends.
        router.post("/v1/goals") { request, _ in
            let body = try await Self.object(request, limit: config.intake.maxBody)
            let goal = try Self.name(body, "goal")
            guard case .object(let to)? = body["to"] else { throw APIError.badRequest("to: required, an object with email or phone") }
            let email = try to["email"].map { value throws(APIError) in try Self.address(value, field: "to.email", channel: .email) }
            let phone = try to["phone"].map { value throws(APIError) in try Self.address(value, field: "to.phone", channel: .sms) }
            guard email != nil || phone != nil else { throw APIError.badRequest("to: needs email or phone") }
            let sequences = (sequences?.sequences ?? []).filter { $0.goals.contains(goal) }.map(\.name)
            let exits = try await queue.exitEnrollments(.recipient(email: email, phone: phone, sequences: sequences),
                                                        reason: goal, reporting: events, now: Timestamp.now())
            return APIJSON.response(GoalBody(goal: goal, sequences: sequences, exited: exits.map { ExitBody($0, reason: goal) }))
        }
    }

    private static func object(_ request: Request, limit: Int) async throws -> [String: JSONValue] {
        let body = try await request.collectBody(upTo: limit, setting: "intake.max_body")
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(buffer: body))
        } catch {
            throw APIError.badRequest("the body is not valid JSON (\(MessageInput.describe(error)))")
        }
        guard case .object(let object) = value else { throw APIError.badRequest("expected a JSON object") }
        return object
    }

    /// A goal or exit reason: a plain name such as `booked` or `converted`.
    private static func name(_ object: [String: JSONValue], _ field: String) throws(APIError) -> String {
        guard case .string(let text)? = object[field], GoalName.isValid(text) else {
            throw APIError.badRequest("\(field): required, \(GoalName.rule)")
        }
        return text
    }

    private static func address(_ value: JSONValue, field: String, channel: Channel) throws(APIError) -> Address {
        guard case .string(let text) = value else { throw APIError.badRequest("\(field): expected a string") }
        do {
            return try Address(text, channel: channel)
        } catch {
            throw APIError.badRequest("\(field): \(error.reason)")
        }
    }
}

private struct ExitBody: Encodable {
    let key: String
    let sequence: String
    let state = "exited"
    let reason: String
    /// The step message still queued, canceled with the exit.
    let canceled_step: String?
    /// The step message being sent at the exit: it goes out.
    let step_in_flight: String?

    init(_ exit: EnrollmentExit, reason: String) {
        key = exit.key
        sequence = exit.sequence
        self.reason = reason
        canceled_step = exit.canceledStep
        step_in_flight = exit.stepInFlight
    }
}

private struct GoalBody: Encodable {
    let goal: String
    /// The sequences that name the goal.
    let sequences: [String]
    let exited: [ExitBody]
}
