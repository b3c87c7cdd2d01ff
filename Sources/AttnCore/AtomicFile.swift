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

    /// Why a file cannot be written at `path` because of its folder ("folder X does not exist"), or nil.
    public static func folderProblem(_ path: String) -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
            return nil
        }
        return "folder \(dir) does not exist"
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}
