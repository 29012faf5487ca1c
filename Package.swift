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
        // No default traits: the server needs neither swift-configuration nor full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // Already in Hummingbird's graph; named for NIOPosix's thread pool, the Logger and HTTP fields.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "COrderbaseShims", path: "Sources/COrderbaseShims"),
        .target(name: "OrderbaseStore", dependencies: ["CLevelDB"]),
        .target(name: "Orderbase", dependencies: ["OrderbaseStore", "COrderbaseShims"]),
        .target(name: "OrderbaseAPI", dependencies: ["Orderbase"]),
        .target(
            name: "OrderbaseC",
            dependencies: ["OrderbaseAPI", "COrderbaseShims"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags([
                "-Xlinker", "--version-script=\(exportsMap)",
                "-Xlinker", "-soname=liborderbase.so.0",
                "-Xlinker", "-z", "-Xlinker", "nodelete",
            ])]
        ),
        .target(name: "OrderbaseServer", dependencies: [
            "OrderbaseAPI",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        .target(name: "OrderbaseTransfer", dependencies: ["OrderbaseAPI", "CZlib"]),
        .executableTarget(name: "OrderbaseCLI", dependencies: [
            "OrderbaseServer", "OrderbaseTransfer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "codec-bench", dependencies: ["Orderbase"], path: "Benchmarks/CodecBench"),
        .testTarget(name: "OrderbaseStoreTests", dependencies: ["OrderbaseStore"]),
        .testTarget(name: "OrderbaseTests", dependencies: ["Orderbase"]),
        .testTarget(name: "OrderbaseAPITests", dependencies: ["OrderbaseAPI"]),
        .testTarget(name: "OrderbaseServerTests", dependencies: ["OrderbaseServer"]),
        .testTarget(name: "OrderbaseTransferTests", dependencies: ["OrderbaseTransfer"]),
    ],
    swiftLanguageModes: [.v6]
)
