import Foundation

/// Development delivery: writes each request, as it would go on the wire, to a file under the
/// outbox folder (like Django's file-based email backend) and answers 200. Never used by a test
/// in place of a real server.
public struct OutboxTransport: HTTPTransport {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        var text = "\(request.method) \(request.url.absoluteString) HTTP/1.1\r\n"
        if let auth = request.basicAuth {
            text += "Authorization: Basic \(auth.username):<redacted>\r\n"
        }
        for header in request.headers {
            // The outbox is for reading what would be sent; a file there must not hold a secret.
            text += "\(header.name): \(HeaderField.isSensitive(header.name) ? "<redacted>" : header.value)\r\n"
        }
        text += "\r\n"
        var bytes = Array(text.utf8)
        bytes += request.body
        let file = try OutboxFile.write(bytes, id: request.header("webhook-id") ?? UUID().uuidString, extension: "http",
                                        in: folder)
        return OutboundResponse(status: 200, bodyPrefix: Array("written to \(file.path)".utf8))
    }
}

/// Writes outbox files so a reader never sees half of one: a temporary name, then a rename.
enum OutboxFile {
    static func write(_ bytes: [UInt8], id: String, extension fileExtension: String, in folder: URL) throws -> URL {
        let safeID = String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let file = folder.appendingPathComponent("\(Timestamp.now())-\(safeID).\(fileExtension)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let temporary = folder.appendingPathComponent(".\(file.lastPathComponent).tmp")
            try Data(bytes).write(to: temporary)
            guard rename(temporary.path, file.path) == 0 else {
                throw TransportError.local("cannot rename \(temporary.path): \(String(cString: strerror(errno)))")
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError.local("cannot write to the outbox \(folder.path): \(error.localizedDescription)")
        }
        return file
    }
}
