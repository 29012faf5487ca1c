import OrderbaseStore

/// How a refund's amounts are worked out from the order (docs/refunds.md, "How a refund is
/// worked out"): each line's own discounts and taxes, and its share of the order's discounts,
/// follow the units refunded **cumulatively**, so the refunds of every unit of a line add up to
/// the line exactly, to the minor unit, however the units are split across refunds.
enum RefundMath {
    /// `amount × k / n`, rounded half up, without overflow (amount ≤ 10^15, k ≤ n ≤ 10^6).
    /// amount × k / n rounded down (0 ≤ amount, 0 ≤ k, 0 < n), without overflowing the product.
    static func scaledDown(_ amount: Int64, _ k: Int64, _ n: Int64) -> Int64 {
        guard n > 0, amount != 0 else { return 0 }
        return n.dividingFullWidth(amount.multipliedFullWidth(by: k)).quotient
    }

    static func scaled(_ amount: Int64, _ k: Int64, _ n: Int64) -> Int64 {
        guard n > 0, amount != 0 else { return 0 }
        let p = amount.multipliedFullWidth(by: k)
        let (q, r) = n.dividingFullWidth(p)
        return r * 2 >= n ? q + 1 : q
    }

    /// The part of `amount` that `units` more units carry when `before` of `of` were already refunded.
    static func share(_ amount: Int64, units: Int64, before: Int64, of: Int64) -> Int64 {
        scaled(amount, before + units, of) - scaled(amount, before, of)
    }

    /// The order-level discounts spread over the lines in proportion to each line's amount after
    /// its own discounts, largest remainders first (ties: the earlier line), so they add up exactly.
    static func orderDiscountShares(_ order: Order) -> [Int64] {
        let total = order.discounts.reduce(Int64(0)) { $0 + $1.amount }
        let bases = order.lineItems.map { l in l.quantity * l.unitPrice - l.discounts.reduce(Int64(0)) { $0 + $1.amount } }
        let sum = bases.reduce(Int64(0), +)
        guard total > 0, sum > 0 else { return bases.map { _ in 0 } }
        var shares: [Int64] = []
        var remainders: [(Int64, Int)] = []
        for (i, b) in bases.enumerated() {
            let (q, r) = sum.dividingFullWidth(total.multipliedFullWidth(by: b))
            shares.append(q)
            remainders.append((r, i))
        }
        var left = total - shares.reduce(0, +)
        for (_, i) in remainders.sorted(by: { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }) where left > 0 {
            shares[i] += 1
            left -= 1
        }
        return shares
    }
}

/// One line of a refund: the units given back and what they carry.
struct RefundLine: Sendable, Equatable {
    var lineItemID: String
    var quantity: Int64
    var subtotal: Int64 = 0
    var discount: Int64 = 0
    var tax: Int64 = 0
    /// quantity × the line's unit_cost (0 when it has none): what the units cost the shop.
    var cost: Int64 = 0
    var total: Int64 { subtotal - discount + tax }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("line_item_id"); w.string(lineItemID)
        w.key("quantity"); w.int(quantity)
        w.key("subtotal"); w.int(subtotal)
        w.key("discount"); w.int(discount)
        w.key("tax"); w.int(tax)
        w.key("total"); w.int(total)
        w.key("cost"); w.int(cost)
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> RefundLine {
        _ = f.raw("total")  // derived from the others: stored for readers of the JSON, not read back
        return RefundLine(lineItemID: try f.string("line_item_id", required: true)!, quantity: try f.int("quantity", in: 0...Int64.max) ?? 0,
                          subtotal: try f.int("subtotal", in: Int64.min...Int64.max) ?? 0, discount: try f.int("discount", in: Int64.min...Int64.max) ?? 0,
                          tax: try f.int("tax", in: Int64.min...Int64.max) ?? 0, cost: try f.int("cost", in: Int64.min...Int64.max) ?? 0)
    }
}

extension Refund: AuditedRecord {
    static let statuses = ["pending", "success", "partially_failed", "failed"]
    var belongsToOrder: String? { orderID }
    /// `I refund order_id <order> <id>`: an order's refunds.
    var indexKeys: [[UInt8]] { [Keyspace.indexKey(.refund, "order_id", orderID, id)] }

    /// Its status from its transactions (none: success).
    static func status(of txns: [Transaction]) -> String {
        if txns.isEmpty { return "success" }
        if txns.contains(where: { $0.status == "pending" }) { return "pending" }
        let failed = txns.filter { $0.status == "failure" }.count
        return failed == 0 ? "success" : failed == txns.count ? "failed" : "partially_failed"
    }
}

/// What a refund request asks for, read before the lock: units per line, shipping, fees.
struct RefundRequest {
    var orderID: String
    /// The return whose units it refunds (its lines default to the return's units that came back, unrefunded).
    var returnID: String?
    var lines: [(id: String, quantity: Int64)] = []
    /// nil: none; `Int64.max`: all that is left.
    var shipping: Int64?
    var restockingPercent: DecimalRate?
    var returnShippingFee: Int64 = 0

    static func read(_ f: inout Fields) throws(OrderbaseError) -> RefundRequest {
        var r = RefundRequest(orderID: try f.string("order_id", maxLength: 64, required: true, allowEmpty: false)!)
        r.returnID = try f.string("return_id", maxLength: 64, allowEmpty: false)
        if case .array(let a)? = f.object["line_items"], a.isEmpty {
            throw OrderbaseError.invalid("line_items needs at least one line (leave it out to refund shipping alone)", field: "line_items")
        }
        r.lines = try f.objects("line_items", maxCount: 500) { (g: inout Fields) throws(OrderbaseError) -> (id: String, quantity: Int64) in
            let line = (id: try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)!,
                        quantity: try g.int("quantity", in: 1...1_000_000, required: true)!)
            try g.finish()
            return line
        } ?? []
        // A line named twice counts once, with the quantities added (JSON Schema cannot say "each once").
        var merged: [(id: String, quantity: Int64)] = []
        for l in r.lines {
            if let i = merged.firstIndex(where: { $0.id == l.id }) { merged[i].quantity += l.quantity } else { merged.append(l) }
        }
        r.lines = merged
        if var s = try f.object("shipping") {
            let full = try s.bool("full")
            let amount = try s.int("amount", in: 1...Money.max)
            try s.finish()
            switch (full, amount) {
            case (true?, nil): r.shipping = Int64.max
            case (false?, nil): r.shipping = 0
            case (nil, let a?): r.shipping = a
            case (nil, nil): throw OrderbaseError.invalid("shipping takes full or amount", field: "shipping.full")
            default: throw OrderbaseError.invalid("shipping takes full or an amount, not both", field: "shipping.amount")
            }
        }
        if let p = try f.string("restocking_fee_percent", maxLength: 12) {
            // The catalogue's pattern: 0–99 with up to 6 decimals, or 100 (decimals all zero).
            let parts = p.split(separator: ".", omittingEmptySubsequences: false)
            let digits = { (x: Substring) in x.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
            let whole = parts[0], fraction = parts.count > 1 ? parts[1] : nil
            let shapeOK = parts.count <= 2 && digits(whole) && (whole.count == 1 || whole.count == 2 || whole == "100")
                && (fraction.map { !$0.isEmpty && $0.count <= 6 && digits($0) && (whole != "100" || $0.allSatisfy { $0 == "0" }) } ?? true)
            guard shapeOK, let rate = DecimalRate(p) else {
                throw OrderbaseError.invalid("restocking_fee_percent must be a decimal string from \"0\" to \"100\" with at most 6 decimals, like \"10\"",
                                             field: "restocking_fee_percent")
            }
            r.restockingPercent = rate
        }
        r.returnShippingFee = try f.int("return_shipping_fee", in: 0...Money.max) ?? 0
        return r
    }

    /// With a `return_id`: the request's lines checked against the return `r` (or, when it names none, the
    /// return's units that came back and are not refunded yet).
    mutating func resolve(with r: OrderReturn?) throws(OrderbaseError) {
        guard let r else { return }
        if lines.isEmpty { lines = ReturnService.unrefundedUnits(r) }
        try ReturnService.checkRefund(of: r, orderID: orderID, lines: lines)
    }

    /// The refund these ask for on `order` as it is: line shares, shipping, fees. Refusals change nothing.
    func workOut(_ order: Order) throws(OrderbaseError) -> Refund {
        var refund = Refund.blank
        refund.orderID = order.id
        let shares = RefundMath.orderDiscountShares(order)
        for (n, want) in lines.enumerated() {
            guard let i = order.lineItems.firstIndex(where: { $0.id == want.id }) else {
                throw OrderbaseError(.notFound, "line item \(want.id) is not a line of order \(order.number)", field: "line_items[\(n)].line_item_id")
            }
            let item = order.lineItems[i]
            let left = item.quantity - item.refundedQuantity
            guard want.quantity <= left else {
                throw PaymentLedger.refuse("line item \(want.id) has \(left) unit\(left == 1 ? "" : "s") left to refund, not \(want.quantity)",
                                           reason: "exceeds_refundable_quantity", field: "line_items[\(n)].quantity", ["refundable_quantity": .int(left)])
            }
            let ownDiscount = item.discounts.reduce(Int64(0)) { $0 + $1.amount }
            let tax = item.taxLines.reduce(Int64(0)) { $0 + ($1.amount ?? 0) }
            var line = RefundLine(lineItemID: want.id, quantity: want.quantity)
            line.subtotal = want.quantity * item.unitPrice
            line.discount = RefundMath.share(ownDiscount, units: want.quantity, before: item.refundedQuantity, of: item.quantity)
                + RefundMath.share(shares[i], units: want.quantity, before: item.refundedQuantity, of: item.quantity)
            line.tax = RefundMath.share(tax, units: want.quantity, before: item.refundedQuantity, of: item.quantity)
            line.cost = want.quantity * (item.unitCost ?? 0)
            refund.lineItems.append(line)
        }
        refund.subtotal = refund.lineItems.reduce(0) { $0 + $1.subtotal }
        refund.discount = refund.lineItems.reduce(0) { $0 + $1.discount }
        refund.tax = refund.lineItems.reduce(0) { $0 + $1.tax }
        if let shipping {
            let shippingTotal = order.totalShipping + order.shippingLines.reduce(Int64(0)) { s, l in s + l.taxLines.reduce(0) { $0 + ($1.amount ?? 0) } }
            let left = shippingTotal - order.refundedShipping
            defer {
                // Its tax part, as a line's: the running share of the shipping lines' tax.
                let shippingTax = shippingTotal - order.totalShipping
                refund.shippingTax = RefundMath.share(shippingTax, units: refund.shipping, before: order.refundedShipping, of: shippingTotal)
            }
            if shipping == Int64.max { refund.shipping = left } else {
                guard shipping <= left else {
                    throw PaymentLedger.refuse("shipping of \(shipping) exceeds what is left to refund of it (\(left))", reason: "exceeds_refundable_shipping",
                                               field: "shipping.amount", ["refundable_shipping": .int(left)])
                }
                refund.shipping = shipping
            }
        }
        if let restockingPercent {
            // percent / 100 of the lines after discounts, rounded half up.
            let base = refund.subtotal - refund.discount
            refund.restockingFee = RefundMath.scaled(base, restockingPercent.units, restockingPercent.scale * 100)
        }
        refund.returnShippingFee = returnShippingFee
        refund.returnID = returnID
        refund.total = refund.subtotal - refund.discount + refund.tax + refund.shipping - refund.restockingFee - refund.returnShippingFee
        guard refund.total >= 0 else {
            throw PaymentLedger.refuse("the fees (\(refund.restockingFee + refund.returnShippingFee)) exceed what is refunded (\(refund.total + refund.restockingFee + refund.returnShippingFee))",
                                       reason: "fees_exceed_refund", field: "return_shipping_fee")
        }
        guard !lines.isEmpty || shipping != nil else {
            if let returnID {
                throw OrderbaseError(.invalidState, "return \(returnID) has no units that came back unrefunded: name line_items, or shipping",
                                     field: "return_id", details: .object(["reason": .string("nothing_to_refund")]))
            }
            throw OrderbaseError.invalid("a refund needs line_items or shipping (for money alone, payments.refund or transactions.create)", field: "line_items")
        }
        return refund
    }
}

extension PaymentService {
    // MARK: refunds.calculate

    /// `{"order_id", "line_items"?: [{"line_item_id", "quantity"}], "shipping"?: {"full"} | {"amount"},
    /// "restocking_fee_percent"?, "return_shipping_fee"?}` → the refund it would be (nothing written), with
    /// `maximum_refundable` and the refund `transactions` it would make (captures and sales newest first).
    public func calculateRefund(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        var wanted = try RefundRequest.read(&f)
        try f.finish()
        let order = try Order.decode(try orders.loadRecord(wanted.orderID, snapshot: nil, field: "order_id"))
        try wanted.resolve(with: try wanted.returnID.map { (id) throws(OrderbaseError) in try stored(OrderReturn.self, id, field: "return_id") })
        let refund = try wanted.workOut(order)
        let parents = try refundParents(order.id).reversed()
        var w = JSONWriter()
        refund.write(&w) { w in
            w.key("currency"); w.string(order.currency)
            w.key("maximum_refundable"); w.int(max(0, order.payments.refundable))
            w.key("transactions"); w.beginArray()
            var left = min(refund.total, max(0, order.payments.refundable))
            for p in parents where left > 0 && p.open > 0 {
                let a = min(left, p.open)
                left -= a
                w.beginObject(); w.key("parent_id"); w.string(p.id); w.key("gateway"); w.string(p.gateway); w.key("amount"); w.int(a); w.endObject()
            }
            w.endArray()
        }
        return w.bytes
    }

    /// The order's captures and sales with money left to refund, oldest first (a durable scan to *choose*:
    /// each is read again in the write).
    func refundParents(_ orderID: String) throws(OrderbaseError) -> [Transaction] {
        var out: [Transaction] = []
        for id in try indexedIDs(.transaction, "order_id", orderID) {
            let t = try stored(Transaction.self, id)
            if t.kind == "capture" || t.kind == "sale", t.open > 0 { out.append(t) }
        }
        return out.sorted { $0.id < $1.id }
    }
}

extension PaymentService {
    // MARK: refunds.create

    /// refunds.calculate's request with `note`?, `transactions`? (the refunds the host's gateway made:
    /// `[{"parent_id", "amount", "gateway_id"?, "status"?, "error_code"?, "message"?}]`, adding up to the
    /// refund's total) and `idempotency_key`? → `{"refund", "transactions", "order"}`. Without
    /// `transactions` the payment handler gives the money back (captures and sales newest first).
    /// Events `refund.created`, `transaction.created` each, `order.refunded`.
    public func createRefund(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let wanted = try RefundRequest.read(&f)
        let note = try f.string("note", maxLength: 1000, allowEmpty: false)
        let given = try f.objects("transactions", maxCount: 20) { (g: inout Fields) throws(OrderbaseError) -> Transaction in
            var t = Transaction.blank
            t.kind = "refund"
            t.parentID = try g.string("parent_id", maxLength: 64, required: true, allowEmpty: false)!
            t.amount = try g.int("amount", in: 1...Money.max, required: true)!
            if let s = try g.oneOf("status", Transaction.statuses) { t.status = s }
            t.gatewayID = try g.string("gateway_id", maxLength: 255, allowEmpty: false)
            t.errorCode = try g.string("error_code", maxLength: 64, allowEmpty: false)
            t.message = try g.string("message", maxLength: 1000, allowEmpty: false)
            try g.finish()
            try t.checkErrorCode(field: g.fieldPath("error_code"))
            return t
        }
        let idemKey = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        let handler = given == nil ? core.outboundConfig.paymentHandler : nil
        let fingerprint = idemKey.map { _ in OrderService.fingerprint(request) }
        // The handler path chooses parents among the order's captures and sales (each read again in the write).
        let candidates = given == nil ? try refundParents(wanted.orderID) : []
        var replayed: String?
        let (refundID, pending, orderBytes) = try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> (String, [Transaction], [UInt8]) in
            if let idemKey, let fingerprint, let id = try wc.replay("refund:" + idemKey, fingerprint) {
                replayed = String(decoding: id, as: UTF8.self)
                return ("", [], [])
            }
            var order = try loadOrder(wanted.orderID, &wc)
            let old = order
            var wanted = wanted
            try wanted.resolve(with: try wanted.returnID.map { (id) throws(OrderbaseError) in try wc.load(OrderReturn.self, id, field: "return_id") })
            var refund = try wanted.workOut(order)
            refund.id = ids.make("rfd_", at: wc.now)
            refund.note = note
            refund.createdBy = wc.request.actor
            refund.createdAt = wc.now
            refund.updatedAt = wc.now
            guard refund.total <= order.payments.refundable else {
                throw PaymentLedger.refuse("the refund of \(refund.total) exceeds what is refundable (\(max(0, order.payments.refundable)))",
                                           reason: "exceeds_refundable", ["refundable": .int(max(0, order.payments.refundable))])
            }
            var txns: [Transaction] = []
            if let given {
                let sum = given.reduce(Int64(0)) { $0 + $1.amount }
                guard sum == refund.total else {
                    throw PaymentLedger.refuse("transactions add up to \(sum); the refund is \(refund.total)", reason: "transactions_do_not_add_up", field: "transactions")
                }
                txns = given
                for n in txns.indices { txns[n].gateway = try wc.load(Transaction.self, txns[n].parentID!, field: "transactions[\(n)].parent_id").gateway }
            } else if refund.total > 0 {
                guard handler != nil else {
                    throw PaymentLedger.refuse("no payment handler is registered: give the refund's transactions as your gateway made them",
                                               reason: "no_payment_handler", field: "transactions")
                }
                txns = try refundsFrom(candidates, total: refund.total, status: "pending", gateway: nil, message: note, &wc)
            }
            try book(&refund, &txns, source: given == nil ? "handler" : "recorded", given: given != nil, order: &order, &wc)
            _ = try orders.commitChange(old: old, new: order, type: "order.refunded", reason: "refund \(refund.id)" + (note.map { ": " + $0 } ?? ""), &wc)
            if let idemKey, let fingerprint { wc.remember("refund:" + idemKey, fingerprint, Array(refund.id.utf8)) }
            return (refund.id, txns.filter { $0.status == "pending" && $0.source == "handler" }, try wc.read(Keyspace.orderKey(order.id)) ?? [])
        }
        let id = replayed ?? refundID
        if replayed == nil, let handler, !pending.isEmpty { try askAndSettle(handler, action: "refund", pending, orderBytes: orderBytes, ctx) }
        let refund = try stored(Refund.self, id)
        var w = JSONWriter()
        w.beginObject()
        w.key("refund"); w.raw(refund.apiJSON)
        w.key("transactions"); w.beginArray()
        for tid in refund.transactionIDs { w.raw(try stored(Transaction.self, tid).answerJSON) }
        w.endArray()
        w.key("order"); w.raw(try orders.loadRecord(refund.orderID, snapshot: nil))
        w.endObject()
        return w.bytes
    }

    /// Refund transactions of `total` from `candidates` (captures and sales, oldest first, as read before the write:
    /// each is read again here), newest first, each taking what is left of it; `gateway` nil: each parent's.
    func refundsFrom(_ candidates: [Transaction], total: Int64, status: String, gateway: String?, message: String?,
                     _ wc: inout WriteContext) throws(OrderbaseError) -> [Transaction] {
        var txns: [Transaction] = []
        var left = total
        for c in candidates.reversed() where left > 0 {
            let p = try wc.load(Transaction.self, c.id)
            guard p.open > 0 else { continue }
            var t = Transaction.blank
            t.kind = "refund"
            t.status = status
            t.parentID = p.id
            t.gateway = gateway ?? p.gateway
            t.amount = min(left, p.open)
            t.message = message
            left -= t.amount
            txns.append(t)
        }
        guard left == 0 else {
            throw PaymentLedger.refuse("the refund of \(total) exceeds what is refundable", reason: "exceeds_refundable", ["refundable": .int(total - left)])
        }
        return txns
    }

    /// Books `refund` with `txns` on `order` in this write: each transaction recorded (`given`: the caller's, whose
    /// errors name `transactions[n]`), the refund's status and amount from them, its units and shipping counted on
    /// the order and on the return it names, its sales ledger line.
    func book(_ refund: inout Refund, _ txns: inout [Transaction], source: String, given: Bool, order: inout Order,
              _ wc: inout WriteContext) throws(OrderbaseError) {
        for n in txns.indices {
            txns[n].refundID = refund.id
            do throws(OrderbaseError) { try record(&txns[n], source: source, order: &order, &wc) } catch {
                throw OrderbaseError(error.code, error.message, field: error.field.map { given ? "transactions[\(n)].\($0)" : $0 }, details: error.details)
            }
        }
        refund.transactionIDs = txns.map(\.id)
        refund.status = Refund.status(of: txns)
        refund.refunded = txns.filter { $0.status == "success" }.reduce(0) { $0 + $1.amount }
        if refund.status != "failed" { Self.count(refund, on: &order, sign: 1) }
        wc.commit("refund.created", before: nil, after: refund)
        if refund.status != "failed" { try returns.countRefund(refund, sign: 1, &wc) }
        if refund.status != "failed" { wc.save(before: nil, after: SalesLine.refund(refund, order: order, id: ids.make("sl_", at: wc.now), at: wc.now)) }
    }

    /// Counts (`sign` 1) or gives back (-1) a refund's units and shipping on its order.
    static func count(_ refund: Refund, on order: inout Order, sign: Int64) {
        for l in refund.lineItems {
            if let i = order.lineItems.firstIndex(where: { $0.id == l.lineItemID }) { order.lineItems[i].refundedQuantity += sign * l.quantity }
        }
        order.refundedShipping += sign * refund.shipping
        order.refundedSubtotal += sign * (refund.subtotal - refund.discount)
    }

    /// A transaction of refund `id` was settled: the refund's status and amount follow; one that
    /// became `failed` gives its units and shipping back to the order.
    func refundSettled(_ id: String, order: inout Order, _ wc: inout WriteContext) throws(OrderbaseError) {
        let before = try wc.load(Refund.self, id)
        var after = before
        var txns: [Transaction] = []
        for tid in before.transactionIDs { txns.append(try wc.load(Transaction.self, tid)) }
        after.status = Refund.status(of: txns)
        after.refunded = txns.filter { $0.status == "success" }.reduce(0) { $0 + $1.amount }
        guard after.status != before.status || after.refunded != before.refunded else { return }
        if after.status == "failed" && before.status != "failed" {
            Self.count(before, on: &order, sign: -1)
            try returns.countRefund(before, sign: -1, &wc)
            wc.save(before: nil, after: SalesLine.refund(before, order: order, id: ids.make("sl_", at: wc.now), at: wc.now, reversal: true))
        }
        after.updatedAt = wc.now
        wc.commit("refund.updated", before: before, after: after)
    }

    // MARK: refunds.get, list

    /// `{"id"}` → the refund.
    public func getRefund(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(Refund.self, id).apiJSON
    }

    /// `{"order_id"?, "status"?, "limit"?, "starting_after"?}` → refunds, newest first.
    public func listRefunds(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try listByOrder(Refund.self, request, statuses: Refund.statuses) { $0.status }
    }
}
