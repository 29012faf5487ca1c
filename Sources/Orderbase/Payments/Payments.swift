import OrderbaseStore

/// The sums of an order's payment transactions, kept on the order in the
/// batch of every transaction (docs/payments.md, "Amounts"): what the ledger
/// allows next is read from here and from the parent transaction, both under
/// the tenant's write lock, so concurrent captures and refunds cannot pass a limit.
public struct PaymentSummary: Equatable, Sendable {
    /// Open authorizations: successful authorizations less what was captured or voided from them (pending included).
    var authorized: Int64 = 0
    /// Successful captures and sales.
    var captured: Int64 = 0
    /// Successful refunds.
    var refunded: Int64 = 0
    /// Successful voids.
    var voided: Int64 = 0
    /// Pending captures and sales (held against the limits until settled).
    var pending: Int64 = 0
    /// Pending refunds.
    var refundPending: Int64 = 0
    /// Transactions recorded (any status). While 0, `financial_status` is the one the order was created with.
    var transactions: Int64 = 0

    static let sample = PaymentSummary(authorized: 0, captured: 0, refunded: 0, voided: 0, pending: 0, refundPending: 0, transactions: 1)

    /// Money still owed by the customer: the total less what was captured (refunds do not make an order owe again).
    func outstanding(total: Int64) -> Int64 { max(0, total - captured) }
    /// What refunds may still give back.
    var refundable: Int64 { captured - refunded - refundPending }
    /// Captured less refunded.
    var net: Int64 { captured - refunded }

    /// `financial_status` from the sums, in this order (docs/payments.md, "Financial status"):
    /// refunded ≥ captured → refunded; any refund → partially_refunded; captured ≥ total → paid;
    /// captured → partially_paid; an open authorization → authorized; a void → voided; else pending.
    func financialStatus(total: Int64) -> String {
        if refunded > 0 { return refunded >= captured ? "refunded" : "partially_refunded" }
        if captured > 0 { return captured >= total ? "paid" : "partially_paid" }
        if authorized > 0 { return "authorized" }
        if voided > 0 { return "voided" }
        return "pending"
    }

    func write(_ w: inout JSONWriter, total: Int64) {
        w.beginObject()
        w.key("authorized"); w.int(authorized)
        w.key("captured"); w.int(captured)
        w.key("refunded"); w.int(refunded)
        w.key("voided"); w.int(voided)
        w.key("pending"); w.int(pending)
        w.key("refund_pending"); w.int(refundPending)
        w.key("net"); w.int(net)
        w.key("outstanding"); w.int(outstanding(total: total))
        w.key("refundable"); w.int(refundable)
        w.key("transactions"); w.int(transactions)
        w.endObject()
    }

    /// Reads the stored members (the derived ones are computed again).
    static func decode(_ f: inout Fields) throws(OrderbaseError) -> PaymentSummary {
        func amount(_ f: inout Fields, _ key: String) throws(OrderbaseError) -> Int64 { try f.int(key, in: -Money.max...Money.max) ?? 0 }
        return PaymentSummary(authorized: try amount(&f, "authorized"), captured: try amount(&f, "captured"), refunded: try amount(&f, "refunded"),
                              voided: try amount(&f, "voided"), pending: try amount(&f, "pending"), refundPending: try amount(&f, "refund_pending"),
                              transactions: try f.int("transactions", in: 0...Int64.max) ?? 0)
    }

    /// Adds (`sign` 1) or takes away (-1) what `t`, in its status, counts for.
    mutating func count(_ t: Transaction, sign: Int64) {
        let a = t.amount * sign
        switch (t.kind, t.status) {
        case ("authorization", "success"): authorized += a
        case ("capture", "pending"): pending += a; authorized -= a
        case ("capture", "success"): captured += a; authorized -= a
        case ("sale", "pending"): pending += a
        case ("sale", "success"): captured += a
        case ("void", "pending"): authorized -= a
        case ("void", "success"): authorized -= a; voided += a
        case ("refund", "pending"): refundPending += a
        // Money moved to another order by orders.split or orders.merge was never given back: it leaves `captured`.
        case ("refund", "success"): if Transaction.transferGateways.contains(t.gateway) { captured -= a } else { refunded += a }
        default: break  // failures, and pending authorizations, move nothing
        }
    }
}

extension Transaction: AuditedRecord {
    static let kinds = ["authorization", "capture", "sale", "void", "refund"]
    static let statuses = ["pending", "success", "failure"]
    static let sources = ["recorded", "handler"]
    /// The gateways of money orders.split and orders.merge move between orders (a refund and a sale): theirs alone.
    static let transferGateways: Set<String> = ["split", "merge"]
    static let gatewayPattern = "^[a-z0-9][a-z0-9_.-]{0,63}$"
    /// Transactions one order may have.
    static let maxPerOrder: Int64 = 1000
    /// The kind a transaction of each kind must have as parent (nil: none).
    static let parentKinds: [String: [String]] = ["capture": ["authorization"], "void": ["authorization"], "refund": ["capture", "sale"]]

    var belongsToOrder: String? { orderID }
    /// `I transaction order_id <order> <id>`: an order's transactions.
    var indexKeys: [[UInt8]] { [Keyspace.indexKey(.transaction, "order_id", orderID, id)] }

    /// What is left of it for children: an authorization's capturable, a capture's or sale's refundable.
    var open: Int64 { status == "success" ? amount - settledAmount : 0 }
    /// What a child counts for in its parent's `settled_amount`: its amount unless it failed.
    var holdsParent: Int64 { status == "failure" ? 0 : amount }

    /// The kinds `orders.create` takes in its `transactions` (no parent: the order is new).
    static let inlineKinds = ["authorization", "sale"]

    /// One of `orders.create`'s `transactions`: `{"kind", "amount", "status"?, "gateway"?, "gateway_id"?,
    /// "error_code"?, "message"?, "processed_at"?}`, checked as `transactions.create` checks them.
    static func readInline(_ f: inout Fields) throws(OrderbaseError) -> Transaction {
        var t = Transaction.blank
        t.kind = try f.oneOf("kind", inlineKinds, required: true)!
        if let s = try f.oneOf("status", statuses) { t.status = s }
        t.amount = try f.int("amount", in: 1...Money.max, required: true)!
        if let g = try readGateway(&f) { t.gateway = g }
        t.gatewayID = try f.string("gateway_id", maxLength: 255, allowEmpty: false)
        t.errorCode = try f.string("error_code", maxLength: 64, allowEmpty: false)
        t.message = try f.string("message", maxLength: 1000, allowEmpty: false)
        t.processedAt = try f.timestamp("processed_at") ?? 0
        try f.finish()
        try t.checkErrorCode(field: f.fieldPath("error_code"))
        return t
    }

    /// `error_code` belongs to a failure only.
    func checkErrorCode(field: String = "error_code") throws(OrderbaseError) {
        if status != "failure", errorCode != nil {
            throw OrderbaseError.invalid("error_code is for a failed transaction (status: failure)", field: field)
        }
    }

    static func readGateway(_ f: inout Fields) throws(OrderbaseError) -> String? {
        guard let g = try f.string("gateway", maxLength: 64, allowEmpty: false) else { return nil }
        guard let first = g.utf8.first, first != UInt8(ascii: "_"), first != UInt8(ascii: "-"), first != UInt8(ascii: "."),
              g.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }) else {
            throw OrderbaseError.invalid("gateway must be 1 to 64 of a-z, 0-9, _, - and . (starting with a letter or digit), like \"stripe\"", field: f.fieldPath("gateway"))
        }
        guard !transferGateways.contains(g) else {
            throw OrderbaseError.invalid("gateway \(g) is the engine's own (orders.split and orders.merge move money under it)", field: f.fieldPath("gateway"))
        }
        return g
    }

    /// The answer of an API: the record with what is left of it (`capturable` or `refundable`).
    var answerJSON: [UInt8] {
        var w = JSONWriter()
        write(&w) { w in
            switch kind {
            case "authorization": w.key("capturable"); w.int(open)
            case "capture", "sale": w.key("refundable"); w.int(open)
            default: break
            }
        }
        return w.bytes
    }
}

/// The ledger's rules for a new transaction (docs/payments.md, "Rules"): each
/// refusal is `invalid_state` (or `invalid_argument` for a wrong parent) with
/// `details.reason`, and changes nothing.
enum PaymentLedger {
    static func refuse(_ message: String, reason: String, field: String? = "amount", _ extra: JSONObject = [:]) -> OrderbaseError {
        var d = extra
        d["reason"] = .string(reason)
        return OrderbaseError(.invalidState, message, field: field, details: .object(d))
    }

    /// Checks `t` (amount given unless a void) against the order and its parent, fills a void's
    /// amount, and counts it: on `order.payments` and on the parent's `settled_amount`.
    static func admit(_ t: inout Transaction, parent: inout Transaction?, order: inout Order) throws(OrderbaseError) {
        let s = order.payments
        guard s.transactions < Transaction.maxPerOrder else {
            throw OrderbaseError(.limitExceeded, "order \(order.number) has \(Transaction.maxPerOrder) transactions, the most one order may have", field: "order_id")
        }
        if !t.currency.isEmpty, t.currency != order.currency {
            throw refuse("currency \(t.currency) is not the order's (\(order.currency))", reason: "currency_mismatch", field: "currency")
        }
        t.currency = order.currency
        let wanted = Transaction.parentKinds[t.kind]
        switch (wanted, parent) {
        case (nil, let p?):
            throw OrderbaseError.invalid("a\(t.kind == "authorization" ? "n" : "") \(t.kind) has no parent (parent_id \(p.id))", field: "parent_id")
        case (let kinds?, nil):
            throw OrderbaseError.invalid("a \(t.kind) needs parent_id: the \(kinds.joined(separator: " or ")) it acts on", field: "parent_id")
        case (let kinds?, let p?):
            guard p.orderID == order.id else { throw refuse("transaction \(p.id) belongs to another order", reason: "wrong_parent", field: "parent_id") }
            guard kinds.contains(p.kind) else {
                throw refuse("a \(t.kind)'s parent must be a\(kinds[0] == "authorization" ? "n" : "") \(kinds.joined(separator: " or ")), not a \(p.kind)", reason: "wrong_parent", field: "parent_id")
            }
            guard p.status == "success" else {
                throw refuse("parent transaction \(p.id) is \(p.status); only a successful one can be acted on", reason: "parent_not_successful", field: "parent_id")
            }
        default: break
        }
        if t.kind == "void" {
            guard t.amount == 0 else {
                throw OrderbaseError.invalid("a void takes no amount: it releases all that is left of its authorization", field: "amount")
            }
            let open = parent!.open
            guard open > 0 else { throw refuse("authorization \(parent!.id) has nothing left to void", reason: "nothing_to_void", field: "parent_id") }
            t.amount = open
        } else if t.amount == 0 {
            throw OrderbaseError.invalid("amount is required (minor units, > 0)", field: "amount")
        }
        if t.status != "failure" {
            let moneyIn = t.kind == "authorization" || t.kind == "capture" || t.kind == "sale"
            if moneyIn, order.cancelledAt != nil {
                throw refuse("order \(order.number) is cancelled: it takes no more payments", reason: "order_cancelled", field: "order_id")
            }
            if let p = parent, t.kind != "void", t.amount > p.open {
                let what = t.kind == "capture" ? "capturable" : "refundable"
                throw refuse("\(t.kind) of \(t.amount) exceeds what is \(what) of \(p.kind) \(p.id) (\(p.open))", reason: "exceeds_\(what)", [what: .int(p.open)])
            }
            if t.kind == "capture" || t.kind == "sale" {
                // Net payment never exceeds the order's total (pending payments held against it).
                let room = order.total - (s.captured + s.pending - s.refunded)
                if t.amount > room {
                    throw refuse("\(t.kind) of \(t.amount) exceeds what order \(order.number) still owes (\(max(0, room)))", reason: "exceeds_outstanding",
                                 ["outstanding": .int(max(0, room))])
                }
            }
        }
        if parent != nil { parent!.settledAmount += t.holdsParent }
        order.payments.count(t, sign: 1)
        order.payments.transactions += 1
    }

    /// Settles a pending transaction as `status`: its counts move from pending to `status`
    /// (a failure gives back what it held of its parent).
    static func settle(_ old: Transaction, as new: Transaction, parent: inout Transaction?, order: inout Order) {
        order.payments.count(old, sign: -1)
        order.payments.count(new, sign: 1)
        if parent != nil { parent!.settledAmount += new.holdsParent - old.holdsParent }
    }
}
