#if canImport(Glibc)
import Glibc
#endif

/// Identity of a directory on disk, so that `root//t` and `root/./t` (or a
/// second engine on the same root) resolve to the same open database.
public struct FileID: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
}

/// Filesystem layout of an engine root:
/// `<root>/tenants/<tenant_id>/db` (LevelDB) and `<root>/tenants/<tenant_id>/files`.
public struct TenantDirectory: Sendable {
    public let root: String

    /// Creates the root (and missing parents, like `mkdir -p`) and canonicalizes it once (realpath).
    public init(root: String) throws(StoreError) {
        if root.isEmpty { throw StoreError(.invalidPath, "root directory is empty") }
        try Self.makeDirectories(root)
        guard let real = realpath(root, nil) else {
            throw StoreError(.io, "cannot resolve root \(root): \(String(cString: strerror(errno)))")
        }
        defer { free(real) }
        self.root = String(cString: real)
        try Self.makeDirectory(self.root + "/tenants", allowExisting: true)
    }

    /// Tenant ids are `^[a-z0-9][a-z0-9_-]{0,62}$`, checked before any path is built.
    public static func isValidTenantID(_ id: String) -> Bool {
        let u = Array(id.utf8)
        guard (1...63).contains(u.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        guard alnum(u[0]) else { return false }
        return u.dropFirst().allSatisfy { alnum($0) || $0 == 0x5F || $0 == 0x2D }
    }

    public func tenantPath(_ id: String) throws(StoreError) -> String {
        guard Self.isValidTenantID(id) else { throw StoreError(.invalidPath, "invalid tenant id") }
        return root + "/tenants/" + id
    }

    public func dbPath(_ id: String) throws(StoreError) -> String { try tenantPath(id) + "/db" }
    public func filesPath(_ id: String) throws(StoreError) -> String { try tenantPath(id) + "/files" }

    /// The identity of an existing tenant's directory. A symlink in place of the
    /// tenant directory or its db directory is refused (never followed).
    public func identity(ofTenant id: String) throws(StoreError) -> FileID? {
        let dir = try tenantPath(id)
        guard let st = try Self.lstatDirectory(dir) else { return nil }
        guard try Self.lstatDirectory(dir + "/db") != nil else {
            throw StoreError(.corruption, "tenant \(id) has no db directory")
        }
        return FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Tenant ids present on disk, sorted.
    public func listTenants() throws(StoreError) -> [String] {
        guard let d = opendir(root + "/tenants") else { throw StoreError(.io, "cannot list tenants: \(String(cString: strerror(errno)))") }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if Self.isValidTenantID(name), (try? Self.lstatDirectory(root + "/tenants/" + name)) != nil { out.append(name) }
        }
        return out.sorted()
    }

    /// A tenant under construction: built in a hidden staging directory, then
    /// published with one atomic rename, so a crash part-way through creation
    /// leaves no half-made tenant behind (only a `.creating-*` directory, which
    /// is never taken for a tenant).
    public struct StagedTenant: Sendable {
        public let id: String
        public let path: String
        public var dbPath: String { path + "/db" }
    }

    public func stageTenant(_ id: String) throws(StoreError) -> StagedTenant {
        _ = try tenantPath(id)  // validates the id
        if try Self.lstatDirectory(root + "/tenants/" + id) != nil { throw StoreError(.busy, "already exists") }
        let staging = root + "/tenants/.creating-\(id)-\(UInt64.random(in: 0...UInt64.max))"
        try Self.makeDirectory(staging, allowExisting: false)
        try Self.makeDirectory(staging + "/db", allowExisting: false)
        try Self.makeDirectory(staging + "/files", allowExisting: false)
        return StagedTenant(id: id, path: staging)
    }

    /// Renames the staged tenant into place and syncs the parent directory so
    /// the new name survives a power loss. `busy` ("already exists") if another
    /// creator published the same id first.
    public func publish(_ staged: StagedTenant) throws(StoreError) {
        let target = try tenantPath(staged.id)
        // rename(2) replaces an empty directory but never a non-empty one: a
        // published tenant always holds db/ and files/.
        if rename(staged.path, target) != 0 {
            let e = errno
            if e == ENOTEMPTY || e == EEXIST { throw StoreError(.busy, "already exists") }
            throw StoreError(.io, "cannot publish tenant \(staged.id): \(String(cString: strerror(e)))")
        }
        let fd = open(root + "/tenants", O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            defer { close(fd) }
            if fsync(fd) != 0 { throw StoreError(.io, "cannot sync the tenants directory: \(String(cString: strerror(errno)))") }
        }
    }

    /// Removes a staging directory after a failed creation.
    public func discard(_ staged: StagedTenant) {
        try? Self.removeTree(staged.path)
    }

    /// Removes a tenant's directory tree without following symlinks.
    public func removeTenant(_ id: String) throws(StoreError) {
        let dir = try tenantPath(id)
        // Rename first so a half-finished delete never looks like a tenant.
        let trash = root + "/tenants/.deleting-\(id)-\(UInt64.random(in: 0...UInt64.max))"
        if rename(dir, trash) != 0 { throw StoreError(.io, "cannot remove tenant: \(String(cString: strerror(errno)))") }
        try Self.removeTree(trash)
    }

    static func lstatDirectory(_ path: String) throws(StoreError) -> stat? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw StoreError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFLNK { throw StoreError(.invalidPath, "refusing to follow a symlink at \(path)") }
        if (st.st_mode & S_IFMT) != S_IFDIR { throw StoreError(.io, "\(path) is not a directory") }
        return st
    }

    /// `mkdir -p`: every missing component of `path`.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            try makeDirectory(prefix, allowExisting: true)
        }
    }

    static func makeDirectory(_ path: String, allowExisting: Bool) throws(StoreError) {
        if mkdir(path, 0o755) == 0 { return }
        let e = errno
        if e == EEXIST {
            if !allowExisting { throw StoreError(.busy, "already exists") }
            return
        }
        throw StoreError(.io, "cannot create \(path): \(String(cString: strerror(e)))")
    }

    static func removeTree(_ path: String) throws(StoreError) {
        var st = stat()
        if lstat(path, &st) != 0 { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard let d = opendir(path) else { throw StoreError(.io, "cannot open \(path)") }
            var names: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            for n in names { try removeTree(path + "/" + n) }
            if rmdir(path) != 0 { throw StoreError(.io, "cannot remove \(path): \(String(cString: strerror(errno)))") }
        } else if unlink(path) != 0 {
            throw StoreError(.io, "cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }
}
