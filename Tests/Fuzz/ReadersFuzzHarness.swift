// libFuzzer harness for the .safetensors and .npz readers (issue 24), as NpyFuzzHarness is for .npy.
// Not part of the package build: scripts/fuzz-readers.sh compiles it with the AttnCore sources it
// needs and the system zlib, with `swiftc -sanitize=fuzzer,address -parse-as-library`, and runs it
// on the corpus in Tests/Fuzz/readers-corpus.
//
// Invariants on every input: no crash, no sanitizer report, every error an `AttnError.usage` whose
// message is one line without control bytes, and a tensor read is as large as its shape says.
import Foundation

@inline(never)
func checkError(_ error: Error) {
    guard let e = error as? AttnError else { fatalError("non-AttnError thrown: \(error)") }
    precondition(e.kind == .usage, "malformed input must be a usage error: \(e.message)")
    precondition(
        !e.message.unicodeScalars.contains { $0.properties.generalCategory == .control },
        "control byte in the message: \(e.message.debugDescription)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func readersFuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    // Every name a fixture holds, and one no file holds.
    for name in ["q", "k", "o", "o_bf16", "x8", "d", "missing"] {
        for path in ["f.safetensors", "f.npz"] {
            do {
                let t: StoredTensor<Double> = try TensorFile.decode(data, source: TensorSource(path: path, name: name))
                precondition(t.tensor.storage.count == t.tensor.heads * t.tensor.rows * t.tensor.cols)
            } catch { checkError(error) }
        }
    }
    data.withUnsafeBytes { raw in
        do { _ = try Safetensors.parseHeader(raw, name: "f.safetensors") } catch { checkError(error) }
        do { _ = try Npz.members(raw, name: "f.npz") } catch { checkError(error) }
    }
    return 0
}
