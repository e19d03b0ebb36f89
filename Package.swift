// swift-tools-version:6.0
import PackageDescription

// Module graph (one direction only):
//   MMCore ← MMPatch ← MMExtract(CClang) ← MMAnalysis(MMFacts) ← MMChecks ← MMReport ← MMReview ← MMEval ← mmreview
//   MMScan (archives → MMReview → SQLite through GRDB) sits beside the pipeline: MMReview ← MMScan ← mmreview
//   MMServeWire (the serve protocol, C library only) ← mmreview (serve) and ← mmreview-client, which
//   links nothing else so that it starts in a millisecond.
// No libclang type leaves MMExtract; everything after it works on MMCore values.
let clangFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I/usr/lib/llvm-14/include"])]

let package = Package(
    name: "mmreview",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mmreview", targets: ["mmreview"]),
        .executable(name: "mmreview-client", targets: ["mmreview-client"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .target(name: "MMCore"),
        .target(name: "MMServeWire"),
        .executableTarget(name: "mmreview-client", dependencies: ["MMServeWire"]),
        .target(name: "MMPatch", dependencies: ["MMCore"]),
        .systemLibrary(name: "CClang", path: "Sources/CClang"),
        .target(name: "MMExtract", dependencies: ["MMCore", "CClang"], swiftSettings: clangFlags),
        .target(name: "MMFacts", dependencies: ["MMCore", .product(name: "Yams", package: "Yams")]),
        .target(name: "MMAnalysis", dependencies: ["MMCore", "MMFacts"]),
        .target(name: "MMChecks", dependencies: ["MMCore", "MMFacts", "MMAnalysis"]),
        .target(name: "MMReport", dependencies: ["MMCore"]),
        .target(name: "MMConfig", dependencies: ["MMCore", .product(name: "Yams", package: "Yams")]),
        .target(name: "MMReview",
                dependencies: ["MMCore", "MMPatch", "MMExtract", "MMFacts", "MMAnalysis", "MMChecks", "MMReport"],
                swiftSettings: clangFlags),
        .target(name: "MMEval",
                dependencies: ["MMCore", "MMReview", .product(name: "Yams", package: "Yams")]),
        .target(name: "MMScan",
                dependencies: ["MMReview", "MMReport", "MMPatch", "MMFacts", "MMCore",
                               .product(name: "GRDB", package: "GRDB.swift")],
                swiftSettings: clangFlags),
        .executableTarget(name: "mmreview",
                          dependencies: ["MMReview", "MMEval", "MMScan", "MMChecks", "MMCore", "MMExtract", "MMFacts", "MMReport", "MMConfig", "MMServeWire",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: clangFlags),
        .testTarget(name: "MMPatchTests", dependencies: ["MMPatch", "MMCore"]),
        .testTarget(name: "MMExtractTests", dependencies: ["MMExtract", "MMPatch", "MMCore"], swiftSettings: clangFlags),
        .testTarget(name: "MMAnalysisTests", dependencies: ["MMAnalysis", "MMChecks", "MMFacts", "MMCore"]),
        .testTarget(name: "MMReportTests", dependencies: ["MMReport", "MMCore"]),
        .testTarget(name: "MMEvalTests", dependencies: ["MMEval", "MMReview", "MMFacts", "MMCore"], swiftSettings: clangFlags),
        .testTarget(name: "MMServeWireTests", dependencies: ["MMServeWire"]),
        .testTarget(name: "MMConfigTests", dependencies: ["MMConfig", "MMCore"]),
        .testTarget(name: "MMReviewTests", dependencies: ["MMReview", "MMReport", "MMCore", "MMServeWire"],
                    exclude: ["Snapshots"], swiftSettings: clangFlags),
        .testTarget(name: "MMScanTests", dependencies: ["MMScan", "MMPatch", "MMCore",
                                                        .product(name: "GRDB", package: "GRDB.swift")],
                    swiftSettings: clangFlags),
    ],
    swiftLanguageModes: [.v6]
)
