/// Comparison of secrets without an early exit, so response timing does not tell an attacker
/// how much of a guess was right.
enum ConstantTime {
    static func equal(_ given: some Collection<UInt8>, _ expected: some Collection<UInt8>) -> Bool {
        let given = Array(given), expected = Array(expected)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
