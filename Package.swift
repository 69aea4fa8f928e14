// swift-tools-version: 6.0
import PackageDescription

// MARK: - Build settings

/// `-O`, not `-Ounchecked`: in `-Ounchecked` the optimizer assumes every `precondition` true
/// and removes it, so a bad shape or setting became a segfault or a hang instead of an error.
/// The hot loops run over unsafe buffers, whose subscripts are unchecked in any optimized build,
/// so what `-O` adds there is integer-overflow checks; `repro bench` measured the difference
/// within the machine's noise (README, Performance). Exclusivity checks stay off: they guard
/// against overlapping accesses, which the kernels do not make.
/// `-target-cpu native` lets those loops use the machine's vector width (AVX2/AVX-512 rather
/// than baseline SSE2): the package is built where it runs.
let numericSettings: [SwiftSetting] = [
  .unsafeFlags(["-O", "-enforce-exclusivity=unchecked", "-cross-module-optimization",
                "-target-cpu", "native"],
               .when(configuration: .release)),
]

let package = Package(
  name: "repro",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "ML", targets: ["ML"]),
    .library(name: "Plotting", targets: ["Plotting"]),
    .library(name: "Experiments", targets: ["Experiments"]),
    .executable(name: "repro", targets: ["repro"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
  ],
  targets: [
    // MARK: - C libraries behind shims
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
      providers: [.apt(["libcairo2-dev"])]),

    // MARK: - Libraries
    .target(
      name: "ML",
      dependencies: ["COpenBLAS", "CZlib", .product(name: "Numerics", package: "swift-numerics")],
      swiftSettings: numericSettings),
    .target(name: "Plotting", dependencies: ["CCairo"]),
    .target(name: "Experiments", dependencies: ["ML", "Plotting"], swiftSettings: numericSettings),

    // MARK: - Command-line tool
    .executableTarget(
      name: "repro",
      dependencies: [
        "ML", "Plotting", "Experiments",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: numericSettings),

    // MARK: - Tests
    .testTarget(name: "MLTests", dependencies: ["ML"]),
    .testTarget(name: "PlottingTests", dependencies: ["Plotting"], exclude: ["Snapshots"]),
    .testTarget(name: "ExperimentsTests", dependencies: ["Experiments"]),
  ]
)
