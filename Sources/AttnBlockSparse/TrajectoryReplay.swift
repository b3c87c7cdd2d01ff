import AttnCore
import Foundation

/// Replay of a user trajectory stored as one .npy per tensor per step.
///
/// Convention: a folder holding `q_<t>.npy`, `k_<t>.npy`, `v_<t>.npy` for
/// t = 0, 1, …, T−1 (decimal, leading zeros allowed: `q_007.npy` is step 7),
/// each `[n, d]` or `[heads, n, d]`, every step with the same shapes.
/// A 4-D `[steps, heads, n, d]` array is not supported by the .npy reader, hence one file per step.
public struct TrajectoryReplay<T: AttnScalar>: TrajectorySource {
    public let directory: String
    public let steps: Int
    var files: [(q: String, k: String, v: String)]
    var t = 0
    var firstShapes: [[Int]]?

    /// Scans the folder. - Throws: `AttnError.usage` if steps are missing, incomplete or the folder is empty.
    public init(directory: String) throws {
        self.directory = directory
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw AttnError.usage(.replay, "\(directory): not a readable folder")
        }
        var found: [String: [Int: String]] = ["q": [:], "k": [:], "v": [:]]
        for name in names where name.hasSuffix(".npy") {
            let stem = name.dropLast(4)
            guard let us = stem.firstIndex(of: "_") else { continue }
            let kind = String(stem[..<us]), digits = stem[stem.index(after: us)...]
            guard found[kind] != nil, !digits.isEmpty, digits.allSatisfy(\.isASCII), let step = Int(digits), step >= 0
            else { continue }
            guard found[kind]![step] == nil else {
                throw AttnError.usage(.replay, "\(directory): step \(step) of \(kind) appears twice")
            }
            found[kind]![step] = (directory as NSString).appendingPathComponent(name)
        }
        let count = found["q"]!.count
        guard count > 0 else { throw AttnError.usage(.replay, "\(directory): no q_<t>.npy files") }
        var list: [(String, String, String)] = []
        for s in 0..<count {
            guard let q = found["q"]![s], let k = found["k"]![s], let v = found["v"]![s] else {
                throw AttnError.usage(
                    .replay, "\(directory): steps must be 0..<\(count) with q, k and v each; step \(s) is incomplete")
            }
            list.append((q, k, v))
        }
        guard found["k"]!.count == count, found["v"]!.count == count else {
            throw AttnError.usage(.replay, "\(directory): q, k and v have different step counts")
        }
        files = list
        steps = count
    }

    public mutating func next() throws -> AttentionStep<T>? {
        guard t < steps else { return nil }
        let f = files[t]
        let read = try AttentionTensors<T>(q: f.q, k: f.k, v: f.v)  // the one reader: 4-D, float16, GQA
        let (k, v) = read.expandedKV
        let step = AttentionStep<T>(q: read.q, k: k, v: v)
        let shapes = [step.q.shape, step.k.shape, step.v.shape]
        if let first = firstShapes, first != shapes {
            throw AttnError.usage("\(f.q): step \(t) has shapes \(shapes), step 0 had \(first)")
        }
        firstShapes = shapes
        t += 1
        return step
    }
}
