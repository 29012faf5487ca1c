import OrderbaseStore

/// Notes and messages on an order, and the order's timeline (docs/timeline.md).
extension OrderNote: AuditedRecord {
    static let kinds = ["note", "message"]
    static let directions = ["inbound", "outbound"]
    static let channels = ["email", "phone", "chat", "sms", "in_person", "other"]
    /// What `orders.timeline` interleaves.
    static let timelineTypes = ["audit", "note", "message", "notification", "webhook_delivery"]

    /// Its events and audit entries carry the order's id (`order_id`).
    var belongsToOrder: String? { orderID }
    /// `I order_note order_id <order> <id>` (an order's notes) and `I order_note mention <staff> <id>`.
    var indexKeys: [[UInt8]] {
        [Keyspace.indexKey(.orderNote, "order_id", orderID, id)] + mentions.map { Keyspace.indexKey(.orderNote, "mention", $0, id) }
    }

    /// `mentions`: at most 20 staff ids, each 1–64 characters, kept once in the order given.
    static func readMentions(_ f: inout Fields) throws(OrderbaseError) -> [String]? {
        guard let list = try f.array("mentions", maxCount: 20) else { return nil }
        var out: [String] = []
        for (i, item) in list.enumerated() {
            let path = "\(f.fieldPath("mentions"))[\(i)]"
            guard case .string(let s) = item, !s.isEmpty, !s.isLonger(than: 64) else {
                throw OrderbaseError.invalid("\(path) must be a staff id of 1 to 64 characters", field: path)
            }
            if !out.contains(s) { out.append(s) }
        }
        return out
    }
}

extension TimelineService {
    // MARK: notes.create, get, list, update, delete

    /// `{"order_id", "kind"?, "body", "direction"?, "channel"?, "mentions"?}` → the note. Event `order_note.created`.
    /// A message needs `direction` and `channel`; a note has neither.
    public func createNote(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var note = OrderNote.blank
        _ = try OrderNote.read(&f, onto: &note, isCreate: true)
        try f.finish()
        if note.kind == "message" {
            if note.direction == nil { throw OrderbaseError.invalid("a message needs direction (inbound or outbound)", field: "direction") }
            if note.channel == nil { throw OrderbaseError.invalid("a message needs channel", field: "channel") }
        } else if note.direction != nil || note.channel != nil {
            throw OrderbaseError.invalid("direction and channel are for messages (kind: message)", field: note.direction != nil ? "direction" : "channel")
        }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            _ = try orders.loadForWrite(note.orderID, &wc, expected: nil)
            note.id = ids.make("note_", at: wc.now)
            note.author = wc.request.actor
            note.createdAt = wc.now
            note.updatedAt = wc.now
            wc.commit("order_note.created", before: nil, after: note)
            return note.apiJSON
        }
    }

    /// `{"id"}` → the note.
    public func getNote(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(OrderNote.self, id).apiJSON
    }

    /// `{"order_id"?, "mention"?, "kind"?, "limit"?, "starting_after"?}` → notes, newest first: an order's, those
    /// mentioning someone, both (an order's mentioning someone), or every note.
    public func listNotes(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let mention = try f.string("mention", maxLength: 64, allowEmpty: false)
        let kind = try f.oneOf("kind", OrderNote.kinds)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        // The order's index when given, else the mention's, else every note; the other filters apply to what it yields.
        let index = order.map { ("order_id", $0) } ?? mention.map { ("mention", $0) }
        return try newestFirst(OrderNote.self, index: index, after: after, limit: limit, render: { $0.apiJSON }) { n in
            (kind == nil || n.kind == kind) && (mention == nil || n.mentions.contains(mention!))
        }
    }

    /// `{"id", "body"?, "mentions"?, "expected_version"?}` → the note, `version` + 1. Event `order_note.updated`;
    /// the audit entry keeps the text before and after.
    public func updateNote(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        var edits = OrderNote.blank
        let given = try OrderNote.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, &wc)
            var after = before
            after.apply(edits, fields: given)
            guard after.body != before.body || after.mentions != before.mentions else { return before.apiJSON }
            after.version += 1
            after.updatedAt = wc.now
            wc.commit("order_note.updated", before: before, after: after)
            return after.apiJSON
        }
    }

    /// `{"id", "expected_version"?}` → the note as it was. Event `order_note.deleted`; its audit entries stay.
    public func deleteNote(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, &wc)
            wc.commit("order_note.deleted", before: before, after: nil)
            return before.apiJSON
        }
    }

    private func load(_ id: String, expected: Int64?, _ wc: inout WriteContext) throws(OrderbaseError) -> OrderNote {
        let note = try wc.load(OrderNote.self, id)
        if let expected, expected != note.version {
            throw OrderbaseError.staleVersion("note \(id)", actual: note.version, expected: expected)
        }
        return note
    }

    // MARK: orders.timeline

    /// `{"id", "types"?, "limit"?, "starting_after"?}` → `{"data": [{"type", "at", "id", <type>: …}], "has_more"}`:
    /// the order's audit entries (its fulfillment orders', shipments' and notes' too), notes, messages and
    /// notifications, oldest first, ties by id. `starting_after` is the `id` of the last entry of the previous page.
    public func orderTimeline(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var types = Set(OrderNote.timelineTypes)
        if let list = try f.array("types", maxCount: OrderNote.timelineTypes.count) {
            types = []
            for (i, t) in list.enumerated() {
                guard case .string(let s) = t, OrderNote.timelineTypes.contains(s) else {
                    throw OrderbaseError(.invalidArgument, "types[\(i)] must be one of \(OrderNote.timelineTypes.joined(separator: ", "))", field: "types[\(i)]",
                                                 details: .object(["allowed": .array(OrderNote.timelineTypes.map { .string($0) })]))
                }
                types.insert(s)
            }
        }
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 80, allowEmpty: false)
        try f.finish()
        let snap = database.snapshot()
        _ = try orders.loadRecord(id, snapshot: snap)
        var entries: [(at: Int64, id: String, type: String, body: [UInt8])] = []
        // Notes and messages: current versions, by the order's index.
        let noteIDs = try indexedIDs(.orderNote, "order_id", id, snapshot: snap)
        for nid in noteIDs {
            guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.noteKey(nid), snapshot: snap) }) else { continue }
            let note = try OrderNote.decode(b)
            if types.contains(note.kind) { entries.append((note.createdAt, note.id, note.kind, note.apiJSON)) }
        }
        if types.contains("audit") {
            let subjects = [Subject(kind: .order, id: id)] + (try inventory.auditSubjects(of: id, snapshot: snap))
                + noteIDs.map { Subject(kind: .orderNote, id: $0) } + (try indexedIDs(.attachment, "order_id", id, snapshot: snap)).map { Subject(kind: .attachment, id: $0) }
                + (try indexedIDs(.transaction, "order_id", id, snapshot: snap)).map { Subject(kind: .transaction, id: $0) }
            var seqs: [UInt64] = []
            for s in subjects {
                let prefix = Keyspace.subjectAuditPrefix(s.kind, s.id)
                try scan(from: prefix, to: prefixUpperBound(prefix), snapshot: snap) { k, _ throws(OrderbaseError) in
                    var r = KeyReader(Array(k))
                    _ = r.string(); _ = r.string()
                    if let seq = r.uint64() { seqs.append(seq) }
                    return true
                }
            }
            for seq in seqs {
                guard let stored = try store({ () throws(StoreError) in try database.get(Keyspace.auditKey(seq), snapshot: snap) }) else {
                    throw OrderbaseError(.corruption, "audit index names a missing entry")
                }
                let rendered = try AuditChain.render(stored)
                let at = (try? JSON.parse(rendered))?["at"]?.stringValue.flatMap(Timestamp.parse) ?? 0
                entries.append((at, "audit_" + String(seq + 10_000_000_000_000).dropFirst(), "audit", rendered))
            }
        }
        if types.contains("notification") {
            let prefix = Keyspace.notificationOrderPrefix(id)
            var nids: [String] = []
            try scan(from: prefix, to: prefixUpperBound(prefix), snapshot: snap) { k, _ throws(OrderbaseError) in
                var r = KeyReader(Array(k))
                _ = r.string()
                if let n = r.string() { nids.append(n) }
                return true
            }
            for nid in nids {
                guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.notificationKey(nid), snapshot: snap) }) else { continue }
                let n = try NotificationRecord.decode(b)
                entries.append((n.createdAt, n.id, "notification", n.apiJSON))
            }
        }
        if types.contains("webhook_delivery") {
            for did in try indexedIDs(.webhookDelivery, "order_id", id, snapshot: snap) {
                guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.deliveryKey(did), snapshot: snap) }) else { continue }
                let d = try WebhookDelivery.decode(b)
                entries.append((d.createdAt, d.id, "webhook_delivery", d.apiJSON))
            }
        }
        entries.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        var start = 0
        if let after {
            guard let i = entries.firstIndex(where: { $0.id == after }) else {
                throw OrderbaseError(.notFound, "starting_after \(after) is not an entry of this order's timeline", field: "starting_after")
            }
            start = i + 1
        }
        let page = entries[start...].prefix(limit)
        var items: [[UInt8]] = []
        for e in page {
            var w = JSONWriter()
            w.beginObject()
            w.key("type"); w.string(e.type)
            w.key("at"); w.timestamp(e.at)
            w.key("id"); w.string(e.id)
            w.dynamicKey(e.type == "message" ? "note" : e.type); w.raw(e.body)
            w.endObject()
            items.append(w.bytes)
        }
        return Self.listResponse(items, hasMore: start + page.count < entries.count)
    }
}
