import Foundation

/// Writes files so that a failure never leaves a half-written output.
///
/// Postcondition: after `write` returns, `url` holds exactly `data`; if it
/// throws, `url` is as it was before (the temp file is removed).
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        do {
            guard FileManager.default.createFile(atPath: tmp.path, contents: data) else {
                throw AttnError.usage("\(url.path): cannot write (folder missing or not writable)")
            }
            let fd = open(tmp.path, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(tmp.path, url.path) == 0 else {
                throw AttnError.usage("\(url.path): cannot rename temp file into place")
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}
