import AttnCore
import AttnKernels
import Foundation

/// Operation counts of the polynomial method and of exact attention, and
/// the crossover length where the polynomial method wins.
///
/// Counts (one multiply-add = 2 flops), per head:
///
///   poly(n)  = n·P,  P = 2·r·(2 + 2(d_v + 1)) + d_v
///              (features: one product and one weight per entry, both sides;
///               U₂ᵀ[V|1] and U₁W: 2·r·(d_v + 1) each; one division per output)
///   exact(n) = n²·E, E = 2d + 2d_v + κ_exp
///              (QKᵀ and PV; κ_exp flop-equivalents per exp + online softmax)
///
/// so the polynomial method wins exactly when n > P/E: the crossover is
/// ⌊P/E⌋ + 1. κ_exp = 16 is a calibration, not a count: on this machine
/// (2-core Zen 4, shared) `attnbound bench poly` measured crossovers between
/// about 160 and 370 at d = 4, r = 330 over several runs, and κ_exp = 16
/// puts the prediction (248) in the middle of that range. The model counts
/// flops only: fixed per-call costs (threads, buffers, the certificate) shift
/// the measured crossover on a loaded machine.
public struct CostModel: Sendable, Equatable {
    /// Flop-equivalents of one exp plus the online-softmax bookkeeping per score.
    public var expCost: Double
    public init(expCost: Double = 16) { self.expCost = expCost }

    public func polyFlopsPerRow(rank r: Double, valueCols dv: Int) -> Double {
        2 * r * (2 + 2 * Double(dv + 1)) + Double(dv)
    }

    public func exactFlopsPerPair(d: Int, valueCols dv: Int) -> Double {
        2 * Double(d) + 2 * Double(dv) + expCost
    }

    public func polyFlops(n: Int, rank r: Double, valueCols dv: Int) -> Double {
        Double(n) * polyFlopsPerRow(rank: r, valueCols: dv)
    }

    /// Exact attention's flops by the conventions' count (4·n²·d for d_v = d) plus κ_exp·n².
    public func exactFlops(n: Int, d: Int, valueCols dv: Int) -> Double {
        Double(n) * Double(n) * exactFlopsPerPair(d: d, valueCols: dv)
    }

    /// The smallest n at which poly(n) < exact(n).
    public func crossover(d: Int, valueCols dv: Int, rank r: Double) -> Double {
        (polyFlopsPerRow(rank: r, valueCols: dv) / exactFlopsPerPair(d: d, valueCols: dv)).rounded(.down) + 1
    }

    /// Working memory in bytes (Float64) beyond inputs and output:
    /// poly keeps a blockRows × r feature block per worker and the r × (d_v+1)
    /// partial sums of 8 key chunks.
    public func polyMemory(rank r: Double, valueCols dv: Int, blockRows: Int = 1024, workers: Int = 2) -> Double {
        8 * (Double(blockRows) * r * Double(workers) + 8 * r * Double(dv + 1) + Double(blockRows * workers * 4))
    }

    /// Working memory in bytes (Float64) of the tiled exact kernel beyond inputs and output:
    /// per worker, one queryTile × keyTile score tile and the `OnlineSoftmaxAccumulator`
    /// (queryTile × d_v output, queryTile row maxima and sums). The tiles default to the
    /// kernel's own `TileSizes.default` (256 × 1024), so the model cannot drift from it
    /// (small problems use a shorter query tile: this is the most the kernel holds).
    public func exactTiledMemory(valueCols dv: Int, workers: Int = 2, tiles: TileSizes = .default) -> Double {
        let qt = Double(tiles.queryTile), kt = Double(tiles.keyTile)
        return 8 * Double(workers) * (qt * kt + qt * Double(dv) + 2 * qt)
    }

    /// A naive kernel holds the n × n score matrix.
    public func exactNaiveMemory(n: Int) -> Double { 8 * Double(n) * Double(n) }
}
