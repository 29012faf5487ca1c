import OrderbaseStore

/// Brings a tenant database written by an earlier release to the current
/// schema when it is opened (docs/keyspace.md, "Schema versions").
///
/// Each step rewrites keys in synced batches of at most `chunk` keys and is
/// idempotent: a key already in the new form is recognised and left alone.
/// A crash between batches leaves some keys in each form; the next open
/// finishes the job. The schema marker moves only after the last batch, so a
/// release that does not know the new form never opens a half-migrated tenant
/// as its own.
enum Migration {
    /// The schema this release writes: 2 since index keys and the subject
    /// audit index carry the record kind (release 0.2.0); 3 since orders have a
    /// `priority` index entry and webhook deliveries an `endpoint_id` one (release 0.3.0);
    /// 4 since webhook deliveries have `order_id` (the order's timeline) and `status` (`deliveries.list`) ones;
    /// 5 since every order has its sale in the sales ledger (release 0.4.0).
    static let current: UInt64 = 5

    static func schemaBytes(_ v: UInt64) -> [UInt8] { Array(String(v).utf8) }

    /// The tenant's schema version, migrated to `current` if it is older.
    /// A newer or unknown marker is `corruption`: this release cannot read it.
    static func openSchema(_ db: Database, tenant: String, chunk: Int = 10_000) throws(OrderbaseError) {
        guard let marker = try store({ () throws(StoreError) in try db.get(Keyspace.metaKey(Keyspace.metaSchema)) }) else {
            throw OrderbaseError(.corruption, "tenant \(tenant) database has no schema marker (not created by Orderbase?)",
                                 details: .object(["reason": .string("not_a_tenant")]))
        }
        let text = String(decoding: marker, as: UTF8.self)
        guard let version = UInt64(text), version >= 1, version <= current else {
            throw OrderbaseError(.corruption, "tenant \(tenant) has unsupported schema version \(text); this release reads 1 to \(current)",
                                 details: .object(["reason": .string("unsupported_schema"), "schema_version": .string(text)]))
        }
        if version == 1 {
            try kindInIndexKeys(db, chunk: chunk)
            try setSchema(db, 2)
        }
        if version <= 2 {
            try rebuildIndexes(db, chunk: chunk)
            try setSchema(db, 3)
        } else if version == 3 {
            // (From 2, the rebuild above already wrote the deliveries' new entries.)
            try rebuildIndexes(db, chunk: chunk, prefixes: [Keyspace.webhookDelivery])
        }
        if version <= 3 { try setSchema(db, 4) }
        if version <= 4 {
            try backfillSales(db, chunk: chunk)
            try setSchema(db, 5)
        }
    }

    /// 4 → 5: every order's sale line in the sales ledger (`SalesLine.sale`, dated at its `placed_at`), with
    /// its index entry. A line's id follows from its order, so writing it again changes nothing: idempotent,
    /// and a crash between batches is finished by the next open. Returns how many orders it read.
    @discardableResult
    static func backfillSales(_ db: Database, chunk: Int, maxBatches: Int = .max) throws(OrderbaseError) -> Int {
        var read = 0, batches = 0
        var from = [Keyspace.order]
        while batches < maxBatches {
            let b = WriteBatch()
            var last: [UInt8]?, n = 0
            try db.scanChecked(from: from, to: [Keyspace.order + 1]) { k, v throws(OrderbaseError) in
                let line = SalesLine.sale(of: try Order.decode(Array(v)))
                b.put(Keyspace.salesLineKey(line.id), line.storedJSON)
                for key in line.indexKeys { b.put(key, []) }
                last = Array(k)
                n += 1
                return n < chunk
            }
            guard let last else { break }
            try store { () throws(StoreError) in try db.write(b, sync: true) }
            read += n
            batches += 1
            from = last + [0]
        }
        return read
    }

    static func setSchema(_ db: Database, _ v: UInt64) throws(OrderbaseError) {
        let b = WriteBatch()
        b.put(Keyspace.metaKey(Keyspace.metaSchema), schemaBytes(v))
        try store { () throws(StoreError) in try db.write(b, sync: true) }
    }

    /// 2 → 3 (and 3 → 4, deliveries only): every order's and every webhook delivery's index entries, written again from
    /// the record as this release reads it (an order stored before `priority` reads as
    /// `normal` and gains its `I "order" "priority" "normal" id` entry; a delivery gains
    /// `I "webhook_delivery" "endpoint_id" endpoint id`). Writing an entry that exists
    /// changes nothing, so the step is idempotent and a crash between batches is finished
    /// by the next open. Returns how many records it read.
    @discardableResult
    static func rebuildIndexes(_ db: Database, chunk: Int, maxBatches: Int = .max,
                               prefixes: Set<UInt8> = [Keyspace.order, Keyspace.webhookDelivery]) throws(OrderbaseError) -> Int {
        var read = 0, batches = 0
        let kinds: [(prefix: UInt8, keys: ([UInt8]) throws(OrderbaseError) -> [[UInt8]])] = [
            (Keyspace.order, { (b) throws(OrderbaseError) in Keyspace.indexKeyList(of: try Order.decode(b)) }),
            (Keyspace.webhookDelivery, { (b) throws(OrderbaseError) in try WebhookDelivery.decode(b).indexKeys }),
        ]
        for kind in kinds where prefixes.contains(kind.prefix) {
            var from = [kind.prefix]
            while batches < maxBatches {
                var keys: [[UInt8]] = []
                var last: [UInt8]?, n = 0
                try db.scanChecked(from: from, to: [kind.prefix + 1]) { k, v throws(OrderbaseError) in
                    keys += try kind.keys(Array(v))
                    last = Array(k)
                    n += 1
                    return n < chunk
                }
                guard let last else { break }
                let b = WriteBatch()
                for key in keys { b.put(key, []) }
                try store { () throws(StoreError) in try db.write(b, sync: true) }
                read += n
                batches += 1
                from = last + [0]
            }
        }
        return read
    }

    /// 1 → 2: `I field value id` becomes `I "order" field value id` and
    /// `a order_id seq` becomes `a "order" order_id seq` (in schema 1 only
    /// orders had either). A key whose first component names a record kind is
    /// already migrated. Returns how many keys it rewrote.
    @discardableResult
    static func kindInIndexKeys(_ db: Database, chunk: Int, maxBatches: Int = .max) throws(OrderbaseError) -> Int {
        var rewritten = 0, batches = 0
        for prefix in [Keyspace.index, Keyspace.subjectAudit] {
            var from = [prefix]
            while batches < maxBatches {
                var old: [[UInt8]] = []
                try db.scanChecked(from: from, to: [prefix + 1]) { k, _ in
                    let key = Array(k)
                    var r = KeyReader(key)
                    if let first = r.string(), RecordKind.named(first) == nil { old.append(key) }
                    return old.count < chunk
                }
                guard let last = old.last else { break }
                let b = WriteBatch()
                for key in old {
                    var k = KeyBuilder(prefix)
                    k.string(RecordKind.order.name)
                    k.raw(Array(key.dropFirst()))
                    b.put(k.bytes, [])
                    b.delete(key)
                }
                try store { () throws(StoreError) in try db.write(b, sync: true) }
                rewritten += old.count
                batches += 1
                from = last + [0]
            }
        }
        return rewritten
    }
}
