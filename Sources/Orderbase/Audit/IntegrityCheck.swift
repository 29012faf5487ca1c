import OrderbaseStore

extension TenantCore {
    // MARK: integrity.check

    /// Checks, at one snapshot, that every record decodes, every secondary
    /// index entry matches a record and every record has its entries, order
    /// numbers resolve, the event log is gap-free up to the counter, and the
    /// audit chain verifies. Like SQLite's `PRAGMA integrity_check`.
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
            try database.scan(from: [Keyspace.order], to: [Keyspace.order + 1], snapshot: snap) { k, v in
                orders += 1
                var r = KeyReader(Array(k))
                let keyID = r.string() ?? "?"
                guard let o = try? Order.decode(Array(v)) else { problem("order \(keyID) does not decode"); return true }
                if o.id != keyID { problem("order stored under \(keyID) has id \(o.id)") }
                expected.formUnion(Keyspace.indexKeys(of: o))
                numbers[o.number] = o.id
                return true
            }
            var seen = 0
            for prefix in [Keyspace.index, Keyspace.updated] {
                try database.scan(from: [prefix], to: [prefix + 1], snapshot: snap) { k, _ in
                    let key = Array(k)
                    if expected.contains(KeyBytes(key)) { seen += 1 } else { problem("stale index entry \(Crypto.hex(key))") }
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
