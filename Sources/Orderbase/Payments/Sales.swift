import OrderbaseStore

/// The order's figures for sales reports (docs/sales.md), computed from its
/// stored fields: rendered with the order, never stored apart from it.
extension Order {
    /// subtotal − total_discount − refunded_subtotal.
    var netSales: Int64 { subtotal - totalDiscount - refundedSubtotal }

    /// Σ (quantity − refunded) × unit_cost, or nil when a line has no unit_cost.
    var costOfGoods: Int64? {
        var sum: Int64 = 0
        for l in lineItems {
            guard let c = l.unitCost else { return nil }
            let (p, o) = c.multipliedReportingOverflow(by: l.quantity - l.refundedQuantity)
            guard !o else { return nil }
            sum = sum &+ p
        }
        return sum
    }

    var grossMargin: Int64? { costOfGoods.map { netSales - $0 } }

    /// gross_margin / net_sales × 100, two decimals, rounded half away from zero.
    var marginPercent: String? {
        guard let m = grossMargin, netSales > 0 else { return nil }
        // |m| ≤ 2·10^15; the exact path needs |m|·10^4 / net to fit: past 10^14 % the hundredths are noise anyway.
        guard abs(m) / netSales < 1_000_000_000_000 else { return (m < 0 ? "-" : "") + "\(abs(m) / netSales * 100).00" }
        let basisPoints = RefundMath.scaled(abs(m), 10_000, netSales) * (m < 0 ? -1 : 1)
        let whole = abs(basisPoints) / 100, cents = abs(basisPoints) % 100
        return (basisPoints < 0 ? "-" : "") + "\(whole)." + (cents < 10 ? "0" : "") + "\(cents)"
    }
}

extension SalesLine {
    static let kinds = ["sale", "edit", "return", "return_reversed"]
    /// Append-only: no write reads a line back.
    static var readInWrites: Bool { false }
    /// `I sales_line order_id <order> <id>`: an order's lines.
    var indexKeys: [[UInt8]] { [Keyspace.indexKey(.salesLine, "order_id", orderID, id)] }

    var netSales: Int64 { grossSales + discounts + returns }
    var totalSales: Int64 { netSales + shipping + taxes + fees }

    /// The API form: the stored fields with `net_sales`, `total_sales` and `gross_margin`.
    var answerJSON: [UInt8] {
        var w = JSONWriter()
        write(&w) { w in
            w.key("net_sales"); w.int(netSales)
            w.key("total_sales"); w.int(totalSales)
            w.key("gross_margin"); w.int(netSales - cost)
        }
        return w.bytes
    }

    /// The sale of a new order, dated when it was placed (its id follows from the order's, so writing it
    /// again — the schema 5 backfill after a crash — changes nothing).
    static func sale(of order: Order) -> SalesLine {
        var l = SalesLine()
        // The time part from placed_at (lines sort by when the sale happened, imports included), the rest the order's.
        l.id = "sl_" + IDGenerator.encode(time: UInt64(max(0, order.placedAt)), hi: 0, lo: 0).prefix(10) + order.id.suffix(16)
        l.orderID = order.id
        l.kind = "sale"
        l.at = order.placedAt
        l.currency = order.currency
        l.grossSales = order.subtotal
        l.discounts = -order.totalDiscount
        l.shipping = order.totalShipping
        l.taxes = order.totalTax
        l.cost = order.lineItems.reduce(Int64(0)) { $0 + ($1.unitCost ?? 0) * $1.quantity }
        return l
    }

    /// What a change of an order's lines, discounts or shipping did to its sale (nil: nothing).
    static func edit(old: Order, new: Order, id: @autoclosure () -> String, at: Int64) -> SalesLine? {
        func cost(_ o: Order) -> Int64 { o.lineItems.reduce(Int64(0)) { $0 + ($1.unitCost ?? 0) * $1.quantity } }
        var l = SalesLine()
        l.grossSales = new.subtotal - old.subtotal
        l.discounts = old.totalDiscount - new.totalDiscount
        l.shipping = new.totalShipping - old.totalShipping
        l.taxes = new.totalTax - old.totalTax
        l.cost = cost(new) - cost(old)
        guard l.grossSales != 0 || l.discounts != 0 || l.shipping != 0 || l.taxes != 0 || l.cost != 0 else { return nil }
        l.id = id()
        l.orderID = new.id
        l.kind = "edit"
        l.at = at
        l.currency = new.currency
        return l
    }

    /// What a refund takes out of sales (`sign` -1: a failed refund's reversal).
    static func refund(_ r: Refund, order: Order, id: String, at: Int64, reversal: Bool = false) -> SalesLine {
        let s: Int64 = reversal ? -1 : 1
        var l = SalesLine()
        l.id = id
        l.orderID = order.id
        l.refundID = r.id
        l.kind = reversal ? "return_reversed" : "return"
        l.at = at
        l.currency = order.currency
        l.returns = -s * r.subtotal
        l.discounts = s * r.discount
        l.shipping = -s * (r.shipping - r.shippingTax)
        l.taxes = -s * (r.tax + r.shippingTax)
        l.fees = s * (r.restockingFee + r.returnShippingFee)
        l.cost = -s * r.lineItems.reduce(Int64(0)) { $0 + $1.cost }
        return l
    }

}

extension PaymentService {
    // MARK: sales.list, sales.summary

    /// `{"from"?, "to"?, "order_id"?, "limit"?, "starting_after"?}` → the sales ledger's lines, oldest first,
    /// dated in `[from, to)`, or an order's.
    public func listSales(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let from = try f.timestamp("from"), to = try f.timestamp("to")
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let limit = Int(try f.int("limit", in: 1...1000) ?? 100)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        var lines: [SalesLine] = []
        var hasMore = false
        let snap = database.snapshot()
        func take(_ l: SalesLine) -> Bool {
            if let from, l.at < from { return true }
            if let to, l.at >= to { return true }
            if lines.count == limit { hasMore = true; return false }
            lines.append(l)
            return true
        }
        if let order {
            var all: [SalesLine] = []
            for id in try indexedIDs(.salesLine, "order_id", order, snapshot: snap) {
                if let b = try store({ () throws(StoreError) in try database.get(Keyspace.salesLineKey(id), snapshot: snap) }) { all.append(try SalesLine.decode(b)) }
            }
            all.sort { ($0.at, $0.id) < ($1.at, $1.id) }
            var skipping = after != nil
            for l in all {
                if skipping { if l.id == after { skipping = false }; continue }
                if !take(l) { break }
            }
        } else {
            var start = [Keyspace.salesLine]
            if let after { start = Keyspace.salesLineKey(after) + [0] } else if let from { start = Keyspace.salesLineTimeKey(from) }
            try scan(from: start, to: to.map { Keyspace.salesLineTimeKey($0) } ?? [Keyspace.salesLine + 1], snapshot: snap) { _, v throws(OrderbaseError) in
                take(try SalesLine.decode(Array(v)))
            }
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("data"); w.beginArray(); for l in lines { w.raw(l.answerJSON) }; w.endArray()
        w.key("has_more"); w.bool(hasMore)
        w.endObject()
        return w.bytes
    }

    /// `{"from", "to"}` → per currency, the sums of the ledger's lines dated in `[from, to)` (at most 366 days):
    /// gross sales, discounts, returns, net sales, shipping, taxes, fees, total sales, cost, gross margin, and
    /// how many orders sold and how many lines.
    public func salesSummary(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        guard let from = try f.timestamp("from") else { throw OrderbaseError.invalid("from is required", field: "from") }
        guard let to = try f.timestamp("to") else { throw OrderbaseError.invalid("to is required", field: "to") }
        try f.finish()
        guard to > from, to - from <= 366 * 86_400_000 else {
            throw OrderbaseError.invalid("to must be after from, at most 366 days on", field: "to")
        }
        var sums: [String: (g: Int64, d: Int64, r: Int64, s: Int64, t: Int64, fe: Int64, c: Int64, orders: Int64, lines: Int64)] = [:]
        try scan(from: Keyspace.salesLineTimeKey(from), to: Keyspace.salesLineTimeKey(to)) { _, v throws(OrderbaseError) in
            let l = try SalesLine.decode(Array(v))
            var x = sums[l.currency] ?? (0, 0, 0, 0, 0, 0, 0, 0, 0)
            x.g += l.grossSales; x.d += l.discounts; x.r += l.returns; x.s += l.shipping; x.t += l.taxes; x.fe += l.fees; x.c += l.cost
            if l.kind == "sale" { x.orders += 1 }
            x.lines += 1
            sums[l.currency] = x
            return true
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("from"); w.timestamp(from)
        w.key("to"); w.timestamp(to)
        w.key("currencies"); w.beginArray()
        for (cur, x) in sums.sorted(by: { $0.key < $1.key }) {
            let net = x.g + x.d + x.r
            w.beginObject()
            w.key("currency"); w.string(cur)
            w.key("gross_sales"); w.int(x.g)
            w.key("discounts"); w.int(x.d)
            w.key("returns"); w.int(x.r)
            w.key("net_sales"); w.int(net)
            w.key("shipping"); w.int(x.s)
            w.key("taxes"); w.int(x.t)
            w.key("fees"); w.int(x.fe)
            w.key("total_sales"); w.int(net + x.s + x.t + x.fe)
            w.key("cost"); w.int(x.c)
            w.key("gross_margin"); w.int(net - x.c)
            w.key("orders"); w.int(x.orders)
            w.key("lines"); w.int(x.lines)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
