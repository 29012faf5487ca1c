// swift-tools-version:6.2
import PackageDescription

// liborderbase.so exports only orderbase_* (linker version script), carries a
// SONAME, and is never unloaded (-z nodelete: Swift runtime metadata must outlive dlclose).
let exportsMap = "\(Context.packageDirectory)/Sources/OrderbaseC/exports.map"

let package = Package(
    name: "Orderbase",
    products: [
        .library(name: "orderbase", type: .dynamic, targets: ["OrderbaseC"]),
    ],
    targets: [
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB"),
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
        .executableTarget(name: "codec-bench", dependencies: ["Orderbase"], path: "Benchmarks/CodecBench"),
        .testTarget(name: "OrderbaseStoreTests", dependencies: ["OrderbaseStore"]),
        .testTarget(name: "OrderbaseTests", dependencies: ["Orderbase"]),
        .testTarget(name: "OrderbaseAPITests", dependencies: ["OrderbaseAPI"]),
    ],
    swiftLanguageModes: [.v6]
)
