import COrderbaseShims
import OrderbaseStore

/// An API key for the REST server: bound to one tenant (or, for operator
/// keys, to the engine's tenant management) with one scope. Only a SHA-256 of
/// the secret is stored; the secret is shown once, when the key is created.
///
/// A secret reads `obk.<tenant>.<key id>.<random>` (tenant keys) or
/// `obo.<key id>.<random>` (operator keys): the head names the record to check,
/// the 256 random bits are the secret.
public struct APIKey: Sendable, Equatable {
    public enum Scope: String, Sendable, CaseIterable, Comparable {
        case read, write, admin
        var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Scope, b: Scope) -> Bool { a.rank < b.rank }
    }

    public let id: String
    /// nil for an operator key.
    public let tenant: String?
    public let scope: Scope
    public let name: String?
    public let prefix: String
    let secretHash: String
    public let createdAt: Int64
    public var revokedAt: Int64?

    public var isOperator: Bool { tenant == nil }

    /// The record as stored (with the hash) or as returned (without).
    func json(stored: Bool) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("tenant"); w.optionalString(tenant)
        w.key("scope"); w.string(scope.rawValue)
        w.key("name"); w.optionalString(name)
        w.key("prefix"); w.string(prefix)
        if stored { w.key("secret_sha256"); w.string(secretHash) }
        w.key("created_at"); w.timestamp(createdAt)
        w.key("revoked_at"); if let revokedAt { w.timestamp(revokedAt) } else { w.null() }
        w.endObject()
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> APIKey {
        do {
            var f = try Fields(try JSON.parse(bytes))
            let key = APIKey(
                id: try f.string("id", required: true)!, tenant: try f.string("tenant"),
                scope: Scope(rawValue: try f.oneOf("scope", Scope.allCases.map(\.rawValue), required: true)!)!,
                name: try f.string("name"), prefix: try f.string("prefix", required: true)!,
                secretHash: try f.string("secret_sha256", required: true)!,
                createdAt: try f.timestamp("created_at") ?? 0, revokedAt: try f.timestamp("revoked_at"))
            try f.finish()
            return key
        } catch {
            throw OrderbaseError(.corruption, "API key record does not decode: \(error.message)")
        }
    }

    /// `key_` + a 26-character ULID.
    static func isValidID(_ id: String) -> Bool {
        let u = Array(id.utf8)
        return u.count == 30 && id.hasPrefix("key_") && u[4...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }
    }
}

/// Key records by id with the stamp of the file they came from.
final class KeyCache: @unchecked Sendable {
    private let lock = Mutex()
    private var entries: [String: (stamp: SmallFiles.Stamp, key: APIKey)] = [:]

    func get(_ id: String, _ stamp: SmallFiles.Stamp) -> APIKey? {
        lock.withLock { entries[id].flatMap { $0.stamp == stamp ? $0.key : nil } }
    }

    func put(_ id: String, _ stamp: SmallFiles.Stamp, _ key: APIKey) {
        lock.withLock {
            if entries.count >= 10_000 { entries.removeAll() }
            entries[id] = (stamp, key)
        }
    }
}

/// A parsed secret: which record to check and the random part.
struct KeyToken {
    let tenant: String?
    let id: String
    let secret: String

    init?(_ token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("obk", 4): (tenant, id, secret) = (parts[1], parts[2], parts[3])
        case ("obo", 3): (tenant, id, secret) = (nil, parts[1], parts[2])
        default: return nil
        }
        if let tenant, !TenantDirectory.isValidTenantID(tenant) { return nil }
        guard APIKey.isValidID(id), secret.utf8.count == 43 else { return nil }
    }
}

extension Engine {
    private func keysDir(_ tenant: String?) throws(OrderbaseError) -> String {
        guard let tenant else { return directory.operatorKeysPath }
        guard TenantDirectory.isValidTenantID(tenant) else {
            throw OrderbaseError.invalid("tenant id must match ^[a-z0-9][a-z0-9_-]{0,62}$", field: "tenant")
        }
        guard try store({ () throws(StoreError) in try directory.identity(ofTenant: tenant) }) != nil else {
            throw OrderbaseError(.notFound, "no tenant \(tenant)", field: "tenant")
        }
        return try store { () throws(StoreError) in try directory.keysPath(tenant) }
    }

    private func loadKey(_ id: String, tenant: String?) throws(OrderbaseError) -> APIKey? {
        let dir = try keysDir(tenant)
        guard APIKey.isValidID(id) else { return nil }
        guard let bytes = try store({ () throws(StoreError) in try SmallFiles.read(dir: dir, name: id + ".json") }) else { return nil }
        return try APIKey.decode(bytes)
    }

    // MARK: api_keys.create

    /// `{"tenant"?, "scope", "name"?}`: a new key and, once only, its `secret`.
    /// Without `tenant` the key is an operator key (scope `admin`).
    public func createAPIKey(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let tenant = try f.string("tenant", maxLength: 63)
        let scope = APIKey.Scope(rawValue: try f.oneOf("scope", APIKey.Scope.allCases.map(\.rawValue), required: true)!)!
        let name = try f.string("name", maxLength: 255)
        try f.finish()
        if tenant == nil && scope != .admin {
            throw OrderbaseError.invalid("an operator key (no tenant) has scope admin", field: "scope")
        }
        if isClosed { throw OrderbaseError(.misuse, "engine is closed") }
        let dir = try keysDir(tenant)
        let id = keyIDs.make("key_", at: clock.nowMilliseconds())
        var random = [UInt8](repeating: 0, count: 32)
        guard ob_random_bytes(&random, random.count) == 0 else { throw OrderbaseError(.internal, "no random bytes") }
        let secretPart = Base64.encode(random, urlSafe: true)
        let head = tenant.map { "obk.\($0).\(id)" } ?? "obo.\(id)"
        let secret = head + "." + secretPart
        let key = APIKey(id: id, tenant: tenant, scope: scope, name: name, prefix: head + "." + secretPart.prefix(4),
                         secretHash: Crypto.hex(Crypto.sha256(Array(secretPart.utf8))), createdAt: clock.nowMilliseconds())
        try store { () throws(StoreError) in try SmallFiles.write(key.json(stored: true), dir: dir, name: id + ".json") }
        var out = key.json(stored: false)
        out.removeLast()
        out.append(contentsOf: Array(",\"secret\":\"\(secret)\"}".utf8))
        return out
    }

    // MARK: api_keys.list

    /// `{"tenant"?, "include_revoked"?, "limit"?, "starting_after"?}`, oldest first.
    public func listAPIKeys(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let tenant = try f.string("tenant", maxLength: 63)
        let includeRevoked = try f.bool("include_revoked") ?? false
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        let after = try f.string("starting_after", maxLength: 64)
        try f.finish()
        let dir = try keysDir(tenant)
        let names = try store { () throws(StoreError) in
            try SmallFiles.list(dir: dir) { $0.hasSuffix(".json") && APIKey.isValidID(String($0.dropLast(5))) }
        }
        var page: [[UInt8]] = []
        var hasMore = false
        for name in names {
            let id = String(name.dropLast(5))
            if let after, id <= after { continue }
            guard let key = try loadKey(id, tenant: tenant) else { continue }  // revoked and removed meanwhile
            if key.revokedAt != nil && !includeRevoked { continue }
            if page.count == limit { hasMore = true; break }
            page.append(key.json(stored: false))
        }
        return TenantCore.listResponse(page, hasMore: hasMore)
    }

    // MARK: api_keys.revoke

    /// `{"tenant"?, "id"}`: the key stops authenticating at once (the server
    /// reads the record on every request). Revoking twice is not an error.
    public func revokeAPIKey(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let tenant = try f.string("tenant", maxLength: 63)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        guard var key = try loadKey(id, tenant: tenant) else {
            throw OrderbaseError(.notFound, "no API key \(id)", field: "id")
        }
        if key.revokedAt == nil {
            key.revokedAt = clock.nowMilliseconds()
            let dir = try keysDir(tenant)
            try store { () throws(StoreError) in try SmallFiles.write(key.json(stored: true), dir: dir, name: id + ".json") }
        }
        return key.json(stored: false)
    }

    /// The live key a bearer secret names, or nil for anything else: malformed,
    /// unknown tenant or key, wrong secret, revoked. The caller answers every
    /// nil the same way, so nothing about tenants or keys leaks.
    ///
    /// Records are cached with their file's stamp (inode, size, mtime); one
    /// `lstat` per call tells whether the record changed (a revocation rewrites
    /// it), so a revoked key fails from the next request on.
    public func authenticate(_ secret: String) -> APIKey? {
        guard let token = KeyToken(secret) else { return nil }
        let dir: String
        if let t = token.tenant {
            guard let d = try? directory.keysPath(t) else { return nil }
            dir = d
        } else {
            dir = directory.operatorKeysPath
        }
        guard let stamp = SmallFiles.stamp(dir: dir, name: token.id + ".json") else { return nil }
        let key: APIKey
        if let cached = keyCache.get(token.id, stamp) {
            key = cached
        } else {
            guard let loaded = try? loadKey(token.id, tenant: token.tenant) else { return nil }
            keyCache.put(token.id, stamp, loaded)
            key = loaded
        }
        guard key.revokedAt == nil, key.tenant == token.tenant else { return nil }
        let hash = Array(Crypto.hex(Crypto.sha256(Array(token.secret.utf8))).utf8)
        let stored = Array(key.secretHash.utf8)
        guard hash.count == stored.count else { return nil }
        var diff: UInt8 = 0
        for k in 0..<hash.count { diff |= hash[k] ^ stored[k] }  // constant time
        return diff == 0 ? key : nil
    }
}
