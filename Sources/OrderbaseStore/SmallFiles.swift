#if canImport(Glibc)
import Glibc
#endif

/// Small records kept as one file each (API keys), readable and writable by
/// several processes at once: the REST server holds a tenant's LevelDB lock,
/// so the `orderbase keys` command cannot reach that database while it runs.
/// Names are checked by the caller before any path is built; symlinks are
/// never followed.
public enum SmallFiles {
    /// Writes `bytes` to `dir/name` atomically: a temporary file in the same
    /// directory, fsync, rename over the target, fsync the directory. Creates
    /// `dir` when missing. Mode 0600.
    public static func write(_ bytes: [UInt8], dir: String, name: String) throws(StoreError) {
        try TenantDirectory.makeDirectory(dir, allowExisting: true)
        if try TenantDirectory.lstatDirectory(dir) == nil { throw StoreError(.io, "\(dir) vanished") }
        let tmp = dir + "/.tmp-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw StoreError(.io, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = true
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                off += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false }
        let err = errno
        close(fd)
        if !ok {
            unlink(tmp)
            throw StoreError(.io, "cannot write \(tmp): \(String(cString: strerror(err)))")
        }
        if rename(tmp, dir + "/" + name) != 0 {
            let e = errno
            unlink(tmp)
            throw StoreError(.io, "cannot publish \(dir)/\(name): \(String(cString: strerror(e)))")
        }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            if fsync(dfd) != 0 { throw StoreError(.io, "cannot sync \(dir): \(String(cString: strerror(errno)))") }
        }
    }

    /// The file's bytes, or nil when it does not exist. Larger than `maxBytes`
    /// is `corruption` (these files are written only by us).
    public static func read(dir: String, name: String, maxBytes: Int = 1 << 16) throws(StoreError) -> [UInt8]? {
        let path = dir + "/" + name
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw StoreError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > maxBytes { throw StoreError(.corruption, "\(path) is larger than \(maxBytes) bytes") }
        }
        return out
    }

    /// What changes when a file is replaced or rewritten (inode, size, mtime),
    /// or nil when it does not exist: a cache of its contents stays valid while
    /// its stamp does.
    public struct Stamp: Equatable, Sendable {
        let inode: UInt64, size: Int64, seconds: Int64, nanoseconds: Int64
    }

    public static func stamp(dir: String, name: String) -> Stamp? {
        var st = stat()
        guard lstat(dir + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Stamp(inode: UInt64(st.st_ino), size: Int64(st.st_size), seconds: Int64(st.st_mtim.tv_sec),
                     nanoseconds: Int64(st.st_mtim.tv_nsec))
    }

    /// Names of the regular files in `dir` that `accept` admits, sorted; a
    /// missing directory is empty.
    public static func list(dir: String, accept: (String) -> Bool) throws(StoreError) -> [String] {
        guard let d = opendir(dir) else {
            if errno == ENOENT { return [] }
            throw StoreError(.io, "cannot list \(dir): \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if accept(name) { out.append(name) }
        }
        return out.sorted()
    }
}

extension TenantDirectory {
    /// A tenant's API key records (`<root>/tenants/<id>/keys`).
    public func keysPath(_ id: String) throws(StoreError) -> String { try tenantPath(id) + "/keys" }
    /// Operator (engine-wide) API key records (`<root>/keys`).
    public var operatorKeysPath: String { root + "/keys" }
}
