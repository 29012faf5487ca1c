import OrderbaseStore

/// One open tenant database and its in-memory write state, shared by every
/// handle to the tenant in this process (see `TenantRegistry`).
public final class TenantCore: @unchecked Sendable {
    public let id: String
    let database: Database
    let committer: Committer
    let clock: any EngineClock
    let ids = IDGenerator()
    let limits: OrderLimits
    /// What one expression or template evaluation may spend (engine options).
    let budgets: Budgets
    /// Workflow heads and compiled versions (Workflow/WorkflowRegistry.swift).
    let workflowRegistry = WorkflowRegistry()
    let customFieldRegistry = CustomFieldRegistry()
    /// The tenant's file store (`files/`) and what it takes (docs/attachments.md).
    let fileStore: FileStore
    let fileLimits: FileLimits
    let slaRegistry = SLARegistry()
    /// The tenant's locations, for routing (Inventory/).
    let inventoryCache = InventoryCache()
    /// How webhooks leave (set by the engine that opened the tenant; Webhooks/).
    private let outboundConfigLock = Mutex()
    private var _outboundConfig = OutboundConfig()
    var outboundConfig: OutboundConfig {
        get { outboundConfigLock.withLock { _outboundConfig } }
        set { outboundConfigLock.withLock { _outboundConfig = newValue } }
    }
    /// One pass per registered event consumer at a time per tenant (engines
    /// sharing it take turns): `passLock(name)`.
    private let passLocks = Dictionary(uniqueKeysWithValues: EventConsumer.registry.map { ($0.name, Mutex()) })
    /// The pass lock of a registered consumer (names come from the registry only).
    func passLock(_ consumer: String) -> Mutex { passLocks[consumer]! }
    /// One send phase per consumer at a time per tenant (`EventConsumer.send`).
    private let sendLocks = Dictionary(uniqueKeysWithValues: EventConsumer.registry.map { ($0.name, Mutex()) })
    func sendLock(_ consumer: String) -> Mutex { sendLocks[consumer]! }
    /// Whether any registered consumer has work here (nil: not looked yet),
    /// so the delivery thread's wake-up after each commit costs nothing
    /// without webhook endpoints or notification templates. `outboundEpoch`
    /// counts durable creations and deletions of either: a pass that found
    /// none records "none" only if none came meanwhile (its scan may have run
    /// before that one was in the database).
    private var _hasOutbound: Bool?  // guarded by outboundConfigLock
    private var outboundEpoch: UInt64 = 0
    var hasOutbound: Bool? { outboundConfigLock.withLock { _hasOutbound } }
    var outboundSeen: (present: Bool?, epoch: UInt64) { outboundConfigLock.withLock { (_hasOutbound, outboundEpoch) } }
    func outboundChanged(present: Bool?) {
        outboundConfigLock.withLock {
            outboundEpoch &+= 1
            _hasOutbound = present
        }
    }
    func noOutbound(asOf epoch: UInt64) {
        outboundConfigLock.withLock { if outboundEpoch == epoch { _hasOutbound = false } }
    }
    /// The earliest due time of the tenant's timers as last seen (nil: not
    /// known; `Int64.max`: none), so a delivery pass over a tenant with
    /// nothing due costs a lock instead of a seek. `timerEpoch` counts timers
    /// staged since: a scan that may have missed one does not record its answer.
    private let timerLock = Mutex()
    private var _nextTimerDue: Int64?  // guarded by timerLock
    private var timerEpoch: UInt64 = 0
    var nextTimerDue: (due: Int64?, epoch: UInt64) { timerLock.withLock { (_nextTimerDue, timerEpoch) } }
    func timerStaged(due: Int64) {
        timerLock.withLock {
            timerEpoch &+= 1
            if let known = _nextTimerDue { _nextTimerDue = min(known, due) }
        }
    }
    func timersSeen(nextDue: Int64?, asOf epoch: UInt64) {
        timerLock.withLock { if timerEpoch == epoch { _nextTimerDue = nextDue } }
    }
    public let settings: TenantSettings
    private let writeLock = Mutex()
    private var counters: Counters  // guarded by writeLock

    init(id: String, dbPath: String, sync: Bool, dbOptions: DatabaseOptions, clock: any EngineClock,
         limits: OrderLimits, budgets: Budgets = Budgets(), filesPath: String? = nil, fileLimits: FileLimits = FileLimits()) throws(OrderbaseError) {
        self.id = id
        // `<tenant>/db` beside `<tenant>/files` (TenantDirectory).
        fileStore = FileStore(dir: filesPath ?? String(dbPath.dropLast(dbPath.hasSuffix("/db") ? 3 : 0)) + "/files")
        self.fileLimits = fileLimits
        self.clock = clock
        self.limits = limits
        self.budgets = budgets
        let db = try store { () throws(StoreError) in try Database(path: dbPath, options: dbOptions, createIfMissing: false) }
        try Migration.openSchema(db, tenant: id)
        guard let s = try store({ () throws(StoreError) in try db.get(Keyspace.metaKey(Keyspace.metaSettings)) }),
              let c = try store({ () throws(StoreError) in try db.get(Keyspace.metaKey(Keyspace.metaCounters)) }) else {
            throw OrderbaseError(.corruption, "tenant \(id) is missing its settings or counters")
        }
        do { settings = try TenantSettings.read(try JSON.parse(s)) } catch {
            throw OrderbaseError(.corruption, "tenant settings do not decode: \(error.message)")
        }
        counters = try Counters.decode(c)
        database = db
        committer = Committer(database: db, sync: sync)
        // What uploads cut short by a crash left (nothing names a .part file).
        fileStore.cleanTemp()
    }

    /// Writes the schema marker, settings and initial counters of a new tenant (synced).
    static func initialize(dbPath: String, settings: TenantSettings, dbOptions: DatabaseOptions) throws(OrderbaseError) {
        try store { () throws(StoreError) in
            let db = try Database(path: dbPath, options: dbOptions, createIfMissing: true)
            let b = WriteBatch()
            var c = Counters()
            c.nextNumber = settings.orderNumberStart
            b.put(Keyspace.metaKey(Keyspace.metaSettings), settings.json)
            b.put(Keyspace.metaKey(Keyspace.metaCounters), c.json)
            b.put(Keyspace.metaKey(Keyspace.metaSchema), Migration.schemaBytes(Migration.current))
            try db.write(b, sync: true)
        }
    }

    /// The write path (DESIGN §3): compute under the tenant write lock, stage one
    /// batch (records, indexes, audit, events, counters), leave the lock, then wait
    /// until the batch is durable. A failure before staging changes nothing.
    func write<T>(_ request: RequestContext, _ body: (inout WriteContext) throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
        writeLock.lock()
        var wc = WriteContext(core: self, now: clock.nowMilliseconds(), request: request, counters: counters)
        let result: T
        do {
            result = try body(&wc)
        } catch {
            writeLock.unlock()
            throw error
        }
        if wc.mutation.isEmpty {
            writeLock.unlock()
            return result
        }
        // Counters live in memory under the lock; the write path never reads them back.
        wc.mutation.put(Keyspace.metaKey(Keyspace.metaCounters), wc.counters.json, readable: false)
        let ticket: UInt64
        do {
            ticket = try committer.stage(wc.mutation)
        } catch {
            writeLock.unlock()
            throw OrderbaseError(error)
        }
        counters = wc.counters
        for hook in wc.onStaged { hook() }
        let durable = wc.onDurable
        writeLock.unlock()
        try store { () throws(StoreError) in try committer.waitDurable(ticket) }
        for hook in durable { hook() }
        CommitSignal.bump()
        return result
    }

    /// Runs `body` as a write that is never committed (previews): under the
    /// write lock it reads what the write path would, staged writes included,
    /// and whatever it stages is dropped.
    func dryRun<T>(_ request: RequestContext, _ body: (inout WriteContext) throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
        writeLock.lock()
        defer { writeLock.unlock() }
        var wc = WriteContext(core: self, now: clock.nowMilliseconds(), request: request, counters: counters)
        return try body(&wc)
    }

    /// How many keys have this one-byte prefix, counting no further than `limit`.
    func count(_ prefix: UInt8, upTo limit: Int) throws(OrderbaseError) -> Int {
        var n = 0
        try scan(from: [prefix], to: [prefix + 1]) { _, _ in n += 1; return n < limit }
        return n
    }

    func scan(from start: [UInt8], to end: [UInt8]?, reverse: Bool = false, snapshot: Snapshot? = nil,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(OrderbaseError) -> Bool) throws(OrderbaseError) {
        try database.scanChecked(from: start, to: end, reverse: reverse, snapshot: snapshot, body)
    }

    /// A page of a list method: `{"data": [items], "has_more"}` from rendered items.
    static func listResponse(_ items: [[UInt8]], hasMore: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(items.reduce(32) { $0 + $1.count + 1 })
        out.append(contentsOf: Array("{\"data\":[".utf8))
        for (n, item) in items.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(contentsOf: Array("],\"has_more\":\(hasMore)}".utf8))
        return out
    }

    /// `order.*` matches every type starting with `order.`; `*` matches all.
    static func typeMatches(_ type: String, _ patterns: [String]) -> Bool {
        patterns.contains { p in
            if p == "*" { return true }
            if p.hasSuffix(".*") { return type.hasPrefix(String(p.dropLast())) }
            return p == type
        }
    }

    /// Durable counters (for audit verification and tests).
    var currentCounters: Counters { writeLock.withLock { counters } }
}

extension Database {
    /// `scan` with its errors as `OrderbaseError`s.
    func scanChecked(from start: [UInt8], to end: [UInt8]?, reverse: Bool = false, snapshot: Snapshot? = nil,
                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(OrderbaseError) -> Bool) throws(OrderbaseError) {
        do {
            try scan(from: start, to: end, reverse: reverse, snapshot: snapshot) { k, v in try body(k, v) }
        } catch let e as OrderbaseError {
            throw e
        } catch let e as StoreError {
            throw OrderbaseError(e)
        } catch {
            throw OrderbaseError(.internal, "\(error)")
        }
    }
}
