/// A page policy's settings as a front end names them (the CLI's option group conforms), so that
/// every front end builds a `PolicyConfig` the one way (`config`).
public protocol PolicyConfigSource {
    /// The KV budget in tokens (`PolicyConfig.budgetTokens`).
    var budget: Int { get }
    var sinkPages: Int { get }
    var windowPages: Int { get }
    /// ArkVale's top-k pages (`PolicyConfig.topkPages`).
    var topk: Int? { get }
    var digest: DigestKind? { get }
    var reduction: ScoreReduction? { get }
    /// `steady`'s reuse limit (`PolicyConfig.steadyMaxReuse`).
    var steadyReuse: Int { get }
    var steadyCosine: Double { get }
}

extension PolicyConfigSource {
    /// The settings as a configuration; each policy checks it where it is built.
    public var config: PolicyConfig {
        var c = PolicyConfig(budgetTokens: budget)
        (c.sinkPages, c.windowPages, c.topkPages) = (sinkPages, windowPages, topk)
        (c.digest, c.reduction, c.steadyMaxReuse, c.steadyCosine) = (digest, reduction, steadyReuse, steadyCosine)
        return c
    }
}
