import Hummingbird

extension HeraldAPI {
    func addStatusRoutes(to router: Router<HeraldRequestContext>) {
        router.get("/v1/stats") { _, _ in
            APIJSON.response(StatsBody(try await queue.status()))
        }
        // For load balancers and systemd watchdogs: the process answers and the database reads.
        router.get("/healthz") { request, context in
            do {
                try await queue.ping()
                return APIJSON.response(["status": "ok"])
            } catch {
                throw APIError.incident(error, status: .serviceUnavailable, code: "database_unavailable",
                                        reason: "the queue database cannot be read", request: request, logger: context.logger)
            }
        }
        router.get("/metrics") { _, _ in
            var events: EventBacklog?
            if config.events?.push != nil {
                events = try await queue.eventBacklog(after: try await queue.pushCursor(EventPush.name))
            }
            let text = metrics.exposition(status: try await queue.status(), channels: config.channels, events: events)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
