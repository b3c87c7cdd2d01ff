import Foundation

/// Where a tensor comes from: a file, and for an archive (`.npz`, `.safetensors`) the name of the
/// tensor in it. Written `PATH` or `PATH:NAME` wherever a path is accepted.
public struct TensorSource: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// The tensor's name in an archive; nil for a `.npy` file.
    public var name: String?

    public init(path: String, name: String? = nil) { (self.path, self.name) = (path, name) }

    /// Parses `PATH` or `PATH:NAME`. The split is at the last colon, and only when the text
    /// as a whole is not an existing file (so a path that contains a colon still reads).
    public init(parsing text: String) {
        if let colon = text.lastIndex(of: ":"), !FileManager.default.fileExists(atPath: text) {
            let name = String(text[text.index(after: colon)...])
            if !name.isEmpty, !name.contains("/") {
                self.init(path: String(text[..<colon]), name: name)
                return
            }
        }
        self.init(path: text)
    }

    public var description: String { name.map { "\(path):\($0)" } ?? path }
}

/// A tensor read from a file, with the type it was stored in.
public struct StoredTensor<T: AttnScalar>: Sendable {
    public var tensor: Tensor<T>
    /// The type the file held (the values are exact whatever it is, except Float64 read as Float).
    public var storage: StorageType
    public var source: TensorSource
}

/// The one tensor reader: `.npy`, `.npz` (NumPy's savez and savez_compressed) and `.safetensors`,
/// told apart by their first bytes. Every value is read exactly; the storage type is remembered.
public enum TensorFile {
    /// The container formats read.
    public enum Format: Sendable { case npy, npz, safetensors }

    /// The format of `data`: the `.npy` magic string, the zip magic, or safetensors' header
    /// (8-byte length, then `{`). `path` decides only when the bytes say nothing.
    static func format(of data: Data, path: String) -> Format {
        if data.starts(with: Npy.magic) { return .npy }
        if data.starts(with: [0x50, 0x4b, 0x03, 0x04]) || data.starts(with: [0x50, 0x4b, 0x05, 0x06]) { return .npz }
        if data.count > 8, data[data.startIndex + 8] == UInt8(ascii: "{") { return .safetensors }
        if path.hasSuffix(".safetensors") { return .safetensors }
        if path.hasSuffix(".npz") { return .npz }
        return .npy
    }

    /// Reads `source`.
    /// - Throws: `AttnError.usage` naming the file (and tensor) for an unreadable file, a malformed
    ///   one, an unsupported dtype, a missing name, or a name given for a `.npy` file.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func read<T: AttnScalar>(_ source: TensorSource, as: T.Type = T.self) throws -> StoredTensor<T> {
        if source.name == nil, let (t, dtype) = try Npy.readNative(source.path, as: T.self) {
            return StoredTensor(tensor: t, storage: StorageType(npy: dtype), source: source)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: source.path), options: .mappedIfSafe)
        } catch {
            throw AttnError.usage("\(source.path): cannot read file")
        }
        return try decode(data, source: source)
    }

    /// Decodes the bytes of the file `source.path`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func decode<T: AttnScalar>(_ data: Data, source: TensorSource, as: T.Type = T.self) throws
        -> StoredTensor<T>
    {
        let path = source.path
        switch format(of: data, path: path) {
        case .npy:
            if let name = source.name {
                throw AttnError.usage("\(path): a .npy file holds one array, so it has no tensor '\(name)'")
            }
            let t: Tensor<T> = try Npy.decode(data, name: path)
            let dtype = try data.withUnsafeBytes { try Npy.parseHeader($0, name: path).0.dtype }
            return StoredTensor(tensor: t, storage: StorageType(npy: dtype), source: source)
        case .npz:
            guard let name = source.name else {
                throw AttnError.usage("\(path): an .npz archive needs a name, as \(path):NAME")
            }
            let (t, type) = try Npz.decode(data, array: name, name: path, as: T.self)
            return StoredTensor(tensor: t, storage: type, source: source)
        case .safetensors:
            guard let name = source.name else {
                throw AttnError.usage("\(path): a safetensors file needs a tensor name, as \(path):NAME")
            }
            let (t, type) = try Safetensors.decode(data, tensor: name, name: path, as: T.self)
            return StoredTensor(tensor: t, storage: type, source: source)
        }
    }

    /// The names of the tensors in the file at `path` (one unnamed entry, `nil`, for a `.npy`).
    public static func names(in path: String) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw AttnError.usage("\(path): cannot read file")
        }
        return try data.withUnsafeBytes { raw in
            switch format(of: data, path: path) {
            case .npy: return []
            case .npz: return try Npz.members(raw, name: path).map(\.name)
            case .safetensors: return try Safetensors.parseHeader(raw, name: path).entries.map(\.name)
            }
        }
    }
}

/// The tensors of an attention problem named in one file: `--tensors FILE` supplies each role
/// by its conventional name (`q`, `k`, `v`, the output `o`, and `lse`, `do`, `dq`, `dk`, `dv`,
/// `mask`, `bias` when present); `names` maps a role to the file's own name (`q` → `query`).
/// An explicit source for a role (its own flag) wins over the file.
public struct TensorFiles: Sendable, Equatable {
    /// The roles a tensor file can supply.
    public static let roles = ["q", "k", "v", "o", "lse", "do", "dq", "dk", "dv", "mask", "bias"]
    public var file: String?
    /// Role → name in the file.
    public var names: [String: String]
    /// Role → explicit `PATH` or `PATH:NAME`.
    public var explicit: [String: String]

    public init(file: String? = nil, names: [String: String] = [:], explicit: [String: String?] = [:]) {
        self.file = file
        self.names = names
        self.explicit = explicit.compactMapValues { $0 }
    }

    /// Parses `q=query,k=key`: the roles are checked by name.
    /// - Throws: `AttnError.usage` for an entry not `ROLE=NAME`, an unknown role or a repeated one.
    public static func parseNames(_ text: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in text.split(separator: ",") {
            let p = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard p.count == 2, !p[1].isEmpty else { throw AttnError.usage(.names, "'\(item)' is not ROLE=NAME") }
            guard roles.contains(p[0]) else {
                throw AttnError.usage(.names, "unknown role '\(p[0])' (roles: \(roles.joined(separator: ", ")))")
            }
            guard out[p[0]] == nil else { throw AttnError.usage(.names, "role '\(p[0])' is named twice") }
            out[p[0]] = p[1]
        }
        return out
    }

    /// The source of `role`: its explicit flag, else the file's tensor of that name (renamed by
    /// `names`) when `required` or when the file holds it; nil when neither.
    /// - Throws: `AttnError.usage` (naming `parameter`) when a required role has no source.
    public func source(_ role: String, required: Bool, parameter: Parameter? = nil) throws -> TensorSource? {
        if let e = explicit[role] { return TensorSource(parsing: e) }
        if let file {
            let name = names[role] ?? role
            if try required || TensorFile.names(in: file).contains(name) { return TensorSource(path: file, name: name) }
        }
        guard !required else {
            let message = "missing: give it, or a tensor file that holds '\(names[role] ?? role)'"
            throw parameter.map { AttnError.usage($0, message) } ?? AttnError.usage("\(role): \(message)")
        }
        return nil
    }
}
