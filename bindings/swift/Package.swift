// swift-tools-version:5.9
// WorkboardConnect for iOS and macOS: the Rust SDK through UniFFI-generated Swift.
// NOT compiled or run on this project's build machines (no Swift toolchain there); see README.
//
// Build the Rust library first (per target), e.g. on a Mac:
//   cargo build --release -p workboard-ffi            # libworkboard_ffi.a for the host
// then: swift test -Xlinker -L../../target/release
import PackageDescription

let package = Package(
    name: "WorkboardConnect",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "WorkboardConnect", targets: ["WorkboardConnect"]),
    ],
    targets: [
        .target(
            name: "WorkboardConnectFFI",
            path: "Sources/WorkboardConnectFFI",
            linkerSettings: [
                .linkedLibrary("workboard_ffi"),
                .linkedFramework("SystemConfiguration", .when(platforms: [.macOS, .iOS])),
                .linkedFramework("Security", .when(platforms: [.macOS, .iOS])),
            ]
        ),
        .target(
            name: "WorkboardConnect",
            dependencies: ["WorkboardConnectFFI"],
            path: "Sources/WorkboardConnect"
        ),
        .testTarget(
            name: "WorkboardConnectTests",
            dependencies: ["WorkboardConnect"],
            path: "Tests/WorkboardConnectTests"
        ),
    ]
)
