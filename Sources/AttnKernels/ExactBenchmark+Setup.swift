import AttnCore
import Foundation

extension ExactBenchmark {
    /// Every parameter of `bench exact`, with its defaults.
    public struct Setup: Sendable, Equatable {
        /// Sequence lengths n (n_k = n) and head dimensions d (= d_v), every pair timed.
        public var sizes = [1024, 4096], headDims = [64]
        /// n_q (default n_q = n; 1 for a decode step).
        public var queries: Int?
        /// What each case computes (`bench exact --causal`, `--window L,R`, …): masks skip their empty tiles.
        public var scoreModel = ScoreModel.plain
        public var double = false
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var runs = 5
        public var queryTile = TileSizes.default.queryTile
        public var isa = KernelISA.auto
        /// A folder to write each case's Q, K, V (and dO) to, for peer benchmarks on identical inputs.
        public var inputsOut: String?
        /// Time the fused backward pass (`FusedBackward`, given a uniform dO) instead of the forward.
        public var backward = false

        public init() {}

        /// - Throws: `AttnError.usage` naming the parameter out of range.
        public func validate() throws {
            guard (1...8192).contains(queryTile) else { throw AttnError.usage(.queryTile, "must be in 1...8192") }
            guard !sizes.isEmpty, sizes.allSatisfy({ (1...65536).contains($0) }) else {
                throw AttnError.usage(.n, "must be in 1...65536")
            }
            guard !headDims.isEmpty, headDims.allSatisfy({ (1...256).contains($0) }) else {
                throw AttnError.usage(.d, "must be in 1...256")
            }
            if let queries, !(1...65536).contains(queries) { throw AttnError.usage(.queries, "must be in 1...65536") }
            guard (1...1000).contains(runs) else { throw AttnError.usage(.runs, "must be in 1...1000") }
        }
    }

    /// `bench exact` as one call: validates, times (`run(sizes:…)`) and reports the table and JSON.
    public static func run(_ s: Setup) throws -> RunReport {
        try s.validate()
        let (sgemm, copy, points) = try run(
            sizes: s.sizes, headDims: s.headDims, queries: s.queries, scoreModel: s.scoreModel, double: s.double,
            threads: s.threads, runs: s.runs, tiles: TileSizes(queryTile: s.queryTile, keyTile: FastAttention.keyTile),
            isa: s.isa, inputsOut: s.inputsOut, backward: s.backward)
        let r = Report(
            sgemm: sgemm, copyGBs: copy, points: points, threads: s.threads, runs: s.runs, queryTile: s.queryTile,
            scoreModel: s.scoreModel, double: s.double, isa: s.isa)
        return RunReport(command: s.backward ? "bench exact (backward)" : "bench exact", text: [r.text], json: r.json)
    }
}
