// swift-tools-version: 6.0
import PackageDescription

// The design card says `packages: none`: everything here builds on the Swift toolchain and the OS.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "sealer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sealer", targets: ["sealer"]),
        .executable(name: "toml-test-decoder", targets: ["toml-test-decoder"]),
        // Test doubles of filecoin-ffi's libfilcrypto (libFilcryptoDouble.so, and one missing a
        // symbol); ProofsFFITests dlopen them from the build directory. Not for production.
        .library(name: "FilcryptoDouble", type: .dynamic, targets: ["FilcryptoDouble"]),
        .library(name: "FilcryptoDoubleOld", type: .dynamic, targets: ["FilcryptoDoubleOld"]),
    ],
    targets: [
        // Leaf: sector and proof vocabulary, the Prover boundary, the deterministic mock prover.
        .target(name: "ProofsFFI", dependencies: ["CFilcrypto"], swiftSettings: strict),
        // Ours, in C: filecoin-ffi's C ABI (structs, enums, function-pointer types) for dlsym.
        .target(name: "CFilcrypto"),
        // Ours, in C: a deterministic libfilcrypto double with leak counters and injectable failures.
        .target(name: "FilcryptoDouble", dependencies: ["CFilcrypto"]),
        .target(name: "FilcryptoDoubleOld", dependencies: ["CFilcrypto"]),
        // Pure domain: TOML, config model and validation, plans and state tables, failure policy.
        .target(name: "Scheduler", dependencies: ["ProofsFFI"], swiftSettings: strict),
        // Runtime: sealing-thread and supervisor actors, persistence, manager client, servers.
        // Ours, in C: fork/exec of processor children from one long-lived thread (new process
        // group, default signal dispositions, PR_SET_PDEATHSIG), which posix_spawn cannot do.
        .target(name: "CSpawn"),
        .target(name: "Actors", dependencies: ["Scheduler", "ProofsFFI", "CSpawn"], swiftSettings: strict),
        .executableTarget(name: "sealer", dependencies: ["Actors", "Scheduler", "ProofsFFI"], swiftSettings: strict),
        .executableTarget(name: "toml-test-decoder", dependencies: ["Scheduler"], swiftSettings: strict),
        .executableTarget(name: "persist-torture", dependencies: ["Actors", "ProofsFFI"], swiftSettings: strict),
        // A stand-in damocles external processor (ready line, JSON lines, crash/hang/garbage modes) for tests.
        .executableTarget(name: "fake-processor", dependencies: ["Actors"], swiftSettings: strict),
        // Test-only helpers the four test targets share: off-pool runners and the compute executor.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "ProofsFFITests", dependencies: ["ProofsFFI", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "ProofsFFI", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "ActorsTests", dependencies: ["Actors", "Scheduler", "ProofsFFI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SealerEndToEndTests", dependencies: ["Actors", "Scheduler", "ProofsFFI", "TestSupport"], swiftSettings: strict),
    ]
)
