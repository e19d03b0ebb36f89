/// What a stored analysis was made with: a change of any rule text (bundled or `--rules`) changes
/// the fingerprint, so a batch scan knows which stored results are stale.
extension FactsLoader {
    public func fingerprint(extendedBy directory: String?) throws(FactsError) -> String {
        var files = BundledRules.files
        if let directory { files.append(contentsOf: try readDirectory(directory)) }
        // FNV-1a over names and texts: stable across runs and platforms, unlike Hasher.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in files.sorted(by: { $0.name < $1.name }) {
            for byte in file.name.utf8 + [0] + file.text.utf8 + [0] {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
