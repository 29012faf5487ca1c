import OrderbaseStore

/// Returns (RMA): requested → approved (approval tiers of the return policy) or declined → received line by line,
/// each unit with a condition and a disposition → closed (docs/returns.md). Restocked units go back on hand through
/// the inventory ledger in the receiving's batch; refunds are separate (`refunds.create` with `return_id`).
extension ReturnService {
    static let policyID = "return_policy"

    // MARK: return_policy.get, return_policy.update

    /// `{}` → the tenant's return policy (no window, no condition, no tiers until set).
    public func getPolicy(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        try f.finish()
        let b = try store({ () throws(StoreError) in try database.get(Keyspace.returnPolicyKey(Self.policyID)) })
        return try b.map { (b) throws(OrderbaseError) in try ReturnPolicy.decode(b) }?.apiJSON ?? ReturnPolicy.blank.apiJSON
    }

    /// `{"window_days"?, "condition"?, "approval_tiers"?, "allow_requester"?}` → the policy (event `return_policy.updated`).
    /// Expressions are checked against what they will see (`order`, `actor`, `return`).
    public func updatePolicy(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var edits = ReturnPolicy.blank
        let given = try ReturnPolicy.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        let shape = try core.guardShape().returnPolicy()
        if let c = edits.condition {
            do { _ = try shape.check(c) } catch { throw OrderbaseError(error.code, "condition: \(error.message)", field: "condition", details: error.details) }
        }
        for (i, t) in edits.tiers.enumerated() {
            guard let c = t.when else { continue }
            do { _ = try shape.check(c) } catch {
                throw OrderbaseError(error.code, "approval_tiers[\(i)].when: \(error.message)", field: "approval_tiers[\(i)].when", details: error.details)
            }
        }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.loadIfPresent(ReturnPolicy.self, Self.policyID)
            var after = before ?? ReturnPolicy.blank
            after.apply(edits, fields: given)
            guard after.storedJSON != (before ?? ReturnPolicy.blank).storedJSON else { return after.apiJSON }
            after.updatedAt = wc.now
            wc.commit("return_policy.updated", before: before ?? ReturnPolicy.blank, after: after)
            return after.apiJSON
        }
    }

    // MARK: what an order can send back

    /// Units of each line of `order` fulfilled, as this write sees them: what its fulfillment orders shipped;
    /// for an order without fulfillment orders, all of every line once its `fulfillment_status` is `fulfilled`.
    func fulfilledQuantities(_ order: Order, _ wc: inout WriteContext) throws(OrderbaseError) -> [String: Int64] {
        Self.fulfilled(order, try inventory.fulfillmentOrders(of: order.id, &wc))
    }

    /// The same from the order and its fulfillment orders as the caller read them (returns, order edits).
    static func fulfilled(_ order: Order, _ fos: [FulfillmentOrder]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        if fos.isEmpty {
            if order.fulfillmentStatus == "fulfilled" { for l in order.lineItems { if let id = l.id { out[id, default: 0] += l.quantity } } }
            return out
        }
        for fo in fos { for l in fo.lines { out[l.lineItemID, default: 0] += l.shipped } }
        return out
    }

    /// The order's returns, oldest first, as this write sees them.
    func returns(of orderID: String, _ wc: inout WriteContext) throws(OrderbaseError) -> [OrderReturn] {
        guard let b = try wc.read(Keyspace.orderReturnsKey(orderID)) else { return [] }
        var out: [OrderReturn] = []
        for id in try InventoryService.decodeIDs(b) { out.append(try wc.load(OrderReturn.self, id)) }
        return out
    }

    /// When the order's goods reached the customer, for the return window: its shipments' latest delivery,
    /// else its latest shipment, else when it was placed (an order fulfilled by hand). Shipments are read as stored.
    func deliveredAt(_ order: Order) throws(OrderbaseError) -> Int64 {
        var delivered: Int64?, shipped: Int64?
        for id in try indexedIDs(.shipment, "order_id", order.id) {
            let s = try stored(Shipment.self, id)
            if let d = s.deliveredAt { delivered = max(delivered ?? d, d) }
            shipped = max(shipped ?? s.createdAt, s.createdAt)
        }
        return delivered ?? shipped ?? order.placedAt
    }

    // MARK: returns.create

    /// `{"order_id", "line_items": [{"line_item_id", "quantity", "reason"?, "note"?}], "requested_via"?, "override_policy"?,
    /// "note"?, "idempotency_key"?}` → the return. Only fulfilled units not held by another return can come back; the
    /// policy's window and condition are checked (staff may override); approval tiers that apply wait for approvals.
    /// Event `return.requested` (a staff return no tier applies to is `approved` at once).
    public func createReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let orderID = try f.string("order_id", maxLength: 64, required: true, allowEmpty: false)!
        var lines: [ReturnLine] = []
        var n = 0
        for l in try f.objects("line_items", maxCount: 500, required: true, { (g: inout Fields) throws(OrderbaseError) -> ReturnLine in
            defer { n += 1 }
            let l = ReturnLine(lineItemID: try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)!,
                               quantity: try g.int("quantity", in: 1...1_000_000, required: true)!,
                               reason: try g.oneOf("reason", OrderReturn.reasons) ?? "unknown",
                               note: try g.string("note", maxLength: 1000, allowEmpty: false))
            try g.finish()
            return l
        })! {
            // A line named twice counts once, its quantities added (the first reason and note kept).
            if let i = lines.firstIndex(where: { $0.lineItemID == l.lineItemID }) { lines[i].quantity += l.quantity } else { lines.append(l) }
        }
        guard !lines.isEmpty else { throw OrderbaseError.invalid("line_items needs at least one line", field: "line_items") }
        let via = try f.oneOf("requested_via", OrderReturn.channels) ?? "staff"
        let override = try f.bool("override_policy") ?? false
        if override && via == "customer" {
            throw OrderbaseError.invalid("override_policy is for returns staff request (requested_via staff)", field: "override_policy")
        }
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        // The window counts from delivery: the order's shipments as stored (a delivery reported this instant may not count yet).
        let stored = try Order.decode(try orders.loadRecord(orderID, snapshot: nil, field: "order_id"))
        let delivered = try deliveredAt(stored)
        let context = try expressions.evaluationContext(currency: stored.currency)
        return try inventory.idempotent("returns.create", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let order = try payments.loadOrder(orderID, &wc)
            let fulfilled = try fulfilledQuantities(order, &wc)
            let others = try returns(of: order.id, &wc)
            let shares = RefundMath.orderDiscountShares(order)
            var r = OrderReturn.blank
            r.id = ids.make("ret_", at: wc.now)
            r.orderID = order.id
            r.currency = order.currency
            r.requestedVia = via
            r.note = note
            r.requestedBy = ctx.actor
            for (k, var l) in lines.enumerated() {
                guard let i = order.lineItems.firstIndex(where: { $0.id == l.lineItemID }) else {
                    throw OrderbaseError(.notFound, "line item \(l.lineItemID) is not a line of order \(order.number)", field: "line_items[\(k)].line_item_id")
                }
                let held = others.reduce(Int64(0)) { $0 + $1.holds(l.lineItemID) }
                let returnable = max(0, (fulfilled[l.lineItemID] ?? 0) - held)
                guard l.quantity <= returnable else {
                    throw OrderbaseError(.invalidState, "line item \(l.lineItemID) has \(returnable) fulfilled unit\(returnable == 1 ? "" : "s") that can be returned, not \(l.quantity)",
                                         field: "line_items[\(k)].quantity",
                                         details: .object(["reason": .string("exceeds_returnable_quantity"), "returnable_quantity": .int(returnable)]))
                }
                l.sku = order.lineItems[i].sku
                r.value += OrderReturn.value(of: order, line: i, quantity: l.quantity, shares: shares)
                r.lineItems.append(l)
            }
            let policy = try wc.loadIfPresent(ReturnPolicy.self, Self.policyID) ?? ReturnPolicy.blank
            let days = wc.now >= delivered ? (wc.now - delivered) / 86_400_000 : 0
            let data = try OrderReturn.policyData(order, actor: ctx.actor, lines: r.lineItems, value: r.value, requestedVia: via, daysSinceDelivery: days)
            r.windowEndsAt = policy.windowDays.map { delivered + $0 * 86_400_000 }
            var outside: String?
            if let end = r.windowEndsAt, wc.now > end {
                outside = "the return window of \(policy.windowDays!) day\(policy.windowDays == 1 ? "" : "s") after delivery ended \(Timestamp.format(end))"
            } else if let c = policy.condition, !(try c.test(data, context: context)) {
                outside = "the return policy's condition `\((try? ExpressionText.format(c.json)) ?? "")` is false for this return"
            }
            if let outside {
                guard override else {
                    throw OrderbaseError(.invalidState, outside + (via == "staff" ? " (staff may request it with override_policy)" : ""), field: "order_id",
                                         details: .object(["reason": .string("outside_return_policy"),
                                                           "window_ends_at": r.windowEndsAt.map { .string(Timestamp.format($0)) } ?? .null]))
                }
                r.policyOverridden = true
            }
            for t in policy.tiers where try t.when?.test(data, context: context) ?? true {
                r.tiers.append(ApprovalRequest.Tier(name: t.name, approvers: t.approvers, roles: t.roles))
            }
            r.allowRequester = policy.allowRequester
            if via == "staff" && r.tiers.isEmpty {
                r.status = "approved"
                r.decidedBy = ctx.actor
                r.decidedAt = wc.now
            }
            r.createdAt = wc.now
            r.updatedAt = wc.now
            wc.put(Keyspace.orderReturnsKey(order.id), JSON.array((others.map(\.id) + [r.id]).map { .string($0) }).bytes)
            wc.commit("return.requested", before: nil, after: r, order: try wc.read(Keyspace.orderKey(order.id)))
            return r.apiJSON
        }
    }

    // MARK: returns.approve, returns.decline, returns.cancel, returns.close

    /// The return `id` as this write sees it, at `expected` version when given, in one of `statuses`.
    private func load(_ id: String, expected: Int64?, in statuses: Set<String>, to action: String,
                      _ wc: inout WriteContext) throws(OrderbaseError) -> OrderReturn {
        let r = try wc.load(OrderReturn.self, id)
        if let expected, expected != r.version { throw OrderbaseError.staleVersion("return \(id)", actual: r.version, expected: expected) }
        guard statuses.contains(r.status) else {
            throw OrderbaseError(.invalidState, "return \(id) is \(r.status): it cannot be \(action)", field: "id",
                                 details: .object(["reason": .string("invalid_return_status"), "status": .string(r.status)]))
        }
        return r
    }

    /// Writes the return's change with its event (the order attached) and answers it.
    private func commit(_ before: OrderReturn, _ after: inout OrderReturn, _ type: String, reason: String?, _ wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] {
        after.version = before.version + 1
        after.updatedAt = wc.now
        wc.commit(type, before: before, after: after, reason: reason, order: try wc.read(Keyspace.orderKey(after.orderID)))
        return after.apiJSON
    }

    private func decisionInput(_ request: JSON, declineReason: Bool = false) throws(OrderbaseError) -> (String, String?, String?, Int64?, RequestContext) {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let reason = declineReason ? try f.oneOf("reason", OrderReturn.declineReasons, required: true) : nil
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return (id, reason, note, expected, ctx)
    }

    /// `{"id", "note"?, "expected_version"?}` → the return. Without approval tiers it is approved at once; with them
    /// this is one approval (by an actor holding a role of the first unsatisfied tier, not twice, not its requester
    /// unless the policy allows), and the last one approves it. Events `return.approval_recorded`, `return.approved`.
    public func approveReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, _, note, expected, ctx) = try decisionInput(request)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, in: ["requested"], to: "approved", &wc)
            var after = before
            if !before.tiers.isEmpty {
                let n = try ApprovalService.approverTier(before.tiers, of: "return \(id)", requestedBy: before.requestedBy,
                                                         allowRequester: before.allowRequester, ctx.actor)
                after.tiers[n].votes.append(ApprovalRequest.Vote(actor: ctx.actor, at: wc.now, note: note))
            }
            guard after.tiers.allSatisfy(\.satisfied) else { return try commit(before, &after, "return.approval_recorded", reason: note, &wc) }
            after.status = "approved"
            after.decidedBy = ctx.actor
            after.decidedAt = wc.now
            return try commit(before, &after, "return.approved", reason: note, &wc)
        }
    }

    /// `{"id", "reason", "note"?, "expected_version"?}` → the return, declined (by an actor who could approve it when it
    /// has tiers). Its units can be asked for again. Event `return.declined`.
    public func declineReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, reason, note, expected, ctx) = try decisionInput(request, declineReason: true)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, in: ["requested"], to: "declined", &wc)
            if !before.tiers.isEmpty {
                _ = try ApprovalService.approverTier(before.tiers, of: "return \(id)", requestedBy: before.requestedBy,
                                                     allowRequester: before.allowRequester, ctx.actor)
            }
            var after = before
            after.status = "declined"
            after.declineReason = reason
            after.decidedBy = ctx.actor
            after.decidedAt = wc.now
            after.closedAt = wc.now
            return try commit(before, &after, "return.declined", reason: note, &wc)
        }
    }

    /// `{"id", "note"?, "expected_version"?}` → the return, cancelled: one still requested or approved with nothing received.
    /// Event `return.cancelled`.
    public func cancelReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, _, note, expected, ctx) = try decisionInput(request)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, in: ["requested", "approved"], to: "cancelled (close it once units came back)", &wc)
            if before.lineItems.contains(where: { $0.refunded > 0 }) {
                throw OrderbaseError(.invalidState, "return \(id) has refunds: close it instead", field: "id",
                                     details: .object(["reason": .string("refunded")]))
            }
            var after = before
            after.status = "cancelled"
            after.closedAt = wc.now
            return try commit(before, &after, "return.cancelled", reason: note, &wc)
        }
    }

    /// `{"id", "note"?, "expected_version"?}` → the return, closed: approved, in progress or received. Units still
    /// expected (and missing ones) are let go: the order's lines can be returned again for them. Event `return.closed`.
    public func closeReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, _, note, expected, ctx) = try decisionInput(request)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, in: ["approved", "in_progress", "received"], to: "closed", &wc)
            var after = before
            after.status = "closed"
            after.closedAt = wc.now
            return try commit(before, &after, "return.closed", reason: note, &wc)
        }
    }

    // MARK: returns.receive

    /// `{"id", "line_items": [{"line_item_id", "quantity", "condition"?, "disposition"?, "location_id"?}],
    /// "expected_version"?, "idempotency_key"?}` → the return. Each part is units of one line as they came back
    /// (`received`, the default, `damaged`, or `missing`) and where they go: `restock` (on hand at `location_id`,
    /// available), `processing_required` (on hand at `location_id`, held as `quality_control`) or `not_restocked`.
    /// Stock moves in the same batch (reason `return_restocked`, reference `return:<id>`), and restocked units fill
    /// backorders. Receiving refunds nothing. Event `return.received`.
    public func receiveReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        var n = 0
        let parts = try f.objects("line_items", maxCount: 500, required: true) { (g: inout Fields) throws(OrderbaseError) -> ReturnReceipt in
            defer { n += 1 }
            var p = ReturnReceipt(lineItemID: try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)!,
                                  quantity: try g.int("quantity", in: 1...1_000_000, required: true)!,
                                  condition: try g.oneOf("condition", ReturnReceipt.conditions) ?? "received",
                                  disposition: try g.oneOf("disposition", ReturnReceipt.dispositions),
                                  locationID: try g.string("location_id", maxLength: 64, allowEmpty: false), at: 0, by: ctx.actor)
            try g.finish()
            let path = "line_items[\(n)]"
            if p.condition == "missing" {
                if p.disposition != nil { throw OrderbaseError.invalid("\(path).disposition: missing units came back to nowhere; leave it out", field: "\(path).disposition") }
                if p.locationID != nil { throw OrderbaseError.invalid("\(path).location_id: missing units go to no location; leave it out", field: "\(path).location_id") }
                return p
            }
            guard let d = p.disposition else {
                throw OrderbaseError.invalid("\(path).disposition is required for units that came back (restock, processing_required or not_restocked)", field: "\(path).disposition")
            }
            if d == "not_restocked", p.locationID != nil {
                throw OrderbaseError.invalid("\(path).location_id: units not restocked go to no location; leave it out", field: "\(path).location_id")
            }
            if d != "not_restocked", p.locationID == nil {
                throw OrderbaseError.invalid("\(path).location_id is required to \(d == "restock" ? "restock" : "hold for processing") units", field: "\(path).location_id")
            }
            p.disposition = d
            return p
        }!
        guard !parts.isEmpty else { throw OrderbaseError.invalid("line_items needs at least one line", field: "line_items") }
        let expected = try f.int("expected_version", in: 1...Int64.max)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        return try inventory.idempotent("returns.receive", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try load(id, expected: expected, in: ["approved", "in_progress"], to: "received (approve it first)", &wc)
            var after = before
            guard before.receipts.count + parts.count <= OrderReturn.maxReceipts else {
                throw OrderbaseError(.limitExceeded, "return \(id) would keep more than \(OrderReturn.maxReceipts) receipts", field: "line_items")
            }
            var batch = StockBatch(reason: "return_restocked", reference: "return:" + id, actor: ctx.actor)
            for (k, var p) in parts.enumerated() {
                let path = "line_items[\(k)]"
                guard let i = after.lineItems.firstIndex(where: { $0.lineItemID == p.lineItemID }) else {
                    throw OrderbaseError(.notFound, "return \(id) has no line \(p.lineItemID)", field: "\(path).line_item_id")
                }
                let left = after.lineItems[i].outstanding
                guard p.quantity <= left else {
                    throw OrderbaseError(.invalidState, "line \(p.lineItemID) of return \(id) expects \(left) more unit\(left == 1 ? "" : "s"), not \(p.quantity)",
                                         field: "\(path).quantity", details: .object(["reason": .string("exceeds_expected_quantity"), "expected_quantity": .int(left)]))
                }
                switch p.condition {
                case "damaged": after.lineItems[i].damaged += p.quantity
                case "missing": after.lineItems[i].missing += p.quantity
                default: after.lineItems[i].received += p.quantity
                }
                switch p.disposition {
                case "restock", "processing_required":
                    guard let sku = after.lineItems[i].sku else {
                        throw OrderbaseError(.invalidState, "line \(p.lineItemID) has no SKU: its units cannot go back into stock (not_restocked)",
                                             field: "\(path).disposition", details: .object(["reason": .string("not_restockable")]))
                    }
                    var level = try batch.level(sku, at: p.locationID!, field: "\(path).location_id", &wc, createItem: true)
                    try batch.move(&level, "on_hand", by: p.quantity, field: "\(path).quantity", &wc)
                    if p.disposition == "restock" {
                        after.lineItems[i].restocked += p.quantity
                    } else {
                        try batch.move(&level, "quality_control", by: p.quantity, field: "\(path).quantity", &wc)
                        after.lineItems[i].processing += p.quantity
                    }
                case "not_restocked": after.lineItems[i].notRestocked += p.quantity
                default: break
                }
                p.at = wc.now
                after.receipts.append(p)
            }
            try inventory.releaseBackorders(&batch, &wc)
            batch.finish(&wc)
            after.status = after.receivingStatus
            return try commit(before, &after, "return.received", reason: nil, &wc)
        }
    }

    // MARK: returns.exchange

    /// `{"id", "line_items": [...], "note"?, "idempotency_key"?}` → `{"return", "refund", "transactions", "order"}`: the
    /// returned units are exchanged for new lines, in one write (docs/returns.md, "Exchanges"). The return's units not yet
    /// refunded are refunded as a **credit** — a refund (naming the return) whose transactions, gateway `exchange`, go to
    /// the order's captures and sales newest first, and one `sale` of the same amount, gateway `exchange`, that applies the
    /// credit to the order (no money moves; the ledger books the swap). The new lines are added as an order edit adds
    /// lines (committed stock, new fulfillment orders). `exchange_difference` = the new lines' worth − the credit: when
    /// positive the customer owes it and the new fulfillment orders wait on hold, reason `awaiting_payment` (record the
    /// payment, then `fulfillment_orders.release_hold`); when negative it is owed back (`payments.refund` or a recorded
    /// refund). Events `refund.created`, `return.exchanged`, `order.exchanged`.
    public func exchangeReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let lines = try f.objects("line_items", maxCount: 50, required: true) { (g: inout Fields) throws(OrderbaseError) -> EditAction in
            let l = try LineItem.read(&g, limits: limits)
            try g.finish()
            if l.id != nil { throw OrderbaseError.invalid("\(g.fieldPath("id")): a new line gets its id from the exchange", field: g.fieldPath("id")) }
            return .addLine(l)
        }!
        guard !lines.isEmpty else { throw OrderbaseError.invalid("line_items needs at least one line", field: "line_items") }
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        let stored = try stored(OrderReturn.self, id)
        let candidates = try payments.refundParents(stored.orderID)
        return try inventory.idempotent("returns.exchange", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let r = try load(id, expected: nil, in: ["approved", "in_progress", "received"], to: "exchanged (approve it first)", &wc)
            guard r.exchangeLineItemIDs.isEmpty else {
                throw OrderbaseError(.invalidState, "return \(id) was exchanged already", field: "id", details: .object(["reason": .string("already_exchanged")]))
            }
            let base = try orders.loadForWrite(r.orderID, &wc, expected: nil)
            if base.isFinal {
                throw OrderbaseError(.invalidState, "order \(base.number) is \(base.status): it takes no new lines", field: "id",
                                     details: .object(["reason": .string("order_closed")]))
            }
            var order = base
            // The credit: the return's units not refunded yet, refunded through the return, and applied as a sale.
            var credit = RefundRequest(orderID: r.orderID, returnID: r.id)
            credit.lines = r.lineItems.compactMap { l in l.quantity > l.refunded ? (l.lineItemID, l.quantity - l.refunded) : nil }
            var refund: Refund?
            var txns: [Transaction] = []
            if !credit.lines.isEmpty {
                try credit.resolve(with: r)
                var made = try credit.workOut(order)
                made.id = ids.make("rfd_", at: wc.now)
                made.note = "exchange" + (note.map { ": " + $0 } ?? "")
                made.createdBy = ctx.actor
                made.createdAt = wc.now
                made.updatedAt = wc.now
                if made.total > 0 {
                    guard made.total <= order.payments.refundable else {
                        throw PaymentLedger.refuse("the returned units' credit of \(made.total) exceeds what the order paid and can give back (\(max(0, order.payments.refundable)))",
                                                   reason: "exceeds_refundable", field: "id", ["refundable": .int(max(0, order.payments.refundable))])
                    }
                    txns = try payments.refundsFrom(candidates, total: made.total, status: "success", gateway: "exchange", message: "exchange credit", &wc)
                }
                try payments.book(&made, &txns, source: "recorded", given: false, order: &order, &wc)
                if made.total > 0 {
                    var sale = Transaction.blank
                    sale.kind = "sale"
                    sale.gateway = "exchange"
                    sale.amount = made.total
                    sale.message = "exchange credit for return \(r.id)"
                    try payments.record(&sale, source: "recorded", order: &order, &wc)
                    txns.append(sale)
                }
                refund = made
            }
            let creditTotal = refund?.total ?? 0
            // The new lines, as an order edit adds them: their stock committed in new fulfillment orders.
            let before = Set(try inventory.fulfillmentOrders(of: r.orderID, &wc).map(\.id))
            var new = try OrderEdit.apply(lines, to: order, fulfilled: try fulfilledQuantities(order, &wc), limits: limits) { ids.make("li_", at: wc.now) }
            try customFields.check(&new, given: [], linesGiven: true)
            let value = new.total - order.total
            let difference = value - creditTotal
            let moved: Bool
            do throws(OrderbaseError) { moved = try inventory.adjustCommitment(old: order, new: new, reference: "return:" + r.id, &wc) } catch {
                throw error.details?["reason"] == .string("insufficient_stock") ? OrderbaseError(error.code, error.message, field: "line_items", details: error.details) : error
            }
            if moved && difference > 0 {
                for fo in try inventory.fulfillmentOrders(of: r.orderID, &wc) where !before.contains(fo.id) && (fo.status == "open" || fo.status == "scheduled") {
                    var held = fo
                    held.status = "on_hold"
                    held.holdReason = "awaiting_payment"
                    held.holdNote = "exchange for return \(r.id): \(difference) due"
                    held.updatedAt = wc.now
                    wc.commit("fulfillment_order.held", before: fo, after: held, reason: held.holdNote)
                }
            }
            let orderBytes = try orders.commitRestocked(r.orderID, moved: moved, type: "order.exchanged",
                                                        reason: "exchange for return \(r.id)" + (note.map { ": " + $0 } ?? ""), &wc) { o in
                o.lineItems = new.lineItems
                o.payments = new.payments
                o.refundedShipping = new.refundedShipping
                o.refundedSubtotal = new.refundedSubtotal
            }.bytes
            let counted = try wc.load(OrderReturn.self, id)
            var after = counted
            after.exchangeLineItemIDs = new.lineItems.compactMap(\.id).filter { lid in !base.lineItems.contains { $0.id == lid } }
            after.exchangeValue = value
            after.exchangeDifference = difference
            _ = try commit(counted, &after, "return.exchanged", reason: note, &wc)
            var w = JSONWriter()
            w.beginObject()
            w.key("return"); w.raw(after.apiJSON)
            w.key("refund"); if let refund { w.raw(try wc.load(Refund.self, refund.id).apiJSON) } else { w.null() }
            w.key("transactions"); w.beginArray(); for t in txns { w.raw(try wc.load(Transaction.self, t.id).answerJSON) }; w.endArray()
            w.key("order"); w.raw(orderBytes)
            w.endObject()
            return w.bytes
        }
    }

    // MARK: returns.get, returns.list

    public func getReturn(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(OrderReturn.self, request) }

    /// `{"order_id"?, "status"?, "limit"?, "starting_after"?}` → returns, newest first.
    public func listReturns(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try listByOrder(OrderReturn.self, request, statuses: OrderReturn.statuses) { $0.status }
    }

    // MARK: refunds of a return

    /// The lines a refund naming return `r` gives back when it names none: each line's units that came back
    /// (received or damaged) and are not refunded yet.
    static func unrefundedUnits(_ r: OrderReturn) -> [(id: String, quantity: Int64)] {
        r.lineItems.compactMap { l in
            let q = l.received + l.damaged - l.refunded
            return q > 0 ? (l.lineItemID, q) : nil
        }
    }

    /// Checks that a refund of `lines` may name return `r` of order `orderID`: the return is the order's, approved (or
    /// further on, not declined or cancelled), and each line is one of its lines with units not yet refunded through it.
    static func checkRefund(of r: OrderReturn, orderID: String, lines: [(id: String, quantity: Int64)]) throws(OrderbaseError) {
        guard r.orderID == orderID else {
            throw OrderbaseError(.invalidState, "return \(r.id) is of another order", field: "return_id", details: .object(["reason": .string("wrong_order")]))
        }
        guard ["approved", "in_progress", "received", "closed"].contains(r.status) else {
            throw OrderbaseError(.invalidState, "return \(r.id) is \(r.status): only an approved return's units can be refunded through it", field: "return_id",
                                 details: .object(["reason": .string("invalid_return_status"), "status": .string(r.status)]))
        }
        for (n, want) in lines.enumerated() {
            guard let l = r.lineItems.first(where: { $0.lineItemID == want.id }) else {
                throw OrderbaseError(.invalidState, "line item \(want.id) is not in return \(r.id)", field: "line_items[\(n)].line_item_id",
                                     details: .object(["reason": .string("not_in_return")]))
            }
            let left = l.quantity - l.refunded
            guard want.quantity <= left else {
                throw OrderbaseError(.invalidState, "return \(r.id) has \(left) unit\(left == 1 ? "" : "s") of line \(want.id) left to refund, not \(want.quantity)",
                                     field: "line_items[\(n)].quantity",
                                     details: .object(["reason": .string("exceeds_refundable_quantity"), "refundable_quantity": .int(left)]))
            }
        }
    }

    /// Counts (`sign` 1) or gives back (-1) refund `refund`'s units on the return it names, in the refund's write.
    func countRefund(_ refund: Refund, sign: Int64, _ wc: inout WriteContext) throws(OrderbaseError) {
        guard let rid = refund.returnID else { return }
        let before = try wc.load(OrderReturn.self, rid)
        var after = before
        for l in refund.lineItems {
            if let i = after.lineItems.firstIndex(where: { $0.lineItemID == l.lineItemID }) { after.lineItems[i].refunded += sign * l.quantity }
        }
        if sign > 0, !after.refundIDs.contains(refund.id) { after.refundIDs.append(refund.id) }
        _ = try commit(before, &after, sign > 0 ? "return.refunded" : "return.refund_failed", reason: "refund \(refund.id)", &wc)
    }
}
