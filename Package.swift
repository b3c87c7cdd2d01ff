// swift-tools-version: 6.1
import PackageDescription

// Floors (see README "Architecture"): nothing imports upward.
//   CLI → Experiments → {Poly, Paged, BlockSparse} → {Kernels, Certified} → Core → C shims
let package = Package(
    name: "attnbound",
    products: [
        .executable(name: "attnbound", targets: ["attnbound"]),
        .library(name: "AttnCore", targets: ["AttnCore"]),
        .library(name: "AttnKernels", targets: ["AttnKernels"]),
        .library(name: "AttnCertified", targets: ["AttnCertified"]),
        .library(name: "AttnPoly", targets: ["AttnPoly"]),
        .library(name: "AttnPaged", targets: ["AttnPaged"]),
        .library(name: "AttnBlockSparse", targets: ["AttnBlockSparse"]),
        .library(name: "AttnExperiments", targets: ["AttnExperiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: [
        // Ground floor: system libraries, shims only.
        .systemLibrary(name: "CLapack", pkgConfig: "openblas",
                       providers: [.apt(["liblapacke-dev", "libopenblas-dev"]), .brew(["openblas", "lapack"])]),
        .systemLibrary(name: "CGMP", pkgConfig: "gmp", providers: [.apt(["libgmp-dev"]), .brew(["gmp"])]),
        .systemLibrary(name: "CMPFR", pkgConfig: "mpfr", providers: [.apt(["libmpfr-dev"]), .brew(["mpfr"])]),

        // Vectorised exp/max for Float32 tiles, compiled per ISA (see its source for why C).
        .target(name: "CVectorMath"),
        // OpenBLAS core selection at load time and BLAS info (see its source).
        .target(name: "CBLASCore"),

        // Floor 1: tensors, Scale, .npy, seeded RNG, generators, metrics.
        .target(name: "AttnCore"),

        // Floor 2: exact kernels, and the certified judge (independent of every kernel).
        .target(name: "AttnKernels", dependencies: ["AttnCore", "CLapack", "CVectorMath", "CBLASCore"]),
        .target(name: "AttnCertified", dependencies: ["AttnCore", "CGMP", "CMPFR"]),

        // Floor 3: approximations and sparse kernels.
        .target(name: "AttnPoly", dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "CLapack"]),
        .target(name: "AttnPaged", dependencies: ["AttnCore", "AttnKernels", "CVectorMath"]),
        .target(name: "AttnBlockSparse", dependencies: ["AttnCore", "AttnKernels"]),

        // Floor 4: experiments (sweep, CSV, sidecars, plots).
        .target(name: "AttnExperiments",
                dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", "CLapack"]),

        // Floor 5: the CLI, thin.
        .target(name: "AttnCLI", dependencies: [
            "AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", "AttnPaged", "AttnBlockSparse",
            "AttnExperiments",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "attnbound", dependencies: ["AttnCLI"]),

        // Tests mirror Sources.
        .testTarget(name: "AttnCoreTests", dependencies: ["AttnCore", pbt]),
        .testTarget(name: "AttnKernelsTests", dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "CVectorMath", pbt]),
        .testTarget(name: "AttnCertifiedTests", dependencies: ["AttnCore", "AttnCertified", pbt]),
        .testTarget(name: "AttnPolyTests",
                    dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", pbt]),
        .testTarget(name: "AttnPagedTests",
                    dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "AttnPaged", pbt]),
        .testTarget(name: "AttnBlockSparseTests",
                    dependencies: ["AttnCore", "AttnKernels", "AttnCertified", "AttnBlockSparse", pbt]),
        .testTarget(name: "AttnExperimentsTests",
                    dependencies: ["AttnCore", "AttnExperiments", "AttnPoly", pbt]),
        .testTarget(name: "AttnCLITests", dependencies: [
            "AttnCLI", "attnbound", "AttnCore", "AttnKernels", "AttnCertified", "AttnPoly", "AttnPaged",
            "AttnBlockSparse", "AttnExperiments", pbt,
        ]),
    ],
    swiftLanguageModes: [.v6]
)

var pbt: Target.Dependency { .product(name: "PropertyBased", package: "swift-property-based") }
