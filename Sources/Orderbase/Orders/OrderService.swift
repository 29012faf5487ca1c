import OrderbaseStore

/// The order methods. Each takes the request object and returns response JSON.
extension OrderService {
    // MARK: orders.create

    public func createOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var replayed = false
        return try createOrder(request, replayed: &replayed)
    }

    /// `orders.create`, telling whether the answer is an idempotent replay
    /// (the key was used before with this request, and nothing was written).
    public func createOrder(_ request: JSON, replayed: inout Bool) throws(OrderbaseError) -> [UInt8] {
        replayed = false
        var (f, ctx) = try Fields.request(request)
        let idemKey = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        let channel = try f.oneOf("channel", OrderStatus.channels) ?? "online"
        var sourceName: String?, sourceExternal: String?
        if var s = try f.object("source") {
            sourceName = try s.string("name", maxLength: 255, required: true, allowEmpty: false)
            sourceExternal = try s.string("external_id", maxLength: 255)
            try s.finish()
        }
        let currency = try readCurrency(&f) ?? settings.defaultCurrency
        var order = Order(id: "", number: "", version: 1, currency: currency, createdAt: 0, updatedAt: 0, placedAt: 0)
        order.channel = channel
        order.sourceName = sourceName
        order.sourceExternalID = sourceExternal
        let givenFinancial = try f.oneOf("financial_status", OrderStatus.financial)
        order.financialStatus = givenFinancial ?? "pending"
        // Payments made at checkout, recorded in the order's own batch (docs/payments.md).
        let transactionsGiven = f.has("transactions") && !f.isNull("transactions")
        var transactions = try f.objects("transactions", maxCount: 10) { (g: inout Fields) throws(OrderbaseError) in try Transaction.readInline(&g) } ?? []
        if givenFinancial != nil && transactionsGiven {
            throw OrderbaseError.invalid("financial_status is derived from transactions: give one or the other", field: "financial_status")
        }
        order.fulfillmentStatus = try f.oneOf("fulfillment_status", OrderStatus.fulfillment) ?? "unfulfilled"
        try Order.readEditable(&f, into: &order, isCreate: true, limits: limits)
        let placedAt = try f.timestamp("placed_at")
        let workflowKey = try f.string("workflow", maxLength: 64, allowEmpty: false)
        try f.finish()
        for n in order.lineItems.indices where order.lineItems[n].id != nil {
            throw OrderbaseError.invalid("line item ids are assigned by the engine", field: "line_items[\(n)].id")
        }
        try customFields.check(&order, given: nil, linesGiven: true)
        try order.computeTotals()
        let fingerprint = idemKey.map { _ in Self.fingerprint(request) }

        var wasReplayed = false
        defer { replayed = wasReplayed }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            if let idemKey, let fingerprint, let answer = try wc.replay(idemKey, fingerprint) {
                wasReplayed = true
                return answer
            }
            let now = wc.now
            identify(&order, &wc)
            for n in order.lineItems.indices { order.lineItems[n].id = ids.make("li_", at: now) }
            order.createdAt = now
            order.updatedAt = now
            order.placedAt = placedAt ?? now
            let wf = try workflowForNewOrder(order, named: workflowKey, actor: ctx.actor)
            order.workflowKey = wf.key
            order.workflowVersion = wf.version
            order.status = wf.initialState
            // Tracked lines commit stock in this batch, under this lock: no other order can take the same units
            // (unless the tenant commits at a later workflow state: then that change's batch does).
            let commitment = try inventory.prepareCommitment(order, wf, &wc)
            if let commitment { order.fulfillmentStatus = commitment.status }
            try SLATracker.track(old: nil, new: &order, &wc)
            if !transactions.isEmpty { try payments.admitInline(&transactions, order: &order, &wc) }
            let rendered = try insert(order, commitment: commitment, reason: nil, &wc)
            payments.stageInline(transactions, &wc)
            if let idemKey, let fingerprint { wc.remember(idemKey, fingerprint, rendered.bytes) }
            return rendered.bytes
        }
    }

    /// Gives a new order its id and the tenant's next number.
    func identify(_ order: inout Order, _ wc: inout WriteContext) {
        order.id = ids.make("ord_", at: wc.now)
        order.number = settings.orderNumberPrefix + String(wc.counters.nextNumber)
        wc.counters.nextNumber += 1
    }

    /// Writes a new order in this batch: its record, number, index entries and tag counts, its event and audit
    /// entry (`order.created`), the stock `commitment` prepared for it, and its sale in the sales ledger (docs/sales.md).
    func insert(_ order: Order, commitment: InventoryService.PendingCommitment?, reason: String?, _ wc: inout WriteContext) throws(OrderbaseError) -> RenderedOrder {
        let rendered = order.render()
        wc.put(Keyspace.orderKey(order.id), rendered.bytes)
        wc.putUnread(Keyspace.numberKey(order.number), Array(order.id.utf8))
        for k in Keyspace.indexKeyList(of: order) { wc.putUnread(k, []) }
        try TagCount.track(old: [], new: order.tags, &wc)
        wc.record(type: "order.created", orderID: order.id, changes: FieldChange.diff(nil, rendered), reason: reason, order: rendered)
        if let commitment { try inventory.applyCommitment(commitment, to: order, &wc) }
        wc.save(before: nil, after: SalesLine.sale(of: order))
        return rendered
    }

    /// The workflow a new order follows: the one named, else the first whose
    /// `applies_to` matches (channels, then condition), else the default.
    /// A condition that cannot be evaluated for this order does not match.
    private func workflowForNewOrder(_ order: Order, named key: String?, actor: Actor) throws(OrderbaseError) -> Workflow {
        if let key {
            let w = try workflowRegistry.latest(core, key)
            if w.archived { throw OrderbaseError(.invalidState, "workflow \(key) is archived", field: "workflow") }
            return w
        }
        var data: JSON?
        for w in try workflowRegistry.assigners(core) {
            if let channels = w.appliesToChannels, !channels.contains(order.channel) { continue }
            if let c = w.appliesToCondition {
                if data == nil { data = try Self.guardData(order, actor: actor) }
                guard let ctx = try? expressions.evaluationContext(currency: order.currency), (try? c.test(data!, context: ctx)) == true else { continue }
            }
            return w
        }
        return try workflowRegistry.latest(core, Workflow.defaultKey)
    }

    /// The request without its per-attempt fields, canonically serialized and hashed.
    static func fingerprint(_ request: JSON) -> [UInt8] {
        guard case .object(var o) = request else { return Crypto.sha256(request.bytes) }
        for k in ["idempotency_key", "request_id", "actor"] { o[k] = nil }
        return Crypto.sha256(JSON.object(o).bytes)
    }

    private func readCurrency(_ f: inout Fields) throws(OrderbaseError) -> String? {
        guard let c = try f.string("currency", maxLength: 3) else { return nil }
        guard Currency.exponent(c) != nil else {
            throw OrderbaseError.invalid("currency must be an ISO 4217 code like \"GBP\"", field: "currency")
        }
        return c
    }

    // MARK: orders.get

    public func getOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64)
        let number = try f.string("number", maxLength: 64)
        try f.finish()
        switch (id, number) {
        case (let id?, nil):
            return try loadRecord(id, snapshot: nil)  // one get is atomic: no snapshot needed
        case (nil, let number?):
            let snap = database.snapshot()
            guard let idBytes = try store({ () throws(StoreError) in try database.get(Keyspace.numberKey(number), snapshot: snap) }) else {
                throw OrderbaseError(.notFound, "no order numbered \(number)", field: "number")
            }
            return try loadRecord(String(decoding: idBytes, as: UTF8.self), snapshot: snap)
        default:
            throw OrderbaseError.invalid("give exactly one of id or number", field: id == nil ? "id" : "number")
        }
    }

    func loadRecord(_ id: String, snapshot: Snapshot?, field: String = "id") throws(OrderbaseError) -> [UInt8] {
        guard let v = try store({ () throws(StoreError) in try database.get(Keyspace.orderKey(id), snapshot: snapshot) }) else {
            throw OrderbaseError(.notFound, "no order with id \(id)", field: field)
        }
        return v
    }

    // MARK: orders.update

    public func updateOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        // Parse and validate once, before taking the lock: `edits` holds the new
        // values of exactly the fields the request names; inside the lock they
        // are copied onto the current order.
        var edits = Order(id: id, number: "", version: 1, currency: "USD", createdAt: 0, updatedAt: 0, placedAt: 0)
        let named = Set(Order.editableFields.filter { f.has($0) })
        if f.isNull("line_items") {
            throw OrderbaseError.invalid("line_items cannot be null: an order keeps at least one line item (give the list that replaces them)", field: "line_items")
        }
        let editsLines = named.contains("line_items")
        let editsStructure = !named.isSubset(of: Order.editableWhenClosed)
        try Order.readEditable(&f, into: &edits, isCreate: false, limits: limits)
        try f.finish()

        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let old = try loadForWrite(id, &wc, expected: expected)
            if editsStructure && old.isFinal {
                throw OrderbaseError(.invalidState, "order \(old.number) is \(old.status); only note and metadata can change", field: "status")
            }
            if editsLines && old.fulfillmentStatus != "unfulfilled" {
                throw OrderbaseError(.invalidState, "line items cannot be replaced once fulfillment has started (\(old.fulfillmentStatus)): edit them with order_edits",
                                     field: "line_items")
            }
            if old.lineItems.contains(where: { $0.refundedQuantity > 0 }) || old.refundedShipping > 0,
               let money = ["line_items", "discounts", "shipping_lines"].first(where: named.contains) {
                // Refunds were worked out from these (each unit's share of discounts and tax): order edits keep them exact.
                throw OrderbaseError(.invalidState, "order \(old.number) has refunds: its \(money) cannot be replaced (edit them with order_edits)",
                                     field: money, details: .object(["reason": .string("refunded")]))
            }
            if editsLines, try inventory.holdsCommitment(id, &wc) {
                throw OrderbaseError(.invalidState, "line items cannot be replaced while stock is committed to them: edit them with order_edits, which moves the stock",
                                     field: "line_items", details: .object(["reason": .string("stock_committed")]))
            }
            var new = old
            new.apply(edits, fields: named)
            // custom_fields is a patch: the keys given are set (null: removed), the others kept.
            let givenFields = named.contains("custom_fields") ? Set(edits.customFields.objectKeys) : []
            if named.contains("custom_fields") { new.customFields = CustomFieldService.merge(old.customFields, edits.customFields) }
            if named.contains("custom_fields") || editsLines { try customFields.check(&new, given: givenFields, linesGiven: editsLines) }
            if editsLines {
                let existing = Set(old.lineItems.compactMap(\.id))
                for n in new.lineItems.indices {
                    if let lid = new.lineItems[n].id {
                        guard existing.contains(lid) else {
                            throw OrderbaseError.invalid("line_items[\(n)].id \(lid) is not a line item of this order", field: "line_items[\(n)].id")
                        }
                    } else {
                        new.lineItems[n].id = ids.make("li_", at: wc.now)
                    }
                }
                let lineIDs = new.lineItems.compactMap(\.id)
                if Set(lineIDs).count != lineIDs.count { throw OrderbaseError.invalid("a line item id appears twice", field: "line_items") }
            }
            try new.computeTotals()
            return try commitChange(old: old, new: new, type: "order.updated", reason: nil, &wc)
        }
    }

    /// Loads an order inside a write (seeing staged writes) and checks the version.
    func loadForWrite(_ id: String, _ wc: inout WriteContext, expected: Int64?) throws(OrderbaseError) -> Order {
        guard let bytes = try wc.read(Keyspace.orderKey(id)) else {
            throw OrderbaseError(.notFound, "no order with id \(id)", field: "id")
        }
        let order = try Order.decode(bytes)
        if let expected, expected != order.version {
            throw OrderbaseError.staleVersion("order \(order.number)", actual: order.version, expected: expected)
        }
        return order
    }

    /// Writes a changed order with its index changes, event and audit entry.
    /// No change at all writes nothing and returns the stored order.
    func commitChange(old: Order, new: Order, type: String, reason: String?, _ wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] {
        var new = new
        return try commitChange(old: old, new: &new, type: type, reason: reason, &wc)
    }

    /// The same, leaving `new` as committed (version and time), for a second change in the same write.
    func commitChange(old: Order, new: inout Order, type: String, reason: String?, _ wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] {
        let before = old.render()
        new.version = old.version
        new.updatedAt = old.updatedAt
        // Derived from its transactions once it has any (a change of total moves it too: docs/payments.md).
        if new.payments.transactions > 0 { new.financialStatus = new.payments.financialStatus(total: new.total) }
        let changes = FieldChange.diff(before, new.render())
        if changes.isEmpty { return before.bytes }
        // A cancellation releases the stock committed to the order, in its batch; reaching the
        // tenant's commit state (or reopening) commits it, in its batch (docs/inventory.md).
        if new.cancelledAt != nil && old.cancelledAt == nil { try inventory.release(new.id, &wc) }
        let commitment = try inventory.commitmentOnChange(old: old, new: new, &wc)
        if let commitment { new.fulfillmentStatus = commitment.status }
        try SLATracker.track(old: old, new: &new, &wc)
        new.version = old.version + 1
        new.updatedAt = max(wc.now, old.updatedAt)
        let after = new.render()
        wc.put(Keyspace.orderKey(new.id), after.bytes)
        wc.replaceIndexEntries(Keyspace.indexKeyList(of: old), with: Keyspace.indexKeyList(of: new))
        try TagCount.track(old: old.tags, new: new.tags, &wc)
        if let line = SalesLine.edit(old: old, new: new, id: ids.make("sl_", at: wc.now), at: wc.now) { wc.save(before: nil, after: line) }
        wc.record(type: type, orderID: new.id, changes: FieldChange.diff(before, after), reason: reason, order: after)
        if let commitment { try inventory.applyCommitment(commitment, to: new, &wc) }
        return after.bytes
    }

    /// Commits `change` applied to order `id` as it is now in this write (released stock may have filled one of its
    /// own backorders since the caller read it: a change of its own), its totals computed and, when its stock
    /// `moved`, its fulfillment status derived from its fulfillment orders. Order edits, exchanges, split and merge.
    func commitRestocked(_ id: String, moved: Bool, type: String, reason: String?, _ wc: inout WriteContext,
                         _ change: (inout Order) -> Void) throws(OrderbaseError) -> (order: Order, bytes: [UInt8]) {
        let current = try loadForWrite(id, &wc, expected: nil)
        var edited = current
        change(&edited)
        try edited.computeTotals()
        if moved, let s = InventoryService.derivedStatus(try inventory.fulfillmentOrders(of: id, &wc)) { edited.fulfillmentStatus = s }
        let bytes = try commitChange(old: current, new: &edited, type: type, reason: reason, &wc)
        return (edited, bytes)
    }

    // MARK: orders.list

    public func listOrders(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        var filters: [(field: String, value: String)] = []
        for flt in Order.listFilters {
            let value: String?
            if flt.field == "status" {
                // Any state key: a custom workflow's states included, and one no workflow has
                // (yet, or any longer) matches no order, as an unknown customer_id does.
                value = try f.string(flt.request, maxLength: 64, allowEmpty: false)
                if let v = value, !Workflow.isKey(v) {
                    throw OrderbaseError.invalid("status must be a state key: \(Workflow.keyPattern)", field: "status")
                }
            } else if let allowed = flt.allowed { value = try f.oneOf(flt.request, allowed) }
            else { value = try f.string(flt.request, maxLength: flt.maxLength, allowEmpty: false) }
            if let value { filters.append((flt.field, flt.key?(value) ?? value)) }
        }
        let createdAfter = try f.timestamp("created_after")
        let createdBefore = try f.timestamp("created_before")
        let updatedAfter = try f.timestamp("updated_after")
        let updatedBefore = try f.timestamp("updated_before")
        let sort = try f.oneOf("sort", OrderStatus.sorts) ?? "created_desc"
        let limit = Int(try f.int("limit", in: 1...250) ?? 20)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        let includeArchived = try f.bool("include_archived") ?? false
        try f.finish()

        let snap = database.snapshot()
        let reverse = sort.hasSuffix("_desc")
        var page: [[UInt8]] = []
        var hasMore = false

        // Filters that the chosen key range does not already guarantee.
        func matches(_ o: Order) -> Bool {
            for flt in filters where !o.hasIndexValue(flt.field, flt.value) { return false }
            if let createdAfter, o.createdAt <= createdAfter { return false }
            if let createdBefore, o.createdAt >= createdBefore { return false }
            if let updatedAfter, o.updatedAt <= updatedAfter { return false }
            if let updatedBefore, o.updatedAt >= updatedBefore { return false }
            return true
        }
        let needsDecode = !filters.isEmpty || updatedAfter != nil || updatedBefore != nil || sort.hasPrefix("updated")
        // Collects one candidate; returns false when the page is full.
        func take(_ record: [UInt8]) throws(OrderbaseError) -> Bool {
            if !includeArchived && Order.storedIsArchived(record) { return true }
            if needsDecode {
                guard matches(try Order.decode(record)) else { return true }
            }
            if page.count == limit {
                hasMore = true
                return false
            }
            page.append(record)
            return true
        }

        // The order a index entry names, at the page's snapshot.
        func record(_ id: String, from index: String) throws(OrderbaseError) -> [UInt8] {
            guard let rec = try store({ () throws(StoreError) in try database.get(Keyspace.orderKey(id), snapshot: snap) }) else {
                throw OrderbaseError(.corruption, "\(index) names missing order \(id)")
            }
            return rec
        }
        if sort.hasPrefix("updated") {
            // U index: (updated_ms, id). Lower/upper bounds from updated_after/before and the cursor.
            var start = [Keyspace.updated], end: [UInt8]? = [Keyspace.updated + 1]
            if let updatedAfter { start = Keyspace.updatedKey(updatedAfter + 1, "") }
            if let updatedBefore { end = Keyspace.updatedKey(updatedBefore, "") }
            if let after {
                let cursor = try Order.decode(try loadRecord(after, snapshot: snap))
                let key = Keyspace.updatedKey(cursor.updatedAt, cursor.id)
                if reverse { end = key } else { start = key + [0] }
            }
            try database.scanChecked(from: start, to: end, reverse: reverse, snapshot: snap) { k, _ throws(OrderbaseError) in
                var r = KeyReader(Array(k))
                _ = r.uint64()
                guard let id = r.string() else { throw OrderbaseError(.corruption, "bad updated-index key") }
                return try take(try record(id, from: "updated index"))
            }
        } else {
            // Ids are creation-time sortable: created_after/before become id bounds.
            let indexed = Order.indexedFields.compactMap { name in filters.first { $0.field == name } }.first
            let prefix = indexed.map { Keyspace.indexPrefix(.order, $0.field, $0.value) } ?? [Keyspace.order]
            var start = prefix, end = prefixUpperBound(prefix)
            if let createdAfter { start = prefix + Keyspace.idComponent(IDGenerator.lowerBound("ord_", ms: createdAfter + 1)) }
            if let createdBefore { end = prefix + Keyspace.idComponent(IDGenerator.lowerBound("ord_", ms: createdBefore)) }
            if let after {
                let key = prefix + Keyspace.idComponent(after)
                if reverse { end = key } else { start = key + [0] }
            }
            try database.scanChecked(from: start, to: end, reverse: reverse, snapshot: snap) { k, v throws(OrderbaseError) in
                if indexed == nil { return try take(Array(v)) }
                return try take(try record(try Keyspace.indexEntryID(Array(k)), from: "index"))
            }
        }
        return Self.listResponse(page, hasMore: hasMore)
    }

    /// Every order in creation order, as stored (the API JSON), at one snapshot,
    /// without holding more than one record at a time: for exports. `body`
    /// returns false to stop.
    public func forEachOrder(_ body: ([UInt8]) throws -> Bool) throws {
        let snap = database.snapshot(fillCache: false)
        try database.scan(from: [Keyspace.order], to: [Keyspace.order + 1], snapshot: snap) { _, v in try body(Array(v)) }
    }

}
