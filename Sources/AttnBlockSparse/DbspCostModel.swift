import AttnCore

/// db-SP's latency model for choosing (U, R); every parameter is an input.
///
///   L(U, R) = L_a2a(U) + [max(L_comp, L_p2p(R))·(R − 1) + L_comp]·ρ(U, R)
///
/// with, per device and ring step (H/U heads, n/R queries against n/R keys),
///   L_comp = denseSeconds/(U·R²)·density + launchSeconds,
///   L_p2p  = latency + (bytes of one K and V chunk for H/U heads)/bandwidth,
///   L_a2a  = 0 if U = 1, else latency + (4 tensors · n·H·d/N elements · (U−1)/U · bytes)/bandwidth.
/// So R·L_comp is the device's share denseSeconds·density/N of the dense work.
public struct DbspCostModel: Sendable, Equatable {
    /// Dense attention time of the whole problem on one device (seconds).
    public var denseSeconds: Double
    /// Fixed cost of one kernel launch (seconds).
    public var launchSeconds: Double
    /// Link bandwidth (bytes per second), for all-to-all and point-to-point.
    public var bandwidth: Double
    /// Per-message latency (seconds).
    public var latencySeconds: Double
    public var tokens: Int
    public var heads: Int
    public var headDim: Int
    public var bytesPerElement: Int

    public init(
        denseSeconds: Double, launchSeconds: Double, bandwidth: Double, latencySeconds: Double,
        tokens: Int, heads: Int, headDim: Int, bytesPerElement: Int
    ) {
        self.denseSeconds = denseSeconds; self.launchSeconds = launchSeconds; self.bandwidth = bandwidth
        self.latencySeconds = latencySeconds; self.tokens = tokens; self.heads = heads; self.headDim = headDim
        self.bytesPerElement = bytesPerElement
    }

    /// The terms of L(U, R).
    public struct Breakdown: Sendable, Equatable {
        public var allToAll: Double, compute: Double, p2p: Double, total: Double
    }

    public func latency(ulysses U: Int, ring R: Int, density: Double, imbalance rho: Double) -> Breakdown {
        let n = Double(tokens), h = Double(heads), d = Double(headDim), b = Double(bytesPerElement)
        let N = Double(U * R)
        let comp = denseSeconds / (Double(U) * Double(R * R)) * density + launchSeconds
        let p2p = R == 1 ? 0 : latencySeconds + 2 * (n / Double(R)) * (h / Double(U)) * d * b / bandwidth
        let a2a = U == 1 ? 0 : latencySeconds + 4 * (n * h * d / N) * (Double(U - 1) / Double(U)) * b / bandwidth
        let total = a2a + (max(comp, p2p) * Double(R - 1) + comp) * rho
        return Breakdown(allToAll: a2a, compute: comp, p2p: p2p, total: total)
    }
}

/// One (U, R) candidate as the selector saw it.
public struct DbspCandidate: Sendable, Equatable {
    public var ulysses: Int, ring: Int
    public var contiguousImbalance: Double
    public var plan: DbspPlan
    public var balancedImbalance: Double
    public var latency: DbspCostModel.Breakdown
    public var chosen: Bool
}

extension DbspPlanner {
    /// The balanced plan for fixed (U, R) with its modelled latency (`chosen` = false).
    public static func candidate(
        mask: TileMask, ulysses U: Int, ring R: Int, model: DbspCostModel,
        rewards: [Double] = [0, 2, 5, 10]
    ) throws -> DbspCandidate {
        let plan = try balancedPlan(mask: mask, ulysses: U, ring: R, rewards: rewards)
        let rho = plan.imbalance(mask)
        return DbspCandidate(
            ulysses: U, ring: R,
            contiguousImbalance: DbspPlan.contiguous(mask: mask, ulysses: U, ring: R).imbalance(mask),
            plan: plan, balancedImbalance: rho,
            latency: model.latency(ulysses: U, ring: R, density: mask.density, imbalance: rho),
            chosen: false)
    }

    /// Every factorisation U·R = devices that fits the mask, with its
    /// balanced plan and modelled latency; the one of least latency is
    /// marked `chosen` (ties: larger U, since all-to-all is usually cheaper than a ring).
    /// - Throws: `AttnError.infeasible` if no factorisation fits.
    public static func select(
        mask: TileMask, devices N: Int, model: DbspCostModel,
        rewards: [Double] = [0, 2, 5, 10]
    ) throws -> [DbspCandidate] {
        guard N >= 1 else { throw AttnError.usage(.devices, "must be ≥ 1") }
        var out: [DbspCandidate] = []
        for U in stride(from: N, through: 1, by: -1) where N % U == 0 {
            let R = N / U
            guard (try? validate(mask: mask, ulysses: U, ring: R)) != nil else { continue }
            out.append(try candidate(mask: mask, ulysses: U, ring: R, model: model, rewards: rewards))
        }
        guard !out.isEmpty else {
            throw AttnError.infeasible(
                "no U·R = \(N) fits \(mask.heads) heads and \(min(mask.qTiles, mask.kTiles)) blocks")
        }
        let best = out.indices.min { out[$0].latency.total < out[$1].latency.total }!
        out[best].chosen = true
        return out
    }
}
