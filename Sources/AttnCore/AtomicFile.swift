import Foundation

/// Writes files so that a failure never leaves a half-written output.
///
/// Postcondition: after `write` returns, `url` holds exactly `data`; if it
/// throws, `url` is as it was before (the temp file is removed).
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write([$0], to: url) }
    }

    /// Writes the byte ranges `parts`, one after another, as the file at `url` (a header and a tensor's
    /// storage, say, without first copying them into one buffer); the same guarantee as `write(_:to:)`.
    public static func write(_ parts: [UnsafeRawBufferPointer], to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw AttnError.usage("\(url.path): cannot write (folder missing or not writable)") }
        var isOpen = true
        do {
            var offset = 0
            for part in parts where part.count > 0 {
                let e = FileIO.write(fd, from: part.baseAddress!, count: part.count, at: offset)
                guard e == 0 else {
                    throw AttnError.usage("\(url.path): cannot write (\(String(cString: strerror(e))))")
                }
                offset += part.count
            }
            guard fsync(fd) == 0 else {
                throw AttnError.usage("\(url.path): cannot write (\(String(cString: strerror(errno))))")
            }
            close(fd)
            isOpen = false
            guard rename(tmp.path, url.path) == 0 else {
                throw AttnError.usage("\(url.path): cannot rename temp file into place")
            }
        } catch {
            if isOpen { close(fd) }
            unlink(tmp.path)
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
