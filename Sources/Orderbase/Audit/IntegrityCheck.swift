import OrderbaseStore

extension AuditService {
    // MARK: integrity.check

    /// Checks, at one snapshot, that every record of every indexed kind
    /// decodes, every secondary index entry matches a record and every record
    /// has its entries, order numbers resolve, the event log is gap-free up to
    /// the counter, and the audit chain verifies. Like SQLite's `PRAGMA integrity_check`.
    public func checkIntegrity(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let maxProblems = Int(try f.int("max_problems", in: 1...1000) ?? 100)
        let verifyFiles = try f.bool("verify_files") ?? false
        try f.finish()
        let snap = database.snapshot()
        var problems: [String] = []
        func problem(_ p: String) { if problems.count < maxProblems { problems.append(p) } }
        var expected: Set<KeyBytes> = []
        var numbers: [String: String] = [:]
        var orders = 0
        var figures: [OrderFigures] = []
        var counters = Counters()
        do {
            guard let c = try database.get(Keyspace.metaKey(Keyspace.metaCounters), snapshot: snap) else {
                throw OrderbaseError(.corruption, "tenant counters are missing")
            }
            counters = try Counters.decode(c)
            var kindNames: [UInt8: String] = [:]
            for ik in IndexedKind.all {
                try database.scan(from: [ik.recordPrefix], to: [ik.recordPrefix + 1], snapshot: snap) { k, v in
                    var r = KeyReader(Array(k))
                    let keyID = r.string() ?? "?"
                    let e: (id: String, keys: [[UInt8]], number: String?)
                    if ik.kind == .order {
                        // Decoded once: its index entries here, its money figures for checkPayments.
                        orders += 1
                        guard let o = try? Order.decode(Array(v)) else { problem("order \(keyID) does not decode"); return true }
                        e = (o.id, Keyspace.indexKeyList(of: o), o.number)
                        figures.append(OrderFigures(o))
                    } else {
                        guard let x = try? ik.entries(Array(v)) else { problem("\(ik.kind) \(keyID) does not decode"); return true }
                        e = x
                    }
                    if e.id != keyID { problem("\(ik.kind) stored under \(keyID) has id \(e.id)") }
                    expected.formUnion(e.keys.map(KeyBytes.init))
                    if let n = e.number { numbers[n] = e.id }
                    return true
                }
                for p in ik.ownPrefixes { kindNames[p] = ik.kind.name }
            }
            // Every index entry of every kind: `I kind …` keys and each kind's own prefixes.
            var seen = 0
            for prefix in [Keyspace.index] + IndexedKind.all.flatMap(\.ownPrefixes) {
                try database.scan(from: [prefix], to: [prefix + 1], snapshot: snap) { k, _ in
                    let key = Array(k)
                    if expected.contains(KeyBytes(key)) { seen += 1; return true }
                    var kind = kindNames[prefix]
                    if prefix == Keyspace.index { var r = KeyReader(key); kind = r.string() }
                    problem("stale \(kind ?? "unknown-kind") index entry \(Crypto.hex(key))")
                    return true
                }
            }
            if seen != expected.count { problem("\(expected.count - seen) index entries are missing") }
            var numberEntries = 0
            try database.scan(from: [Keyspace.number], to: [Keyspace.number + 1], snapshot: snap) { k, v in
                numberEntries += 1
                var r = KeyReader(Array(k))
                let n = r.string() ?? "?"
                if numbers[n] != String(decoding: Array(v), as: UTF8.self) { problem("order number \(n) points at the wrong order") }
                return true
            }
            if numberEntries != numbers.count { problem("\(numbers.count) orders but \(numberEntries) number entries") }
            var nextSeq: UInt64 = 1
            try database.scan(from: [Keyspace.event], to: [Keyspace.event + 1], snapshot: snap) { k, _ in
                var r = KeyReader(Array(k))
                let s = r.uint64() ?? 0
                if s != nextSeq { problem("event log jumps from \(nextSeq - 1) to \(s)") }
                nextSeq = s + 1
                return true
            }
            if nextSeq - 1 != counters.eventSeq { problem("event log ends at \(nextSeq - 1) but the counter says \(counters.eventSeq)") }
            try checkStock(snap, problem)
            try checkTagCounts(snap, problem)
            try checkFiles(snap, hashes: verifyFiles, problem)
            try checkPayments(snap, figures, problem)
            try checkReturns(snap, figures, problem)
        } catch let e as OrderbaseError { throw e } catch let e as StoreError { throw OrderbaseError(e) } catch {
            throw OrderbaseError(.internal, "\(error)")
        }
        let audit = try JSON.parse(try verifyAudit(.object([:])))
        if audit["ok"] != .bool(true) {
            problem("audit chain broken at \(audit["broken_at"]?.intValue ?? 0): \(audit["reason"]?.stringValue ?? "")")
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("ok"); w.bool(problems.isEmpty)
        w.key("orders"); w.int(Int64(orders))
        w.key("events"); w.int(Int64(counters.eventSeq))
        w.key("audit_entries"); w.int(Int64(counters.auditSeq))
        w.key("problems"); w.beginArray(); for p in problems { w.string(p) }; w.endArray()
        w.endObject()
        return w.bytes
    }
}

extension AuditService {
    /// The stock ledger's invariants (DESIGN §9): every level equals the sum of
    /// its movements; `committed` equals what open and on-hold fulfillment
    /// orders hold there (their unshipped tracked units); every level's location
    /// exists and its backorder queue names only waiting backorders; each
    /// order's list of fulfillment orders and the fulfillment orders agree.
    func checkStock(_ snap: Snapshot, _ problem: (String) -> Void) throws {
        var ledger: [String: [String: Int64]] = [:]
        try database.scan(from: [Keyspace.movement], to: [Keyspace.movement + 1], snapshot: snap) { _, v in
            guard let m = try? InventoryMovement.decode(Array(v)) else { return true }  // reported with the indexed kinds
            ledger[m.locationID + ":" + m.sku, default: [:]][m.quantity, default: 0] += m.delta
            return true
        }
        var held: [String: Int64] = [:]
        var backorders: Set<String> = []
        var listed: [String: String] = [:]  // fulfillment order id -> its order, from the orders' lists
        try database.scan(from: [Keyspace.orderFulfillment], to: [Keyspace.orderFulfillment + 1], snapshot: snap) { k, v in
            var r = KeyReader(Array(k))
            let order = r.string() ?? "?"
            guard let ids = try? InventoryService.decodeIDs(Array(v)) else { problem("order \(order)'s fulfillment order list does not decode"); return true }
            for id in ids { listed[id] = order }
            return true
        }
        try database.scan(from: [Keyspace.fulfillmentOrder], to: [Keyspace.fulfillmentOrder + 1], snapshot: snap) { k, v in
            var r = KeyReader(Array(k))
            let key = r.string() ?? "?"
            guard let fo = try? FulfillmentOrder.decode(Array(v)) else { problem("fulfillment order \(key) does not decode"); return true }
            if fo.id != key { problem("fulfillment order stored under \(key) has id \(fo.id)") }
            if listed.removeValue(forKey: fo.id) != fo.orderID { problem("fulfillment order \(fo.id) is not in order \(fo.orderID)'s list") }
            if fo.holdsCommitment {
                for l in fo.lines where l.tracked { if let sku = l.sku { held[fo.locationID + ":" + sku, default: 0] += l.remaining } }
            }
            if fo.isBackorder { backorders.insert(fo.id) }
            for l in fo.lines where l.shipped > l.quantity { problem("fulfillment order \(fo.id) shipped more of \(l.lineItemID) than it has") }
            return true
        }
        for (id, order) in listed { problem("order \(order) lists missing fulfillment order \(id)") }
        var locations: Set<String> = []
        try database.scan(from: [Keyspace.location], to: [Keyspace.location + 1], snapshot: snap) { k, _ in
            var r = KeyReader(Array(k))
            if let id = r.string() { locations.insert(id) }
            return true
        }
        try database.scan(from: [Keyspace.inventoryLevel], to: [Keyspace.inventoryLevel + 1], snapshot: snap) { k, v in
            var r = KeyReader(Array(k))
            let sku = r.string() ?? "?", location = r.string() ?? "?"
            let id = location + ":" + sku
            guard let level = try? InventoryLevel.decode(Array(v)), level.sku == sku, level.locationID == location else {
                problem("inventory level \(id) does not decode or names another level"); return true
            }
            if !locations.contains(location) { problem("inventory level \(id) is at missing location \(location)") }
            for fo in level.backorders where !backorders.contains(fo) { problem("inventory level \(id) queues \(fo), which is not a waiting backorder") }
            let sums = ledger.removeValue(forKey: id) ?? [:]
            for q in InventoryLevel.quantities where level[q] != sums[q] ?? 0 {
                problem("inventory level \(id): \(q) is \(level[q]) but its movements sum to \(sums[q] ?? 0)")
            }
            let holding = held.removeValue(forKey: id) ?? 0
            if level.committed != holding {
                problem("inventory level \(id): committed is \(level.committed) but open fulfillment orders hold \(holding)")
            }
            return true
        }
        for (id, sums) in ledger where sums.values.contains(where: { $0 != 0 }) { problem("movements of \(id) sum to stock but it has no level") }
        for (id, q) in held where q != 0 { problem("fulfillment orders hold \(q) of \(id) but it has no level") }
    }
}

extension AuditService {
    /// Every tag's count equals the orders its index entries name (`I order tags key id`),
    /// and every tag some order has is counted (docs/tags.md).
    func checkTagCounts(_ snap: Snapshot, _ problem: (String) -> Void) throws {
        var indexed: [String: Int64] = [:]
        let prefix = Keyspace.indexPrefix(.order, "tags", "").dropLast(2)
        try database.scan(from: Array(prefix), to: prefixUpperBound(Array(prefix)), snapshot: snap) { k, _ in
            var r = KeyReader(Array(k))
            _ = r.string(); _ = r.string()
            indexed[r.string() ?? "?", default: 0] += 1
            return true
        }
        try database.scan(from: [Keyspace.tag], to: [Keyspace.tag + 1], snapshot: snap) { k, v in
            var r = KeyReader(Array(k))
            let key = r.string() ?? "?"
            guard let t = try? TagCount.decode(Array(v)) else { problem("tag \(key) does not decode"); return true }
            if t.key != key || Tags.key(t.name) != key { problem("tag stored under \(key) is \(t.key) (\(t.name))") }
            let n = indexed.removeValue(forKey: key) ?? 0
            if t.count != n { problem("tag \(t.name) counts \(t.count) orders but \(n) have it") }
            return true
        }
        for (key, n) in indexed { problem("\(n) orders have tag \(key) but it is not counted") }
    }
}

extension AuditService {
    /// The payments ledger (DESIGN §9, docs/payments.md): every order's `payments` equals the sums of its
    /// transactions, its `financial_status` is the one they give, refunded ≤ captured; every transaction's
    /// `settled_amount` equals what its children hold, and never exceeds its amount.
    func checkPayments(_ snap: Snapshot, _ figures: [OrderFigures], _ problem: (String) -> Void) throws {
        var sums: [String: PaymentSummary] = [:]
        var held: [String: Int64] = [:]
        var all: [String: Transaction] = [:]
        try database.scan(from: [Keyspace.transaction], to: [Keyspace.transaction + 1], snapshot: snap) { _, v in
            guard let t = try? Transaction.decode(Array(v)) else { return true }  // the index check reports it
            all[t.id] = t
            sums[t.orderID, default: PaymentSummary()].count(t, sign: 1)
            sums[t.orderID, default: PaymentSummary()].transactions += 1
            if let p = t.parentID { held[p, default: 0] += t.holdsParent }
            return true
        }
        for t in all.values {
            if let p = t.parentID, all[p] == nil { problem("transaction \(t.id)'s parent \(p) is missing") }
            let h = held[t.id] ?? 0
            if t.settledAmount != h { problem("transaction \(t.id) says \(t.settledAmount) of it is settled; its children hold \(h)") }
            if t.settledAmount > t.amount { problem("transaction \(t.id) has \(t.settledAmount) settled of \(t.amount)") }
        }
        // Refunds: status and amount from their transactions; the units and shipping of those not failed, per order.
        var refundedUnits: [String: Int64] = [:], refundedShipping: [String: Int64] = [:]
        var refundedShippingTax: [String: Int64] = [:], refundedTax: [String: Int64] = [:]
        try database.scan(from: [Keyspace.refund], to: [Keyspace.refund + 1], snapshot: snap) { _, v in
            guard let r = try? Refund.decode(Array(v)) else { return true }
            let txns = r.transactionIDs.compactMap { all[$0] }
            if txns.count != r.transactionIDs.count { problem("refund \(r.id) names a missing transaction") }
            if txns.contains(where: { $0.refundID != r.id }) { problem("refund \(r.id) names a transaction of another refund") }
            if Refund.status(of: txns) != r.status { problem("refund \(r.id) is \(r.status) but its transactions make it \(Refund.status(of: txns))") }
            let given = txns.filter { $0.status == "success" }.reduce(Int64(0)) { $0 + $1.amount }
            if given != r.refunded { problem("refund \(r.id) says \(r.refunded) given back; its transactions gave \(given)") }
            if r.total != r.subtotal - r.discount + r.tax + r.shipping - r.restockingFee - r.returnShippingFee || r.lineItems.reduce(0, { $0 + $1.total }) != r.subtotal - r.discount + r.tax {
                problem("refund \(r.id)'s amounts do not add up")
            }
            if r.status != "failed" {
                for l in r.lineItems { refundedUnits[l.lineItemID, default: 0] += l.quantity }
                refundedShipping[r.orderID, default: 0] += r.shipping
                refundedShippingTax[r.orderID, default: 0] += r.shippingTax
                refundedTax[r.orderID, default: 0] += r.tax
            }
            return true
        }
        for t in all.values where t.refundID != nil && t.kind != "refund" { problem("transaction \(t.id) is a \(t.kind) but names refund \(t.refundID!)") }
        // The sales ledger, per order: (net sales, shipping, taxes, cost, has a sale line).
        var ledger: [String: (net: Int64, shipping: Int64, taxes: Int64, cost: Int64, sale: Bool)] = [:]
        try database.scan(from: [Keyspace.salesLine], to: [Keyspace.salesLine + 1], snapshot: snap) { _, v in
            guard let l = try? SalesLine.decode(Array(v)) else { return true }
            var x = ledger[l.orderID] ?? (0, 0, 0, 0, false)
            x.net += l.netSales; x.shipping += l.shipping; x.taxes += l.taxes; x.cost += l.cost
            if l.kind == "sale" { x.sale = true }
            ledger[l.orderID] = x
            return true
        }
        // Split and merge link both orders, each to the other.
        let inverse = ["split_from": "split_into", "split_into": "split_from", "merged_from": "merged_into", "merged_into": "merged_from"]
        let byID = Dictionary(figures.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for o in figures {
            for l in o.links where !(byID[l.orderID]?.links.contains { $0.orderID == o.id && $0.relation == inverse[l.relation] } ?? false) {
                problem("order \(o.number) is \(l.relation) order \(l.orderID), which has no link back")
            }
        }
        for o in figures {
            if let x = ledger.removeValue(forKey: o.id), x.sale {
                let shipTax = refundedShippingTax[o.id] ?? 0
                let cost = o.lines.reduce(Int64(0)) { $0 + ($1.unitCost ?? 0) * ($1.quantity - $1.refunded) }
                if o.mergedAway ? (x.net != 0 || x.shipping != 0 || x.taxes != 0 || x.cost != 0)
                    : (x.net != o.netSales || x.shipping != o.totalShipping - ((refundedShipping[o.id] ?? 0) - shipTax)
                       || x.taxes != o.totalTax - (refundedTax[o.id] ?? 0) - shipTax || x.cost != cost) {
                    problem("order \(o.number)'s sales ledger lines do not add up to the order (net sales \(x.net) vs \(o.netSales))")
                }
            } else {
                problem("order \(o.number) has no sale in the sales ledger")
            }
            for l in o.lines {
                let want = l.id.flatMap { refundedUnits.removeValue(forKey: $0) } ?? 0
                if l.refunded != want { problem("order \(o.number) line \(l.id ?? "?") says \(l.refunded) refunded; its refunds hold \(want)") }
                if l.refunded > l.quantity { problem("order \(o.number) line \(l.id ?? "?") has more refunded than ordered") }
            }
            let shipping = refundedShipping.removeValue(forKey: o.id) ?? 0
            if o.refundedShipping != shipping { problem("order \(o.number) says \(o.refundedShipping) shipping refunded; its refunds hold \(shipping)") }
            let s = sums.removeValue(forKey: o.id) ?? PaymentSummary()
            if o.payments != s { problem("order \(o.number)'s payments do not equal the sums of its transactions") }
            if s.transactions > 0, o.financialStatus != s.financialStatus(total: o.total) {
                problem("order \(o.number) is \(o.financialStatus) but its transactions make it \(s.financialStatus(total: o.total))")
            }
            if s.refunded + s.refundPending > s.captured { problem("order \(o.number) refunded more than it captured") }
        }
        for id in sums.keys { problem("transactions of order \(id), which does not exist") }
        for id in ledger.keys { problem("sales ledger lines of order \(id), which does not exist") }
    }
}

extension AuditService {
    /// Returns (docs/returns.md): each is in its order's list and the list names only its returns; its lines' counts
    /// add up (what came back went somewhere, never more than asked for); what refunds naming it hold is its lines'
    /// `refunded_quantity`; and no line of an order has more units held by returns than were fulfilled.
    func checkReturns(_ snap: Snapshot, _ figures: [OrderFigures], _ problem: (String) -> Void) throws {
        var byOrder: [String: [OrderReturn]] = [:]
        var listed: [String: String] = [:]  // return id -> the order whose list names it
        try database.scan(from: [Keyspace.orderReturns], to: [Keyspace.orderReturns + 1], snapshot: snap) { k, v in
            var r = KeyReader(Array(k))
            let order = r.string() ?? "?"
            guard let ids = try? InventoryService.decodeIDs(Array(v)) else { problem("order \(order)'s return list does not decode"); return true }
            for id in ids { listed[id] = order }
            return true
        }
        try database.scan(from: [Keyspace.orderReturn], to: [Keyspace.orderReturn + 1], snapshot: snap) { _, v in
            guard let r = try? OrderReturn.decode(Array(v)) else { return true }  // the index check reports it
            if listed.removeValue(forKey: r.id) != r.orderID { problem("return \(r.id) is not in order \(r.orderID)'s list") }
            byOrder[r.orderID, default: []].append(r)
            for l in r.lineItems {
                if l.accounted > l.quantity { problem("return \(r.id) accounts for more of \(l.lineItemID) than it asks for") }
                if l.restocked + l.processing + l.notRestocked != l.received + l.damaged {
                    problem("return \(r.id) line \(l.lineItemID): what came back (\(l.received + l.damaged)) is not what went somewhere")
                }
                if l.refunded > l.quantity { problem("return \(r.id) refunded more of \(l.lineItemID) than it asks for") }
            }
            let receipts = r.receipts.reduce(Int64(0)) { $0 + $1.quantity }
            if receipts != r.lineItems.reduce(Int64(0)) { $0 + $1.accounted } { problem("return \(r.id)'s receipts do not add up to its lines") }
            if r.status == "received" && r.receivingStatus != "received" { problem("return \(r.id) is received with units still expected") }
            return true
        }
        for (id, order) in listed { problem("order \(order)'s return list names \(id), which is missing") }
        // What refunds naming a return hold, per return and line (failed refunds hold nothing).
        var refunded: [String: [String: Int64]] = [:]
        try database.scan(from: [Keyspace.refund], to: [Keyspace.refund + 1], snapshot: snap) { _, v in
            guard let f = try? Refund.decode(Array(v)), let rid = f.returnID, f.status != "failed" else { return true }
            for l in f.lineItems { refunded[rid, default: [:]][l.lineItemID, default: 0] += l.quantity }
            if !(byOrder[f.orderID]?.first { $0.id == rid }?.refundIDs.contains(f.id) ?? false) { problem("refund \(f.id) names return \(rid), which does not list it") }
            return true
        }
        let orders = Dictionary(figures.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (orderID, returns) in byOrder {
            for r in returns {
                for l in r.lineItems where l.refunded != (refunded[r.id]?[l.lineItemID] ?? 0) {
                    problem("return \(r.id) says \(l.refunded) of \(l.lineItemID) refunded; refunds naming it hold \(refunded[r.id]?[l.lineItemID] ?? 0)")
                }
            }
            guard let o = orders[orderID] else { problem("returns name order \(orderID), which is missing"); continue }
            var fulfilled: [String: Int64] = [:]
            let fos = try store({ () throws(StoreError) in try database.get(Keyspace.orderFulfillmentKey(orderID), snapshot: snap) })
            if let fos {
                for id in try InventoryService.decodeIDs(fos) {
                    guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.fulfillmentOrderKey(id), snapshot: snap) }),
                          let fo = try? FulfillmentOrder.decode(b) else { continue }  // checkStock reports it
                    for l in fo.lines { fulfilled[l.lineItemID, default: 0] += l.shipped }
                }
            } else if o.fulfillmentStatus == "fulfilled" {
                for l in o.lines { if let id = l.id { fulfilled[id, default: 0] += l.quantity } }
            }
            for l in o.lines {
                guard let id = l.id else { continue }
                let held = returns.reduce(Int64(0)) { $0 + $1.holds(id) }
                if held > (fulfilled[id] ?? 0) { problem("order \(o.number) line \(id): returns hold \(held) units of \(fulfilled[id] ?? 0) fulfilled") }
            }
        }
    }
}

/// What `checkPayments` needs of an order, kept from the one decode of the index check
/// (a few numbers per order, not the order).
struct OrderFigures {
    let id, number, financialStatus, fulfillmentStatus: String
    let total, netSales, totalShipping, totalTax, refundedShipping: Int64
    let payments: PaymentSummary
    let lines: [(id: String?, quantity: Int64, refunded: Int64, unitCost: Int64?)]
    /// Its `related_orders`; merged into another, its sale moved there with its lines (the ledger nets it to zero).
    let links: [OrderLink]
    var mergedAway: Bool { links.contains { $0.relation == "merged_into" } }

    init(_ o: Order) {
        links = o.relatedOrders
        id = o.id; number = o.number; financialStatus = o.financialStatus; fulfillmentStatus = o.fulfillmentStatus
        total = o.total; netSales = o.netSales; totalShipping = o.totalShipping; totalTax = o.totalTax
        refundedShipping = o.refundedShipping; payments = o.payments
        lines = o.lineItems.map { ($0.id, $0.quantity, $0.refundedQuantity, $0.unitCost) }
    }
}

/// A record kind with secondary index entries, as `integrity.check` sees it:
/// where its records live, the prefixes only its index entries use (its `I`
/// entries are `I kind …`), and the entries a stored record must have.
struct IndexedKind: Sendable {
    let kind: RecordKind
    let recordPrefix: UInt8
    let ownPrefixes: [UInt8]
    /// The record's id, its index keys and (orders) its number, from its stored bytes.
    let entries: @Sendable ([UInt8]) throws(OrderbaseError) -> (id: String, keys: [[UInt8]], number: String?)

    static let all: [IndexedKind] = [
        IndexedKind(kind: .order, recordPrefix: Keyspace.order, ownPrefixes: [Keyspace.updated]) { (b) throws(OrderbaseError) in
            let o = try Order.decode(b)
            return (o.id, Keyspace.indexKeyList(of: o), o.number)
        },
        IndexedKind(kind: .notification, recordPrefix: Keyspace.notification,
                    ownPrefixes: [Keyspace.notificationDue, Keyspace.notificationOrder]) { (b) throws(OrderbaseError) in
            let n = try NotificationRecord.decode(b)
            return (n.id, n.indexKeys, nil)
        },
        IndexedKind(kind: .webhookDelivery, recordPrefix: Keyspace.webhookDelivery,
                    ownPrefixes: [Keyspace.webhookDue, Keyspace.webhookQueue]) { (b) throws(OrderbaseError) in
            let d = try WebhookDelivery.decode(b)
            return (d.id, d.indexKeys, nil)
        },
        IndexedKind(kind: .inventoryMovement, recordPrefix: Keyspace.movement, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let m = try InventoryMovement.decode(b)
            return (m.id, m.indexKeys, nil)
        },
        IndexedKind(kind: .attachment, recordPrefix: Keyspace.attachment, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let a = try Attachment.decode(b)
            return (a.id, a.indexKeys, nil)
        },
        IndexedKind(kind: .shipment, recordPrefix: Keyspace.shipment, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let s = try Shipment.decode(b)
            return (s.id, s.indexKeys, nil)
        },
        IndexedKind(kind: .orderNote, recordPrefix: Keyspace.orderNote, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let n = try OrderNote.decode(b)
            return (n.id, n.indexKeys, nil)
        },
        IndexedKind(kind: .transaction, recordPrefix: Keyspace.transaction, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let t = try Transaction.decode(b)
            return (t.id, t.indexKeys, nil)
        },
        IndexedKind(kind: .refund, recordPrefix: Keyspace.refund, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let r = try Refund.decode(b)
            return (r.id, r.indexKeys, nil)
        },
        IndexedKind(kind: .orderEdit, recordPrefix: Keyspace.orderEdit, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let e = try OrderEdit.decode(b)
            return (e.id, e.indexKeys, nil)
        },
        IndexedKind(kind: .orderReturn, recordPrefix: Keyspace.orderReturn, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let r = try OrderReturn.decode(b)
            return (r.id, r.indexKeys, nil)
        },
        IndexedKind(kind: .salesLine, recordPrefix: Keyspace.salesLine, ownPrefixes: []) { (b) throws(OrderbaseError) in
            let l = try SalesLine.decode(b)
            return (l.id, l.indexKeys, nil)
        },
    ]
}

extension AuditService {
    /// The file store: every attachment's blob exists with its size (and, `hashes`, its SHA-256),
    /// and the tenant's usage counter is the sum of its attachments' sizes (docs/attachments.md).
    func checkFiles(_ snap: Snapshot, hashes: Bool, _ problem: (String) -> Void) throws {
        var total: Int64 = 0
        var checked: Set<String> = []
        let files = core.fileStore
        try database.scan(from: [Keyspace.attachment], to: [Keyspace.attachment + 1], snapshot: snap) { _, v in
            guard let a = try? Attachment.decode(Array(v)) else { return true }  // reported with the indexed kinds
            total += a.size
            guard checked.insert(a.sha256).inserted else { return true }
            let size: Int64? = (try? files.size(a.sha256)) ?? nil
            if let size {
                if size != a.size {
                    problem("attachment \(a.id)'s file has \(size) bytes, not \(a.size)")
                } else if hashes, (try? files.hash(a.sha256)) != a.sha256 {
                    problem("attachment \(a.id)'s file does not hash to \(a.sha256)")
                }
            } else {
                problem("attachment \(a.id)'s file \(a.sha256) is missing from the file store")
            }
            return true
        }
        let stored = try database.get(Keyspace.metaKey(AttachmentService.usageName), snapshot: snap).map { Int64(String(decoding: $0, as: UTF8.self)) ?? -1 } ?? 0
        if stored != total { problem("the file store's usage counter says \(stored) bytes; the attachments hold \(total)") }
    }
}
