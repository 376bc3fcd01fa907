import Foundation
import Hummingbird

extension HeraldAPI {
    func addSuppressionRoutes(to router: Router<HeraldRequestContext>) {
        router.get("/v1/suppressions") { request, _ in
            let query = request.uri.queryParameters
            let channel = try query.get("channel").map(Self.channel)
            let limit = try query.get("limit").map { text in
                guard let limit = Int(text), (1...10_000).contains(limit) else {
                    throw APIError.badRequest("limit: expected 1 to 10000, got \"\(text)\"")
                }
                return limit
            } ?? 1_000
            let after = try query.get("after").map { cursor in
                let pieces = cursor.split(separator: " ", maxSplits: 1).map(String.init)
                guard pieces.count == 2, let channel = Channel(rawValue: pieces[0]) else {
                    throw APIError.badRequest("after: expected the `next` value of the previous page, got \"\(cursor)\"")
                }
                return Address(normalized: pieces[1], channel: channel)
            }
            let page = try await queue.suppressions(channel: channel, after: after, limit: limit)
            let next = page.count == limit ? page.last.map { "\($0.channel.rawValue) \($0.address.value)" } : nil
            return APIJSON.response(SuppressionPage(suppressions: page.map(SuppressionBody.init), next: next))
        }
        router.get("/v1/suppressions/{channel}/{address}") { _, context in
            let address = try Self.suppressionReference(context)
            guard let suppression = try await queue.suppression(of: address) else {
                throw APIError.notFound("\(address.value) is not suppressed on \(address.channel.rawValue)")
            }
            return APIJSON.response(SuppressionBody(suppression))
        }
        router.post("/v1/suppressions") { request, _ in
            let body = try await request.collectBody(upTo: config.intake.maxBody, setting: "intake.max_body")
            let value: JSONValue
            do {
                value = try JSONValue.parse(Data(buffer: body))
            } catch {
                throw APIError.badRequest("the body is not valid JSON (\(MessageInput.describe(error)))")
            }
            let elements: [JSONValue] = if case .array(let items) = value { items } else { [value] }
            var results: [SuppressionResult] = []
            var accepted: [Suppression] = []
            for (index, element) in elements.enumerated() {
                switch Suppression.parse(element, defaultSource: "api") {
                case .success(let suppression):
                    accepted.append(suppression)
                    results.append(SuppressionResult(item: index + 1, status: "suppressed", channel: suppression.channel.rawValue,
                                                     address: suppression.address.value))
                case .failure(let rejection):
                    results.append(SuppressionResult(item: index + 1, status: "rejected", reason: rejection.description))
                }
            }
            try await queue.suppress(accepted, reporting: events, how: .operator)
            return APIJSON.response(results)
        }
        router.delete("/v1/suppressions/{channel}/{address}") { _, context in
            let address = try Self.suppressionReference(context)
            guard try await queue.unsuppress(address, reporting: events, how: .operator) else {
                throw APIError.notFound("\(address.value) is not suppressed on \(address.channel.rawValue)")
            }
            return APIJSON.response(["removed": true])
        }
    }

    private static func channel(_ text: String) throws -> Channel {
        guard let channel = Channel(rawValue: text) else {
            throw APIError.badRequest("channel: expected one of \(Channel.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return channel
    }

    private static func suppressionReference(_ context: HeraldRequestContext) throws -> Address {
        let channel = try channel(try context.parameters.require("channel"))
        let raw = try context.parameters.require("address")
        let text = raw.removingPercentEncoding ?? raw
        do {
            return try Address(text, channel: channel)
        } catch {
            throw APIError.badRequest(error.description)
        }
    }
}

struct SuppressionBody: Encodable {
    var channel: String
    var address: String
    var reason: String
    var source: String?
    var createdAt: String?

    init(_ suppression: Suppression) {
        channel = suppression.channel.rawValue
        address = suppression.address.value
        reason = suppression.reason.rawValue
        source = suppression.source
        createdAt = suppression.createdAt.map(Timestamp.rfc3339)
    }
}

struct SuppressionPage: Encodable {
    var suppressions: [SuppressionBody]
    /// Pass as `after` for the next page; absent on the last page.
    var next: String?
}

struct SuppressionResult: Encodable {
    var item: Int
    var status: String
    var channel: String?
    var address: String?
    var reason: String?
}
