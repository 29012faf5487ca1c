import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// Engine options (`orderbase_engine_open`'s options JSON). Every limit is a
/// named option with a documented default (include/orderbase.h, orderbase_engine_open).
public struct EngineOptions: Sendable {
    public enum Durability: String, Sendable { case sync, relaxed }
    public var durability = Durability.sync
    public var maxOpenTenants = 64
    public var background = true
    /// Webhooks: http URLs allowed (tests, private networks); addresses allowed
    /// beyond the public internet; timeouts (docs/webhooks.md).
    public var webhookAllowHTTP = false
    public var webhookAllowedAddresses: [CIDR] = []
    public var webhookConnectTimeoutMilliseconds: Int64 = 5000
    public var webhookTimeoutMilliseconds: Int64 = 15_000
    /// A PEM file of the certificate authorities outbound TLS trusts (webhooks,
    /// SMS gateways, SMTP) instead of the system's: a private CA.
    public var tlsCAFile: String?
    public var maxRequestBytes = 1 << 20
    public var blockCacheBytes = 32 << 20
    public var limits = OrderLimits()
    /// What one expression or template evaluation may spend.
    public var budgets = Budgets()
    /// Attachments: the largest file, the quota per tenant, the content types taken (docs/attachments.md).
    public var files = FileLimits()

    public init() {}

    public static func parse(_ json: JSON?) throws(OrderbaseError) -> EngineOptions {
        var o = EngineOptions()
        guard let json, json != .null else { return o }
        var f = try Fields(json, path: "options")
        if let d = try f.oneOf("durability", ["sync", "relaxed"]) { o.durability = Durability(rawValue: d)! }
        o.maxOpenTenants = Int(try f.int("max_open_tenants", in: 1...4096) ?? 64)
        o.background = try f.bool("background") ?? true
        o.maxRequestBytes = Int(try f.int("max_request_bytes", in: 1024...(64 << 20)) ?? (1 << 20))
        o.limits.maxLineItems = Int(try f.int("max_line_items", in: 1...10_000) ?? 500)
        o.limits.maxMetadataBytes = Int(try f.int("max_metadata_bytes", in: 2...(1 << 20)) ?? 16_384)
        o.budgets = try Budgets.read(&f)
        o.files = try FileLimits.read(&f)
        o.blockCacheBytes = Int(try f.int("block_cache_bytes", in: (1 << 20)...(4 << 30)) ?? (32 << 20))
        o.webhookAllowHTTP = try f.bool("webhook_allow_http") ?? false
        if let list = try f.array("webhook_allowed_addresses", maxCount: 100) {
            for (n, v) in list.enumerated() {
                guard case .string(let s) = v, let c = CIDR(s) else {
                    throw OrderbaseError.invalid("options.webhook_allowed_addresses[\(n)] must be an IP address or a CIDR block like 10.0.0.0/8",
                                                 field: "options.webhook_allowed_addresses[\(n)]")
                }
                o.webhookAllowedAddresses.append(c)
            }
        }
        o.webhookConnectTimeoutMilliseconds = try f.int("webhook_connect_timeout_ms", in: 100...120_000) ?? 5000
        o.webhookTimeoutMilliseconds = try f.int("webhook_timeout_ms", in: 100...600_000) ?? 15_000
        if let ca = try f.string("tls_ca_file", maxLength: 4096, allowEmpty: false) {
            guard access(ca, R_OK) == 0 else {
                throw OrderbaseError.invalid("options.tls_ca_file: \(ca) is not a readable file", field: "options.tls_ca_file")
            }
            o.tlsCAFile = ca
        }
        try f.finish()
        return o
    }
}

/// The process-wide registry of open tenant databases, keyed by the tenant
/// directory's device and inode: LevelDB's in-process lock is keyed by path
/// string, so `root//t`, `root/./t` or a second engine on the same root must
/// share one handle rather than open the database twice (DESIGN §4).
final class TenantRegistry: @unchecked Sendable {
    static let shared = TenantRegistry()
    private let lock = Mutex()
    private var open: [FileID: (core: TenantCore, refs: Int)] = [:]

    func acquire(_ key: FileID, _ make: () throws(OrderbaseError) -> TenantCore) throws(OrderbaseError) -> TenantCore {
        try lock.withLock { () throws(OrderbaseError) -> TenantCore in
            if let e = open[key] {
                open[key] = (e.core, e.refs + 1)
                return e.core
            }
            let core = try make()
            open[key] = (core, 1)
            return core
        }
    }

    /// Drops one reference; the database closes with the last one.
    func release(_ key: FileID) {
        let last: TenantCore? = lock.withLock {
            guard let e = open[key] else { return nil }
            if e.refs <= 1 {
                open[key] = nil
                return e.core
            }
            open[key] = (e.core, e.refs - 1)
            return nil
        }
        _ = last  // released outside the lock: closing LevelDB can take a moment
    }

    func references(_ key: FileID) -> Int { lock.withLock { open[key]?.refs ?? 0 } }
}

/// An engine on one root directory. Thread-safe.
///
/// ```swift
/// let engine = try Engine(root: "/var/lib/shop")
/// try engine.createTenant("acme", settings: nil)
/// let acme = try engine.openTenant("acme")
/// let order = try acme.core.createOrder(try JSON.parse(#"{"line_items":[...]}"#))
/// ```
public final class Engine: @unchecked Sendable {
    public let options: EngineOptions
    public let directory: TenantDirectory
    let clock: any EngineClock
    /// Ids of API keys (`key_…`).
    let keyIDs = IDGenerator()
    /// API key records the REST server has read (`authenticate`).
    let keyCache = KeyCache()
    private let lock = Mutex()
    /// Idle-tenant LRU: tenant id -> (registry key, core, last use tick).
    private var cache: [String: (key: FileID, core: TenantCore, tick: UInt64)] = [:]
    private var tick: UInt64 = 0
    private var handles: [ObjectIdentifier: Tenant] = [:]
    private var closed = false
    /// Host subscriptions and the thread that delivers to them (Delivery/).
    let delivery: DeliveryLoop

    /// Sends webhooks and SMS (OrderbaseDelivery's libcurl transport in the
    /// library and the command; a test's recorder in tests). Without one, deliveries wait.
    let transport: (any HTTPTransport)?
    /// Sends email notifications (libcurl SMTP, or a recorder). Without one, emails wait.
    let mail: (any MailTransport)?
    /// The host's callback for notifications of callback channels (nil: they wait).
    private var notificationHandler: NotificationHandler?  // guarded by lock
    /// The host's payment handler (nil: `payments.capture`, `refund` and `void` are refused).
    private var paymentHandler: PaymentHandler?  // guarded by lock

    public init(root: String, options: EngineOptions = EngineOptions(), clock: any EngineClock = SystemClock(),
                transport: (any HTTPTransport)? = nil, mail: (any MailTransport)? = nil) throws(OrderbaseError) {
        self.options = options
        self.clock = clock
        self.transport = transport
        self.mail = mail
        directory = try store { () throws(StoreError) in try TenantDirectory(root: root) }
        delivery = DeliveryLoop(clock: clock)
        delivery.outbound = { [weak self] () throws(OrderbaseError) -> Int in try self?.deliverOutbound() ?? 0 }
        delivery.outboundWanted = { [weak self] in self?.openCores.contains { $0.hasOutbound != false } ?? false }
        if options.background { delivery.start() }
    }

    var dbOptions: DatabaseOptions {
        var d = DatabaseOptions()
        d.blockCacheBytes = options.blockCacheBytes
        return d
    }

    private func checkOpen() throws(OrderbaseError) {
        if closed { throw OrderbaseError(.misuse, "engine is closed") }
    }

    private func validID(_ id: String, field: String = "id") throws(OrderbaseError) {
        guard TenantDirectory.isValidTenantID(id) else {
            throw OrderbaseError.invalid("tenant id must match ^[a-z0-9][a-z0-9_-]{0,62}$", field: field)
        }
    }

    // MARK: tenants

    @discardableResult
    public func createTenant(_ id: String, settings json: JSON?) throws(OrderbaseError) -> TenantSettings {
        try lock.withLock { () throws(OrderbaseError) in try checkOpen() }
        try validID(id)
        var settings = try TenantSettings.read(json)
        settings.createdAt = clock.nowMilliseconds()
        // Built aside and published with one rename: a crash mid-creation
        // leaves no half-made tenant (docs/decisions.md §5).
        let staged: TenantDirectory.StagedTenant
        do {
            staged = try directory.stageTenant(id)
        } catch {
            if error.kind == .busy { throw OrderbaseError(.alreadyExists, "tenant \(id) already exists", field: "id") }
            throw OrderbaseError(error)
        }
        do {
            try TenantCore.initialize(dbPath: staged.dbPath, settings: settings, dbOptions: dbOptions)
            try store { () throws(StoreError) in try directory.publish(staged) }
        } catch {
            directory.discard(staged)
            if error.code == .busy { throw OrderbaseError(.alreadyExists, "tenant \(id) already exists", field: "id") }
            throw error
        }
        return settings
    }

    /// The shared core of a tenant, from the LRU or opened now. With
    /// `forHandle`, also takes the registry reference a handle holds, under the
    /// same lock as the lookup, so no eviction can slip in between.
    func core(_ id: String, forHandle: Bool = false) throws(OrderbaseError) -> (FileID, TenantCore) {
        try validID(id)
        return try lock.withLock { () throws(OrderbaseError) -> (FileID, TenantCore) in
            try checkOpen()
            tick += 1
            if let e = cache[id] {
                cache[id] = (e.key, e.core, tick)
                if forHandle { _ = try TenantRegistry.shared.acquire(e.key) { () throws(OrderbaseError) in e.core } }
                return (e.key, e.core)
            }
            guard let key = try store({ () throws(StoreError) in try directory.identity(ofTenant: id) }) else {
                throw OrderbaseError(.notFound, "no tenant \(id)", field: "id")
            }
            let path = try store { () throws(StoreError) in try directory.dbPath(id) }
            let core = try TenantRegistry.shared.acquire(key) { () throws(OrderbaseError) in
                try TenantCore(id: id, dbPath: path, sync: options.durability == .sync, dbOptions: dbOptions,
                               clock: clock, limits: options.limits, budgets: options.budgets,
                               filesPath: try store { () throws(StoreError) in try directory.filesPath(id) }, fileLimits: options.files)
            }
            cache[id] = (key, core, tick)
            core.outboundConfig = outboundConfigLocked
            if forHandle { _ = try TenantRegistry.shared.acquire(key) { () throws(OrderbaseError) in core } }
            evictLocked()
            CommitSignal.interrupt()  // an idle delivery thread looks at the newly open tenant
            return (key, core)
        }
    }

    private func evictLocked() {
        while cache.count > options.maxOpenTenants, let victim = cache.min(by: { $0.value.tick < $1.value.tick }) {
            cache[victim.key] = nil
            TenantRegistry.shared.release(victim.value.key)
        }
    }

    /// Opens a handle on a tenant; close it with `Tenant.close()`.
    public func openTenant(_ id: String) throws(OrderbaseError) -> Tenant {
        // The handle holds its own registry reference, so LRU eviction never
        // closes a database under an open handle.
        let (key, core) = try core(id, forHandle: true)
        let t = Tenant(engine: self, key: key, core: core)
        let stillOpen = lock.withLock { () -> Bool in
            if closed { return false }
            handles[ObjectIdentifier(t)] = t
            return true
        }
        if !stillOpen {
            TenantRegistry.shared.release(key)
            throw OrderbaseError(.misuse, "engine is closed")
        }
        return t
    }

    func forget(_ t: Tenant) { lock.withLock { handles[ObjectIdentifier(t)] = nil } }

    public func listTenants(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        let after = try f.string("starting_after", maxLength: 64)
        try f.finish()
        try lock.withLock { () throws(OrderbaseError) in try checkOpen() }
        var ids = try store { () throws(StoreError) in try directory.listTenants() }
        if let after { ids = ids.filter { $0 > after } }
        let hasMore = ids.count > limit
        var w = JSONWriter()
        w.beginObject()
        w.key("data"); w.beginArray()
        for id in ids.prefix(limit) {
            w.beginObject(); w.key("id"); w.string(id); w.endObject()
        }
        w.endArray()
        w.key("has_more"); w.bool(hasMore)
        w.endObject()
        return w.bytes
    }

    public func getTenant(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        let (_, core) = try core(id)
        return Self.tenantJSON(id, core.settings)
    }

    public func createTenant(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let settings = f.raw("settings")
        try f.finish()
        return Self.tenantJSON(id, try createTenant(id, settings: settings))
    }

    static func tenantJSON(_ id: String, _ s: TenantSettings) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("settings"); s.write(&w)
        w.endObject()
        return w.bytes
    }

    /// Deletes a tenant and all its data. Refused with `busy` while a handle is
    /// open on it in this process, or another process holds its database.
    public func deleteTenant(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        try validID(id)
        try lock.withLock { () throws(OrderbaseError) in
            try checkOpen()
            guard let key = try store({ () throws(StoreError) in try directory.identity(ofTenant: id) }) else {
                throw OrderbaseError(.notFound, "no tenant \(id)", field: "id")
            }
            let ours = cache[id] != nil ? 1 : 0
            if TenantRegistry.shared.references(key) > ours {
                throw OrderbaseError(.busy, "tenant \(id) is open; close its handles first")
            }
            if let e = cache.removeValue(forKey: id) { TenantRegistry.shared.release(e.key) }
            // Prove no other process holds it: opening takes LevelDB's LOCK. A pass of the
            // delivery thread that began before the last handle closed may still hold the
            // database for a moment: a busy LOCK is tried again for up to a second.
            let path = try store { () throws(StoreError) in try directory.dbPath(id) }
            var tries = 0
            while true {
                do throws(OrderbaseError) {
                    _ = try store { () throws(StoreError) in try Database(path: path, options: dbOptions, createIfMissing: false) }
                    break
                } catch where error.code == .busy && tries < 50 {
                    tries += 1
                    usleep(20_000)
                }
            }
            try store { () throws(StoreError) in try directory.removeTenant(id) }
        }
        return Array("{\"id\":\"\(id)\",\"deleted\":true}".utf8)
    }

    /// An engine dropped without `close()` still stops its delivery thread.
    deinit {
        for s in delivery.stop() { unsubscribe(s) }
    }

    /// Stops delivery (after the callback running now, if any; subscriptions
    /// are released), then closes every handle and database this engine opened.
    /// Idempotent.
    public func close() {
        if lock.withLock({ closed }) { return }
        for s in delivery.stop() { unsubscribe(s) }
        // The host's callback (and its user data) goes now, not when a tenant another engine shares lets go.
        if lock.withLock({ notificationHandler != nil }) { setNotificationHandler(nil) }
        if lock.withLock({ paymentHandler != nil }) { setPaymentHandler(nil) }
        let (open, cached) = lock.withLock { () -> ([Tenant], [(key: FileID, core: TenantCore, tick: UInt64)]) in
            if closed { return ([], []) }
            closed = true
            let h = Array(handles.values)
            handles.removeAll()
            let c = Array(cache.values)
            cache.removeAll()
            return (h, c)
        }
        for t in open { t.close() }
        for e in cached { TenantRegistry.shared.release(e.key) }
    }

    public var isClosed: Bool { lock.withLock { closed } }

    var outboundConfig: OutboundConfig { lock.withLock { outboundConfigLocked } }

    private var outboundConfigLocked: OutboundConfig {
        OutboundConfig(transport: transport, mail: mail, notificationHandler: notificationHandler, paymentHandler: paymentHandler, allowHTTP: options.webhookAllowHTTP,
                       policy: AddressPolicy(allowed: options.webhookAllowedAddresses),
                       connectTimeoutMilliseconds: options.webhookConnectTimeoutMilliseconds,
                       timeoutMilliseconds: options.webhookTimeoutMilliseconds, caFile: options.tlsCAFile)
    }

    /// Registers (or, with nil, removes) the callback that sends the
    /// notifications of `callback` channels, for every tenant this engine
    /// opens. It runs on the delivery thread (or in `pump`).
    public func setNotificationHandler(_ handler: NotificationHandler?) {
        let cores = lock.withLock { () -> [TenantCore] in
            notificationHandler = handler
            return cache.values.map(\.core)
        }
        let config = outboundConfig
        for core in cores { core.outboundConfig = config }
        CommitSignal.interrupt()
    }

    /// Registers (or, with nil, removes) the payment handler of every tenant
    /// this engine opens: `payments.capture`, `refund` and `void` call it on
    /// the caller's thread, outside the tenant's lock (docs/payments.md).
    public func setPaymentHandler(_ handler: PaymentHandler?) {
        let cores = lock.withLock { () -> [TenantCore] in
            paymentHandler = handler
            return cache.values.map(\.core)
        }
        let config = outboundConfig
        for core in cores { core.outboundConfig = config }
    }

    /// One pass of every registered event consumer and the due timers of
    /// every tenant this engine holds open; returns the work done.
    func deliverOutbound() throws(OrderbaseError) -> Int {
        var sent = 0
        var firstError: OrderbaseError?
        for core in openCores {
            do { sent += try core.runConsumers() } catch { firstError = firstError ?? error }
            do { sent += try core.runDueTimers() } catch { firstError = firstError ?? error }
        }
        if sent == 0, let firstError { throw firstError }
        return sent
    }

    /// Each registered consumer's lag (events behind) in every tenant this
    /// engine holds open, for `/metrics`. A tenant whose database fails is left out.
    public func consumerLags() -> [(tenant: String, consumer: String, lag: UInt64)] {
        var out: [(tenant: String, consumer: String, lag: UInt64)] = []
        for core in openCores {
            guard let (positions, _) = try? core.consumerPositions() else { continue }
            for p in positions where p.kind == "engine" { out.append((core.id, p.name, p.lag)) }
        }
        return out.sorted { ($0.tenant, $0.consumer) < ($1.tenant, $1.consumer) }
    }

    /// Tenant cores this engine holds open (delivery works on these).
    var openCores: [TenantCore] { lock.withLock { cache.values.map(\.core) } }

    /// Tenant databases this engine holds open (its LRU).
    public var openTenantCount: Int { lock.withLock { cache.count } }
}

/// A handle on one tenant. Thread-safe; `close()` is idempotent and a closed
/// handle answers `misuse`.
public final class Tenant: @unchecked Sendable {
    public let engine: Engine
    let key: FileID
    private let lock = Mutex()
    private var _core: TenantCore?

    init(engine: Engine, key: FileID, core: TenantCore) {
        self.engine = engine
        self.key = key
        self._core = core
    }

    public var id: String? { lock.withLock { _core?.id } }

    /// The tenant's domain core, or `misuse` once closed.
    public func core() throws(OrderbaseError) -> TenantCore {
        guard let c = lock.withLock({ _core }) else { throw OrderbaseError(.misuse, "tenant handle is closed") }
        return c
    }

    public func close() {
        let had = lock.withLock { () -> Bool in
            let had = _core != nil
            _core = nil
            return had
        }
        if had {
            TenantRegistry.shared.release(key)
            engine.forget(self)
        }
    }
}

/// The library's version (the header's ORDERBASE_VERSION_STRING).
public enum OrderbaseVersion {
    public static let string = "0.1.0"
}
