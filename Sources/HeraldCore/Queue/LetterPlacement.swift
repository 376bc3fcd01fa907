/// Where a letter landed.
public struct LetterPlacement: Sendable, Equatable {
    public var batch: LetterBatch
    /// 1-based row in the batch's CSV.
    public var position: Int
    /// This letter filled the batch: it is now `closing` and its files should be written.
    public var filledBatch: Bool
    /// The letter already had its place (a second delivery after a lost lease); nothing changed.
    public var alreadyPlaced: Bool
}
