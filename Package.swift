// swift-tools-version: 6.1
import PackageDescription

// Floors (see README "Architecture"): nothing imports upward.
//   CLI → Experiments → {Poly, Paged, BlockSparse, Pruning} → {Kernels, Certified} → Core → C shims
// AttnKit re-exports every library module: `import AttnKit` is all a consumer needs.
let package = Package(
    name: "attnbound",
    products: [
        .executable(name: "attnbound", targets: ["attnbound"]),
        // The umbrella, as swift-numerics' Numerics; per-module products stay for narrow dependents.
        .library(name: "AttnKit", targets: ["AttnKit"]),
        .library(name: "AttnCore", targets: ["AttnCore"]),
        .library(name: "AttnKernels", targets: ["AttnKernels"]),
        .library(name: "AttnCertified", targets: ["AttnCertified"]),
        .library(name: "AttnPoly", targets: ["AttnPoly"]),
        .library(name: "AttnPaged", targets: ["AttnPaged"]),
        .library(name: "AttnBlockSparse", targets: ["AttnBlockSparse"]),
        .library(name: "AttnPruning", targets: ["AttnPruning"]),
        .library(name: "AttnExperiments", targets: ["AttnExperiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        // `swift package generate-documentation` (DocC catalog in Sources/AttnKit); a plugin, never linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // Ground floor: system libraries, shims only.
        .systemLibrary(
            name: "CLapack", pkgConfig: "openblas",
            providers: [.apt(["liblapacke-dev", "libopenblas-dev"]), .brew(["openblas", "lapack"])]),
        .systemLibrary(name: "CGMP", pkgConfig: "gmp", providers: [.apt(["libgmp-dev"]), .brew(["gmp"])]),
        .systemLibrary(name: "CMPFR", pkgConfig: "mpfr", providers: [.apt(["libmpfr-dev"]), .brew(["mpfr"])]),
        // inflate for NumPy's savez_compressed (.npz members are deflated zip entries).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

        // Vectorised exp/max for Float32 tiles, compiled per ISA (see its source for why C).
        .target(name: "CVectorMath"),
        // OpenBLAS core selection at load time and BLAS info (see its source).
        .target(name: "CBLASCore"),
        // The float engine's certified exp and row loops, per ISA: the judge's own C, shared with no kernel.
        .target(name: "CFloatEngine"),

        // Floor 1: tensors, Scale, the tensor reader (.npy, .npz, .safetensors), seeded RNG, generators, metrics.
        .target(name: "AttnCore", dependencies: ["CZlib"]),

        // Floor 2: exact kernels, and the certified judge (independent of every kernel).
        .target(name: "AttnKernels", dependencies: ["AttnCore", "CLapack", "CVectorMath", "CBLASCore"]),
        .target(name: "AttnCertified", dependencies: ["AttnCore", "CGMP", "CMPFR", "CLapack", "CFloatEngine"]),

        // Floor 3: approximations and sparse kernels.
        .target(name: "AttnPoly", dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "CLapack"]),
        .target(name: "AttnPaged", dependencies: ["AttnCore", "AttnKernels", "CVectorMath"]),
        .target(name: "AttnBlockSparse", dependencies: ["AttnCore", "AttnKernels"]),
        // VisiPruner-style token pruning: dense kernels on kept tokens, none of the tile machinery.
        .target(name: "AttnPruning", dependencies: ["AttnCore", "AttnKernels"]),

        // Floor 4: experiments (sweep, CSV, sidecars, plots).
        .target(
            name: "AttnExperiments",
            dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", "AttnBlockSparse", "CLapack"]),

        // Floor 5: the umbrella (re-exports only) and the CLI, thin.
        .target(
            name: "AttnKit",
            dependencies: [
                "AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", "AttnPaged", "AttnBlockSparse", "AttnPruning",
                "AttnExperiments",
            ]),
        // The CLI is a front end of the umbrella: it sees exactly what a library user sees.
        .target(
            name: "AttnCLI",
            dependencies: [
                "AttnKit", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "attnbound", dependencies: ["AttnCLI"]),

        // Test support (not a product): the shared adversarial generator and the bound ledger (issue 11).
        .target(name: "AttnTestSupport", dependencies: ["AttnCore", pbt], path: "Tests/AttnTestSupport"),

        // Tests mirror Sources.
        .testTarget(name: "AttnCoreTests", dependencies: ["AttnTestSupport", "AttnCore", pbt], exclude: ["Fixtures"]),
        .testTarget(
            name: "AttnKernelsTests",
            dependencies: ["AttnTestSupport", "AttnCore", "AttnKernels", "AttnCertified", "CVectorMath", pbt],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "AttnCertifiedTests", dependencies: ["AttnTestSupport", "AttnCore", "AttnCertified", "CGMP", pbt],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "AttnPolyTests",
            dependencies: ["AttnTestSupport", "AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", pbt]),
        .testTarget(
            name: "AttnPagedTests",
            dependencies: [
                "AttnTestSupport", "AttnCore", "AttnKernels", "AttnCertified", "AttnPaged", "CVectorMath", pbt,
            ]),
        .testTarget(
            name: "AttnBlockSparseTests",
            dependencies: ["AttnTestSupport", "AttnCore", "AttnKernels", "AttnCertified", "AttnBlockSparse", pbt]),
        .testTarget(
            name: "AttnPruningTests", dependencies: ["AttnTestSupport", "AttnCore", "AttnKernels", "AttnPruning", pbt]),
        .testTarget(
            name: "AttnExperimentsTests",
            dependencies: ["AttnTestSupport", "AttnCore", "AttnExperiments", "AttnPoly", pbt]),
        .testTarget(
            name: "AttnCLITests",
            dependencies: [
                "AttnTestSupport",
                "AttnCLI", "attnbound", "AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", "AttnPaged",
                "AttnBlockSparse", "AttnPruning", "AttnExperiments", pbt,
            ]),
        .testTarget(name: "AttnKitTests", dependencies: ["AttnKit"]),
    ],
    swiftLanguageModes: [.v6]
)

var pbt: Target.Dependency { .product(name: "PropertyBased", package: "swift-property-based") }
