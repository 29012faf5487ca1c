import Foundation
import Testing
@testable import OrderbaseStore

func tempDir() -> String {
    var template = Array((NSTemporaryDirectory() + "orderbase-store-XXXXXX").utf8CString)
    return String(cString: mkdtemp(&template)!)
}

@Suite("Key codec")
struct KeyCodecTests {
    @Test("encoded strings sort like the strings, including prefixes and NUL bytes")
    func stringOrder() {
        let words = ["", "a", "a\u{0}", "a\u{0}b", "ab", "b", "ord_01", "ord_02", "é"]
        let keys = words.map { w -> [UInt8] in var k = KeyBuilder(1); k.string(w); k.string("tail"); return k.bytes }
        #expect(keys.sorted { $0.lexicographicallyPrecedes($1) } == keys)
        for (w, k) in zip(words, keys) {
            var r = KeyReader(k)
            #expect(r.string() == w)
            #expect(r.string() == "tail")
        }
    }

    @Test("encoded integers sort numerically")
    func intOrder() {
        let values: [UInt64] = [0, 1, 255, 256, 65535, 1 << 40, UInt64.max]
        let keys = values.map { v -> [UInt8] in var k = KeyBuilder(2); k.uint64(v); return k.bytes }
        #expect(keys.sorted { $0.lexicographicallyPrecedes($1) } == keys)
        var r = KeyReader(keys[5])
        #expect(r.uint64() == 1 << 40)
    }

    @Test("prefix upper bounds")
    func upperBound() {
        #expect(prefixUpperBound([1, 2]) == [1, 3])
        #expect(prefixUpperBound([1, 0xFF]) == [2])
        #expect(prefixUpperBound([0xFF, 0xFF]) == nil)
    }
}

@Suite("Database and committer")
struct DatabaseTests {
    @Test("scan honours bounds in both directions")
    func scan() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/db", createIfMissing: true)
        let b = WriteBatch()
        for i in 0..<10 { b.put([7, UInt8(i)], [UInt8(i)]) }
        b.put([8], [99])
        try db.write(b, sync: true)
        var seen: [UInt8] = []
        try db.scan(from: [7, 2], to: [7, 5]) { _, v in seen.append(v[0]); return true }
        #expect(seen == [2, 3, 4])
        seen = []
        try db.scan(from: [7, 2], to: [7, 5], reverse: true) { _, v in seen.append(v[0]); return true }
        #expect(seen == [4, 3, 2])
        seen = []
        try db.scan(from: [7], to: nil, reverse: true) { _, v in seen.append(v[0]); return seen.count < 3 }
        #expect(seen == [99, 9, 8])
    }

    @Test("a second open of the same database in one process is busy, not a second handle")
    func lock() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/db", createIfMissing: true)
        #expect { _ = try Database(path: dir + "/db", createIfMissing: false) } throws: { ($0 as? StoreError)?.kind == .busy }
        _ = db
    }

    @Test("staged writes are visible to the write path before they are durable, and all land")
    func committer() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/db", createIfMissing: true)
        let c = Committer(database: db, sync: true)
        var m = Mutation()
        m.put([1], [1])
        let t = try c.stage(m)
        #expect(try c.read([1]) == [1])
        try c.waitDurable(t)
        #expect(try db.get([1]) == [1])
        // Many concurrent committers: every mutation lands exactly once.
        await withTaskGroup(of: Void.self) { g in
            for w in 0..<8 {
                g.addTask {
                    for i in 0..<50 {
                        var m = Mutation()
                        m.put([2, UInt8(w), UInt8(i)], [UInt8(i)])
                        try! c.commit(m)
                    }
                }
            }
        }
        var n = 0
        try db.scan(from: [2], to: [3]) { _, _ in n += 1; return true }
        #expect(n == 400)
    }

    @Test("tenant directories: ids are validated, symlinks refused, deletes remove the tree")
    func directories() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let td = try TenantDirectory(root: dir + "/./")
        #expect(!td.root.contains("/./"))
        // Missing parents are created, relative roots too.
        let nested = try TenantDirectory(root: dir + "/a/b/c")
        #expect(nested.root.hasSuffix("/a/b/c"))
        #expect { _ = try TenantDirectory(root: "/dev/null/x") } throws: { ($0 as? StoreError)?.kind == .io }
        #expect(TenantDirectory.isValidTenantID("shop-1"))
        #expect(!TenantDirectory.isValidTenantID("../shop"))
        let staged = try td.stageTenant("shop")
        #expect(try td.identity(ofTenant: "shop") == nil, "a staged tenant is not a tenant until published")
        try td.publish(staged)
        #expect { _ = try td.stageTenant("shop") } throws: { ($0 as? StoreError)?.kind == .busy }
        // Two creators staged the same id; the second publish is refused.
        try td.createSecond("other")
        #expect { try td.publish(try td.stageTenantIgnoringExisting("other")) } throws: { ($0 as? StoreError)?.kind == .busy }
        #expect(try td.identity(ofTenant: "shop") != nil)
        #expect(try td.identity(ofTenant: "none") == nil)
        try FileManager.default.createSymbolicLink(atPath: td.root + "/tenants/link", withDestinationPath: td.root + "/tenants/shop")
        #expect { _ = try td.identity(ofTenant: "link") } throws: { ($0 as? StoreError)?.kind == .invalidPath }
        #expect(try td.listTenants() == ["other", "shop"])
        // A creation abandoned before publish (a crash) leaves only a hidden staging directory.
        _ = try td.stageTenant("crashed")
        #expect(try td.listTenants() == ["other", "shop"])
        #expect(try td.identity(ofTenant: "crashed") == nil)
        try td.publish(try td.stageTenant("crashed"))
        #expect(try td.identity(ofTenant: "crashed") != nil)
        try td.removeTenant("crashed")
        try td.removeTenant("shop")
        #expect(try td.identity(ofTenant: "shop") == nil)
    }
}

extension TenantDirectory {
    /// Test helpers: a published tenant, and a staging that skips the up-front existence check
    /// (as a creator racing another would have passed it).
    func createSecond(_ id: String) throws { try publish(try stageTenant(id)) }
    func stageTenantIgnoringExisting(_ id: String) throws -> StagedTenant {
        let path = root + "/tenants/.creating-race-\(id)"
        try FileManager.default.createDirectory(atPath: path + "/db", withIntermediateDirectories: true)
        return StagedTenant(id: id, path: path)
    }
}

@Suite("Background threads")
struct BackgroundThreadTests {
    /// An owner that joins its thread when it goes, as the engine does with its
    /// delivery thread; it records whether it went on that thread.
    final class Owner: @unchecked Sendable {
        var thread: BackgroundThread?
        let state: State
        init(_ state: State) { self.state = state }
        deinit {
            let current = thread?.isCurrent ?? false
            thread?.join()
            state.lock.withLock { state.goneOnItsThread = current; state.changed.broadcast() }
        }
    }

    final class State: @unchecked Sendable {
        let lock = Mutex(), changed = Condition()
        var released = false, ran = false
        var goneOnItsThread: Bool?
    }

    @Test("an owner freed on its own thread ends it without waiting for itself (detached, so ThreadSanitizer sees no leak)")
    func ownerFreedOnItsThread() {
        let state = State()
        var owner: Owner? = Owner(state)
        owner!.thread = BackgroundThread { [held = owner!] in
            state.lock.withLock { while !state.released { state.changed.wait(state.lock) } }
            _ = held  // the last reference: it goes when the thread's work is freed, on the thread
        }
        owner = nil
        state.lock.withLock { state.released = true; state.changed.broadcast() }
        state.lock.withLock { while state.goneOnItsThread == nil { state.changed.wait(state.lock) } }
        #expect(state.goneOnItsThread == true)
    }

    @Test("an owner freed elsewhere joins its thread, after its work ends")
    func ownerFreedElsewhere() {
        let state = State()
        var owner: Owner? = Owner(state)
        owner!.thread = BackgroundThread { state.lock.withLock { state.ran = true } }
        owner = nil
        #expect(state.lock.withLock { state.ran })
        #expect(state.goneOnItsThread == false)
    }
}
