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
    /// An order's field names are static (no allocation on the write path); other kinds' come from their JSON.
    enum Name {
        case fixed(StaticString)
        case named(String)
    }
    let field: Name
    let before: ArraySlice<UInt8>?
    let after: ArraySlice<UInt8>?

    /// Every non-volatile field that differs between two renderings of an order.
    static func diff(_ old: RenderedOrder?, _ new: RenderedOrder) -> [FieldChange] {
        var out: [FieldChange] = []
        for (n, span) in new.spans.enumerated() where !span.volatile {
            let after = new.bytes[span.range]
            let before = old.map { $0.bytes[$0.spans[n].range] }
            // On create, an absent field is not a change.
            if old == nil && after.count == 4 && after.first == UInt8(ascii: "n") { continue }  // `null`
            if before != after { out.append(FieldChange(field: .fixed(span.field), before: before, after: after)) }
        }
        return out
    }

    static func write(_ changes: [FieldChange], _ w: inout JSONWriter) {
        w.beginArray()
        for c in changes {
            w.beginObject()
            w.key("field")
            switch c.field {
            case .fixed(let s): w.literal(s)
            case .named(let n): w.string(n)
            }
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
    /// Whose command it is (a job's step acts for the job's requester).
    var request: RequestContext
    var mutation = Mutation()
    var counters: Counters
    /// Run once the mutation is staged, still under the write lock: in-memory
    /// state that must change with the batch (the workflow heads), and only if it does.
    var onStaged: [() -> Void] = []
    /// Run once the batch is durable (after the lock is left), in the writer's thread.
    var onDurable: [() -> Void] = []

    /// This command's own readable writes (nil: deleted), which `read` sees first.
    var written: [KeyBytes: [UInt8]?] = [:]

    /// Newest value: this command's own writes, then those staged by earlier
    /// commands, then the database.
    func read(_ key: [UInt8]) throws(OrderbaseError) -> [UInt8]? {
        if !written.isEmpty, let own = written[KeyBytes(key)] { return own }
        return try store { () throws(StoreError) in try core.committer.read(key) }
    }

    /// A key the write path may read back (records, idempotency keys).
    mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        mutation.put(key, value)
        written[KeyBytes(key)] = .some(value)
    }
    /// A key no command reads while writing (indexes, numbers, events, audit, counters).
    mutating func putUnread(_ key: [UInt8], _ value: [UInt8]) { mutation.put(key, value, readable: false) }
    mutating func deleteUnread(_ key: [UInt8]) { mutation.delete(key, readable: false) }
    /// Deletes a key the write path may read back (records, timers).
    mutating func delete(_ key: [UInt8]) {
        mutation.delete(key)
        written[KeyBytes(key)] = .some(nil)
    }

    /// The answer kept under an idempotency key, if the key was used before with
    /// this `fingerprint` (the request's hash); `idempotency_mismatch` if with another.
    func replay(_ key: String, _ fingerprint: [UInt8]) throws(OrderbaseError) -> [UInt8]? {
        guard let stored = try read(Keyspace.idempotencyKey(key)) else { return nil }
        guard stored.count >= 32, Array(stored[0..<32]) == fingerprint else {
            throw OrderbaseError(.idempotencyMismatch, "idempotency_key \(key) was used with a different request", field: "idempotency_key")
        }
        return Array(stored[32...])
    }

    /// Keeps `answer` under an idempotency key, in this batch (`replay` reads it).
    mutating func remember(_ key: String, _ fingerprint: [UInt8], _ answer: [UInt8]) {
        put(Keyspace.idempotencyKey(key), fingerprint + answer)
    }

    /// Moves a record's index entries from `old` to `new`: deletes those that
    /// went, adds those that came, leaves the rest (any kind, orders included).
    mutating func replaceIndexEntries(_ old: [[UInt8]], with new: [[UInt8]]) {
        // A new record's few entries (a ledger line) and an unchanged set need no sets.
        if old.isEmpty && new.count <= 8 {
            for (n, k) in new.enumerated() where !new[..<n].contains(k) { putUnread(k, []) }
            return
        }
        if old == new { return }
        let before = Set(old.map(KeyBytes.init)), after = Set(new.map(KeyBytes.init))
        for k in before.subtracting(after) { deleteUnread(k.bytes) }
        for k in after.subtracting(before) { putUnread(k.bytes, []) }
    }

    /// Records a consumer's acknowledged event sequence (`M cursor:<name>`) in this batch.
    mutating func setCursor(_ name: String, _ sequence: UInt64) {
        putUnread(TenantCore.cursorKey(name), Array(String(sequence).utf8))
    }

    /// Appends the event and the audit entry for one change of one order:
    /// `order_id` and `order` (the after-state) as ever, and `subject`.
    mutating func record(type: String, orderID: String, changes: [FieldChange], reason: String?, order: RenderedOrder) {
        // On creation every field changed from nothing: `order` is the whole
        // after-state, so the event does not repeat it as `changes`.
        let seq = appendEvent(type: type, subject: Subject(kind: .order, id: orderID), reason: reason,
                              changes: type == "order.created" ? nil : changes, order: order.bytes, data: nil)
        appendAudit(action: type, subject: Subject(kind: .order, id: orderID), changes: changes, reason: reason, eventSequence: seq)
    }

    /// Records one change of a record of any other kind (`before` nil: created;
    /// `after` nil: deleted): one event `type` with `subject`, the changed
    /// fields and `data` (the record's API form after the change, before it
    /// when deleted, unless `data` is given), and one audit entry with the
    /// before/after of every changed field, secrets as `"[redacted]"`.
    /// Returns false, recording nothing, when no audited field changed.
    /// `stored`: `after`'s stored form, when the caller has rendered it (`commit`).
    @discardableResult
    mutating func recordChange<R: AuditedRecord>(_ type: String, before: R?, after: R?, stored: [UInt8]? = nil, reason: String? = nil,
                                                 data: [UInt8]? = nil, order: [UInt8]? = nil) -> Bool {
        guard let current = after ?? before else { return false }
        let changes = AuditForm.diff(before.map { AuditForm($0) }, after.map { AuditForm($0, stored: stored) })
        if before != nil && after != nil && changes.isEmpty { return false }
        let subject = Subject(kind: R.kind, id: current.subjectID, orderID: current.belongsToOrder)
        let seq = appendEvent(type: type, subject: subject, reason: reason, changes: changes, order: order, data: data ?? current.apiJSON)
        appendAudit(action: type, subject: subject, changes: changes, reason: reason, eventSequence: seq)
        return true
    }

    /// Appends one event to the tenant's log; returns its sequence.
    @discardableResult
    mutating func appendEvent(type: String, subject: Subject, reason: String?, changes: [FieldChange]?,
                                      order: [UInt8]?, data: [UInt8]?) -> UInt64 {
        counters.eventSeq += 1
        let seq = counters.eventSeq
        var e = JSONWriter(capacity: (order?.count ?? 0) + (data?.count ?? 0) + 512)
        e.beginObject()
        e.key("sequence"); e.int(Int64(seq))
        e.key("id"); e.string(core.ids.make("evt_", at: now))
        e.key("type"); e.string(type)
        e.key("at"); e.timestamp(now)
        e.key("subject"); subject.write(&e)
        e.key("order_id"); e.optionalString(subject.eventOrderID)
        e.key("actor"); request.actor.write(&e)
        e.key("cause"); e.beginObject()
        e.key("request_id"); e.optionalString(request.requestID)
        e.endObject()
        e.key("reason"); e.optionalString(reason)
        if let changes { e.key("changes"); FieldChange.write(changes, &e) }
        e.key("order"); if let order { e.raw(order) } else { e.null() }
        if let data { e.key("data"); e.raw(data) }
        e.endObject()
        mutation.put(Keyspace.eventKey(seq), e.bytes, readable: false)
        return seq
    }

    /// Appends one entry to the audit chain and to its subject's audit index.
    private mutating func appendAudit(action: String, subject: Subject, changes: [FieldChange], reason: String?, eventSequence: UInt64) {
        counters.auditSeq += 1
        let aseq = counters.auditSeq
        var a = JSONWriter(capacity: 512)
        a.beginObject()
        a.key("seq"); a.int(Int64(aseq))
        a.key("at"); a.timestamp(now)
        a.key("subject"); subject.write(&a)
        a.key("order_id"); a.optionalString(subject.eventOrderID)
        a.key("actor"); request.actor.write(&a)
        a.key("action"); a.string(action)
        a.key("changes"); FieldChange.write(changes, &a)
        a.key("reason"); a.optionalString(reason)
        a.key("request_id"); a.optionalString(request.requestID)
        a.key("event_sequence"); a.int(Int64(eventSequence))
        a.key("prev_hash"); a.string(counters.auditHead)
        a.endObject()
        let hash = Crypto.sha256(a.bytes)
        counters.auditHead = Crypto.hex(hash)
        mutation.put(Keyspace.auditKey(aseq), hash + a.bytes, readable: false)
        mutation.put(Keyspace.subjectAuditKey(subject, aseq), [], readable: false)
    }
}
