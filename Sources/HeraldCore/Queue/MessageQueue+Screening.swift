import GRDB

extension MessageQueue {
    /// Checks freshly claimed messages against the suppression list inside the claim's
    /// transaction, and ends the suppressed ones as `suppressed` without spending an attempt.
    /// Returns the messages still to deliver and the suppressed ones.
    static func screen(_ claimed: [ClaimedMessage], policies: PolicyConfig, now: Int64, db: Database) throws
        -> (deliver: [ClaimedMessage], suppressed: [(ClaimedMessage, Suppression)])
    {
        let lookup = try db.cachedStatement(sql: "SELECT * FROM suppressions WHERE channel = ? AND address = ?")
        let end = try db.cachedStatement(sql: """
            UPDATE messages SET state = 'suppressed', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1,
                last_error_code = 'suppressed', last_error = ?, updated_at = ?
            WHERE id = ?
            """)
        var deliver: [ClaimedMessage] = []
        var suppressed: [(ClaimedMessage, Suppression)] = []
        deliver.reserveCapacity(claimed.count)
        for message in claimed {
            let address = UnsubscribeLinks.address(channel: message.channel, recipient: message.recipient)
            if let suppression = try Row.fetchOne(lookup, arguments: [message.channel.rawValue, address]).flatMap(Suppression.init(row:)),
               policies.blocks(suppression.reason, category: message.category)
            {
                let why = "\(suppression.reason.rawValue)" + (suppression.source.map { " (\($0))" } ?? "")
                try end.execute(arguments: [why, now, message.id])
                suppressed.append((message, suppression))
            } else {
                deliver.append(message)
            }
        }
        return (deliver, suppressed)
    }
}
