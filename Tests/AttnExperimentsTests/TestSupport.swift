import AttnCore
import AttnExperiments
import AttnPoly
import Foundation

/// A small sweep touching every experiment, fast enough for unit tests.
func smallConfiguration(seed: UInt64 = 7) -> SweepConfiguration {
    SweepConfiguration(
        grids: [
            .degreeVsB: ExperimentGrid(ns: [256, 4096, 1 << 20], b: .relative(BGrid.logSpaced(0.02, 3, count: 7))),
            .errorVsB: ExperimentGrid(
                ns: [64, 200], b: .relative([0.05, 0.3, 1.5]), distributions: [.uniform, .signs],
                trials: 2),
            .erankVsB: ExperimentGrid(ns: [32, 48], b: .relative([0.1, 1])),
            .hardInstance: ExperimentGrid(ns: [64], b: .relative([0.5, 2]), trials: 2),
            .gradVsB: ExperimentGrid(ns: [64, 256, 1 << 14], b: .relative([0.1, 0.5, 1.5])),
            .gradReduction: ExperimentGrid(ns: [16], b: .relative([0.5, 1.5])),
        ], seed: seed, sampleRows: 16)
}

/// A fresh empty folder.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("attnexp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func readText(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

/// Wraps a backend and throws on the k-th attention or degree call: a crash in the middle of a sweep.
struct CrashingBackend: PolynomialBackend {
    final class Counter: @unchecked Sendable {
        private var calls = 0
        private let lock = NSLock()
        func tick() -> Int { lock.lock(); defer { lock.unlock() }; calls += 1; return calls }
    }
    let inner: any PolynomialBackend
    let crashAt: Int
    let counter = Counter()
    struct Crash: Error {}

    var name: String { inner.name }
    func certifiedDegree(radius: Double, epsilon: Double, maxDegree: Int) throws -> (degree: Int, bound: Double)? {
        if counter.tick() == crashAt { throw Crash() }
        return try inner.certifiedDegree(radius: radius, epsilon: epsilon, maxDegree: maxDegree)
    }
    func relativeErrorBound(radius: Double, degree: Int) throws -> Double {
        try inner.relativeErrorBound(radius: radius, degree: degree)
    }
    func attention(
        q: Tensor<Double>, k: Tensor<Double>, v: Tensor<Double>, degree: Int,
        radius: Double
    ) throws -> (output: Tensor<Double>, bound: Double) {
        if counter.tick() == crashAt { throw Crash() }
        return try inner.attention(q: q, k: k, v: v, degree: degree, radius: radius)
    }
}
