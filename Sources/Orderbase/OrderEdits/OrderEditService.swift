import OrderbaseStore

/// Order edits (docs/order-edits.md): `begin` → `stage` actions → `preview` → `commit` (one write: the order, its
/// stock and fulfillment orders, its sales ledger line, one audit entry with every change) or `discard`.
extension OrderEditService {
    private func open(_ id: String, _ wc: inout WriteContext, to action: String) throws(OrderbaseError) -> OrderEdit {
        let e = try wc.load(OrderEdit.self, id)
        guard e.status == "open" else {
            throw OrderbaseError(.invalidState, "order edit \(id) is \(e.status): it cannot be \(action)", field: "id",
                                 details: .object(["reason": .string("invalid_edit_status"), "status": .string(e.status)]))
        }
        return e
    }

    private func notFinal(_ order: Order) throws(OrderbaseError) {
        if order.isFinal {
            throw OrderbaseError(.invalidState, "order \(order.number) is \(order.status): it cannot be edited", field: "order_id",
                                 details: .object(["reason": .string("order_closed")]))
        }
    }

    // MARK: order_edits.begin

    /// `{"order_id", "note"?}` → the edit (`open`, `base_version` the order's version). Event `order_edit.begun`.
    public func begin(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let orderID = try f.string("order_id", maxLength: 64, required: true, allowEmpty: false)!
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let order = try payments.loadOrder(orderID, &wc)
            try notFinal(order)
            var e = OrderEdit.blank
            e.id = ids.make("oe_", at: wc.now)
            e.orderID = order.id
            e.baseVersion = order.version
            e.note = note
            e.createdBy = ctx.actor
            e.createdAt = wc.now
            e.updatedAt = wc.now
            wc.commit("order_edit.begun", before: nil, after: e)
            return e.apiJSON
        }
    }

    // MARK: order_edits.stage

    /// `{"id", "actions": [...]}` → the edit with the actions appended (at most 100 in all). Every staged action is
    /// tried against the order as it is now; one that does not apply is refused (with its index) and nothing is staged.
    public func stage(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let actions = try f.objects("actions", maxCount: OrderEdit.maxActions, required: true) { (g: inout Fields) throws(OrderbaseError) -> EditAction in
            let a = try EditAction.read(&g, limits: limits)
            try g.finish()
            return a
        }!
        guard !actions.isEmpty else { throw OrderbaseError.invalid("actions needs at least one action", field: "actions") }
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try open(id, &wc, to: "staged to")
            guard before.actions.count + actions.count <= OrderEdit.maxActions else {
                throw OrderbaseError.quota("order_edit_actions", limit: OrderEdit.maxActions,
                                           "an order edit stages at most \(OrderEdit.maxActions) actions; \(id) has \(before.actions.count)", field: "actions")
            }
            let order = try payments.loadOrder(before.orderID, &wc)
            try notFinal(order)
            do throws(OrderbaseError) {
                _ = try OrderEdit.apply(before.actions + actions, to: order, fulfilled: try returns.fulfilledQuantities(order, &wc), limits: limits) { "li_new" }
            } catch {
                // Paths name the edit's whole list; a request's own actions start after the staged ones.
                throw Self.shifted(error, by: -before.actions.count)
            }
            var after = before
            after.actions += actions
            after.updatedAt = wc.now
            wc.commit("order_edit.staged", before: before, after: after)
            return after.apiJSON
        }
    }

    /// `error` with an `actions[n]` path moved by `offset` (a staged list is checked whole; a request names its own).
    static func shifted(_ error: OrderbaseError, by offset: Int) -> OrderbaseError {
        guard let field = error.field, field.hasPrefix("actions["), let close = field.firstIndex(of: "]"),
              let n = Int(field[field.index(field.startIndex, offsetBy: 8)..<close]), n + offset >= 0 else { return error }
        return OrderbaseError(error.code, error.message, field: "actions[\(n + offset)]" + field[field.index(after: close)...], details: error.details)
    }

    // MARK: order_edits.preview

    /// `{"id"}` → `{"total_before", "total_after", "balance", "balance_due", "refund_owed", "stock", "order", "edit"}`:
    /// the order as the staged actions would leave it (new lines show placeholder ids), what the customer would owe
    /// (`balance` = total after − captured: positive is due, negative is owed back), and each line's unit change
    /// (`stock`: committed stock follows it when the order has fulfillment orders). Writes nothing.
    public func preview(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        try f.finish()
        let snap = database.snapshot()
        guard let stored = try store({ () throws(StoreError) in try database.get(Keyspace.orderEditKey(id), snapshot: snap) }) else {
            throw OrderbaseError(.notFound, "no order edit \(id)", field: "id")
        }
        let e = try OrderEdit.decode(stored)
        let order = try Order.decode(try orders.loadRecord(e.orderID, snapshot: snap))
        var fos: [FulfillmentOrder] = []
        for fid in try inventory.fulfillmentOrderIDs(of: order.id, snapshot: snap) {
            guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.fulfillmentOrderKey(fid), snapshot: snap) }) else { continue }
            fos.append(try FulfillmentOrder.decode(b))
        }
        var n = 0
        let new = try OrderEdit.apply(e.actions, to: order, fulfilled: ReturnService.fulfilled(order, fos), limits: limits) {
            n += 1
            return "li_new_\(n)"
        }
        let balance = new.total - new.payments.captured
        var w = JSONWriter()
        w.beginObject()
        w.key("total_before"); w.int(order.total)
        w.key("total_after"); w.int(new.total)
        w.key("balance"); w.int(balance)
        w.key("balance_due"); w.int(max(0, balance))
        w.key("refund_owed"); w.int(max(0, -balance))
        w.key("stock"); w.beginArray()
        for (id, sku, before, after) in Self.unitChanges(order, new) {
            w.beginObject()
            w.key("line_item_id"); w.string(id)
            w.key("sku"); w.optionalString(sku)
            w.key("quantity_before"); w.int(before)
            w.key("quantity_after"); w.int(after)
            w.key("delta"); w.int(after - before)
            w.endObject()
        }
        w.endArray()
        w.key("order"); w.raw(new.render().bytes)
        w.key("edit"); w.raw(e.apiJSON)
        w.endObject()
        return w.bytes
    }

    /// Each line whose quantity differs between `old` and `new` (removed: 0 after; added: 0 before), old lines first.
    static func unitChanges(_ old: Order, _ new: Order) -> [(String, String?, Int64, Int64)] {
        var out: [(String, String?, Int64, Int64)] = []
        for l in old.lineItems {
            let after = new.lineItems.first { $0.id == l.id }?.quantity ?? 0
            if after != l.quantity { out.append((l.id ?? "", l.sku, l.quantity, after)) }
        }
        for l in new.lineItems where !old.lineItems.contains(where: { $0.id == l.id }) { out.append((l.id ?? "", l.sku, 0, l.quantity)) }
        return out
    }

    // MARK: order_edits.commit, order_edits.discard

    /// `{"id", "expected_version"?, "notify_customer"?}` → `{"edit", "order"}`. The order must still be at the edit's
    /// `base_version` (or at `expected_version` when given): else `version_conflict`. One write: the order (event
    /// `order.edited`, one audit entry with every change), its stock and fulfillment orders, its sales ledger line,
    /// and the edit (`order_edit.committed`, with `notify_customer` and `balance` in its data for templates).
    public func commit(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        let notify = try f.bool("notify_customer") ?? false
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try open(id, &wc, to: "committed")
            guard !before.actions.isEmpty else {
                throw OrderbaseError(.invalidState, "order edit \(id) has no actions: stage some, or discard it", field: "id",
                                     details: .object(["reason": .string("nothing_staged")]))
            }
            let old = try orders.loadForWrite(before.orderID, &wc, expected: expected ?? before.baseVersion)
            try notFinal(old)
            var new = try OrderEdit.apply(before.actions, to: old, fulfilled: try returns.fulfilledQuantities(old, &wc), limits: limits) {
                ids.make("li_", at: wc.now)
            }
            try customFields.check(&new, given: [], linesGiven: true)
            let moved: Bool
            do throws(OrderbaseError) { moved = try inventory.adjustCommitment(old: old, new: new, reference: "order_edit:" + id, &wc) } catch {
                // Routing names the added units' lines by their place among the additions: the edit's actions are what to fix.
                throw error.details?["reason"] == .string("insufficient_stock") ? OrderbaseError(error.code, error.message, field: "actions", details: error.details) : error
            }
            let reason = "order edit \(id)" + (before.note.map { ": " + $0 } ?? "")
            let (edited, orderBytes) = try orders.commitRestocked(old.id, moved: moved, type: "order.edited", reason: reason, &wc) { o in
                o.lineItems = new.lineItems
                o.shippingLines = new.shippingLines
                o.shippingAddress = new.shippingAddress
                o.billingAddress = new.billingAddress
            }
            var after = before
            after.status = "committed"
            after.totalBefore = old.total
            after.totalAfter = edited.total
            after.notifyCustomer = notify
            after.updatedAt = wc.now
            after.closedAt = wc.now
            let balance = edited.total - edited.payments.captured
            wc.commit("order_edit.committed", before: before, after: after, reason: before.note,
                      data: JSON.object(["notify_customer": .bool(notify), "balance": .int(balance)]).bytes, order: orderBytes)
            var w = JSONWriter()
            w.beginObject()
            w.key("edit"); w.raw(after.apiJSON)
            w.key("order"); w.raw(orderBytes)
            w.endObject()
            return w.bytes
        }
    }

    /// `{"id", "note"?}` → the edit, discarded (nothing of it is applied). Event `order_edit.discarded`.
    public func discard(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try open(id, &wc, to: "discarded")
            var after = before
            after.status = "discarded"
            after.updatedAt = wc.now
            after.closedAt = wc.now
            wc.commit("order_edit.discarded", before: before, after: after, reason: note)
            return after.apiJSON
        }
    }

    // MARK: order_edits.get, order_edits.list

    public func get(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(OrderEdit.self, request) }

    /// `{"order_id"?, "status"?, "limit"?, "starting_after"?}` → edits, newest first.
    public func list(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try listByOrder(OrderEdit.self, request, statuses: OrderEdit.statuses) { $0.status }
    }
}
