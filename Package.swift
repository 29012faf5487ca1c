// swift-tools-version:6.2
import PackageDescription

// liborderbase.so exports only orderbase_* (linker version script), carries a
// SONAME, and is never unloaded (-z nodelete: Swift runtime metadata must outlive dlclose).
let exportsMap = "\(Context.packageDirectory)/Sources/OrderbaseC/exports.map"

let package = Package(
    name: "Orderbase",
    products: [
        .library(name: "orderbase", type: .dynamic, targets: ["OrderbaseC"]),
        .executable(name: "orderbase-cli", targets: ["OrderbaseCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The REST server: HTTP/1.1 on SwiftNIO directly (docs/decisions.md §14).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "COrderbaseShims", path: "Sources/COrderbaseShims"),
        // libcurl's variadic setopt/getinfo, typed for Swift; only OrderbaseDelivery uses it.
        .target(name: "CCurlShims", path: "Sources/CCurlShims"),
        .target(name: "OrderbaseStore", dependencies: ["CLevelDB"]),
        .target(name: "Orderbase", dependencies: ["OrderbaseStore", "COrderbaseShims"]),
        .target(name: "OrderbaseAPI", dependencies: ["Orderbase"]),
        // Transports the domain's protocols name: libcurl HTTP (webhooks).
        .target(name: "OrderbaseDelivery", dependencies: ["Orderbase", "CCurlShims"]),
        .target(
            name: "OrderbaseC",
            dependencies: ["OrderbaseAPI", "OrderbaseDelivery", "COrderbaseShims"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags([
                "-Xlinker", "--version-script=\(exportsMap)",
                "-Xlinker", "-soname=liborderbase.so.0",
                "-Xlinker", "-z", "-Xlinker", "nodelete",
            ])]
        ),
        .target(name: "OrderbaseServer", dependencies: [
            "OrderbaseAPI",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "OrderbaseTransfer", dependencies: ["OrderbaseAPI", "CZlib"]),
        .executableTarget(name: "OrderbaseCLI", dependencies: [
            "OrderbaseServer", "OrderbaseTransfer", "OrderbaseDelivery",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Fuzz harnesses (docs/fuzzing.md): libFuzzer drives them when built with
        // -DFUZZING -sanitize=fuzzer,address (make fuzz); a plain build replays inputs.
        .executableTarget(name: "OrderbaseFuzz", dependencies: [
            "OrderbaseAPI", "OrderbaseServer",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Fuzz/Harness"),
        .executableTarget(name: "codec-bench", dependencies: ["Orderbase"], path: "Benchmarks/CodecBench"),
        .executableTarget(name: "expr-bench", dependencies: ["Orderbase"], path: "Benchmarks/ExprBench"),
        .testTarget(name: "OrderbaseStoreTests", dependencies: ["OrderbaseStore"]),
        .testTarget(name: "OrderbaseTests", dependencies: ["Orderbase"]),
        .testTarget(name: "OrderbaseAPITests", dependencies: ["OrderbaseAPI"]),
        .testTarget(name: "OrderbaseServerTests", dependencies: ["OrderbaseServer"]),
        .testTarget(name: "OrderbaseTransferTests", dependencies: ["OrderbaseTransfer"]),
    ],
    swiftLanguageModes: [.v6]
)
