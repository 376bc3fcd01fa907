/// One frequency-cap question: may `messageID` count as a contact of its recipient?
public struct ContactCheck: Sendable, Equatable {
    public var messageID: Int64
    public var address: Address
    public var category: MessageCategory
    /// Every cap that applies: at most `max` contacts within `window` milliseconds.
    public var caps: [(max: Int, window: Int64)]

    public init(messageID: Int64, address: Address, category: MessageCategory, caps: [(max: Int, window: Int64)]) {
        self.messageID = messageID
        self.address = address
        self.category = category
        self.caps = caps
    }

    public static func == (lhs: ContactCheck, rhs: ContactCheck) -> Bool {
        lhs.messageID == rhs.messageID && lhs.address == rhs.address && lhs.category == rhs.category
            && lhs.caps.elementsEqual(rhs.caps, by: { $0.max == $1.max && $0.window == $1.window })
    }
}
