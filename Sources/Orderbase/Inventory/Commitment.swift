/// Promising stock to orders (docs/inventory.md, "Commitment"): an order's
/// tracked lines are committed at the locations routing picks, in the
/// order's own batch under the tenant's write lock, so two orders can never
/// take the same units; its cancellation releases them in the cancellation's batch.
extension InventoryService {
    /// One line's quantity at one location; `backorder`: committed beyond what is available.
    struct Assignment {
        var line: Int
        var lineItemID: String
        var sku: String
        var location: String
        var quantity: Int64
        var backorder: Bool
    }

    /// Commits `order`'s tracked lines (lines whose SKU has a tracked inventory
    /// item) and makes its fulfillment orders. Lines without a SKU, or whose SKU
    /// inventory does not know or does not track, commit nothing.
    ///
    /// Routing, in order: the candidates are the active locations that fulfill
    /// online orders and ship to the shipping address's country, by rank then
    /// age. (1) The first candidate that has every tracked line available takes
    /// the whole order. (2) Else each line goes whole to the first candidate
    /// that has it available (a line is never split across locations).
    /// (3) Else, for a SKU that allows backorders, the first candidate takes
    /// what it has and commits the rest as backordered, in a fulfillment order
    /// on hold (reason `out_of_stock`); for one that denies them the order fails
    /// with `invalid_state`, `details.reason` `insufficient_stock`, naming each
    /// short line and what each candidate has.
    func commit(_ order: Order, _ wc: inout WriteContext) throws(OrderbaseError) {
        var tracked: [(index: Int, id: String, sku: String, quantity: Int64, allow: Bool)] = []
        var items: [String: InventoryItem?] = [:]
        for (n, li) in order.lineItems.enumerated() {
            guard let sku = li.sku, !sku.isEmpty, let id = li.id else { continue }
            if items[sku] == nil { items[sku] = .some(try wc.loadIfPresent(InventoryItem.self, sku)) }
            guard let item = items[sku]!, item.tracked else { continue }
            tracked.append((n, id, sku, li.quantity, item.backorder == "allow"))
        }
        if tracked.isEmpty { return }
        let country = order.shippingAddress?.country
        let candidates = try locations(snapshot: nil).filter { $0.canShip(to: country) }
        var batch = StockBatch(reason: "order_committed", reference: "order:" + order.id, actor: wc.request.actor)
        var taken: [String: Int64] = [:]  // by level id: what this order has taken so far
        func free(_ sku: String, _ location: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Int64 {
            let level = try batch.level(sku, at: location, field: "line_items", &wc, createItem: false)
            return level.available - (taken[level.levelID] ?? 0)
        }

        var plan: [Assignment] = []
        var demand: [String: Int64] = [:]
        for t in tracked { demand[t.sku, default: 0] += t.quantity }
        // (1) One location with everything.
        var whole: String?
        for l in candidates {
            var ok = true
            for (sku, q) in demand where try free(sku, l.id, &wc) < q { ok = false; break }
            if ok { whole = l.id; break }
        }
        var short: [JSON] = []
        var firstShort: Int?
        for t in tracked {
            if let whole {
                plan.append(Assignment(line: t.index, lineItemID: t.id, sku: t.sku, location: whole, quantity: t.quantity, backorder: false))
                continue
            }
            // (2) The line whole at the first location that has it.
            var placed = false
            for l in candidates where try free(t.sku, l.id, &wc) >= t.quantity {
                plan.append(Assignment(line: t.index, lineItemID: t.id, sku: t.sku, location: l.id, quantity: t.quantity, backorder: false))
                taken[l.id + ":" + t.sku, default: 0] += t.quantity
                placed = true
                break
            }
            if placed { continue }
            // (3) Backordered at the first candidate, or short.
            if t.allow, let first = candidates.first {
                let now = max(0, min(t.quantity, try free(t.sku, first.id, &wc)))
                if now > 0 {
                    plan.append(Assignment(line: t.index, lineItemID: t.id, sku: t.sku, location: first.id, quantity: now, backorder: false))
                }
                plan.append(Assignment(line: t.index, lineItemID: t.id, sku: t.sku, location: first.id, quantity: t.quantity - now, backorder: true))
                taken[first.id + ":" + t.sku, default: 0] += t.quantity
                continue
            }
            var at: [JSON] = []
            for l in candidates { at.append(.object(["location_id": .string(l.id), "available": .int(try free(t.sku, l.id, &wc))])) }
            short.append(.object(["line_index": .int(Int64(t.index)), "sku": .string(t.sku), "requested": .int(t.quantity), "available": .array(at)]))
            firstShort = firstShort ?? t.index
        }
        if let firstShort {
            let where_ = candidates.isEmpty
                ? "no active location that fulfills online orders ships to \(country ?? "any country")"
                : "no location has enough"
            throw OrderbaseError(.invalidState, "not enough stock: \(short.count) line(s) short (\(where_)); see details.short",
                                 field: "line_items[\(firstShort)].quantity",
                                 details: .object(["reason": .string("insufficient_stock"), "short": .array(short)]))
        }

        // Commit, and one fulfillment order per location (and one more per location for its backorders).
        var groups: [(location: String, backorder: Bool, lines: [FulfillmentOrder.Line])] = []
        for a in plan {
            var level = try batch.level(a.sku, at: a.location, field: "line_items", &wc, createItem: false)
            try batch.move(&level, "committed", by: a.quantity, field: "line_items[\(a.line)].quantity", &wc)
            let line = FulfillmentOrder.Line(lineItemID: a.lineItemID, sku: a.sku, quantity: a.quantity)
            if let g = groups.firstIndex(where: { $0.location == a.location && $0.backorder == a.backorder }) {
                groups[g].lines.append(line)
            } else {
                groups.append((a.location, a.backorder, [line]))
            }
        }
        _ = batch.finish(&wc)
        var made: [String] = []
        for g in groups {
            var fo = FulfillmentOrder.blank
            fo.id = core.ids.make("fo_", at: wc.now)
            fo.orderID = order.id
            fo.locationID = g.location
            fo.status = g.backorder ? "on_hold" : "open"
            fo.holdReason = g.backorder ? "out_of_stock" : nil
            fo.lines = g.lines
            fo.createdAt = wc.now
            fo.updatedAt = wc.now
            wc.commit("fulfillment_order.created", before: nil, after: fo)
            made.append(fo.id)
        }
        wc.put(Keyspace.orderFulfillmentKey(order.id), JSON.array(made.map { .string($0) }).bytes)
    }

    /// Releases what `orderID`'s fulfillment orders hold committed and cancels
    /// them, in the caller's batch (the order's cancellation).
    func release(_ orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) {
        guard let b = try wc.read(Keyspace.orderFulfillmentKey(orderID)) else { return }
        var batch = StockBatch(reason: "order_released", reference: "order:" + orderID, actor: wc.request.actor)
        for id in try Self.decodeIDs(b) {
            let before = try wc.load(FulfillmentOrder.self, id)
            guard before.holdsCommitment else { continue }
            for line in before.lines {
                var level = try batch.level(line.sku, at: before.locationID, field: "id", &wc, createItem: false)
                guard level.committed >= line.quantity else {
                    throw OrderbaseError(.corruption, "\(line.sku) at \(before.locationID) has \(level.committed) committed, fewer than fulfillment order \(id) holds")
                }
                try batch.move(&level, "committed", by: -line.quantity, field: "id", &wc)
            }
            var after = before
            after.status = "cancelled"
            after.holdReason = nil
            after.updatedAt = wc.now
            wc.commit("fulfillment_order.cancelled", before: before, after: after)
        }
        _ = batch.finish(&wc)
    }

    /// Whether any of the order's fulfillment orders still holds stock committed.
    func holdsCommitment(_ orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        guard let b = try wc.read(Keyspace.orderFulfillmentKey(orderID)) else { return false }
        for id in try Self.decodeIDs(b) where try wc.load(FulfillmentOrder.self, id).holdsCommitment { return true }
        return false
    }
}
