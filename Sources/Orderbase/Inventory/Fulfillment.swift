import OrderbaseStore

/// `fulfillment_orders.*` actions and `shipments.*` (docs/fulfillment.md).
/// Each action is one write: the fulfillment orders it changes (an event and
/// an audit entry each, carrying the order's id), the stock it commits or
/// releases (movements), and the order's derived `fulfillment_status`.
extension InventoryService {
    /// Loads an active fulfillment order for an action, refusing one whose status does not support it.
    private func actionable(_ id: String, _ action: String, _ wc: inout WriteContext, field: String = "id") throws(OrderbaseError) -> FulfillmentOrder {
        let fo = try wc.load(FulfillmentOrder.self, id, field: field)
        guard fo.supportedActions.contains(action) else {
            throw OrderbaseError(.invalidState, "fulfillment order \(id) is \(fo.status)\(fo.holdReason.map { " (\($0))" } ?? ""); it does not support \(action)",
                                 field: field, details: .object(["reason": .string("action_not_supported"), "status": .string(fo.status),
                                                                 "supported_actions": .array(fo.supportedActions.map { .string($0) })]))
        }
        return fo
    }

    private func answer(_ fos: [FulfillmentOrder]) -> [UInt8] {
        if fos.count == 1 { return fos[0].apiJSON }
        var w = JSONWriter()
        w.beginObject()
        w.key("data"); w.beginArray(); for fo in fos { fo.write(&w) }; w.endArray()
        w.endObject()
        return w.bytes
    }

    // MARK: hold / release_hold

    /// `{"id", "reason", "note"?}`: stops work on it (it keeps its stock committed).
    public func holdFulfillmentOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let reason = try f.oneOf("reason", Hold.reasons, required: true)!
        let note = try f.string("note", maxLength: 1000)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(id, "hold", &wc)
            var after = before
            after.status = "on_hold"
            after.holdReason = reason
            after.holdNote = note
            after.updatedAt = wc.now
            if reason == "out_of_stock" {
                var batch = StockBatch(reason: "order_committed", reference: "order:" + before.orderID, actor: ctx.actor)
                try queueBackorder(after, &batch, &wc)
                batch.finish(&wc)
            }
            wc.commit("fulfillment_order.held", before: before, after: after, reason: note ?? reason)
            try deriveOrder(before.orderID, &wc)
            return after.apiJSON
        }
    }

    /// `{"id", "note"?}`: resumes it. A backorder (`out_of_stock`) resumes only
    /// when its location covers every line now (`insufficient_stock`).
    public func releaseFulfillmentOrderHold(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let note = try f.string("note", maxLength: 1000)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(id, "release_hold", &wc)
            if before.isBackorder {
                // The backorder queues decide: release what stock allows, oldest first.
                var batch = StockBatch(reason: "order_committed", reference: "order:" + before.orderID, actor: ctx.actor)
                for line in before.lines where line.tracked { if let sku = line.sku { _ = try batch.level(sku, at: before.locationID, field: "id", &wc, createItem: false) } }
                try releaseBackorders(&batch, &wc)
                batch.finish(&wc)
                let after = try wc.load(FulfillmentOrder.self, id)
                guard !after.isBackorder else {
                    throw OrderbaseError(.invalidState, "fulfillment order \(id) waits for stock at \(before.locationID) (older backorders come first); adjust or receive stock, or move it",
                                         field: "id", details: .object(["reason": .string("insufficient_stock")]))
                }
                return after.apiJSON
            }
            var after = before
            after.status = before.resumedStatus(now: wc.now)
            after.holdReason = nil
            after.holdNote = nil
            after.updatedAt = wc.now
            wc.commit("fulfillment_order.hold_released", before: before, after: after, reason: note)
            try deriveOrder(before.orderID, &wc)
            return after.apiJSON
        }
    }

    // MARK: cancel

    /// `{"id", "reason"?}`: releases its unshipped units; it ends `cancelled`
    /// (or `incomplete` when part of it shipped). The order stays as it is.
    public func cancelFulfillmentOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let reason = try f.string("reason", maxLength: 500)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(id, "cancel", &wc)
            var batch = StockBatch(reason: "order_released", reference: "fulfillment_order:" + id, actor: ctx.actor)
            let after = try cancelRemainder(before, &batch, &wc, reason: reason)
            try releaseBackorders(&batch, &wc)
            batch.finish(&wc)
            try deriveOrder(before.orderID, &wc)
            return after.apiJSON
        }
    }

    // MARK: move

    /// `{"id", "location_id"}`: its unshipped lines go to another location that
    /// can ship to the order and has them available (a backorder keeps waiting
    /// there instead). Answers the new fulfillment order; the old one ends
    /// `closed` with what it shipped, `merged_into` the new one.
    public func moveFulfillmentOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let to = try f.string("location_id", maxLength: 64, required: true, allowEmpty: false)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(id, "move", &wc)
            guard to != before.locationID else {
                throw OrderbaseError(.invalidState, "fulfillment order \(id) is at \(to) already", field: "location_id",
                                     details: .object(["reason": .string("same_location")]))
            }
            let location = try wc.load(Location.self, to, field: "location_id")
            let order = try orders.loadForWrite(before.orderID, &wc, expected: nil)
            guard location.active else {
                throw OrderbaseError(.invalidState, "location \(to) is not active", field: "location_id", details: .object(["reason": .string("location_inactive")]))
            }
            if !location.ships(to: order.shippingAddress?.country) {
                throw OrderbaseError(.invalidState, "location \(to) does not ship to \(order.shippingAddress?.country ?? "")", field: "location_id",
                                     details: .object(["reason": .string("location_cannot_ship")]))
            }
            // A backorder keeps waiting at its new location, which must allow backorders of what it waits for.
            if before.isBackorder {
                for line in before.lines where line.tracked && line.remaining > 0 {
                    guard let sku = line.sku, let item = try wc.loadIfPresent(InventoryItem.self, sku), !item.allowsBackorder(at: to) else { continue }
                    throw OrderbaseError(.invalidState, "location \(to) does not take backorders of \(sku) (backorder_locations)", field: "location_id",
                                         details: .object(["reason": .string("backorder_denied"), "sku": .string(sku)]))
                }
            }
            var batch = StockBatch(reason: "order_committed", reference: "fulfillment_order:" + id, actor: ctx.actor)
            var moved = FulfillmentOrder.blank
            moved.id = core.ids.make("fo_", at: wc.now)
            moved.orderID = before.orderID
            moved.locationID = to
            moved.lines = before.lines.filter { $0.remaining > 0 }.map { l in
                var l = l
                l.quantity = l.remaining
                l.shipped = 0
                return l
            }
            moved.status = before.isBackorder ? "on_hold" : "open"
            moved.holdReason = before.isBackorder ? "out_of_stock" : nil
            moved.fulfillAt = before.fulfillAt
            moved.fulfillBy = before.fulfillBy
            if !before.isBackorder, let at = before.fulfillAt, at > wc.now { moved.status = "scheduled" }
            moved.createdAt = wc.now
            moved.updatedAt = wc.now
            try cancelRemainder(before, &batch, &wc, status: "closed", into: moved.id, event: "fulfillment_order.moved")
            try recommit(moved, &batch, &wc)
            wc.commit("fulfillment_order.created", before: nil, after: moved, reason: "moved from \(before.locationID)")
            try appendFulfillmentOrder(moved.id, to: before.orderID, &wc)
            if moved.status == "scheduled", let at = moved.fulfillAt { wc.schedule(Self.openTimer, target: moved.id, at: at) }
            try releaseBackorders(&batch, &wc)
            batch.finish(&wc)
            try deriveOrder(before.orderID, &wc)
            return try wc.load(FulfillmentOrder.self, moved.id).apiJSON
        }
    }

    // MARK: split / merge

    /// `{"id", "lines": [{"line_item_id", "quantity"}]}`: those unshipped
    /// quantities go to a new fulfillment order at the same location, with the
    /// same status. Answers `{"data": [the original, the new one]}`.
    public func splitFulfillmentOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var n = 0
        let parts = try f.objects("lines", maxCount: 500, required: true) { (g: inout Fields) throws(OrderbaseError) -> (String, Int64, Int) in
            defer { n += 1 }
            let line = try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)!
            let q = try g.int("quantity", in: 1...1_000_000, required: true)!
            try g.finish()
            return (line, q, n)
        }!
        try f.finish()
        guard !parts.isEmpty else { throw OrderbaseError.invalid("lines must name at least one line", field: "lines") }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(id, "split", &wc)
            var kept = before
            var split = FulfillmentOrder.blank
            split.id = core.ids.make("fo_", at: wc.now)
            split.orderID = before.orderID
            split.locationID = before.locationID
            split.status = before.status
            split.holdReason = before.holdReason
            split.holdNote = before.holdNote
            split.fulfillAt = before.fulfillAt
            split.fulfillBy = before.fulfillBy
            if split.status == "in_progress" { split.status = "open" }
            split.createdAt = wc.now
            split.updatedAt = wc.now
            for (lineID, q, i) in parts {
                guard let k = kept.lines.firstIndex(where: { $0.lineItemID == lineID }) else {
                    throw OrderbaseError(.notFound, "fulfillment order \(id) has no line \(lineID)", field: "lines[\(i)].line_item_id")
                }
                guard kept.lines[k].remaining >= q else {
                    throw OrderbaseError(.invalidState, "line \(lineID) has \(kept.lines[k].remaining) unshipped, fewer than \(q)", field: "lines[\(i)].quantity",
                                         details: .object(["reason": .string("insufficient_quantity"), "actual": .int(kept.lines[k].remaining)]))
                }
                kept.lines[k].quantity -= q
                if let s = split.lines.firstIndex(where: { $0.lineItemID == lineID }) { split.lines[s].quantity += q }
                else { split.lines.append(.init(lineItemID: lineID, sku: kept.lines[k].sku, quantity: q, tracked: kept.lines[k].tracked)) }
            }
            kept.lines.removeAll { $0.quantity == 0 }
            guard kept.unshipped || kept.shippedAny else {
                throw OrderbaseError(.invalidState, "a split must leave something in fulfillment order \(id)", field: "lines",
                                     details: .object(["reason": .string("nothing_left")]))
            }
            if !kept.unshipped { kept.status = "closed" }
            kept.updatedAt = wc.now
            wc.commit("fulfillment_order.split", before: before, after: kept)
            wc.commit("fulfillment_order.created", before: nil, after: split, reason: "split from \(id)")
            try appendFulfillmentOrder(split.id, to: before.orderID, &wc)
            if split.isBackorder {
                var batch = StockBatch(reason: "order_committed", reference: "fulfillment_order:" + id, actor: ctx.actor)
                try queueBackorder(split, &batch, &wc)
                batch.finish(&wc)
            }
            if split.status == "scheduled", let at = split.fulfillAt { wc.schedule(Self.openTimer, target: split.id, at: at) }
            try deriveOrder(before.orderID, &wc)
            return answer([kept, split])
        }
    }

    /// `{"id", "into"}`: `id`'s unshipped lines join `into` (same order and
    /// location, neither on hold); `id` ends `closed`, `merged_into` it.
    public func mergeFulfillmentOrders(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let into = try f.string("into", maxLength: 64, required: true, allowEmpty: false)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard id != into else {
                throw OrderbaseError(.invalidState, "a fulfillment order cannot merge into itself", field: "into", details: .object(["reason": .string("same_fulfillment_order")]))
            }
            let source = try actionable(id, "merge", &wc)
            let target = try actionable(into, "merge", &wc, field: "into")
            guard source.orderID == target.orderID, source.locationID == target.locationID else {
                throw OrderbaseError(.invalidState, "only fulfillment orders of one order at one location merge", field: "into",
                                     details: .object(["reason": .string("different_order_or_location")]))
            }
            var joined = target
            for l in source.lines where l.remaining > 0 {
                if let k = joined.lines.firstIndex(where: { $0.lineItemID == l.lineItemID }) { joined.lines[k].quantity += l.remaining }
                else { joined.lines.append(.init(lineItemID: l.lineItemID, sku: l.sku, quantity: l.remaining, tracked: l.tracked)) }
            }
            joined.updatedAt = wc.now
            var closed = source
            for n in closed.lines.indices { closed.lines[n].quantity = closed.lines[n].shipped }
            closed.status = "closed"
            closed.mergedInto = into
            closed.updatedAt = wc.now
            wc.commit("fulfillment_order.merged", before: source, after: closed)
            wc.commit("fulfillment_order.updated", before: target, after: joined, reason: "merged \(id)")
            try deriveOrder(source.orderID, &wc)
            return joined.apiJSON
        }
    }

    // MARK: reschedule

    static let openTimer = "fulfillment_order.open"

    /// `{"id", "fulfill_at", "fulfill_by"?}`: a `fulfill_at` in the future
    /// makes it `scheduled` until then (the scheduler opens it); null or past opens it.
    public func rescheduleFulfillmentOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        guard f.has("fulfill_at") else { throw OrderbaseError.invalid("fulfill_at is required (null: open now)", field: "fulfill_at") }
        let at = try f.timestamp("fulfill_at")
        let byGiven = f.has("fulfill_by")
        let byValue = try f.timestamp("fulfill_by")
        try f.finish()
        let by: Int64?? = byGiven ? .some(byValue) : .none
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(id, "reschedule", &wc)
            var after = before
            after.fulfillAt = at
            if let by { after.fulfillBy = by }
            after.status = after.resumedStatus(now: wc.now)
            after.updatedAt = wc.now
            if let old = before.fulfillAt { wc.unschedule(Self.openTimer, target: id, at: old) }
            if after.status == "scheduled", let when = after.fulfillAt { wc.schedule(Self.openTimer, target: id, at: when) }
            wc.commit("fulfillment_order.rescheduled", before: before, after: after)
            try deriveOrder(before.orderID, &wc)
            return after.apiJSON
        }
    }

    /// The timer that opens a scheduled fulfillment order at its `fulfill_at`.
    static let openAction = TimerAction(name: openTimer) { core, timer, wc throws(OrderbaseError) in
        guard let before = try wc.loadIfPresent(FulfillmentOrder.self, timer.target), before.status == "scheduled" else { return }
        var after = before
        after.status = before.resumedStatus(now: wc.now)
        guard after.status != "scheduled" else { return }
        after.updatedAt = wc.now
        wc.commit("fulfillment_order.opened", before: before, after: after)
        try core.inventory.deriveOrder(before.orderID, &wc)
    }

    func appendFulfillmentOrder(_ id: String, to orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) {
        var ids = try wc.read(Keyspace.orderFulfillmentKey(orderID)).map { (b) throws(OrderbaseError) in try Self.decodeIDs(b) } ?? []
        ids.append(id)
        wc.put(Keyspace.orderFulfillmentKey(orderID), JSON.array(ids.map { .string($0) }).bytes)
    }

    // MARK: shipments

    /// `{"fulfillment_order_id", "lines"?: [{"line_item_id", "quantity"}],
    /// "tracking"?: {"carrier", "number", "url"}, "notify_customer"?, "idempotency_key"?}`:
    /// ships those unshipped quantities (default: all of them). Tracked units
    /// leave the location: `on_hand` and `committed` both fall (movements with
    /// reason `order_fulfilled`). Answers the shipment; event `shipment.created`
    /// carries the order after (its `fulfillment_status` derived).
    public func createShipment(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let foID = try f.string("fulfillment_order_id", maxLength: 64, required: true, allowEmpty: false)!
        var n = 0
        let parts: [(String, Int64, Int)]? = try f.objects("lines", maxCount: 500) { (g: inout Fields) throws(OrderbaseError) -> (String, Int64, Int) in
            defer { n += 1 }
            let line = try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)!
            let q = try g.int("quantity", in: 1...1_000_000, required: true)!
            try g.finish()
            return (line, q, n)
        }
        var tracking = Shipment.Tracking()
        if var t = try f.object("tracking") {
            tracking = try Shipment.Tracking.read(&t)
            try t.finish()
            if let url = tracking.url { try WebhookURL.check(url, allowHTTP: true, field: "tracking.url") }
        }
        let notify = try f.bool("notify_customer") ?? false
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        if let parts, parts.isEmpty { throw OrderbaseError.invalid("lines must name at least one line (or leave it out to ship everything)", field: "lines") }
        return try idempotent("shipments.create", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try actionable(foID, "ship", &wc, field: "fulfillment_order_id")
            var after = before
            var shipment = Shipment.blank
            shipment.id = core.ids.make("shp_", at: wc.now)
            let all: [(String, Int64, Int)] = before.lines.filter { $0.remaining > 0 }.enumerated().map { ($0.element.lineItemID, $0.element.remaining, $0.offset) }
            let wanted: [(String, Int64, Int)] = parts ?? all
            guard !wanted.isEmpty else {
                throw OrderbaseError(.invalidState, "fulfillment order \(foID) has nothing left to ship", field: "fulfillment_order_id",
                                     details: .object(["reason": .string("nothing_left")]))
            }
            var batch = StockBatch(reason: "order_fulfilled", reference: "shipment:" + shipment.id, actor: ctx.actor)
            for (lineID, q, i) in wanted {
                let field = parts == nil ? "fulfillment_order_id" : "lines[\(i)].quantity"
                guard let k = after.lines.firstIndex(where: { $0.lineItemID == lineID }) else {
                    throw OrderbaseError(.notFound, "fulfillment order \(foID) has no line \(lineID)", field: "lines[\(i)].line_item_id")
                }
                guard after.lines[k].remaining >= q else {
                    throw OrderbaseError(.invalidState, "line \(lineID) has \(after.lines[k].remaining) left to ship, fewer than \(q)", field: field,
                                         details: .object(["reason": .string("insufficient_quantity"), "actual": .int(after.lines[k].remaining)]))
                }
                after.lines[k].shipped += q
                let line = after.lines[k]
                if line.tracked, let sku = line.sku {
                    var level = try batch.level(sku, at: before.locationID, field: field, &wc, createItem: false)
                    try batch.move(&level, "committed", by: -q, field: field, &wc)
                    try batch.move(&level, "on_hand", by: -q, field: field, &wc)
                }
                shipment.lines.append(.init(lineItemID: lineID, sku: line.sku, quantity: q))
            }
            after.status = after.unshipped ? "in_progress" : "closed"
            after.updatedAt = wc.now
            if let at = before.fulfillAt, before.status == "scheduled" { wc.unschedule(Self.openTimer, target: foID, at: at) }
            batch.finish(&wc)
            wc.commit("fulfillment_order.shipped", before: before, after: after)
            let order = try deriveOrder(before.orderID, &wc)
            shipment.orderID = before.orderID
            shipment.fulfillmentOrderID = foID
            shipment.locationID = before.locationID
            shipment.tracking = tracking
            shipment.notifyCustomer = notify
            shipment.createdAt = wc.now
            shipment.updatedAt = wc.now
            wc.commit("shipment.created", before: nil, after: shipment, order: order)
            return shipment.apiJSON
        }
    }

    /// `{"id", "status", "tracking"?}`: the carrier's news, as the host reports it.
    /// Event `shipment.<status>` (`shipment.in_transit`, `shipment.delivered`, …) with the order.
    public func updateShipmentStatus(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let status = try f.oneOf("status", Shipment.reported, required: true)!
        var tracking: Shipment.Tracking?
        if var t = try f.object("tracking") {
            tracking = try Shipment.Tracking.read(&t)
            try t.finish()
            if let url = tracking?.url { try WebhookURL.check(url, allowHTTP: true, field: "tracking.url") }
        }
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(Shipment.self, id)
            var after = before
            after.status = status
            if let tracking { after.tracking = tracking }
            if status == "delivered" { after.deliveredAt = after.deliveredAt ?? wc.now }
            guard after.storedJSON != before.storedJSON else { return before.apiJSON }
            after.updatedAt = wc.now
            wc.commit("shipment." + status, before: before, after: after, order: try wc.read(Keyspace.orderKey(before.orderID)))
            return after.apiJSON
        }
    }

    public func getShipment(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(Shipment.self, request) }

    /// `{"order_id"?, "limit"?, "starting_after"?}`: shipments, newest first.
    public func listShipments(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(Shipment.self, index: order.map { ("order_id", $0) }, after: after, limit: limit)
    }
}
