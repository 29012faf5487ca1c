import OrderbaseStore

/// The read methods record kinds share: one record by id, and pages of
/// records newest first (ids are time-ordered), over the whole kind or over one
/// of its index entries (`I kind field value id`), with `starting_after` an id.
extension Capability {
    /// `{"id"}` → the record's API form, or `not_found`.
    func getRecord<R: KeyedRecord & AuditedRecord>(_: R.Type, _ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(R.self, id).apiJSON
    }

    /// `{"order_id"?, "status"?, "limit"? (1–250, default 50), "starting_after"?}` → records of a kind indexed by
    /// `order_id`, newest first: one order's or all, of one of `statuses` or any (refunds, returns, order edits).
    func listByOrder<R: KeyedRecord>(_: R.Type, _ request: JSON, statuses: [String], status: (R) -> String) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let wanted = try f.oneOf("status", statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(R.self, index: order.map { ("order_id", $0) }, after: after, limit: limit, keep: { r in wanted == nil || status(r) == wanted })
    }

    /// The ids an index names for one value (`I kind field value id`), oldest first.
    func indexedIDs(_ kind: RecordKind, _ field: String, _ value: String, snapshot: Snapshot? = nil) throws(OrderbaseError) -> [String] {
        var ids: [String] = []
        let prefix = Keyspace.indexPrefix(kind, field, value)
        try scan(from: prefix, to: prefixUpperBound(prefix), snapshot: snapshot) { k, _ throws(OrderbaseError) in
            ids.append(try Keyspace.indexEntryID(Array(k))); return true
        }
        return ids
    }

    /// Up to `limit` records that `keep` accepts, newest first, after `after`
    /// (and from the id `from` on, when given); from the index entries of
    /// `index` (field and value) when given, else from every record of the
    /// kind. Answers the list response, each record as stored, or as `render`
    /// writes it (a kind with derived answer fields).
    func newestFirst<R: KeyedRecord>(_: R.Type, index: (field: String, value: String)? = nil, after: String?, from: String? = nil, limit: Int,
                                     render: ((R) -> [UInt8])? = nil,
                                     keep: (R) -> Bool = { _ in true }) throws(OrderbaseError) -> [UInt8] {
        let snap = database.snapshot()
        var page: [[UInt8]] = []
        var hasMore = false
        func take(_ bytes: [UInt8]) throws(OrderbaseError) -> Bool {
            let record = try R.decode(bytes)
            guard keep(record) else { return true }
            if page.count == limit { hasMore = true; return false }
            page.append(render.map { $0(record) } ?? bytes)
            return true
        }
        if let index {
            let prefix = Keyspace.indexPrefix(R.kind, index.field, index.value)
            let end = after.map { prefix + Keyspace.idComponent($0) } ?? prefixUpperBound(prefix)
            try scan(from: from.map { prefix + Keyspace.idComponent($0) } ?? prefix, to: end, reverse: true, snapshot: snap) { k, _ throws(OrderbaseError) in
                let id = try Keyspace.indexEntryID(Array(k))
                guard let b = try store({ () throws(StoreError) in try database.get(R.key(id), snapshot: snap) }) else {
                    throw OrderbaseError(.corruption, "a \(R.noun) index entry names a missing \(R.noun)")
                }
                return try take(b)
            }
        } else {
            let prefix = R.key("")[0]
            let end = after.map { R.key($0) } ?? [prefix + 1]
            try scan(from: from.map { R.key($0) } ?? [prefix], to: end, reverse: true, snapshot: snap) { _, v throws(OrderbaseError) in try take(Array(v)) }
        }
        return Self.listResponse(page, hasMore: hasMore)
    }
}
