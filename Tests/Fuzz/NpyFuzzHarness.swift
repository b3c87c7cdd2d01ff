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

@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    do { _ = try Npy.decode(data, name: "fuzz.npy", as: Float.self) } catch { checkError(error) }
    do { _ = try Npy.decode(data, name: "fuzz.npy", as: Double.self) } catch { checkError(error) }
    data.withUnsafeBytes { raw in
        do { _ = try Npy.parseHeader(raw, name: "fuzz.npy") } catch { checkError(error) }
    }
    // A decoded tensor re-encodes and decodes to itself (the writer and reader agree).
    if let t = try? Npy.decode(data, name: "fuzz.npy", as: Double.self) {
        precondition(
            (try? Npy.decode(Npy.encode(t), as: Double.self)) == t || t.storage.contains { $0.isNaN },
            "round trip changed the tensor")
    }
    return 0
}
