import OrderbaseStore

/// `locations.*`, `inventory.*` and `fulfillment_orders.*` (docs/inventory.md).
///
/// Stock changes only through movements: every change of a level's named
/// quantity appends one `InventoryMovement` (the ledger) and changes the level
/// in the same batch, so a level always equals the sum of its movements
/// (`integrity.check` verifies it). Each level that changed raises one
/// `inventory_level.updated` event carrying the level and its movements.
extension InventoryService {
    /// A tenant has at most this many locations.
    static let maxLocations = 1000
    /// `adjust_many` and `set_many` take at most this many changes per call.
    public static let maxChanges = 5000
    public static let maxSKULength = InventoryItem.maxSKULength
    public static let maxQuantity = InventoryLevel.maxQuantity

    // MARK: locations.*

    public func createLocation(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var draft = Location.blank
        _ = try Location.read(&f, onto: &draft, isCreate: true)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard try count(Keyspace.location, upTo: Self.maxLocations) < Self.maxLocations else {
                throw OrderbaseError.quota("locations", limit: Self.maxLocations, "a tenant has at most \(Self.maxLocations) locations")
            }
            var l = draft
            l.id = ids.make("loc_", at: wc.now)
            l.createdAt = wc.now
            l.updatedAt = wc.now
            wc.commit("location.created", before: nil, after: l)
            let cache = core.inventoryCache
            wc.onStaged.append { [l] in cache.staged(l) }
            return l.apiJSON
        }
    }

    public func getLocation(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(Location.self, request) }

    /// Every location, in routing order (rank, then oldest first).
    public func listLocations(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let active = try f.bool("active")
        try f.finish()
        let all = try locations(snapshot: database.snapshot()).filter { l in active.map { l.active == $0 } ?? true }
        return Self.listResponse(all.map(\.apiJSON), hasMore: false)
    }

    public func updateLocation(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var edits = Location.blank
        let given = try Location.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(Location.self, id)
            var l = before
            l.apply(edits, fields: given)
            if l.storedJSON != before.storedJSON {
                l.updatedAt = wc.now
                wc.commit("location.updated", before: before, after: l)
                let cache = core.inventoryCache
                wc.onStaged.append { [l] in cache.staged(l) }
            }
            return l.apiJSON
        }
    }

    /// Every location, in routing order: rank, then id (creation order).
    func locations(snapshot: Snapshot?) throws(OrderbaseError) -> [Location] {
        var out: [Location] = []
        try scan(from: [Keyspace.location], to: [Keyspace.location + 1], snapshot: snapshot) { _, v throws(OrderbaseError) in
            out.append(try Location.decode(Array(v)))
            return true
        }
        return out.sorted { ($0.rank, $0.id) < ($1.rank, $1.id) }
    }

    // MARK: inventory.update_item / inventory.get

    /// `{"sku", "tracked"?, "backorder"?}` → the item (made on first use).
    public func updateItem(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let sku = try Self.readSKU(&f)
        var edits = InventoryItem.blank
        let given = try InventoryItem.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.loadIfPresent(InventoryItem.self, sku)
            var item = before ?? Self.newItem(sku, now: wc.now)
            for id in edits.backorderLocations.keys.sorted() {
                _ = try wc.load(Location.self, id, field: "backorder_locations.\(id)")
            }
            item.apply(edits, fields: given)
            if before == nil || item.storedJSON != before!.storedJSON {
                item.updatedAt = wc.now
                wc.commit(before == nil ? "inventory_item.created" : "inventory_item.updated", before: before, after: item)
                let cache = core.inventoryCache
                wc.onStaged.append { cache.itemStaged() }
            }
            return item.apiJSON
        }
    }

    /// `{"sku"}` → the item, its level at every location that has one, and the totals.
    public func getItem(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let sku = try Self.readSKU(&f)
        try f.finish()
        let snap = database.snapshot()
        guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.inventoryItemKey(sku), snapshot: snap) }) else {
            throw OrderbaseError(.notFound, "no inventory item \(sku)", field: "sku")
        }
        let item = try InventoryItem.decode(b)
        var levels: [InventoryLevel] = []
        let prefix = Keyspace.inventoryLevelPrefix(sku: sku)
        try scan(from: prefix, to: prefixUpperBound(prefix), snapshot: snap) { _, v throws(OrderbaseError) in
            levels.append(try InventoryLevel.decode(Array(v)))
            return true
        }
        var total = InventoryLevel(sku: sku, locationID: "")
        for l in levels { for q in InventoryLevel.quantities { total[q] += l[q] } }
        var w = JSONWriter()
        item.write(&w) { w in
            w.key("levels"); w.beginArray(); for l in levels { l.write(&w) }; w.endArray()
            w.key("totals"); w.beginObject()
            w.key("available"); w.int(total.available)
            for q in InventoryLevel.quantities { w.dynamicKey(q); w.int(total[q]) }
            w.endObject()
        }
        return w.bytes
    }

    /// `{"location_id"?, "sku"?, "limit"?, "starting_after"?}`: levels by SKU, then location.
    public func listLevels(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let location = try f.string("location_id", maxLength: 64, allowEmpty: false)
        let sku = try f.string("sku", maxLength: InventoryItem.maxSKULength, allowEmpty: false)
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        let after = try f.string("starting_after", maxLength: 64 + 1 + InventoryItem.maxSKULength, allowEmpty: false)
        try f.finish()
        var start = sku.map { Keyspace.inventoryLevelPrefix(sku: $0) } ?? [Keyspace.inventoryLevel]
        let end = sku.map { prefixUpperBound(Keyspace.inventoryLevelPrefix(sku: $0)) } ?? [Keyspace.inventoryLevel + 1]
        if let after {
            let cursor: [UInt8] = Keyspace.inventoryLevelKey(after) + [0]
            if start.lexicographicallyPrecedes(cursor) { start = cursor }
        }
        var page: [[UInt8]] = []
        var hasMore = false
        try scan(from: start, to: end, snapshot: database.snapshot()) { _, v throws(OrderbaseError) in
            let l = try InventoryLevel.decode(Array(v))
            if let location, l.locationID != location { return true }
            if page.count == limit { hasMore = true; return false }
            page.append(l.apiJSON)
            return true
        }
        return Self.listResponse(page, hasMore: hasMore)
    }

    // MARK: inventory.adjust / adjust_many / set / set_many / move

    /// One change a request asks for, at one level.
    struct Change {
        var sku: String
        var location: String
        var name: String
        /// adjust: the delta; set: the new quantity.
        var amount: Int64
        var compare: Int64?
        /// Where it is in the request, for errors.
        var field: String
    }

    public func adjust(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try change(request, many: false, set: false) }
    public func adjustMany(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try change(request, many: true, set: false) }
    public func set(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try change(request, many: false, set: true) }
    public func setMany(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try change(request, many: true, set: true) }

    private func change(_ request: JSON, many: Bool, set: Bool) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let method = "inventory." + (set ? "set" : "adjust") + (many ? "_many" : "")
        func one(_ g: inout Fields, _ path: String) throws(OrderbaseError) -> Change {
            let sku = try Self.readSKU(&g)
            let location = try g.string("location_id", maxLength: 64, required: true, allowEmpty: false)!
            let name = try g.oneOf("name", InventoryLevel.adjustable) ?? "on_hand"
            if set {
                let q = try g.int("quantity", in: 0...InventoryLevel.maxQuantity, required: true)!
                let c = try g.int("compare_quantity", in: 0...InventoryLevel.maxQuantity)
                return Change(sku: sku, location: location, name: name, amount: q, compare: c, field: path)
            }
            let d = try g.int("delta", in: -InventoryLevel.maxQuantity...InventoryLevel.maxQuantity, required: true)!
            guard d != 0 else { throw OrderbaseError.invalid("\(g.fieldPath("delta")) must not be 0", field: g.fieldPath("delta")) }
            return Change(sku: sku, location: location, name: name, amount: d, compare: nil, field: path)
        }
        var changes: [Change]
        if many {
            let key = set ? "quantities" : "changes"
            var n = 0
            changes = try f.objects(key, maxCount: Self.maxChanges, required: true) { (g: inout Fields) throws(OrderbaseError) -> Change in
                defer { n += 1 }
                let c = try one(&g, "\(key)[\(n)]")
                try g.finish()
                return c
            }!
            guard !changes.isEmpty else { throw OrderbaseError.invalid("\(key) must name at least one change", field: key) }
        } else {
            changes = [try one(&f, "")]
        }
        let (reason, reference, idem) = try Self.readWhy(&f)
        try f.finish()
        return try idempotent(method, request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            var batch = StockBatch(reason: reason, reference: reference, actor: ctx.actor)
            for c in changes {
                let field = { (name: String) in c.field.isEmpty ? name : "\(c.field).\(name)" }
                var level = try batch.level(c.sku, at: c.location, field: field("location_id"), &wc, createItem: true)
                let current = level[c.name]
                if let expected = c.compare, expected != current {
                    throw OrderbaseError(.versionConflict, "\(c.name) of \(c.sku) at \(c.location) is \(current), not \(expected)",
                                         field: field("compare_quantity"),
                                         details: .object(["sku": .string(c.sku), "location_id": .string(c.location), "name": .string(c.name),
                                                           "expected": .int(expected), "actual": .int(current)]))
                }
                let delta = set ? c.amount - current : c.amount
                if delta == 0 { continue }
                try batch.move(&level, c.name, by: delta, field: field(set ? "quantity" : "delta"), &wc)
            }
            try releaseBackorders(&batch, &wc)
            batch.finish(&wc)
            return batch.answer
        }
    }

    /// `{"sku", "location_id", "from", "to", "quantity", "reason", …}`: units from
    /// one bucket to another at one location. `available` is on hand and free;
    /// `incoming` → `available` is a receipt (on hand grows).
    public func move(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let sku = try Self.readSKU(&f)
        let location = try f.string("location_id", maxLength: 64, required: true, allowEmpty: false)!
        let from = try f.oneOf("from", InventoryLevel.moveBuckets, required: true)!
        let to = try f.oneOf("to", InventoryLevel.moveBuckets, required: true)!
        let quantity = try f.int("quantity", in: 1...InventoryLevel.maxQuantity, required: true)!
        let (reason, reference, idem) = try Self.readWhy(&f)
        try f.finish()
        guard from != to else { throw OrderbaseError.invalid("from and to must differ", field: "to") }
        guard to != "incoming" else {
            throw OrderbaseError.invalid("units cannot move into incoming (adjust incoming for stock on its way)", field: "to")
        }
        return try idempotent("inventory.move", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            var batch = StockBatch(reason: reason, reference: reference, actor: ctx.actor)
            var level = try batch.level(sku, at: location, field: "location_id", &wc, createItem: true)
            let has = from == "available" ? level.available : level[from]
            guard has >= quantity else {
                throw OrderbaseError(.invalidState, "\(sku) at \(location) has \(has) \(from), fewer than \(quantity)", field: "quantity",
                                     details: .object(["reason": .string("insufficient_quantity"), "name": .string(from), "actual": .int(has)]))
            }
            // Leaving a held bucket (or incoming) lowers it; leaving available changes nothing stored.
            if from != "available" { try batch.move(&level, from, by: -quantity, field: "quantity", &wc) }
            if from == "incoming" { try batch.move(&level, "on_hand", by: quantity, field: "quantity", &wc) }
            if to != "available" { try batch.move(&level, to, by: quantity, field: "quantity", &wc) }
            try releaseBackorders(&batch, &wc)
            batch.finish(&wc)
            return batch.answer
        }
    }

    // MARK: inventory.movements

    /// `{"sku"?, "location_id"?, "reference"?, "limit"?, "starting_after"?}`: the ledger, newest first.
    public func listMovements(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let sku = try f.string("sku", maxLength: InventoryItem.maxSKULength, allowEmpty: false)
        let location = try f.string("location_id", maxLength: 64, allowEmpty: false)
        let reference = try f.string("reference", maxLength: 255, allowEmpty: false)
        let createdAfter = try f.timestamp("created_after")
        let createdBefore = try f.timestamp("created_before")
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        var after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        // The narrowest index the filters name, else the whole ledger; ids are
        // time-ordered, so the time window is a range of ids.
        let index: (field: String, value: String)? = sku.map { ("sku", $0) } ?? reference.map { ("reference", $0) }
            ?? location.map { ("location_id", $0) }
        if let createdBefore {
            let bound = IDGenerator.lowerBound("mov_", ms: createdBefore)
            if after.map({ bound < $0 }) ?? true { after = bound }
        }
        let from = createdAfter.map { IDGenerator.lowerBound("mov_", ms: $0 + 1) }
        return try newestFirst(InventoryMovement.self, index: index, after: after, from: from, limit: limit, keep: { m in
            (sku == nil || m.sku == sku) && (location == nil || m.locationID == location) && (reference == nil || m.reference == reference)
        })
    }

    // MARK: fulfillment_orders.get / list

    public func getFulfillmentOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(FulfillmentOrder.self, request) }

    /// `{"order_id"?, "location_id"?, "status"?, "limit"?, "starting_after"?}`, newest first.
    public func listFulfillmentOrders(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let location = try f.string("location_id", maxLength: 64, allowEmpty: false)
        let status = try f.oneOf("status", FulfillmentOrder.statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        func keep(_ fo: FulfillmentOrder) -> Bool { (location == nil || fo.locationID == location) && (status == nil || fo.status == status) }
        guard let order else { return try newestFirst(FulfillmentOrder.self, after: after, limit: limit, render: \.apiJSON, keep: keep) }
        // An order's own, from its list (newest first).
        let snap = database.snapshot()
        var ids = try fulfillmentOrderIDs(of: order, snapshot: snap).reversed().map { $0 }
        if let after, let n = ids.firstIndex(of: after) { ids = Array(ids[(n + 1)...]) }
        var page: [[UInt8]] = []
        for id in ids {
            guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.fulfillmentOrderKey(id), snapshot: snap) }) else {
                throw OrderbaseError(.corruption, "order \(order) names missing fulfillment order \(id)")
            }
            let fo = try FulfillmentOrder.decode(b)
            guard keep(fo) else { continue }
            if page.count == limit { return Self.listResponse(page, hasMore: true) }
            page.append(fo.apiJSON)
        }
        return Self.listResponse(page, hasMore: false)
    }

    func fulfillmentOrderIDs(of order: String, snapshot: Snapshot?) throws(OrderbaseError) -> [String] {
        guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.orderFulfillmentKey(order), snapshot: snapshot) }) else { return [] }
        return try Self.decodeIDs(b)
    }

    /// The records of an order's fulfillment whose audit entries belong on its
    /// timeline (`orders.audit {"related": true}`): its fulfillment orders and shipments.
    func auditSubjects(of order: String, snapshot: Snapshot) throws(OrderbaseError) -> [Subject] {
        var out = try fulfillmentOrderIDs(of: order, snapshot: snapshot).map { Subject(kind: .fulfillmentOrder, id: $0) }
        let prefix = Keyspace.indexPrefix(.shipment, "order_id", order)
        try scan(from: prefix, to: prefixUpperBound(prefix), snapshot: snapshot) { k, _ throws(OrderbaseError) in
            out.append(Subject(kind: .shipment, id: try Keyspace.indexEntryID(Array(k))))
            return true
        }
        return out
    }

    static func decodeIDs(_ b: [UInt8]) throws(OrderbaseError) -> [String] {
        guard case .array(let a)? = try? JSON.parse(b) else { throw OrderbaseError(.corruption, "an order's fulfillment order list does not decode") }
        return a.compactMap(\.stringValue)
    }

    // MARK: reading requests

    /// `sku`: 1 to 255 characters.
    static func readSKU(_ f: inout Fields) throws(OrderbaseError) -> String {
        try f.string("sku", maxLength: InventoryItem.maxSKULength, required: true, allowEmpty: false)!
    }

    /// The `reason` (required), `reference` and `idempotency_key` of a stock change.
    static func readWhy(_ f: inout Fields) throws(OrderbaseError) -> (String, String?, String?) {
        let reason = try f.oneOf("reason", InventoryMovement.callerReasons, required: true)!
        let reference = try f.string("reference", maxLength: 255, allowEmpty: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        return (reason, reference, idem)
    }

    static func newItem(_ sku: String, now: Int64) -> InventoryItem {
        var item = InventoryItem.blank
        item.sku = sku
        item.createdAt = now
        item.updatedAt = now
        return item
    }

    /// A write whose answer is kept under `key` (when given): the same request
    /// again answers it without writing; another request with the key is
    /// `idempotency_mismatch`. The method's name is part of the fingerprint.
    func idempotent(_ method: String, _ request: JSON, key: String?, _ ctx: RequestContext,
                            _ body: (inout WriteContext) throws(OrderbaseError) -> [UInt8]) throws(OrderbaseError) -> [UInt8] {
        let fingerprint = key.map { _ in Crypto.sha256(Array(method.utf8) + [0] + OrderService.fingerprint(request)) }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            if let key, let fingerprint, let answer = try wc.replay(key, fingerprint) { return answer }
            let answer = try body(&wc)
            if let key, let fingerprint { wc.remember(key, fingerprint, answer) }
            return answer
        }
    }
}

/// The stock changes of one command: the levels it touched (as changed so
/// far), the movements it appended, and the items it made. `finish` writes the
/// levels and one `inventory_level.updated` event per level.
struct StockBatch {
    let reason: String
    let reference: String?
    let actor: Actor
    private(set) var levels: [String: (before: InventoryLevel?, after: InventoryLevel)] = [:]
    private(set) var order: [String] = []
    /// By level id: each movement with its stored form, which is also its API
    /// form (rendered once for the ledger, the level's event and the answer).
    private(set) var movements: [String: [(movement: InventoryMovement, json: [UInt8])]] = [:]
    /// Locations known to exist (loaded once per command).
    var locations: Set<String> = []

    init(reason: String, reference: String?, actor: Actor) {
        self.reason = reason
        self.reference = reference
        self.actor = actor
    }

    /// The level of `sku` at `location` as this command sees it (a new one at
    /// zero if none). The location must exist; `createItem` makes the
    /// inventory item on first use (else an untracked SKU has no level to read).
    mutating func level(_ sku: String, at location: String, field: String, _ wc: inout WriteContext,
                        createItem: Bool) throws(OrderbaseError) -> InventoryLevel {
        let id = location + ":" + sku
        if let l = levels[id] { return l.after }
        if !locations.contains(location) {
            _ = try wc.load(Location.self, location, field: field)
            locations.insert(location)
        }
        if createItem, try wc.loadIfPresent(InventoryItem.self, sku) == nil {
            wc.commit("inventory_item.created", before: nil, after: InventoryService.newItem(sku, now: wc.now))
            let cache = wc.core.inventoryCache
            wc.onStaged.append { cache.itemStaged() }
        }
        let before = try wc.loadIfPresent(InventoryLevel.self, id)
        let l = before ?? InventoryLevel(sku: sku, locationID: location)
        levels[id] = (before, l)
        order.append(id)
        return l
    }

    /// Changes one named quantity of `level` by `delta`, with its movement.
    /// A stored quantity stays within 0 and `InventoryLevel.maxQuantity`.
    mutating func move(_ level: inout InventoryLevel, _ name: String, by delta: Int64, field: String,
                       _ wc: inout WriteContext, reason: String? = nil, reference: String? = nil) throws(OrderbaseError) {
        let after = level[name] + delta
        guard after >= 0 else {
            throw OrderbaseError(.invalidState, "\(name) of \(level.sku) at \(level.locationID) is \(level[name]); it cannot go below 0",
                                 field: field, details: .object(["reason": .string("insufficient_quantity"), "name": .string(name), "actual": .int(level[name])]))
        }
        guard after <= InventoryLevel.maxQuantity else {
            throw OrderbaseError(.invalidState, "\(name) of \(level.sku) at \(level.locationID) would exceed \(InventoryLevel.maxQuantity)",
                                 field: field, details: .object(["reason": .string("quantity_out_of_range"), "name": .string(name), "actual": .int(level[name])]))
        }
        level[name] = after
        level.updatedAt = wc.now
        var m = InventoryMovement.blank
        m.id = wc.core.ids.make("mov_", at: wc.now)
        m.sku = level.sku
        m.locationID = level.locationID
        m.quantity = name
        m.delta = delta
        m.after = after
        m.reason = reason ?? self.reason
        m.reference = reference ?? self.reference
        m.actor = actor
        m.at = wc.now
        let json = m.storedJSON
        wc.save(before: nil, after: m, stored: json)
        movements[level.levelID, default: []].append((m, json))
        levels[level.levelID]!.after = level
    }

    /// Replaces the level as this command has it (its backorder queue), without a movement.
    mutating func update(_ level: InventoryLevel) {
        levels[level.levelID]!.after = level
    }

    /// A level as this command has it now (nil: not touched).
    func current(_ id: String) -> InventoryLevel? { levels[id]?.after }

    /// The ids of the levels this command touched, in the order it first did.
    var touched: [String] { order }

    /// Writes every changed level, and one event for each level that moved
    /// (`answer` renders them for a caller that returns them).
    mutating func finish(_ wc: inout WriteContext) {
        for id in order {
            guard let (before, after) = levels[id] else { continue }
            let moved = movements[id] ?? []
            // A level with movements changed; one without may still be new, or have a backorder queue changed.
            if before == nil || !moved.isEmpty || before!.storedJSON != after.storedJSON { wc.save(before: before, after: after) }
            guard !moved.isEmpty else { continue }
            var data = JSONWriter()
            data.beginObject()
            data.key("level"); after.write(&data)
            data.key("movements"); data.beginArray(); for m in moved { data.raw(m.json) }; data.endArray()
            data.endObject()
            wc.appendEvent(type: "inventory_level.updated", subject: Subject(kind: .inventoryLevel, id: id), reason: moved.first?.movement.reason,
                           changes: nil, order: nil, data: data.bytes)
        }
    }

    /// The answer of a stock change: `{"levels": [each level that moved], "movements": [...]}`.
    var answer: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("levels"); w.beginArray()
        for id in order where !(movements[id] ?? []).isEmpty { levels[id]?.after.write(&w) }
        w.endArray()
        w.key("movements"); w.beginArray()
        for id in order { for m in movements[id] ?? [] { w.raw(m.json) } }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}

extension InventoryMovement {
    /// The ledger is appended to, never read back inside a write.
    static var readInWrites: Bool { false }

    var indexKeys: [[UInt8]] {
        var keys = [Keyspace.indexKey(.inventoryMovement, "sku", sku, id), Keyspace.indexKey(.inventoryMovement, "location_id", locationID, id)]
        if let reference { keys.append(Keyspace.indexKey(.inventoryMovement, "reference", reference, id)) }
        return keys
    }
}
