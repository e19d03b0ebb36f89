/// A 128-bit content hash (two FNV-1a lanes with different offsets), as 32 hex digits. It names
/// messages and patches in the database, so it must be stable across runs, machines and shards
/// (Swift's Hasher is seeded per process and cannot be used).
struct ContentHash {
    private var low: UInt64 = 0xcbf2_9ce4_8422_2325
    private var high: UInt64 = 0x6c62_272e_07bb_0142

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            low = (low ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            high = (high << 7) | (high >> 57)  // decorrelates the two lanes
        }
    }

    mutating func add(_ text: String) {
        add(text.utf8)
        add(CollectionOfOne(0))
    }

    var hex: String { Self.hex(high) + Self.hex(low) }

    /// The first lane alone, for shard numbers.
    var value: UInt64 { low }

    static func of(_ bytes: some Sequence<UInt8>) -> String {
        var hash = ContentHash()
        hash.add(bytes)
        return hash.hex
    }

    /// The same hash, read through a buffer (no bounds checks): every archived message is hashed.
    static func of(_ bytes: [UInt8]) -> String {
        var hash = ContentHash()
        bytes.withUnsafeBufferPointer { hash.add($0) }
        return hash.hex
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
