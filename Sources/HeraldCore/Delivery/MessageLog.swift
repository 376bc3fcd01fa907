import Logging

/// The dispatcher's log lines about one message. The message's fields (id, channel, attempt,
/// key) join a line only when that line is logged: setting them on a copy of the logger built
/// their strings for every delivery, most of which log nothing at the default level.
struct MessageLog {
    let logger: Logger
    let message: ClaimedMessage

    func log(_ level: Logger.Level, _ text: @autoclosure () -> Logger.Message,
             _ metadata: @autoclosure () -> Logger.Metadata = [:]) {
        logger.log(level: level, text(), metadata: fields.merging(metadata()) { _, line in line })
    }

    private var fields: Logger.Metadata {
        var fields: Logger.Metadata = [
            "message_id": "\(message.id)", "channel": "\(message.channel.rawValue)", "attempt": "\(message.attempt)",
        ]
        if let key = message.key { fields["key"] = "\(key)" }
        return fields
    }
}
