import COrderbaseShims
import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// What the file store takes (engine options; docs/attachments.md, "Limits").
public struct FileLimits: Sendable {
    public static let defaultContentTypes = ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "text/plain"]
    /// Every type the sniffer names (what `attachment_content_types` may list).
    public static let sniffedTypes = defaultContentTypes + ["application/zip", "application/octet-stream"]
    public var maxFileBytes: Int64 = 25 << 20
    public var quotaBytes: Int64 = 1 << 30
    public var contentTypes: [String] = defaultContentTypes
    public init() {}

    /// Reads the `attachment_*` engine options.
    static func read(_ f: inout Fields) throws(OrderbaseError) -> FileLimits {
        var l = FileLimits()
        l.maxFileBytes = try f.int("attachment_max_bytes", in: 1...(1 << 40)) ?? l.maxFileBytes
        l.quotaBytes = try f.int("attachment_quota_bytes", in: 0...(1 << 50)) ?? l.quotaBytes
        if let list = try f.array("attachment_content_types", maxCount: sniffedTypes.count) {
            var out: [String] = []
            for (n, v) in list.enumerated() {
                guard case .string(let s) = v, sniffedTypes.contains(s) else {
                    throw OrderbaseError(.invalidArgument, "options.attachment_content_types[\(n)] must be one of \(sniffedTypes.joined(separator: ", "))",
                                         field: "options.attachment_content_types[\(n)]")
                }
                if !out.contains(s) { out.append(s) }
            }
            l.contentTypes = out
        }
        return l
    }
}

/// SHA-256 of bytes as they stream (OpenSSL's libcrypto, as `Crypto.sha256`).
final class SHA256Stream {
    private var ctx: UnsafeMutableRawPointer?

    init() throws(OrderbaseError) {
        guard let c = ob_sha256_begin() else { throw OrderbaseError(.internal, "cannot start a SHA-256") }
        ctx = c
    }

    func update(_ b: UnsafeRawBufferPointer) { if let ctx, b.count > 0 { ob_sha256_update(ctx, b.baseAddress, b.count) } }

    func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        if let ctx { ob_sha256_end(ctx, &out) }
        ctx = nil
        return out
    }

    deinit { if let ctx { ob_sha256_end(ctx, nil) } }
}

/// Names a file's type from its bytes (docs/attachments.md, "Content types").
struct Sniffer {
    /// The first bytes (enough for every signature).
    private(set) var head: [UInt8] = []
    /// Whether everything so far is UTF-8 text (tab, CR, LF, FF the only controls); the state of a sequence across chunks.
    private(set) var text = true
    private var need = 0
    private var lo: UInt8 = 0x80, hi: UInt8 = 0xBF

    mutating func feed(_ b: UnsafeRawBufferPointer) {
        if head.count < 16 { head.append(contentsOf: b.prefix(16 - head.count)) }
        guard text, signature == nil else { return }
        for c in b {
            if need == 0 {
                switch c {
                case 0x09, 0x0A, 0x0C, 0x0D, 0x20...0x7E: continue
                case 0xC2...0xDF: need = 1; lo = 0x80; hi = 0xBF
                case 0xE0: need = 2; lo = 0xA0; hi = 0xBF
                case 0xE1...0xEC, 0xEE, 0xEF: need = 2; lo = 0x80; hi = 0xBF
                case 0xED: need = 2; lo = 0x80; hi = 0x9F
                case 0xF0: need = 3; lo = 0x90; hi = 0xBF
                case 0xF1...0xF3: need = 3; lo = 0x80; hi = 0xBF
                case 0xF4: need = 3; lo = 0x80; hi = 0x8F
                default: text = false; return
                }
            } else {
                guard c >= lo && c <= hi else { text = false; return }
                lo = 0x80; hi = 0xBF
                need -= 1
            }
        }
    }

    private func starts(_ s: [UInt8], at: Int = 0) -> Bool { head.count >= at + s.count && Array(head[at..<(at + s.count)]) == s }

    /// The type a signature at the start names, if any.
    var signature: String? {
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "image/tiff" }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        return nil
    }

    /// The type of the whole file, once every byte was fed.
    var contentType: String { signature ?? (text && need == 0 && !head.isEmpty ? "text/plain" : "application/octet-stream") }
}

/// A tenant's file store: `files/blobs/<2 hex>/<sha256 hex>` and `files/tmp/*.part` (docs/attachments.md).
struct FileStore: Sendable {
    let dir: String
    /// A blob younger than this is not collected: an upload may be about to name it.
    static let collectGraceMs: Int64 = 10 * 60_000

    var tmpDir: String { dir + "/tmp" }

    static func isHex(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    func blobPath(_ hex: String) throws(OrderbaseError) -> String {
        guard Self.isHex(hex) else { throw OrderbaseError(.corruption, "an attachment names a malformed blob \(hex)") }
        return dir + "/blobs/" + hex.prefix(2) + "/" + hex
    }

    static func ioError(_ what: String) -> OrderbaseError {
        OrderbaseError(.ioError, "\(what): \(String(cString: strerror(errno)))")
    }

    static func mkdir(_ path: String) throws(OrderbaseError) {
        if Glibc.mkdir(path, 0o700) != 0 && errno != EEXIST { throw ioError("cannot make \(path)") }
    }

    static func syncDirectory(_ path: String) throws(OrderbaseError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open \(path)") }
        defer { close(fd) }
        if fsync(fd) != 0 { throw ioError("cannot sync \(path)") }
    }

    /// A new `.part` file, opened for writing.
    func openPart() throws(OrderbaseError) -> (fd: Int32, path: String) {
        try Self.mkdir(dir)
        try Self.mkdir(tmpDir)
        let path = tmpDir + "/" + Crypto.hex(try Crypto.randomBytes(16)) + ".part"
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.ioError("cannot create \(path)") }
        return (fd, path)
    }

    /// Moves a complete, synced `.part` onto its blob (or drops it when the blob is there: deduplicated,
    /// its time refreshed so a collection does not take it). Answers whether a new blob was made.
    func publish(part: String, hex: String) throws(OrderbaseError) -> Bool {
        let target = try blobPath(hex)
        let shard = dir + "/blobs/" + hex.prefix(2)
        try Self.mkdir(dir + "/blobs")
        try Self.mkdir(shard)
        var st = stat()
        if lstat(target, &st) == 0 {
            unlink(part)
            _ = utimensat(AT_FDCWD, target, nil, 0)
            return false
        }
        guard rename(part, target) == 0 else { throw Self.ioError("cannot publish \(target)") }
        try Self.syncDirectory(shard)
        return true
    }

    /// Removes every `.part` file (at open: what uploads cut short left).
    func cleanTemp() {
        guard let d = opendir(tmpDir) else { return }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".part") { unlink(tmpDir + "/" + name) }
        }
    }

    /// The blob's size, or nil when it is missing.
    func size(_ hex: String) throws(OrderbaseError) -> Int64? {
        var st = stat()
        guard lstat(try blobPath(hex), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// The blob, open for reading.
    func open(_ hex: String) throws(OrderbaseError) -> Int32 {
        let path = try blobPath(hex)
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw OrderbaseError(.corruption, "the file of this attachment is missing from the file store") }
            throw Self.ioError("cannot open \(path)")
        }
        return fd
    }

    /// The SHA-256 of the blob's bytes as stored, in hex.
    func hash(_ hex: String) throws(OrderbaseError) -> String {
        let fd = try open(hex)
        defer { close(fd) }
        let sha = try SHA256Stream()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw Self.ioError("cannot read a blob") }
            if n == 0 { break }
            buf.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
        }
        return Crypto.hex(sha.finish())
    }

    /// Every blob: its name, size and modification time (ms).
    func blobs() -> [(hex: String, size: Int64, modified: Int64)] {
        var out: [(String, Int64, Int64)] = []
        guard let top = opendir(dir + "/blobs") else { return [] }
        defer { closedir(top) }
        func names(_ d: OpaquePointer) -> [String] {
            var n: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { n.append(name) }
            }
            return n
        }
        for shard in names(top) where shard.utf8.count == 2 {
            guard let d = opendir(dir + "/blobs/" + shard) else { continue }
            for name in names(d) where Self.isHex(name) {
                var st = stat()
                guard lstat(dir + "/blobs/" + shard + "/" + name, &st) == 0 else { continue }
                out.append((name, Int64(st.st_size), Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000))
            }
            closedir(d)
        }
        return out
    }

    /// Removes blobs not in `named` last modified more than `graceMs` ago by the system clock (file times are
    /// the system's): (removed, bytes, kept because young).
    func collect(named: Set<String>, graceMs: Int64) -> (removed: Int64, bytes: Int64, young: Int64) {
        var removed: Int64 = 0, bytes: Int64 = 0, young: Int64 = 0
        let now = SystemClock().nowMilliseconds()
        for b in blobs() where !named.contains(b.hex) {
            if now - b.modified < graceMs { young += 1; continue }
            if let p = try? blobPath(b.hex), unlink(p) == 0 { removed += 1; bytes += b.size }
        }
        return (removed, bytes, young)
    }
}
