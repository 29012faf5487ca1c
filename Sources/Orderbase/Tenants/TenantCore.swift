import OrderbaseStore

/// Sequence counters and the audit chain head, persisted in every write batch.
struct Counters: Equatable {
    var eventSeq: UInt64 = 0
    var auditSeq: UInt64 = 0
    var auditHead = AuditChain.genesis
    var nextNumber: Int64 = 1001

    var json: [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.beginObject()
        w.key("event_seq"); w.int(Int64(eventSeq))
        w.key("audit_seq"); w.int(Int64(auditSeq))
        w.key("audit_head"); w.string(auditHead)
        w.key("next_number"); w.int(nextNumber)
        w.endObject()
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> Counters {
        do {
            var f = try Fields(try JSON.parse(bytes))
            var c = Counters()
            c.eventSeq = UInt64(try f.int("event_seq", in: 0...Int64.max, required: true)!)
            c.auditSeq = UInt64(try f.int("audit_seq", in: 0...Int64.max, required: true)!)
            c.auditHead = try f.string("audit_head", required: true)!
            c.nextNumber = try f.int("next_number", in: 0...Int64.max, required: true)!
            try f.finish()
            return c
        } catch {
            throw OrderbaseError(.corruption, "tenant counters do not decode: \(error.message)")
        }
    }
}

/// One field's change: JSON bytes before and after (nil = absent).
struct FieldChange {
    let field: StaticString
    let before: ArraySlice<UInt8>?
    let after: ArraySlice<UInt8>?

    /// Every non-volatile field that differs between two renderings.
    static func diff(_ old: RenderedOrder?, _ new: RenderedOrder) -> [FieldChange] {
        var out: [FieldChange] = []
        for (n, span) in new.spans.enumerated() where !span.volatile {
            let after = new.bytes[span.range]
            let before = old.map { $0.bytes[$0.spans[n].range] }
            // On create, an absent field is not a change.
            if old == nil && after.count == 4 && after.first == UInt8(ascii: "n") { continue }  // `null`
            if before != after { out.append(FieldChange(field: span.field, before: before, after: after)) }
        }
        return out
    }

    static func write(_ changes: [FieldChange], _ w: inout JSONWriter) {
        w.beginArray()
        for c in changes {
            w.beginObject()
            w.key("field"); w.literal(c.field)
            w.key("before"); if let b = c.before { w.raw(b) } else { w.null() }
            w.key("after"); if let a = c.after { w.raw(a) } else { w.null() }
            w.endObject()
        }
        w.endArray()
    }
}

/// The state of one command being computed under the tenant write lock.
struct WriteContext {
    let core: TenantCore
    let now: Int64
    let request: RequestContext
    var mutation = Mutation()
    var counters: Counters
    /// Run once the mutation is staged, still under the write lock: in-memory
    /// state that must change with the batch (the workflow heads), and only if it does.
    var onStaged: [() -> Void] = []

    /// Newest value including writes staged by earlier commands.
    func read(_ key: [UInt8]) throws(OrderbaseError) -> [UInt8]? {
        try store { () throws(StoreError) in try core.committer.read(key) }
    }

    /// A key the write path may read back (order records, idempotency keys).
    mutating func put(_ key: [UInt8], _ value: [UInt8]) { mutation.put(key, value) }
    /// A key no command reads while writing (indexes, numbers, events, audit, counters).
    mutating func putUnread(_ key: [UInt8], _ value: [UInt8]) { mutation.put(key, value, readable: false) }
    mutating func deleteUnread(_ key: [UInt8]) { mutation.delete(key, readable: false) }

    /// Appends an event about the tenant rather than one order (a webhook
    /// endpoint disabled): `order_id` and `order` are null, `data` says what.
    mutating func recordTenantEvent(type: String, data: [UInt8], reason: String?) {
        counters.eventSeq += 1
        let seq = counters.eventSeq
        var e = JSONWriter(capacity: data.count + 256)
        e.beginObject()
        e.key("sequence"); e.int(Int64(seq))
        e.key("id"); e.string(core.ids.make("evt_", at: now))
        e.key("type"); e.string(type)
        e.key("at"); e.timestamp(now)
        e.key("order_id"); e.null()
        e.key("actor"); request.actor.write(&e)
        e.key("cause"); e.beginObject()
        e.key("request_id"); e.optionalString(request.requestID)
        e.endObject()
        e.key("reason"); e.optionalString(reason)
        e.key("order"); e.null()
        e.key("data"); e.raw(data)
        e.endObject()
        mutation.put(Keyspace.eventKey(seq), e.bytes, readable: false)
    }

    /// Appends the event and the audit entry for one change of one order.
    mutating func record(type: String, orderID: String, changes: [FieldChange], reason: String?, order: RenderedOrder) {
        counters.eventSeq += 1
        let seq = counters.eventSeq

        var e = JSONWriter(capacity: order.bytes.count + 512)
        e.beginObject()
        e.key("sequence"); e.int(Int64(seq))
        e.key("id"); e.string(core.ids.make("evt_", at: now))
        e.key("type"); e.string(type)
        e.key("at"); e.timestamp(now)
        e.key("order_id"); e.string(orderID)
        e.key("actor"); request.actor.write(&e)
        e.key("cause"); e.beginObject()
        e.key("request_id"); e.optionalString(request.requestID)
        e.endObject()
        e.key("reason"); e.optionalString(reason)
        // On creation every field changed from nothing: `order` is the whole
        // after-state, so the event does not repeat it as `changes`.
        if type != "order.created" { e.key("changes"); FieldChange.write(changes, &e) }
        e.key("order"); e.raw(order.bytes)
        e.endObject()
        mutation.put(Keyspace.eventKey(seq), e.bytes, readable: false)

        counters.auditSeq += 1
        let aseq = counters.auditSeq
        var a = JSONWriter(capacity: 512)
        a.beginObject()
        a.key("seq"); a.int(Int64(aseq))
        a.key("at"); a.timestamp(now)
        a.key("order_id"); a.string(orderID)
        a.key("actor"); request.actor.write(&a)
        a.key("action"); a.string(type)
        a.key("changes"); FieldChange.write(changes, &a)
        a.key("reason"); a.optionalString(reason)
        a.key("request_id"); a.optionalString(request.requestID)
        a.key("event_sequence"); a.int(Int64(seq))
        a.key("prev_hash"); a.string(counters.auditHead)
        a.endObject()
        let hash = Crypto.sha256(a.bytes)
        counters.auditHead = Crypto.hex(hash)
        mutation.put(Keyspace.auditKey(aseq), hash + a.bytes, readable: false)
        mutation.put(Keyspace.orderAuditKey(orderID, aseq), [], readable: false)
    }
}

/// One open tenant database and its in-memory write state, shared by every
/// handle to the tenant in this process (see `TenantRegistry`).
public final class TenantCore: @unchecked Sendable {
    public let id: String
    let database: Database
    let committer: Committer
    let clock: any EngineClock
    let ids = IDGenerator()
    let limits: OrderLimits
    /// Workflow heads and compiled versions (Workflow/WorkflowRegistry.swift).
    let workflows = WorkflowRegistry()
    /// How webhooks leave (set by the engine that opened the tenant; Webhooks/).
    private let outboundConfigLock = Mutex()
    private var _outboundConfig = OutboundConfig()
    var outboundConfig: OutboundConfig {
        get { outboundConfigLock.withLock { _outboundConfig } }
        set { outboundConfigLock.withLock { _outboundConfig = newValue } }
    }
    /// One webhook pass and one notification pass at a time per tenant (engines sharing it take turns).
    let webhookPass = Mutex()
    let notificationPass = Mutex()
    /// Whether the tenant has webhook endpoints or notification templates
    /// (nil: not looked yet), so the delivery thread's wake-up after each
    /// commit costs nothing without them. `outboundEpoch` counts durable
    /// creations and deletions of either: a pass that found none records
    /// "none" only if none came meanwhile (its scan may have run before
    /// that one was in the database).
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
    public let settings: TenantSettings
    private let writeLock = Mutex()
    private var counters: Counters  // guarded by writeLock

    static let schemaVersion: [UInt8] = Array("1".utf8)

    init(id: String, dbPath: String, sync: Bool, dbOptions: DatabaseOptions, clock: any EngineClock,
         limits: OrderLimits) throws(OrderbaseError) {
        self.id = id
        self.clock = clock
        self.limits = limits
        let db = try store { () throws(StoreError) in try Database(path: dbPath, options: dbOptions, createIfMissing: false) }
        guard let schema = try store({ () throws(StoreError) in try db.get(Keyspace.metaKey(Keyspace.metaSchema)) }) else {
            throw OrderbaseError(.corruption, "tenant \(id) database has no schema marker (not created by Orderbase?)")
        }
        guard schema == Self.schemaVersion else {
            throw OrderbaseError(.corruption, "tenant \(id) has unsupported schema version \(String(decoding: schema, as: UTF8.self))")
        }
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
            b.put(Keyspace.metaKey(Keyspace.metaSchema), schemaVersion)
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
        writeLock.unlock()
        try store { () throws(StoreError) in try committer.waitDurable(ticket) }
        CommitSignal.bump()
        return result
    }

    /// `Database.scan` with its errors as `OrderbaseError`s.
    /// How many keys have this one-byte prefix, counting no further than `limit`.
    func count(_ prefix: UInt8, upTo limit: Int) throws(OrderbaseError) -> Int {
        var n = 0
        try scan(from: [prefix], to: [prefix + 1]) { _, _ in n += 1; return n < limit }
        return n
    }

    func scan(from start: [UInt8], to end: [UInt8]?, reverse: Bool = false, snapshot: Snapshot? = nil,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(OrderbaseError) -> Bool) throws(OrderbaseError) {
        do {
            try database.scan(from: start, to: end, reverse: reverse, snapshot: snapshot) { k, v in try body(k, v) }
        } catch let e as OrderbaseError {
            throw e
        } catch let e as StoreError {
            throw OrderbaseError(e)
        } catch {
            throw OrderbaseError(.internal, "\(error)")
        }
    }

    /// Durable counters (for audit verification and tests).
    var currentCounters: Counters { writeLock.withLock { counters } }
}
