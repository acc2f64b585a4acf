// swift-tools-version:6.2
// gphotosfs: Google Photos albums as a FUSE file system, a sync companion, and an offline API emulator.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "gphotosfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gphotosfs", targets: ["gphotosfs"]),
        .executable(name: "gphotos-emulator", targets: ["gphotos-emulator"]),
        .executable(name: "gphotos-sync", targets: ["gphotos-sync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        // <sys/xattr.h> for gphotos-sync (the mount's xattrs), without libfuse.
        .target(name: "CXattr"),
        // libarchive (Takeout .zip/.tgz parts, streamed) and libqrencode (the Picker link as a terminal QR code).
        .systemLibrary(name: "CArchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CQREncode", providers: [.apt(["libqrencode-dev"])]),

        // The Google Photos API emulator (shares no code with the client).
        .target(
            name: "Emulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The Google Photos Library + Picker API client.
        .target(
            name: "PhotosAPI",
            dependencies: [
                "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The mount's SQLite state: metadata cache, upload journal, content-cache index (GRDB).
        .target(
            name: "MetadataStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),

        // The file-system core: namespace, naming, reads, spool + upload pipeline. Never imports libfuse.
        .target(
            name: "PhotosFS",
            dependencies: [
                "MetadataStore", "PhotosAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The thin libfuse3 (low-level API) adapter over PhotosFS.
        .target(
            name: "FuseMount",
            dependencies: ["CFuse3", "PhotosFS", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),

        // gphotos-sync's engine: walk, compare, plan, copy between two directory trees (one usually the mount, known
        // only through its files and xattrs), ledger, locks, progress. Never imports PhotosFS or the mount's SQLite.
        .target(
            name: "SyncEngine",
            dependencies: [
                "PhotosAPI", "CXattr",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // gphotos-sync import: Google Takeout archives and Picker selections into a dataset (manifest, layout, dates).
        .target(
            name: "ImportEngine",
            dependencies: [
                "SyncEngine", "PhotosAPI", "CArchive", "CQREncode",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // ArgumentParser commands as a library, so tests run them in-process.
        .target(
            name: "Commands",
            dependencies: [
                "Emulator", "PhotosAPI", "PhotosFS", "FuseMount", "MetadataStore", "SyncEngine", "ImportEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .executableTarget(name: "gphotos-emulator", dependencies: ["Commands"], swiftSettings: strict),
        .executableTarget(name: "gphotosfs", dependencies: ["Commands"], swiftSettings: strict),
        .executableTarget(name: "gphotos-sync", dependencies: ["Commands"], swiftSettings: strict),
        // Client benchmarks for scripts/bench (not a product).
        .executableTarget(
            name: "gphotos-bench",
            dependencies: ["PhotosAPI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),

        // Test harness shared by the test targets: child processes of the built executables.
        .target(name: "Harness", path: "Tests/Harness", swiftSettings: strict),
        // Emulator process + stored test accounts + test media, for suites that use the PhotosAPI client.
        .target(
            name: "APITestSupport",
            dependencies: ["Harness", "PhotosAPI", .product(name: "Logging", package: "swift-log")],
            path: "Tests/APITestSupport",
            swiftSettings: strict),

        .testTarget(
            name: "EmulatorTests",
            dependencies: [
                "Harness",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "PhotosAPITests",
            dependencies: ["PhotosAPI", "Commands", "Harness", "APITestSupport"],
            swiftSettings: strict),
        // gphotos-sync's pure parts: cron, bandwidth timetables, globs, units, exit codes.
        .testTarget(name: "SyncEngineTests", dependencies: ["SyncEngine"], swiftSettings: strict),
        // Imports: Takeout name matching and archives directly; whole imports (Takeout, Picker) as processes.
        .testTarget(
            name: "ImportEngineTests",
            dependencies: ["ImportEngine", "CQREncode", "Harness", "APITestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        // The same file-system test bodies run against the core directly and through a real FUSE mount.
        .testTarget(
            name: "PhotosFSTests",
            dependencies: ["PhotosFS", "MetadataStore", "PhotosAPI", "FuseMount", "SyncEngine", "Harness", "APITestSupport", "CFuse3",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
