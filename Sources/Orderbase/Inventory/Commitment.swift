/// Promising stock to orders (docs/inventory.md, "Commitment"): an order's
/// tracked lines are committed at the locations routing picks, in the
/// order's own batch under the tenant's write lock, so two orders can never
/// take the same units; its cancellation releases them in the cancellation's batch.
extension InventoryService {
    /// One line's quantity at one location; `backorder`: committed beyond what is available.
    struct Assignment {
        var line: Int
        var lineItemID: String
        var sku: String?
        var location: String
        var quantity: Int64
        var tracked: Bool
        var backorder: Bool
    }

    /// The routing decision for an order's lines: where each goes, or which are short.
    struct Plan {
        var assignments: [Assignment] = []
        var short: [JSON] = []
        var firstShort: Int?
        var candidates: [Location] = []
    }

    /// An order's commitment, decided before the order is written and applied after its event.
    struct PendingCommitment {
        var batch: StockBatch
        var plan: Plan
        /// The order's derived `fulfillment_status` once applied.
        var status: String
    }

    /// Decides where `order`'s lines go (`route`) and refuses a short order
    /// (`invalid_state`, `details.reason` `insufficient_stock`, each short line
    /// with what each candidate has), writing nothing. Nil when the order gets
    /// no fulfillment orders: one placed already fulfilled or partly fulfilled
    /// (a historical import), or one without tracked lines in a tenant with no
    /// location that could ship it.
    /// Also nil before the tenant's commit point (`commit_at`, "When stock is
    /// committed"): a state of `wf` (outside the cancelled category) the order is not in.
    func prepareCommitment(_ order: Order, _ wf: Workflow, rules given: RoutingRules? = nil,
                           _ wc: inout WriteContext) throws(OrderbaseError) -> PendingCommitment? {
        guard order.fulfillmentStatus == "unfulfilled", try !core.inventoryCache.isEmpty(core) else { return nil }
        let rules: RoutingRules
        if let given { rules = given } else { rules = try routingRules(&wc) }
        guard rules.commitAt == "create" || order.status == rules.commitAt
                || (wf.state(rules.commitAt)?.category ?? "cancelled") == "cancelled" else { return nil }
        return try plan(order, rules: rules, reference: "order:" + order.id, &wc)
    }

    /// Routes `order`'s lines under `rules` and refuses a short one, writing nothing: the commitment of a new
    /// order, or of the units an order edit adds (`reference` names which).
    func plan(_ order: Order, rules: RoutingRules, reference: String, _ wc: inout WriteContext) throws(OrderbaseError) -> PendingCommitment? {
        var batch = StockBatch(reason: "order_committed", reference: reference, actor: wc.request.actor)
        var trace = RoutingTrace()
        let plan = try route(order, &batch, &wc, rules: rules, trace: &trace)
        if let firstShort = plan.firstShort {
            let country = order.shippingAddress?.country
            let where_ = plan.candidates.isEmpty
                ? "no location the routing rules allow ships to \(country ?? "any country")"
                : "no location has enough"
            throw OrderbaseError(.invalidState, "not enough stock: \(plan.short.count) line(s) short (\(where_)); see details.short",
                                 field: "line_items[\(firstShort)].quantity",
                                 details: .object(["reason": .string("insufficient_stock"), "short": .array(plan.short)]))
        }
        if plan.assignments.isEmpty { return nil }
        let status = plan.assignments.allSatisfy(\.backorder) ? "on_hold" : "unfulfilled"
        return PendingCommitment(batch: batch, plan: plan, status: status)
    }

    /// The commitment a change of an order (`OrderService.commitChange`, before
    /// it is written) makes: when it brings the order into the commit state
    /// (`commit_at` names a state, and the order never had fulfillment orders),
    /// or reopens a cancelled order that had them (`workflows.migrate` to a
    /// state that is not final) whose new state is at the commit point.
    /// Nil for every other change.
    func commitmentOnChange(old: Order, new: Order, _ wc: inout WriteContext) throws(OrderbaseError) -> PendingCommitment? {
        guard new.cancelledAt == nil, new.status != old.status || old.cancelledAt != nil,
              new.fulfillmentStatus == "unfulfilled", try !core.inventoryCache.isEmpty(core) else { return nil }
        let had = try hasFulfillmentOrders(new.id, &wc)
        let rules = try routingRules(&wc)
        if old.cancelledAt != nil {
            guard had, try !holdsCommitment(new.id, &wc) else { return nil }
        } else {
            guard !had, rules.commitAt != "create", new.status == rules.commitAt else { return nil }
        }
        return try prepareCommitment(new, try orders.workflow(of: new), rules: rules, &wc)
    }

    /// Commits the tracked units and makes the fulfillment orders (one per
    /// location, and one more per location for its backorders, on hold with
    /// reason `out_of_stock`), in the order's batch, after its own event
    /// (`order.created`, or the change that reached the commit point).
    func applyCommitment(_ pending: PendingCommitment, to order: Order, adding: Bool = false, _ wc: inout WriteContext) throws(OrderbaseError) {
        var batch = pending.batch
        var groups: [(location: String, backorder: Bool, lines: [FulfillmentOrder.Line])] = []
        for a in pending.plan.assignments {
            if a.tracked, let sku = a.sku {
                var level = try batch.level(sku, at: a.location, field: "line_items", &wc, createItem: false)
                try batch.move(&level, "committed", by: a.quantity, field: "line_items[\(a.line)].quantity", &wc)
            }
            let line = FulfillmentOrder.Line(lineItemID: a.lineItemID, sku: a.sku, quantity: a.quantity, tracked: a.tracked)
            if let g = groups.firstIndex(where: { $0.location == a.location && $0.backorder == a.backorder }) {
                groups[g].lines.append(line)
            } else {
                groups.append((a.location, a.backorder, [line]))
            }
        }
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
            if g.backorder { try queueBackorder(fo, &batch, &wc) }
            wc.commit("fulfillment_order.created", before: nil, after: fo)
            made.append(fo.id)
        }
        batch.finish(&wc)
        // A reopened order keeps its earlier (cancelled) fulfillment orders in the list; an edit (`adding`) its current ones.
        let earlier = order.version == 1 && !adding ? [] : try wc.read(Keyspace.orderFulfillmentKey(order.id)).map(Self.decodeIDs) ?? []
        wc.put(Keyspace.orderFulfillmentKey(order.id), JSON.array((earlier + made).map { .string($0) }).bytes)
    }

    /// Where each line of `order` would go under `rules` (nil: the tenant's),
    /// reading levels through `batch` (staged writes included) and writing
    /// nothing, telling `trace` which rules ran and which location each
    /// dropped. docs/inventory.md, "Routing".
    ///
    /// The candidates are the active locations that fulfill online orders,
    /// less those a filter rule drops (`ships_to`: not shipping to the shipping
    /// address's country; `expression`: false for the order and the location),
    /// ranked by the ordering rules (`rank`, `most_available`, `closest`: the first
    /// decides, the next break ties), then by age. Then, for tracked lines:
    /// (1) with `fewest_locations`, the first candidate that has every line
    /// takes them all; (2) else each line goes whole to the first candidate
    /// that has it; (3) with `allow_split`, a line no candidate has whole is
    /// taken from several, in candidate order; (4) else the first candidate
    /// whose policy for the SKU allows backorders (`backorder_locations`, else
    /// `backorder`) takes what it has and commits the rest as backordered; with
    /// none, the line is short. Untracked
    /// lines go with the first placed line's location, else to the first candidate.
    func route(_ order: Order, _ batch: inout StockBatch, _ wc: inout WriteContext, rules given: RoutingRules? = nil,
               trace: inout RoutingTrace) throws(OrderbaseError) -> Plan {
        var plan = Plan()
        var tracked: [(index: Int, id: String, sku: String, quantity: Int64, item: InventoryItem)] = []
        var untracked: [(index: Int, id: String, sku: String?, quantity: Int64)] = []
        var items: [String: InventoryItem?] = [:]
        for (n, li) in order.lineItems.enumerated() {
            guard let id = li.id else { continue }
            if let sku = li.sku, !sku.isEmpty {
                if items[sku] == nil { items[sku] = .some(try wc.loadIfPresent(InventoryItem.self, sku)) }
                if let item = items[sku]!, item.tracked {
                    tracked.append((n, id, sku, li.quantity, item))
                    continue
                }
            }
            untracked.append((n, id, li.sku, li.quantity))
        }
        trace.tracked = Set(tracked.map(\.sku))
        let rules: RoutingRules
        if let given { rules = given } else { rules = try routingRules(&wc) }
        trace.rules = rules.rules
        var taken: [String: Int64] = [:]  // by level id: what this order has taken so far
        func free(_ sku: String, _ location: String, _ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) -> Int64 {
            let level = try batch.level(sku, at: location, field: "line_items", &wc, createItem: false)
            return level.available - (taken[level.levelID] ?? 0)
        }
        var demand: [String: Int64] = [:]
        for t in tracked { demand[t.sku, default: 0] += t.quantity }

        // The candidates: filters, then orderings.
        let country = order.shippingAddress?.country
        var data: JSON?
        var context: EvaluationContext?
        var candidates: [(location: Location, keys: [Int64])] = []
        let all = try core.inventoryCache.all(core)
        batch.locations.formUnion(all.map(\.id))
        for l in all {
            var dropped: String?
            if !l.active { dropped = "inactive" }
            else if !l.fulfillsOnlineOrders { dropped = "fulfills_online_orders" }
            else {
                for (n, r) in rules.rules.enumerated() where r.isFilter {
                    if r.type == "ships_to", !l.ships(to: country) { dropped = "ships_to"; break }
                    if r.type == "expression", let e = r.expression {
                        if data == nil { data = try JSON.parse(order.render().bytes) }
                        if context == nil { context = try expressions.evaluationContext(currency: order.currency) }
                        let input = JSON.object(["order": data!, "location": try JSON.parse(l.apiJSON)])
                        // An expression that cannot be evaluated for this pair drops the location.
                        if (try? e.test(input, context: context!)) != true { dropped = "rules[\(n)]"; break }
                    }
                }
            }
            trace.locations.append((l, dropped))
            guard dropped == nil else { continue }
            var keys: [Int64] = []
            for r in rules.rules where r.isOrdering {
                switch r.type {
                case "rank": keys.append(l.rank)
                case "closest":  // great-circle metres to the shipping address; unknown coordinates last
                    keys.append(l.address.distance(to: order.shippingAddress).map { Int64($0.rounded()) } ?? Int64.max)
                default:  // most_available: the most units of the order's SKUs first
                    var total: Int64 = 0
                    for sku in demand.keys { total += max(0, try free(sku, l.id, &batch, &wc)) }
                    keys.append(-total)
                }
            }
            candidates.append((l, keys))
        }
        candidates.sort { a, b in a.keys != b.keys ? a.keys.lexicographicallyPrecedes(b.keys) : a.location.id < b.location.id }
        plan.candidates = candidates.map(\.location)
        let ids = plan.candidates.map(\.id)

        // (1) One location with everything.
        var whole: String?
        if rules.has("fewest_locations"), !tracked.isEmpty {
            for l in ids {
                var ok = true
                for (sku, q) in demand where try free(sku, l, &batch, &wc) < q { ok = false; break }
                if ok { whole = l; break }
            }
        }
        for t in tracked {
            func assign(_ location: String, _ quantity: Int64, backorder: Bool) {
                plan.assignments.append(Assignment(line: t.index, lineItemID: t.id, sku: t.sku, location: location, quantity: quantity,
                                                   tracked: true, backorder: backorder))
                taken[location + ":" + t.sku, default: 0] += quantity
            }
            if let whole { assign(whole, t.quantity, backorder: false); continue }
            // (2) The line whole at the first location that has it.
            var placed = false
            for l in ids where try free(t.sku, l, &batch, &wc) >= t.quantity {
                assign(l, t.quantity, backorder: false)
                placed = true
                break
            }
            if placed { continue }
            // (3) Across locations, where allowed.
            var parts: [(String, Int64)] = []
            var left = t.quantity
            if rules.has("allow_split") {
                for l in ids where left > 0 {
                    let q = min(left, max(0, try free(t.sku, l, &batch, &wc)))
                    if q > 0 { parts.append((l, q)); left -= q }
                }
                if left == 0 { for (l, q) in parts { assign(l, q, backorder: false) }; continue }
            }
            // (4) Backordered at the first candidate that allows it for this SKU, or short.
            if let first = ids.first(where: { t.item.allowsBackorder(at: $0) }) {
                if parts.isEmpty {
                    let now = max(0, min(t.quantity, try free(t.sku, first, &batch, &wc)))
                    if now > 0 { parts = [(first, now)] }
                    left = t.quantity - now
                }
                for (l, q) in parts { assign(l, q, backorder: false) }
                assign(first, left, backorder: true)
                continue
            }
            var at: [JSON] = []
            for l in ids { at.append(.object(["location_id": .string(l), "available": .int(try free(t.sku, l, &batch, &wc))])) }
            plan.short.append(.object(["line_index": .int(Int64(t.index)), "sku": .string(t.sku), "requested": .int(t.quantity), "available": .array(at)]))
            plan.firstShort = plan.firstShort ?? t.index
        }
        if let home = plan.assignments.first(where: { !$0.backorder })?.location ?? plan.assignments.first?.location ?? ids.first {
            for u in untracked {
                plan.assignments.append(Assignment(line: u.index, lineItemID: u.id, sku: u.sku, location: home, quantity: u.quantity,
                                                   tracked: false, backorder: false))
            }
        }
        return plan
    }

    /// The order's `fulfillment_status` from its fulfillment orders (nil: none, or all cancelled with nothing shipped).
    /// Closed, merged, moved and incomplete ones count only what they shipped.
    static func derivedStatus(_ fos: [FulfillmentOrder]) -> String? {
        let counted = fos.filter { $0.status != "cancelled" }
        let quantity = counted.reduce(0) { $0 + $1.lines.reduce(0) { $0 + $1.quantity } }
        let shipped = counted.reduce(0) { $0 + $1.lines.reduce(0) { $0 + $1.shipped } }
        if quantity == 0 { return fos.isEmpty ? nil : "unfulfilled" }
        if shipped == quantity { return "fulfilled" }
        if shipped > 0 { return "partially_fulfilled" }
        let active = counted.filter(\.holdsCommitment)
        if !active.isEmpty && active.allSatisfy({ $0.status == "on_hold" }) { return "on_hold" }
        if !active.isEmpty && active.allSatisfy({ $0.status == "scheduled" }) { return "scheduled" }
        return "unfulfilled"
    }

    /// Releases what `orderID`'s fulfillment orders hold committed and cancels
    /// them (those partly shipped end `incomplete`), in the caller's batch (the
    /// order's cancellation).
    func release(_ orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) {
        var batch = StockBatch(reason: "order_released", reference: "order:" + orderID, actor: wc.request.actor)
        for fo in try fulfillmentOrders(of: orderID, &wc) where fo.holdsCommitment {
            try cancelRemainder(fo, &batch, &wc)
        }
        try releaseBackorders(&batch, &wc)
        batch.finish(&wc)
    }

    /// Whether any of the order's fulfillment orders still has work (and commitment).
    func holdsCommitment(_ orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        try fulfillmentOrders(of: orderID, &wc).contains(where: \.holdsCommitment)
    }

    /// Whether the order has fulfillment orders (its `fulfillment_status` is derived).
    func hasFulfillmentOrders(_ orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        try wc.read(Keyspace.orderFulfillmentKey(orderID)) != nil
    }

    /// The order's fulfillment orders, oldest first, as this write sees them.
    func fulfillmentOrders(of orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) -> [FulfillmentOrder] {
        guard let b = try wc.read(Keyspace.orderFulfillmentKey(orderID)) else { return [] }
        var out: [FulfillmentOrder] = []
        for id in try Self.decodeIDs(b) { out.append(try wc.load(FulfillmentOrder.self, id)) }
        return out
    }

    // MARK: order edits

    /// The stock of an order edit (docs/order-edits.md, "Stock"), in the edit's batch: each line whose quantity fell
    /// (or that was removed) gives back units from its fulfillment orders' unshipped quantities, newest fulfillment
    /// order first (backorders before committed stock), releasing committed tracked units; a fulfillment order left
    /// with nothing to ship ends as a cancellation would end it. Added units are then routed as a new order's and
    /// committed in new fulfillment orders (refused `insufficient_stock` as a create would be). Nothing when the order
    /// has no fulfillment orders: its stock is committed later, from its lines as they are then. Answers whether any
    /// fulfillment order changed.
    func adjustCommitment(old: Order, new: Order, reference: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        guard try hasFulfillmentOrders(old.id, &wc) else { return false }
        var changed = false
        var batch = StockBatch(reason: "order_released", reference: reference, actor: wc.request.actor)
        let fos = try fulfillmentOrders(of: old.id, &wc)
        var edited: [String: FulfillmentOrder] = [:]
        for line in old.lineItems {
            guard let id = line.id else { continue }
            var left = line.quantity - (new.lineItems.first { $0.id == id }?.quantity ?? 0)
            for fo in fos.reversed() where left > 0 && fo.holdsCommitment {
                var after = edited[fo.id] ?? fo
                guard let k = after.lines.firstIndex(where: { $0.lineItemID == id }), after.lines[k].remaining > 0 else { continue }
                let take = min(left, after.lines[k].remaining)
                after.lines[k].quantity -= take
                left -= take
                edited[fo.id] = after
            }
        }
        for before in fos {
            guard var after = edited[before.id] else { continue }
            changed = true
            if !after.unshipped {
                // Nothing left to ship: ended as a cancellation ends it (its remaining units released).
                try cancelRemainder(before, &batch, &wc, event: "fulfillment_order.cancelled", reason: "order edit")
                continue
            }
            for (k, line) in before.lines.enumerated() where line.tracked {
                let given = line.quantity - after.lines[k].quantity
                guard given > 0, let sku = line.sku else { continue }
                var level = try batch.level(sku, at: before.locationID, field: "actions", &wc, createItem: false)
                try batch.move(&level, "committed", by: -given, field: "actions", &wc)
            }
            after.lines.removeAll { $0.quantity == 0 && $0.shipped == 0 }
            after.updatedAt = wc.now
            wc.commit("fulfillment_order.edited", before: before, after: after, reason: "order edit")
        }
        try releaseBackorders(&batch, &wc)
        batch.finish(&wc)
        // Added units: each line's growth, routed as a new order's lines are.
        var extra = new
        extra.lineItems = new.lineItems.compactMap { l in
            let before = old.lineItems.first { $0.id == l.id }?.quantity ?? 0
            guard l.quantity > before else { return nil }
            var more = l
            more.quantity = l.quantity - before
            return more
        }
        if !extra.lineItems.isEmpty, let pending = try plan(extra, rules: try routingRules(&wc), reference: reference, &wc) {
            try applyCommitment(pending, to: extra, adding: true, &wc)
            changed = true
        }
        return changed
    }

    // MARK: the pieces fulfillment order actions share

    /// Releases the unshipped tracked units `fo` holds committed and ends it:
    /// `cancelled`, or `incomplete` when part of it shipped (its lines keep only
    /// what shipped). Writes it with event `fulfillment_order.cancelled`.
    @discardableResult
    func cancelRemainder(_ fo: FulfillmentOrder, _ batch: inout StockBatch, _ wc: inout WriteContext,
                         status: String? = nil, into: String? = nil, event: String = "fulfillment_order.cancelled",
                         reason: String? = nil) throws(OrderbaseError) -> FulfillmentOrder {
        try uncommit(fo, &batch, &wc)
        var after = fo
        for n in after.lines.indices { after.lines[n].quantity = after.lines[n].shipped }
        after.status = status ?? (fo.shippedAny ? "incomplete" : "cancelled")
        after.holdReason = nil
        after.holdNote = nil
        after.mergedInto = into
        after.updatedAt = wc.now
        wc.commit(event, before: fo, after: after, reason: reason)
        return after
    }

    /// Takes back the commitment of `fo`'s unshipped tracked units at its location, and its place in backorder queues.
    func uncommit(_ fo: FulfillmentOrder, _ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) {
        for line in fo.lines where line.tracked && line.remaining > 0 {
            guard let sku = line.sku else { continue }
            var level = try batch.level(sku, at: fo.locationID, field: "id", &wc, createItem: false)
            guard level.committed >= line.remaining else {
                throw OrderbaseError(.corruption, "\(sku) at \(fo.locationID) has \(level.committed) committed, fewer than fulfillment order \(fo.id) holds")
            }
            try batch.move(&level, "committed", by: -line.remaining, field: "id", &wc, reason: "order_released")
            if let n = level.backorders.firstIndex(of: fo.id) {
                level.backorders.remove(at: n)
                batch.update(level)
            }
        }
    }

    /// Commits `fo`'s unshipped tracked units at its location (a move or a
    /// split's new fulfillment order); refuses `insufficient_stock` unless it
    /// waits as a backorder.
    func recommit(_ fo: FulfillmentOrder, _ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) {
        var short: [JSON] = []
        for line in fo.lines where line.tracked && line.remaining > 0 {
            guard let sku = line.sku else { continue }
            var level = try batch.level(sku, at: fo.locationID, field: "location_id", &wc, createItem: false)
            if !fo.isBackorder && level.available < line.remaining {
                short.append(.object(["sku": .string(sku), "requested": .int(line.remaining), "available": .int(level.available)]))
                continue
            }
            try batch.move(&level, "committed", by: line.remaining, field: "location_id", &wc, reason: "order_committed")
        }
        if !short.isEmpty {
            throw OrderbaseError(.invalidState, "location \(fo.locationID) does not have enough: see details.short", field: "location_id",
                                 details: .object(["reason": .string("insufficient_stock"), "short": .array(short)]))
        }
        if fo.isBackorder { try queueBackorder(fo, &batch, &wc) }
    }

    /// Puts a backordered fulfillment order at the end of the queue of each level it waits on.
    func queueBackorder(_ fo: FulfillmentOrder, _ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) {
        for line in fo.lines where line.tracked && line.remaining > 0 {
            guard let sku = line.sku else { continue }
            var level = try batch.level(sku, at: fo.locationID, field: "id", &wc, createItem: false)
            if !level.backorders.contains(fo.id) {
                level.backorders.append(fo.id)
                batch.update(level)
            }
        }
    }

    /// After stock changed at the levels `batch` touched: releases the
    /// backorders waiting there, oldest first. One is released (its hold lifted)
    /// when every line it waits for is covered: the level's units on hand, less
    /// what is reserved, unavailable and committed to fulfillment orders that
    /// are not waiting, less what older released backorders took. A backorder
    /// that cannot be released blocks the younger ones at its levels (first
    /// come, first served). Each release is one `fulfillment_order.hold_released`
    /// and its order's derived status, in this batch.
    func releaseBackorders(_ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) {
        var waiting: [String] = []
        for id in batch.touched {
            guard let l = batch.current(id) else { continue }
            for fo in l.backorders where !waiting.contains(fo) { waiting.append(fo) }
        }
        if waiting.isEmpty { return }
        waiting.sort()  // ids are time-ordered: oldest first
        var fos: [String: FulfillmentOrder] = [:]
        for id in waiting { fos[id] = try wc.loadIfPresent(FulfillmentOrder.self, id) }
        // What each level can give its backorders: available plus what the waiting ones already count as committed.
        var cover: [String: Int64] = [:]
        func levelID(_ fo: FulfillmentOrder, _ line: FulfillmentOrder.Line) -> String? {
            guard line.tracked, line.remaining > 0, let sku = line.sku else { return nil }
            return fo.locationID + ":" + sku
        }
        for fo in fos.values.compactMap({ $0 }) where fo.isBackorder {
            for line in fo.lines {
                guard let id = levelID(fo, line), let sku = line.sku else { continue }
                if cover[id] == nil { cover[id] = try batch.level(sku, at: fo.locationID, field: "id", &wc, createItem: false).available }
                cover[id]! += line.remaining
            }
        }
        var blocked: Set<String> = []
        var changedOrders: [String] = []
        for id in waiting {
            guard let fo = fos[id] ?? nil, fo.isBackorder else {
                // No longer waiting: take it out of the queues.
                try dequeue(id, from: batch.touched, &batch, &wc)
                continue
            }
            let needs = fo.lines.compactMap { line in levelID(fo, line).map { ($0, line.remaining) } }
            let ok = needs.allSatisfy { !blocked.contains($0.0) && (cover[$0.0] ?? 0) >= $0.1 }
            guard ok else { blocked.formUnion(needs.map(\.0)); continue }
            for (lid, q) in needs { cover[lid]! -= q }
            var after = fo
            after.status = fo.resumedStatus(now: wc.now)
            after.holdReason = nil
            after.holdNote = nil
            after.updatedAt = wc.now
            for line in fo.lines { if let sku = line.sku, line.tracked { try dequeue(fo.id, level: sku, at: fo.locationID, &batch, &wc) } }
            wc.commit("fulfillment_order.hold_released", before: fo, after: after, reason: "stock arrived")
            if !changedOrders.contains(fo.orderID) { changedOrders.append(fo.orderID) }
        }
        for o in changedOrders { _ = try deriveOrder(o, &wc) }
    }

    private func dequeue(_ fo: String, from levels: [String], _ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) {
        for id in levels {
            guard var l = batch.current(id), let n = l.backorders.firstIndex(of: fo) else { continue }
            l.backorders.remove(at: n)
            batch.update(l)
        }
    }

    private func dequeue(_ fo: String, level sku: String, at location: String, _ batch: inout StockBatch, _ wc: inout WriteContext) throws(OrderbaseError) {
        var l = try batch.level(sku, at: location, field: "id", &wc, createItem: false)
        if let n = l.backorders.firstIndex(of: fo) {
            l.backorders.remove(at: n)
            batch.update(l)
        }
    }

    /// Sets the order's `fulfillment_status` from its fulfillment orders as
    /// this write has them, committing the order when it changed (event
    /// `order.fulfillment_status_changed`); answers the order as it is after.
    @discardableResult
    func deriveOrder(_ orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] {
        let old = try orders.loadForWrite(orderID, &wc, expected: nil)
        var new = old
        if let s = Self.derivedStatus(try fulfillmentOrders(of: orderID, &wc)) { new.fulfillmentStatus = s }
        return try orders.commitChange(old: old, new: new, type: "order.fulfillment_status_changed", reason: nil, &wc)
    }
}

extension FulfillmentOrder {
    var belongsToOrder: String? { orderID }
}

extension Shipment {
    var belongsToOrder: String? { orderID }
}
