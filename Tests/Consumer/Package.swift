// swift-tools-version: 6.1
// A package outside attnbound that uses it the way a researcher would: it depends on the
// product AttnKit by path, and its main.swift is the README's first ```swift block, written by
// scripts/check-consumer.sh (which builds and runs it; Sources/ is generated, not committed).
import PackageDescription

// A path dependency is identified by its folder's name (a clone may be called anything), so the
// identity is read from the path. Elsewhere: .package(url: <attnbound's git URL>, from: "0.1.0")
// and .product(name: "AttnKit", package: "attnbound").
let root = "../.."
let identity = Context.packageDirectory.split(separator: "/").dropLast(2).last.map(String.init) ?? "attnbound"

let package = Package(
    name: "Consumer",
    dependencies: [.package(path: root)],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "AttnKit", package: identity)])
    ],
    swiftLanguageModes: [.v6]
)
