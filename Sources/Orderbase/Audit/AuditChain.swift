import OrderbaseStore

/// The tenant's audit entries form a hash chain: each stored entry is
/// `sha256(entry JSON) ++ entry JSON`, and the entry JSON carries `prev_hash`,
/// the hash of the entry before it (64 zeros for the first). The counters
/// record the head, so truncating the chain is detected too.
enum AuditChain {
    static let genesis = String(repeating: "0", count: 64)

    /// Renders a stored entry for the API: the entry JSON with its `hash` added.
    static func render(_ stored: [UInt8]) throws(OrderbaseError) -> [UInt8] {
        guard stored.count > 33, stored.last == UInt8(ascii: "}") else { throw OrderbaseError(.corruption, "audit entry is truncated") }
        var out = Array(stored[32..<(stored.count - 1)])
        out.append(contentsOf: Array(",\"hash\":\"\(Crypto.hex(Array(stored[0..<32])))\"}".utf8))
        return out
    }
}

extension AuditService {
    // MARK: orders.audit

    public func orderAudit(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        let after = try f.int("starting_after", in: 0...Int64.max)
        let related = try f.bool("related") ?? false
        try f.finish()
        let snap = database.snapshot()
        _ = try orders.loadRecord(id, snapshot: snap)
        var subjects = [Subject(kind: .order, id: id)]
        if related { subjects += try inventory.auditSubjects(of: id, snapshot: snap) }
        return try auditPage(of: subjects, after: after, limit: limit, snapshot: snap)
    }

    // MARK: audit.list

    /// `{"subject_type"?, "subject_id"?, "limit"?, "starting_after"?}` → audit
    /// entries oldest first: the whole chain; one record's (both fields; a
    /// deleted record's entries stay listed); every entry about an id whatever
    /// its kind (`subject_id` alone); or every entry about one kind
    /// (`subject_type` alone, read from the chain).
    public func listAudit(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let type = try f.oneOf("subject_type", RecordKind.audited.map(\.name))
        let id = try f.string("subject_id", maxLength: 255, allowEmpty: false)

        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        let after = try f.int("starting_after", in: 0...Int64.max)
        try f.finish()
        let snap = database.snapshot()
        let kind = type.flatMap(RecordKind.named)
        if let id {
            let kinds = kind.map { [$0] } ?? RecordKind.audited
            return try auditPage(of: kinds.map { Subject(kind: $0, id: id) }, after: after, limit: limit, snapshot: snap)
        }
        return try chainPage(about: kind, after: after, limit: limit, snapshot: snap)
    }

    /// The chain from `after`, or only its entries about `kind`.
    private func chainPage(about kind: RecordKind?, after: Int64?, limit: Int, snapshot snap: Snapshot) throws(OrderbaseError) -> [UInt8] {
        var items: [[UInt8]] = []
        var hasMore = false
        let start = Keyspace.auditKey(UInt64(after ?? 0) + 1)
        try database.scanChecked(from: start, to: [Keyspace.audit + 1], snapshot: snap) { _, v throws(OrderbaseError) in
            let stored = Array(v)
            // The kind is read from the stored entry (after its 32-byte hash), so only matches are rendered.
            // Entries from before release 0.2.0 have no subject: they are all about orders.
            if let kind, ((try? JSON.parse(Array(stored.dropFirst(32))))?["subject"]?["type"]?.stringValue ?? "order") != kind.name { return true }
            if items.count == limit { hasMore = true; return false }
            items.append(try AuditChain.render(stored))
            return true
        }
        return Self.listResponse(items, hasMore: hasMore)
    }

    /// The entries about `subjects` (one record, or one id under every audited kind), in chain order, from `after`.
    private func auditPage(of subjects: [Subject], after: Int64?, limit: Int, snapshot snap: Snapshot) throws(OrderbaseError) -> [UInt8] {
        var seqs: [UInt64] = []
        for subject in subjects {
            let prefix = Keyspace.subjectAuditPrefix(subject.kind, subject.id)
            let start = after.map { Keyspace.subjectAuditKey(subject, UInt64($0) + 1) } ?? prefix
            var taken = 0
            try database.scanChecked(from: start, to: prefixUpperBound(prefix), snapshot: snap) { k, _ throws(OrderbaseError) in
                var r = KeyReader(Array(k))
                _ = r.string()                    // kind
                _ = r.string()                    // id
                guard let seq = r.uint64() else { throw OrderbaseError(.corruption, "bad audit index key") }
                seqs.append(seq)
                taken += 1
                return taken <= limit
            }
        }
        seqs.sort()
        let hasMore = seqs.count > limit
        var items: [[UInt8]] = []
        for seq in seqs.prefix(limit) {
            guard let entry = try store({ () throws(StoreError) in try database.get(Keyspace.auditKey(seq), snapshot: snap) }) else {
                throw OrderbaseError(.corruption, "audit index names a missing entry")
            }
            items.append(try AuditChain.render(entry))
        }
        return Self.listResponse(items, hasMore: hasMore)
    }

    // MARK: audit.verify

    /// Walks the whole chain in sequence order and reports the first broken link.
    public func verifyAudit(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (f, _) = try Fields.request(request)
        try f.finish()
        let snap = database.snapshot()
        guard let c = try store({ () throws(StoreError) in try database.get(Keyspace.metaKey(Keyspace.metaCounters), snapshot: snap) }) else {
            throw OrderbaseError(.corruption, "tenant counters are missing")
        }
        let counters = try Counters.decode(c)
        var expectedSeq: UInt64 = 1
        var prev = AuditChain.genesis
        var broken: (seq: UInt64, reason: String)?
        do {
            try database.scan(from: [Keyspace.audit], to: [Keyspace.audit + 1], snapshot: snap) { k, v in
                var r = KeyReader(Array(k))
                let seq = r.uint64() ?? 0
                let stored = Array(v)
                func fail(_ why: String) -> Bool { broken = (seq, why); return false }
                if seq != expectedSeq { return fail("entry \(expectedSeq) is missing") }
                guard stored.count > 32 else { return fail("entry is truncated") }
                let content = Array(stored[32...])
                if Crypto.sha256(content) != Array(stored[0..<32]) { return fail("entry content does not match its hash") }
                guard let json = try? JSON.parse(content), json["seq"]?.intValue == Int64(seq) else {
                    return fail("entry does not decode or names another sequence")
                }
                if json["prev_hash"]?.stringValue != prev { return fail("prev_hash does not match the previous entry") }
                prev = Crypto.hex(Array(stored[0..<32]))
                expectedSeq += 1
                return true
            }
        } catch let e as StoreError { throw OrderbaseError(e) } catch {
            throw OrderbaseError(.internal, "\(error)")
        }
        let checked = Int64(expectedSeq - 1)
        if broken == nil {
            if checked != Int64(counters.auditSeq) {
                broken = (expectedSeq, "chain ends at \(checked) but the head says \(counters.auditSeq)")
            } else if prev != counters.auditHead {
                broken = (UInt64(checked), "last entry's hash does not match the recorded head")
            }
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("ok"); w.bool(broken == nil)
        w.key("entries_checked"); w.int(checked)
        w.key("head"); w.string(counters.auditHead)
        if let broken {
            w.key("broken_at"); w.int(Int64(broken.seq))
            w.key("reason"); w.string(broken.reason)
        }
        w.endObject()
        return w.bytes
    }

    // MARK: events.list

    public func listEvents(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let after = try f.int("after_sequence", in: 0...Int64.max) ?? 0
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        var types: [String]?
        if let t = try f.array("types", maxCount: 100) {
            types = []
            for (n, e) in t.enumerated() {
                guard case .string(let s) = e, !s.isEmpty, !s.isLonger(than: 128) else {
                    throw OrderbaseError.invalid("types[\(n)] must be an event type like \"order.created\" or \"order.*\"", field: "types[\(n)]")
                }
                types!.append(s)
            }
        }
        try f.finish()
        let snap = database.snapshot()
        var items: [[UInt8]] = []
        var hasMore = false
        var last = after
        do {
            try database.scan(from: Keyspace.eventKey(UInt64(after) + 1), to: [Keyspace.event + 1], snapshot: snap) { k, v in
                var r = KeyReader(Array(k))
                let seq = Int64(r.uint64() ?? 0)
                let bytes = Array(v)
                if let types {
                    // The type is the third field the writer emits; parse to be safe.
                    guard let t = try? JSON.parse(bytes)["type"]?.stringValue else {
                        throw OrderbaseError(.corruption, "event \(seq) does not decode")
                    }
                    if !TenantCore.typeMatches(t, types) {
                        last = seq
                        return true
                    }
                }
                if items.count == limit { hasMore = true; return false }
                items.append(bytes)
                last = seq
                return true
            }
        } catch let e as OrderbaseError { throw e } catch let e as StoreError { throw OrderbaseError(e) } catch {
            throw OrderbaseError(.internal, "\(error)")
        }
        var out = Self.listResponse(items, hasMore: hasMore)
        out.removeLast()
        out.append(contentsOf: Array(",\"last_sequence\":\(last)}".utf8))
        return out
    }
}
