// libFuzzer harness for the .npy reader and header parser (issue 11). Not part of the package build:
// scripts/fuzz-npy.sh compiles it together with the AttnCore sources it needs, with
// `swiftc -sanitize=fuzzer,address -parse-as-library`, and runs it on the corpus in Tests/Fuzz/corpus.
//
// Invariants checked on every input: no crash, no sanitizer report, and every error is an
// `AttnError.usage` whose message is one line without control bytes.
import Foundation

@inline(never)
func checkError(_ error: Error) {
    guard let e = error as? AttnError else { fatalError("non-AttnError thrown: \(error)") }
    precondition(e.kind == .usage, "malformed input must be a usage error: \(e.message)")
    precondition(
        !e.message.unicodeScalars.contains { $0.properties.generalCategory == .control },
        "control byte in the message: \(e.message.debugDescription)")
}

let fuzzFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("npy-fuzz-\(getpid()).npy")

@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    do { _ = try Npy.decode(data, name: "fuzz.npy", as: Float.self) } catch { checkError(error) }
    do { _ = try Npy.decode(data, name: "fuzz.npy", as: Double.self) } catch { checkError(error) }
    data.withUnsafeBytes { raw in
        do { _ = try Npy.parseHeader(raw, name: "fuzz.npy") } catch { checkError(error) }
    }
    // Through a file: the direct reader (Npy+File) agrees with `decode` on every input, value for value,
    // or declines it, and `read` then fails exactly when `decode` does.
    try? data.write(to: fuzzFile)
    for direct in [true, false] {
        let viaFile: Tensor<Float>?
        do {
            viaFile = direct ? try Npy.readNative(fuzzFile.path, as: Float.self)?.0 : try Npy.read(fuzzFile.path)
        } catch {
            checkError(error)
            viaFile = nil
        }
        if let viaFile {
            let decoded = try? Npy.decode(data, name: "fuzz.npy", as: Float.self)
            precondition(
                decoded.map {
                    $0.shape == viaFile.shape
                        && zip($0.storage, viaFile.storage).allSatisfy {
                            $0.bitPattern == $1.bitPattern
                        }
                } ?? false,
                "the file reader and decode disagree")
        }
    }
    // A decoded tensor re-encodes and decodes to itself (the writer and reader agree).
    if let t = try? Npy.decode(data, name: "fuzz.npy", as: Double.self) {
        precondition(
            (try? Npy.decode(Npy.encode(t), as: Double.self)) == t || t.storage.contains { $0.isNaN },
            "round trip changed the tensor")
    }
    return 0
}
