import Foundation

/// Reading the score model's arrays from .npy files: explicit masks (bool, uint8 or integer,
/// nonzero = visible; only here does the reader accept non-float dtypes) and float terms (bias,
/// ALiBi slopes, sinks: float16/32/64, read exactly as Double).
extension Npy {
    /// Bytes per element of the boolean and integer dtypes a mask may have.
    static let maskDTypes: [String: Int] = [
        "b1": 1, "u1": 1, "i1": 1, "u2": 2, "i2": 2, "u4": 4, "i4": 4, "u8": 8, "i8": 8,
    ]

    /// An explicit attention mask: a bool, uint8 or integer array of 0 to 4 dimensions that
    /// broadcasts over [batch, heads, n_q, n_k]; nonzero means visible.
    /// - Throws: `AttnError.usage(parameter, …)` naming `path`: unreadable, malformed, a float or other
    ///   dtype, more than 4 dimensions, truncated or trailing data.
    public static func readMask(_ path: String, parameter: Parameter = .mask) throws -> ScoreGrid<Bool> {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw AttnError.usage(parameter, "\(path): cannot read file")
        }
        do {
            return try data.withUnsafeBytes { raw in
                let (text, offset) = try headerText(raw, name: path)
                var p = DictParser(chars: Array(text.unicodeScalars), name: path)
                let dict = try p.parseDict()
                guard case .string(let descr)? = dict["descr"], case .bool(let fortran)? = dict["fortran_order"],
                    case .tuple(let shape)? = dict["shape"]
                else { throw AttnError.usage("\(path): malformed header") }
                let code = String(descr.dropFirst())
                guard let size = maskDTypes[code], let order = descr.first, "<>|=".contains(order) else {
                    throw AttnError.usage(
                        "\(path): a mask must be bool, uint8 or integer (nonzero = visible), got \(describe(descr))")
                }
                guard shape.count <= 4 else {
                    throw AttnError.usage("\(path): a mask has at most 4 dimensions, got shape \(shape)")
                }
                let count = try elementCount(shape, name: path)
                let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, bytes == raw.count - offset else {
                    throw AttnError.usage(
                        "\(path): shape \(shape) needs \(bytes) bytes of data, file has \(raw.count - offset)")
                }
                // Nonzero is nonzero in any signedness and byte order: OR the bytes.
                var values = [Bool](repeating: false, count: count)
                for i in 0..<count {
                    var any: UInt8 = 0
                    for b in 0..<size { any |= raw[offset + i * size + b] }
                    values[i] = any != 0
                }
                if fortran { values = fortranToC(values, shape: shape) }
                return try ScoreGrid(shape: shape, values: values, parameter: parameter)
            }
        } catch let e as AttnError where e.parameter == nil {
            throw AttnError.usage(parameter, e.message)
        }
    }

    /// A float array (float16/32/64, exact as Double) as a grid over [batch, heads, n_q, n_k]
    /// (`perHead`: as per-head values, [heads] or [batch, heads]).
    /// - Throws: `AttnError.usage(parameter, …)` naming `path` (the reader's errors, a bad rank).
    public static func readScoreGrid(_ path: String, parameter: Parameter, perHead: Bool = false) throws
        -> ScoreGrid<Double>
    {
        do {
            let t: Tensor<Double> = try read(path)
            return perHead
                ? try .perHead(shape: t.shape, values: t.storage, parameter: parameter)
                : try ScoreGrid(shape: t.shape, values: t.storage, parameter: parameter)
        } catch let e as AttnError where e.parameter == nil || e.parameter == parameter {
            throw AttnError.usage(parameter, e.message.hasPrefix(path) ? e.message : "\(path): \(e.message)")
        }
    }

    /// A mask as a NumPy `bool` array ('|b1', C order, its shape as given): what `readMask` reads back.
    public static func encodeMask(_ mask: ScoreGrid<Bool>) -> Data {
        let shape =
            mask.shape.count == 1
            ? "(\(mask.shape[0]),)" : "(" + mask.shape.map(String.init).joined(separator: ", ") + ")"
        var out = Data(header("{'descr': '|b1', 'fortran_order': False, 'shape': \(shape), }"))
        out.append(contentsOf: mask.values.map { $0 ? 1 : 0 } as [UInt8])
        return out
    }
}
