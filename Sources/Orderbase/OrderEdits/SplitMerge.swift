import OrderbaseStore

/// A link an order keeps to another made by `orders.split` or `orders.merge` (docs/order-edits.md, "Split and merge").
public struct OrderLink: Equatable, Sendable {
    public static let relations = ["split_from", "split_into", "merged_from", "merged_into"]
    /// Links one order may carry: a split or merge that would pass it is `limit_exceeded`.
    static let maxPerOrder = 100
    var relation: String
    var orderID: String
    var number: String
    var at: Int64

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> OrderLink {
        OrderLink(relation: try f.string("relation", required: true)!, orderID: try f.string("order_id", required: true)!,
                  number: try f.string("number") ?? "", at: try f.timestamp("at") ?? 0)
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("relation"); w.string(relation)
        w.key("order_id"); w.string(orderID)
        w.key("number"); w.string(number)
        w.key("at"); w.timestamp(at)
        w.endObject()
    }
}

/// What splitting off `units` of each line does to an order's money, exactly: a moved unit takes its line's
/// discounts and taxes in proportion (the line keeps the rest), the new order takes the order-level discounts in
/// proportion to its discounted subtotal (rounded down, spread over the discounts in order), shipping stays. So the
/// two orders' totals add up to the order's total to the minor unit.
enum OrderSplit {
    /// `(kept, moved)`: the order less the units, and the lines and discounts of the new order (ids not yet given).
    static func divide(_ order: Order, units: [(id: String, quantity: Int64)]) -> (kept: Order, lines: [LineItem], discounts: [Discount]) {
        var kept = order
        var moved: [LineItem] = []
        for (id, q) in units {
            guard let i = kept.lineItems.firstIndex(where: { $0.id == id }) else { continue }
            let line = kept.lineItems[i]
            var part = line
            part.id = nil
            part.quantity = q
            part.refundedQuantity = 0
            for d in part.discounts.indices {
                part.discounts[d].amount = RefundMath.scaled(line.discounts[d].amount, q, line.quantity)
                kept.lineItems[i].discounts[d].amount -= part.discounts[d].amount
            }
            for t in part.taxLines.indices {
                let amount = RefundMath.scaled(line.taxLines[t].amount ?? 0, q, line.quantity)
                part.taxLines[t].amount = amount
                kept.lineItems[i].taxLines[t].amount = (line.taxLines[t].amount ?? 0) - amount
            }
            kept.lineItems[i].quantity -= q
            moved.append(part)
        }
        kept.lineItems.removeAll { $0.quantity == 0 }
        func net(_ lines: [LineItem]) -> Int64 {
            lines.reduce(0) { sum, l in sum + l.quantity * l.unitPrice - l.discounts.reduce(0) { $0 + $1.amount } }
        }
        let whole = net(order.lineItems), part = net(moved)
        let orderDiscount = order.discounts.reduce(Int64(0)) { $0 + $1.amount }
        // Rounded down, the new order's share never leaves the kept order more discount than its own lines.
        var left = RefundMath.scaledDown(orderDiscount, part, whole)
        var discounts: [Discount] = []
        for (n, d) in order.discounts.enumerated() {
            var share = RefundMath.scaledDown(d.amount, part, whole)
            share = min(d.amount, share)
            discounts.append(Discount(code: d.code, description: d.description, amount: share))
            left -= share
            kept.discounts[n].amount -= share
        }
        for n in discounts.indices where left > 0 && discounts[n].amount < order.discounts[n].amount {
            discounts[n].amount += 1
            kept.discounts[n].amount -= 1
            left -= 1
        }
        return (kept, moved, discounts.filter { $0.amount > 0 })
    }
}

extension OrderEditService {
    /// `invalid_state` naming order `o` and why it cannot be split or merged.
    private static func refusal(_ o: Order, _ reason: String, _ why: String, field: String) -> OrderbaseError {
        OrderbaseError(.invalidState, "order \(o.number) \(why)", field: field, details: .object(["reason": .string(reason), "order_id": .string(o.id)]))
    }

    /// Why an order cannot be split or merged now (nil: it can): closed, waiting for approval, held, with payments
    /// in flight (an open authorization cannot be divided at the gateway; a pending transaction is unsettled), or
    /// with refunded units or shipping (each refund's shares were worked out from the lines as they were).
    private func unmovable(_ o: Order, field: String) -> OrderbaseError? {
        func refuse(_ reason: String, _ why: String) -> OrderbaseError { Self.refusal(o, reason, why, field: field) }
        if o.isFinal { return refuse("order_closed", "is \(o.status)") }
        if o.pendingApproval != nil { return refuse("pending_approval", "has a transition waiting for approval: decide it first") }
        if !o.holds.isEmpty { return refuse("on_hold", "is on hold: release its holds first") }
        if o.payments.authorized > 0 { return refuse("open_authorization", "has an open authorization of \(o.payments.authorized): capture or void it first") }
        if o.payments.pending > 0 || o.payments.refundPending > 0 { return refuse("pending_transactions", "has pending transactions: settle them first") }
        if o.refundedSubtotal != 0 || o.refundedShipping != 0 { return refuse("refunded", "has refunded units or shipping: its lines stay as they were refunded") }
        if o.relatedOrders.count >= OrderLink.maxPerOrder {
            return OrderbaseError.quota("related_orders", limit: OrderLink.maxPerOrder, "order \(o.number) already links \(OrderLink.maxPerOrder) orders", field: field)
        }
        return nil
    }

    private func loadOrder(_ id: String, expected: Int64?, field: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Order {
        guard let bytes = try wc.read(Keyspace.orderKey(id)) else { throw OrderbaseError(.notFound, "no order with id \(id)", field: field) }
        let o = try Order.decode(bytes)
        if let expected, expected != o.version { throw OrderbaseError.staleVersion("order \(o.number)", actual: o.version, expected: expected) }
        return o
    }

    /// Moves `amount` of what `from` paid to `to`: refunds on `from` (gateway `gateway`, from its captures and sales,
    /// newest first) and one sale on `to`, admitted to `to` here and staged by the caller after `to` is written.
    private func transfer(_ amount: Int64, from: inout Order, candidates: [Transaction], to: inout Order, gateway: String,
                          _ wc: inout WriteContext) throws(OrderbaseError) -> (refunds: [Transaction], sale: [Transaction]) {
        guard amount > 0 else { return ([], []) }
        var refunds = try payments.refundsFrom(candidates, total: amount, status: "success", gateway: gateway,
                                               message: "applied to order \(to.number)", &wc)
        for n in refunds.indices { try payments.record(&refunds[n], source: "recorded", order: &from, &wc) }
        var sale = Transaction.blank
        sale.kind = "sale"
        sale.gateway = gateway
        sale.amount = amount
        sale.message = "applied from order \(from.number)"
        var sales = [sale]
        try payments.admitInline(&sales, order: &to, &wc)
        return (refunds, sales)
    }

    // MARK: orders.split

    /// `{"id", "line_items": [{"line_item_id", "quantity"}], "expected_version"?, "note"?, "idempotency_key"?}` →
    /// `{"order", "new_order", "transactions"}`. Moves unfulfilled units of an order without refunds to a new order in one write:
    /// money divided exactly (`OrderSplit`), what was paid apportioned by total (a refund on the order that
    /// leaves its `captured`, and a sale on the new one, gateway `split`), committed stock released and committed again for the new order, both orders
    /// linked (`related_orders`). Events `order.split` and `order.created`.
    public func split(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let wanted = try f.objects("line_items", maxCount: 500, required: true) { (g: inout Fields) throws(OrderbaseError) -> (id: String, quantity: Int64) in
            let l = (id: try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)!,
                     quantity: try g.int("quantity", in: 1...1_000_000, required: true)!)
            try g.finish()
            return l
        }!
        guard !wanted.isEmpty else { throw OrderbaseError.invalid("line_items needs at least one line", field: "line_items") }
        let expected = try f.int("expected_version", in: 1...Int64.max)
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        let candidates = try payments.refundParents(id)
        return try inventory.idempotent("orders.split", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let old = try loadOrder(id, expected: expected, field: "id", &wc)
            if let e = unmovable(old, field: "id") { throw e }
            let fulfilled = try returns.fulfilledQuantities(old, &wc)
            for (n, w) in wanted.enumerated() {
                let path = "line_items[\(n)]"
                guard let l = old.lineItems.first(where: { $0.id == w.id }) else {
                    throw OrderbaseError(.notFound, "order \(old.number) has no line item \(w.id)", field: path + ".line_item_id")
                }
                // Checked once the line is found (a line the order does not have is a 404 however often it is named).
                if wanted[..<n].contains(where: { $0.id == w.id }) {
                    throw OrderbaseError.invalid("line item \(w.id) is named twice", field: path + ".line_item_id")
                }
                let movable = l.quantity - (fulfilled[w.id] ?? 0)
                guard w.quantity <= movable else {
                    throw OrderbaseError(.invalidState, "line item \(w.id) has \(max(0, movable)) unfulfilled units; \(w.quantity) cannot move",
                                         field: path + ".quantity", details: .object(["reason": .string("not_movable"), "movable": .int(max(0, movable))]))
                }
            }
            var (kept, lines, discounts) = OrderSplit.divide(old, units: wanted)
            guard !kept.lineItems.isEmpty else {
                throw OrderbaseError(.invalidState, "the split would leave order \(old.number) no units: cancel it instead, or keep some",
                                     field: "line_items", details: .object(["reason": .string("nothing_left")]))
            }
            try kept.computeTotals()
            // The new order: the order's customer, addresses, channel, workflow and state, with the moved units.
            var new = old
            orders.identify(&new, &wc)
            new.version = 1
            new.lineItems = lines.map { l in var l = l; l.id = ids.make("li_", at: wc.now); return l }
            new.shippingLines = []
            new.discounts = discounts
            new.payments = PaymentSummary()
            new.refundedShipping = 0
            new.refundedSubtotal = 0
            new.fulfillmentStatus = "unfulfilled"
            new.holds = []
            new.pendingApproval = nil
            new.sla = []
            new.slaStatus = nil
            new.createdAt = wc.now
            new.updatedAt = wc.now
            new.relatedOrders = [OrderLink(relation: "split_from", orderID: old.id, number: old.number, at: wc.now)]
            try new.computeTotals()
            // What was paid, less refunds, apportioned by total (rounded down; never more than the new order's total).
            let share = old.total > 0 ? min(new.total, RefundMath.scaledDown(max(0, old.payments.net), new.total, old.total)) : 0
            let (refunds, sale) = try transfer(share, from: &kept, candidates: candidates, to: &new, gateway: "split", &wc)
            if sale.isEmpty && old.payments.transactions > 0 { new.financialStatus = new.payments.financialStatus(total: new.total) }
            // Stock: the moved units' commitment released from the order, then the new order's committed as a new order's is.
            let released = try inventory.adjustCommitment(old: old, new: kept, reference: "split:" + new.id, &wc)
            let wf = try orders.workflow(of: new)
            let commitment = released || old.fulfillmentStatus == "unfulfilled" ? try inventory.prepareCommitment(new, wf, &wc) : nil
            if let commitment { new.fulfillmentStatus = commitment.status }
            try SLATracker.track(old: nil, new: &new, &wc)
            let link = OrderLink(relation: "split_into", orderID: new.id, number: new.number, at: wc.now)
            let orderBytes = try orders.commitRestocked(old.id, moved: released, type: "order.split",
                                                        reason: "split into order \(new.number)" + (note.map { ": " + $0 } ?? ""), &wc) { o in
                o.lineItems = kept.lineItems
                o.discounts = kept.discounts
                o.payments = kept.payments
                o.relatedOrders.append(link)
            }.bytes
            let newBytes = try orders.insert(new, commitment: commitment, reason: "split from order \(old.number)" + (note.map { ": " + $0 } ?? ""), &wc).bytes
            payments.stageInline(sale, &wc)
            var w = JSONWriter()
            w.beginObject()
            w.key("order"); w.raw(orderBytes)
            w.key("new_order"); w.raw(newBytes)
            w.key("transactions"); w.beginArray(); for t in refunds + sale { w.raw(t.answerJSON) }; w.endArray()
            w.endObject()
            return w.bytes
        }
    }

    // MARK: orders.merge

    /// `{"id", "order_ids": [...], "expected_version"?, "note"?, "idempotency_key"?}` → `{"order", "merged",
    /// "transactions"}`. Moves every line, shipping line and discount of each order in `order_ids` (1–20 open,
    /// unfulfilled, unrefunded orders of the same customer and currency) into order `id` in one write: what each
    /// paid moves with it (a refund on it and a sale on `id`, gateway `merge`), each is cancelled through its
    /// workflow (its stock released) and linked `merged_into`; `id` commits the stock of the lines it takes.
    /// Events `order.merged` on each order.
    public func merge(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let others = try f.array("order_ids", maxCount: 20, required: true)!.enumerated().map { (n, v) throws(OrderbaseError) -> String in
            guard case .string(let s) = v, !s.isEmpty, !s.isLonger(than: 64) else {
                throw OrderbaseError.invalid("order_ids[\(n)] must be an order id (a string of 1 to 64 characters)", field: "order_ids[\(n)]")
            }
            return s
        }
        guard !others.isEmpty else { throw OrderbaseError.invalid("order_ids needs at least one order", field: "order_ids") }
        let expected = try f.int("expected_version", in: 1...Int64.max)
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        var candidates: [[Transaction]] = []
        for o in others { candidates.append(try payments.refundParents(o)) }
        return try inventory.idempotent("orders.merge", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let target = try loadOrder(id, expected: expected, field: "id", &wc)
            var sources: [Order] = []
            func customer(_ o: Order) -> String? { o.customer?.id ?? o.customer?.email?.lowercased() }
            for (n, o) in ([id] + others).enumerated() {
                let field = n == 0 ? "id" : "order_ids[\(n - 1)]"
                let order = n == 0 ? target : try loadOrder(o, expected: nil, field: field, &wc)
                // Checked once the order is found (an order that is not there is a 404 however often it is named).
                if n > 0 && (o == id || others[..<(n - 1)].contains(o)) {
                    throw OrderbaseError.invalid(o == id ? "order_ids names the order merged into" : "order \(o) is named twice", field: field)
                }
                if let e = unmovable(order, field: field) { throw e }
                func refuse(_ reason: String, _ why: String) -> OrderbaseError { Self.refusal(order, reason, why, field: field) }
                if try returns.fulfilledQuantities(order, &wc).values.contains(where: { $0 > 0 }) { throw refuse("fulfilled_lines", "has fulfilled units: only unfulfilled orders merge") }
                guard customer(order) != nil else { throw refuse("no_customer", "has no customer id or email to merge by") }
                if n > 0 {
                    if order.currency != target.currency { throw refuse("currency_mismatch", "is in \(order.currency), order \(target.number) in \(target.currency)") }
                    if customer(order) != customer(target) { throw refuse("customer_mismatch", "is another customer's than order \(target.number)") }
                    sources.append(order)
                }
            }
            var merged = target
            for s in sources {
                merged.lineItems += s.lineItems
                merged.shippingLines += s.shippingLines
                merged.discounts += s.discounts
                merged.relatedOrders.append(OrderLink(relation: "merged_from", orderID: s.id, number: s.number, at: wc.now))
            }
            if merged.lineItems.count > limits.maxLineItems || merged.shippingLines.count > limits.maxShippingLines || merged.discounts.count > limits.maxDiscounts
                || merged.relatedOrders.count > OrderLink.maxPerOrder {
                throw OrderbaseError.quota("line_items", limit: limits.maxLineItems, "the merged order would pass a limit: \(merged.lineItems.count) line items (≤ \(limits.maxLineItems)), "
                                     + "\(merged.shippingLines.count) shipping lines (≤ \(limits.maxShippingLines)), \(merged.discounts.count) discounts (≤ \(limits.maxDiscounts)), "
                                     + "\(merged.relatedOrders.count) related orders (≤ \(OrderLink.maxPerOrder))", field: "order_ids")
            }
            try merged.computeTotals()
            let reason = note.map { ": " + $0 } ?? ""
            // Each merged order: what it paid moves to the target, then it is cancelled through its workflow (its stock released).
            var txns: [Transaction] = []
            var sales: [Transaction] = []
            var answers: [[UInt8]] = []
            for (n, s) in sources.enumerated() {
                var gone = s
                let (refunds, sale) = try transfer(max(0, s.payments.net), from: &gone, candidates: candidates[n], to: &merged, gateway: "merge", &wc)
                txns += refunds
                sales += sale
                let wf = try orders.workflow(of: s)
                let to = try OrderService.cancelTarget(s, wf)
                guard case .apply(let t) = try orders.decide(s, wf, to: to, reason: "merged into order \(target.number)", actor: ctx.actor, now: wc.now) else {
                    throw Self.refusal(s, "cancel_needs_approval", "needs approval to be cancelled in workflow \(wf.key): it cannot be merged away", field: "order_ids[\(n)]")
                }
                var (cancelled, _) = OrderService.applied(gone, wf, t, reason: "merged into order \(target.number)", now: wc.now)
                cancelled.relatedOrders.append(OrderLink(relation: "merged_into", orderID: target.id, number: target.number, at: wc.now))
                answers.append(try orders.commitChange(old: s, new: cancelled, type: "order.merged", reason: "merged into order \(target.number)" + reason, &wc))
                // Its sale moves with its lines: the sales ledger takes it out here and the target's edit line puts it in.
                var emptied = s
                emptied.subtotal = 0; emptied.totalDiscount = 0; emptied.totalTax = 0; emptied.totalShipping = 0; emptied.lineItems = []
                if let line = SalesLine.edit(old: s, new: emptied, id: ids.make("sl_", at: wc.now), at: wc.now) { wc.save(before: nil, after: line) }
            }
            // The target commits stock for the lines it takes (released by the cancellations above, in this batch).
            let moved = try inventory.adjustCommitment(old: target, new: merged, reference: "merge:" + target.id, &wc)
            // A target holding no stock yet (no tracked lines of its own) commits the lines it takes as a new order would.
            let commitment = moved ? nil : try inventory.prepareCommitment(merged, try orders.workflow(of: target), &wc)
            let (edited, orderBytes) = try orders.commitRestocked(target.id, moved: moved, type: "order.merged",
                                                                  reason: "merged orders " + sources.map(\.number).joined(separator: ", ") + reason, &wc) { o in
                o.lineItems = merged.lineItems
                o.shippingLines = merged.shippingLines
                o.discounts = merged.discounts
                o.relatedOrders = merged.relatedOrders
                o.payments = merged.payments
                if let commitment { o.fulfillmentStatus = commitment.status }
            }
            if let commitment { try inventory.applyCommitment(commitment, to: edited, &wc) }
            payments.stageInline(sales, &wc)
            var w = JSONWriter()
            w.beginObject()
            w.key("order"); w.raw(orderBytes)
            w.key("merged"); w.beginArray(); for a in answers { w.raw(a) }; w.endArray()
            w.key("transactions"); w.beginArray(); for t in txns + sales { w.raw(t.answerJSON) }; w.endArray()
            w.endObject()
            return w.bytes
        }
    }
}
