import Foundation
import Testing
@testable import HeraldCore

/// Templates are compiled once and again when their files change, while `herald run` runs.
@Suite("Template reload in a running herald", .serialized)
struct TemplateReloadTests {
    @Test("an edit changes the next message with no restart; a broken edit is logged and the old version keeps serving")
    func editWhileRunning() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], folder: folder)
        try folder.write("Templates/alert/body.json", #"{"version": 1, "n": {{data.n}}}"#)
        let run = try HeraldCommand.start(["run"], fixture: fixture)

        // Delivers one message and returns its body.
        var sent = 0
        func deliverOne() async throws -> String? {
            try fixture.enqueueWebhooks(1, endpoint: "hook", prefix: "m\(sent)")
            sent += 1
            let target = sent
            _ = try await waitUntil(timeout: .seconds(20)) { try receiver.requests().count >= target }
            return try receiver.requests().last?.body
        }

        #expect(try await deliverOne() == #"{"version": 1, "n": 0}"#)

        // A good edit: picked up by the 1 s file check, no signal, no restart.
        let edited = ContinuousClock.now
        try folder.write("Templates/alert/body.json", #"{"version": 2, "n": {{data.n}}}"#)
        var body = try await deliverOne()
        while body != #"{"version": 2, "n": 0}"#, ContinuousClock.now - edited < .seconds(10) {
            try await Task.sleep(for: .milliseconds(200))
            body = try await deliverOne()
        }
        let pickedUp = ContinuousClock.now - edited
        #expect(body == #"{"version": 2, "n": 0}"#)
        #expect(pickedUp < .seconds(3), "the edit took \(pickedUp) to take effect")

        // A broken edit, announced with SIGHUP: logged with file and line, version 2 keeps serving.
        try folder.write("Templates/alert/body.json", "{\"version\": 3,\n {{#data.n}} \"n\": {{data.n}}}")
        run.signal(SIGHUP)
        let logged = try await waitUntil(timeout: .seconds(10)) {
            run.output().stderr.contains("does not compile")
        }
        #expect(logged)
        let stderr = run.output().stderr
        #expect(stderr.contains("Templates/alert/body.json:2"), "\(stderr)")
        #expect(stderr.contains("last good version stays live"))
        #expect(try await deliverOne() == #"{"version": 2, "n": 0}"#)

        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(20)) == 0)
        await receiver.stop()
        print("template reload: an edit took effect after \(pickedUp)")
    }
}
