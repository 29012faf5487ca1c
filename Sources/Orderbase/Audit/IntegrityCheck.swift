import OrderbaseStore

extension AuditService {
    // MARK: integrity.check

    /// Checks, at one snapshot, that every record of every indexed kind
    /// decodes, every secondary index entry matches a record and every record
    /// has its entries, order numbers resolve, the event log is gap-free up to
    /// the counter, and the audit chain verifies. Like SQLite's `PRAGMA integrity_check`.
    public func checkIntegrity(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let maxProblems = Int(try f.int("max_problems", in: 1...1000) ?? 100)
        try f.finish()
        let snap = database.snapshot()
        var problems: [String] = []
        func problem(_ p: String) { if problems.count < maxProblems { problems.append(p) } }
        var expected: Set<KeyBytes> = []
        var numbers: [String: String] = [:]
        var orders = 0
        var counters = Counters()
        do {
            guard let c = try database.get(Keyspace.metaKey(Keyspace.metaCounters), snapshot: snap) else {
                throw OrderbaseError(.corruption, "tenant counters are missing")
            }
            counters = try Counters.decode(c)
            var kindNames: [UInt8: String] = [:]
            for ik in IndexedKind.all {
                try database.scan(from: [ik.recordPrefix], to: [ik.recordPrefix + 1], snapshot: snap) { k, v in
                    var r = KeyReader(Array(k))
                    let keyID = r.string() ?? "?"
                    if ik.kind == .order { orders += 1 }
                    guard let e = try? ik.entries(Array(v)) else { problem("\(ik.kind) \(keyID) does not decode"); return true }
                    if e.id != keyID { problem("\(ik.kind) stored under \(keyID) has id \(e.id)") }
                    expected.formUnion(e.keys.map(KeyBytes.init))
                    if let n = e.number { numbers[n] = e.id }
                    return true
                }
                for p in ik.ownPrefixes { kindNames[p] = ik.kind.name }
            }
            // Every index entry of every kind: `I kind …` keys and each kind's own prefixes.
            var seen = 0
            for prefix in [Keyspace.index] + IndexedKind.all.flatMap(\.ownPrefixes) {
                try database.scan(from: [prefix], to: [prefix + 1], snapshot: snap) { k, _ in
                    let key = Array(k)
                    if expected.contains(KeyBytes(key)) { seen += 1; return true }
                    var kind = kindNames[prefix]
                    if prefix == Keyspace.index { var r = KeyReader(key); kind = r.string() }
                    problem("stale \(kind ?? "unknown-kind") index entry \(Crypto.hex(key))")
                    return true
                }
            }
            if seen != expected.count { problem("\(expected.count - seen) index entries are missing") }
            var numberEntries = 0
            try database.scan(from: [Keyspace.number], to: [Keyspace.number + 1], snapshot: snap) { k, v in
                numberEntries += 1
                var r = KeyReader(Array(k))
                let n = r.string() ?? "?"
                if numbers[n] != String(decoding: Array(v), as: UTF8.self) { problem("order number \(n) points at the wrong order") }
                return true
            }
            if numberEntries != numbers.count { problem("\(numbers.count) orders but \(numberEntries) number entries") }
            var nextSeq: UInt64 = 1
            try database.scan(from: [Keyspace.event], to: [Keyspace.event + 1], snapshot: snap) { k, _ in
                var r = KeyReader(Array(k))
                let s = r.uint64() ?? 0
                if s != nextSeq { problem("event log jumps from \(nextSeq - 1) to \(s)") }
                nextSeq = s + 1
                return true
            }
            if nextSeq - 1 != counters.eventSeq { problem("event log ends at \(nextSeq - 1) but the counter says \(counters.eventSeq)") }
        } catch let e as OrderbaseError { throw e } catch let e as StoreError { throw OrderbaseError(e) } catch {
            throw OrderbaseError(.internal, "\(error)")
        }
        let audit = try JSON.parse(try verifyAudit(.object([:])))
        if audit["ok"] != .bool(true) {
            problem("audit chain broken at \(audit["broken_at"]?.intValue ?? 0): \(audit["reason"]?.stringValue ?? "")")
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("ok"); w.bool(problems.isEmpty)
        w.key("orders"); w.int(Int64(orders))
        w.key("events"); w.int(Int64(counters.eventSeq))
        w.key("audit_entries"); w.int(Int64(counters.auditSeq))
        w.key("problems"); w.beginArray(); for p in problems { w.string(p) }; w.endArray()
        w.endObject()
        return w.bytes
    }
}

/// A record kind with secondary index entries, as `integrity.check` sees it:
/// where its records live, the prefixes only its index entries use (its `I`
/// entries are `I kind …`), and the entries a stored record must have.
struct IndexedKind: Sendable {
    let kind: RecordKind
    let recordPrefix: UInt8
    let ownPrefixes: [UInt8]
    /// The record's id, its index keys and (orders) its number, from its stored bytes.
    let entries: @Sendable ([UInt8]) throws(OrderbaseError) -> (id: String, keys: [[UInt8]], number: String?)

    static let all: [IndexedKind] = [
        IndexedKind(kind: .order, recordPrefix: Keyspace.order, ownPrefixes: [Keyspace.updated]) { (b) throws(OrderbaseError) in
            let o = try Order.decode(b)
            return (o.id, Keyspace.indexKeyList(of: o), o.number)
        },
        IndexedKind(kind: .notification, recordPrefix: Keyspace.notification,
                    ownPrefixes: [Keyspace.notificationDue, Keyspace.notificationOrder]) { (b) throws(OrderbaseError) in
            let n = try NotificationRecord.decode(b)
            return (n.id, n.indexKeys, nil)
        },
        IndexedKind(kind: .webhookDelivery, recordPrefix: Keyspace.webhookDelivery,
                    ownPrefixes: [Keyspace.webhookDue, Keyspace.webhookQueue]) { (b) throws(OrderbaseError) in
            let d = try WebhookDelivery.decode(b)
            return (d.id, d.indexKeys, nil)
        },
    ]
}
