import CLevelDB
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide LevelDB resources shared by every tenant database: one block
/// cache (DESIGN §4: share one block cache across tenants) and one bloom filter.
enum SharedLevelDB {
    nonisolated(unsafe) static let filterPolicy: OpaquePointer = leveldb_filterpolicy_create_bloom(10)
    nonisolated(unsafe) static let readOptions: OpaquePointer = {
        let r = leveldb_readoptions_create()!
        leveldb_readoptions_set_verify_checksums(r, 0)
        return r
    }()
    nonisolated(unsafe) static let syncWrite: OpaquePointer = {
        let w = leveldb_writeoptions_create()!
        leveldb_writeoptions_set_sync(w, 1)
        return w
    }()
    nonisolated(unsafe) static let relaxedWrite: OpaquePointer = {
        let w = leveldb_writeoptions_create()!
        leveldb_writeoptions_set_sync(w, 0)
        return w
    }()

    private static let cacheLock = Mutex()
    nonisolated(unsafe) private static var cache: OpaquePointer?

    /// The first tenant opened fixes the shared cache size for the process.
    static func blockCache(bytes: Int) -> OpaquePointer {
        cacheLock.withLock {
            if let c = cache { return c }
            let c = leveldb_cache_create_lru(bytes)!
            cache = c
            return c
        }
    }
}

/// Tuning for one database; defaults are modest because every tenant of a
/// process shares LevelDB's single compaction thread.
public struct DatabaseOptions: Sendable {
    public var writeBufferBytes = 2 << 20
    public var maxOpenFiles = 64
    public var blockCacheBytes = 32 << 20
    public init() {}
}

/// One open LevelDB database. Thread-safe (LevelDB is).
public final class Database: @unchecked Sendable {
    private let db: OpaquePointer
    private let options: OpaquePointer
    public let path: String

    public init(path: String, options o: DatabaseOptions = DatabaseOptions(), createIfMissing: Bool) throws(StoreError) {
        let opts = leveldb_options_create()!
        leveldb_options_set_create_if_missing(opts, createIfMissing ? 1 : 0)
        leveldb_options_set_write_buffer_size(opts, o.writeBufferBytes)
        leveldb_options_set_max_open_files(opts, Int32(o.maxOpenFiles))
        leveldb_options_set_filter_policy(opts, SharedLevelDB.filterPolicy)
        leveldb_options_set_cache(opts, SharedLevelDB.blockCache(bytes: o.blockCacheBytes))
        leveldb_options_set_paranoid_checks(opts, 1)
        var err: UnsafeMutablePointer<CChar>? = nil
        let handle = leveldb_open(opts, path, &err)
        if let err {
            let text = String(cString: err)
            leveldb_free(err)
            leveldb_options_destroy(opts)
            throw StoreError.fromLevelDB(text)
        }
        guard let handle else {
            leveldb_options_destroy(opts)
            throw StoreError(.io, "leveldb_open returned no handle")
        }
        self.db = handle
        self.options = opts
        self.path = path
    }

    deinit {
        leveldb_close(db)
        leveldb_options_destroy(options)
    }

    public func get(_ key: [UInt8], snapshot: Snapshot? = nil) throws(StoreError) -> [UInt8]? {
        var err: UnsafeMutablePointer<CChar>? = nil
        var len = 0
        let ro = snapshot?.readOptions ?? SharedLevelDB.readOptions
        let value = key.withUnsafeBufferPointer { k in
            k.baseAddress!.withMemoryRebound(to: CChar.self, capacity: k.count) {
                leveldb_get(db, ro, $0, k.count, &len, &err)
            }
        }
        if let err {
            let text = String(cString: err)
            leveldb_free(err)
            throw StoreError.fromLevelDB(text)
        }
        guard let value else { return nil }
        defer { leveldb_free(value) }
        return [UInt8](UnsafeRawBufferPointer(start: value, count: len))
    }

    public func write(_ batch: WriteBatch, sync: Bool) throws(StoreError) {
        var err: UnsafeMutablePointer<CChar>? = nil
        leveldb_write(db, sync ? SharedLevelDB.syncWrite : SharedLevelDB.relaxedWrite, batch.handle, &err)
        if let err {
            let text = String(cString: err)
            leveldb_free(err)
            throw StoreError.fromLevelDB(text)
        }
    }

    /// A read view. `fillCache: false` for bulk scans (exports): blocks they
    /// read do not push the hot set out of the shared block cache.
    public func snapshot(fillCache: Bool = true) -> Snapshot { Snapshot(db: db, fillCache: fillCache) }

    /// Visits keys in [start, end) (or (end..start] reversed), stopping when
    /// `body` returns false.
    public func scan(
        from start: [UInt8], to end: [UInt8]?, reverse: Bool = false, snapshot: Snapshot? = nil,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let it = leveldb_create_iterator(db, snapshot?.readOptions ?? SharedLevelDB.readOptions)!
        defer { leveldb_iter_destroy(it) }
        func key() -> UnsafeRawBufferPointer {
            var n = 0
            let p = leveldb_iter_key(it, &n)
            return UnsafeRawBufferPointer(start: p, count: n)
        }
        func value() -> UnsafeRawBufferPointer {
            var n = 0
            let p = leveldb_iter_value(it, &n)
            return UnsafeRawBufferPointer(start: p, count: n)
        }
        func seek(_ k: [UInt8]) {
            k.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { leveldb_iter_seek(it, $0, b.count) }
            }
        }
        if !reverse {
            seek(start)
            while leveldb_iter_valid(it) != 0 {
                let k = key()
                if let end, compare(k, end) >= 0 { break }
                if try !body(k, value()) { break }
                leveldb_iter_next(it)
            }
        } else {
            if let end {
                seek(end)
                if leveldb_iter_valid(it) != 0 { leveldb_iter_prev(it) } else { leveldb_iter_seek_to_last(it) }
            } else {
                leveldb_iter_seek_to_last(it)
            }
            while leveldb_iter_valid(it) != 0 {
                let k = key()
                if compare(k, start) < 0 { break }
                if try !body(k, value()) { break }
                leveldb_iter_prev(it)
            }
        }
        var err: UnsafeMutablePointer<CChar>? = nil
        leveldb_iter_get_error(it, &err)
        if let err {
            let text = String(cString: err)
            leveldb_free(err)
            throw StoreError.fromLevelDB(text)
        }
    }
}

/// Lexicographic byte comparison (LevelDB's default comparator).
public func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
    b.withUnsafeBytes { bb in
        let n = min(a.count, bb.count)
        if n > 0 {
            let r = memcmp(a.baseAddress!, bb.baseAddress!, n)
            if r != 0 { return Int(r) }
        }
        return a.count - bb.count
    }
}

/// A consistent read view. Released when the last reference goes away.
public final class Snapshot: @unchecked Sendable {
    private let db: OpaquePointer
    private let snap: OpaquePointer
    let readOptions: OpaquePointer

    init(db: OpaquePointer, fillCache: Bool) {
        self.db = db
        self.snap = leveldb_create_snapshot(db)!
        self.readOptions = leveldb_readoptions_create()!
        leveldb_readoptions_set_snapshot(readOptions, snap)
        leveldb_readoptions_set_verify_checksums(readOptions, 0)
        if !fillCache { leveldb_readoptions_set_fill_cache(readOptions, 0) }
    }

    deinit {
        leveldb_readoptions_destroy(readOptions)
        leveldb_release_snapshot(db, snap)
    }
}

/// An atomic group of puts and deletes.
public final class WriteBatch: @unchecked Sendable {
    let handle: OpaquePointer
    public private(set) var byteCount = 0
    public private(set) var count = 0

    public init() { handle = leveldb_writebatch_create()! }
    deinit { leveldb_writebatch_destroy(handle) }

    public func put(_ key: [UInt8], _ value: [UInt8]) {
        key.withUnsafeBufferPointer { k in
            value.withUnsafeBufferPointer { v in
                k.baseAddress!.withMemoryRebound(to: CChar.self, capacity: k.count) { kp in
                    let vp = UnsafeRawPointer(v.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
                    leveldb_writebatch_put(handle, kp, k.count, vp, v.count)
                }
            }
        }
        byteCount += key.count + value.count
        count += 1
    }

    public func delete(_ key: [UInt8]) {
        key.withUnsafeBufferPointer { k in
            k.baseAddress!.withMemoryRebound(to: CChar.self, capacity: k.count) { leveldb_writebatch_delete(handle, $0, k.count) }
        }
        byteCount += key.count
        count += 1
    }

    /// Appends every operation of `other` (LevelDB ≥ 1.21).
    public func append(_ other: WriteBatch) {
        leveldb_writebatch_append(handle, other.handle)
        byteCount += other.byteCount
        count += other.count
    }
}
