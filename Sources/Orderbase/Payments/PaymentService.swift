import OrderbaseStore

/// What the host's payment handler answered for one transaction (docs/payments.md, "The payment handler").
public struct PaymentReply: Sendable, Equatable {
    /// `success`, `failure` or `pending` (the gateway answers later: `transactions.update` settles it).
    public var status: String
    public var gatewayID: String?
    public var errorCode: String?
    public var message: String?

    public init(status: String, gatewayID: String? = nil, errorCode: String? = nil, message: String? = nil) {
        self.status = status
        self.gatewayID = gatewayID
        self.errorCode = errorCode
        self.message = message
    }

    /// The C handler's answer: its return code (0 success, 1 failure, 2 pending; any other
    /// code is pending, since the engine cannot know whether money moved) and its reply,
    /// an optional JSON object `{"gateway_id", "error_code", "message"}` (text that is not
    /// one is kept as the message).
    public init(code: Int32, reply: [UInt8]) {
        switch code {
        case 0: status = "success"
        case 1: status = "failure"
        case 2: status = "pending"
        default: status = "pending"
        }
        if code < 0 || code > 2 { message = "the payment handler returned \(code): settle it with transactions.update" }
        let text = reply.prefix { $0 != 0 }
        guard !text.isEmpty else { return }
        if case .object(let o)? = try? JSON.parse(Array(text)) {
            func member(_ k: String, _ max: Int) -> String? {
                guard case .string(let s)? = o[k], !s.isEmpty else { return nil }
                return s.isLonger(than: max) ? String(s.prefix(max)) : s
            }
            gatewayID = member("gateway_id", 255)
            errorCode = member("error_code", 64)
            message = member("message", 1000) ?? message
        } else {
            let s = String(decoding: text, as: UTF8.self)
            message = s.isLonger(than: 1000) ? String(s.prefix(1000)) : s
        }
    }
}

/// The host's payment handler: given the tenant and the request JSON (docs/payments.md), it asks
/// its gateway to capture, refund or void and answers what happened. It runs on the calling
/// thread of `payments.capture`/`refund`/`void`, outside the tenant's lock.
public typealias PaymentHandler = @Sendable (_ tenant: String, _ request: [UInt8]) -> PaymentReply

extension PaymentService {
    // MARK: transactions.create

    /// `{"order_id", "kind", "amount"?, "status"?, "gateway"?, "gateway_id"?, "parent_id"?, "currency"?,
    /// "error_code"?, "message"?, "processed_at"?, "idempotency_key"?}` → the transaction. Records what the
    /// host's gateway did; events `transaction.created` and `order.transaction_recorded`.
    public func createTransaction(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let idemKey = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        var t = Transaction.blank
        _ = try Transaction.read(&f, onto: &t, isCreate: true)
        try f.finish()
        try t.checkErrorCode()
        let fingerprint = idemKey.map { _ in OrderService.fingerprint(request) }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            if let idemKey, let fingerprint, let ids = try wc.replay("transaction:" + idemKey, fingerprint) {
                return try wc.load(Transaction.self, String(decoding: ids, as: UTF8.self)).answerJSON
            }
            var order = try loadOrder(t.orderID, &wc)
            let old = order
            try record(&t, source: "recorded", order: &order, &wc)
            _ = try orders.commitChange(old: old, new: order, type: "order.transaction_recorded", reason: "\(t.kind) \(t.id)", &wc)
            if let idemKey, let fingerprint { wc.remember("transaction:" + idemKey, fingerprint, Array(t.id.utf8)) }
            return t.answerJSON
        }
    }

    /// Admits `t` to the ledger (PaymentLedger.admit) and stages it with its parent's new settled amount;
    /// `order` leaves with the new sums (the caller commits it).
    func record(_ t: inout Transaction, source: String, order: inout Order, _ wc: inout WriteContext) throws(OrderbaseError) {
        var parent = try t.parentID.map { (id) throws(OrderbaseError) in try wc.load(Transaction.self, id, field: "parent_id") }
        let parentBefore = parent
        try admit(&t, parent: &parent, source: source, order: &order, &wc)
        wc.commit("transaction.created", before: nil, after: t)
        if let parent { wc.commit("transaction.updated", before: parentBefore, after: parent) }  // settled_amount only: no event
    }

    /// Admits `t` to the ledger and fills in what the engine sets (id, order, source, who, when).
    private func admit(_ t: inout Transaction, parent: inout Transaction?, source: String, order: inout Order,
                       _ wc: inout WriteContext) throws(OrderbaseError) {
        try PaymentLedger.admit(&t, parent: &parent, order: &order)
        t.orderID = order.id
        t.id = ids.make("txn_", at: wc.now)
        t.source = source
        t.recordedBy = wc.request.actor
        t.createdAt = wc.now
        t.updatedAt = wc.now
        if t.processedAt == 0 { t.processedAt = wc.now }
    }

    /// `orders.create`'s `transactions`: admitted against the new order (its sums and `financial_status`
    /// set before it is rendered); `stageInline` writes them after the order's own record and event.
    func admitInline(_ txns: inout [Transaction], order: inout Order, _ wc: inout WriteContext) throws(OrderbaseError) {
        var none: Transaction?
        for n in txns.indices {
            do { try admit(&txns[n], parent: &none, source: "recorded", order: &order, &wc) } catch {
                throw OrderbaseError(error.code, error.message, field: error.field.map { "transactions[\(n)].\($0)" }, details: error.details)
            }
        }
        if !txns.isEmpty { order.financialStatus = order.payments.financialStatus(total: order.total) }
    }

    func stageInline(_ txns: [Transaction], _ wc: inout WriteContext) {
        for t in txns { wc.commit("transaction.created", before: nil, after: t) }
    }

    func loadOrder(_ id: String, _ wc: inout WriteContext) throws(OrderbaseError) -> Order {
        guard let bytes = try wc.read(Keyspace.orderKey(id)) else {
            throw OrderbaseError(.notFound, "no order with id \(id)", field: "order_id")
        }
        return try Order.decode(bytes)
    }

    // MARK: transactions.update

    /// `{"id", "status", "gateway_id"?, "error_code"?, "message"?, "processed_at"?, "expected_version"?}` → the
    /// transaction: settles a pending one as `success` or `failure` (events `transaction.updated` and
    /// `order.transaction_settled`). A settled transaction is `invalid_state` (`not_pending`).
    public func updateTransaction(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true, allowEmpty: false)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        let status = try f.oneOf("status", ["success", "failure"], required: true)!
        let gatewayID = try f.string("gateway_id", maxLength: 255, allowEmpty: false)
        let processedAt = try f.timestamp("processed_at")
        var edits = Transaction.blank
        let given = try Transaction.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        edits.status = status
        try edits.checkErrorCode()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(Transaction.self, id)
            if let expected, expected != before.version {
                throw OrderbaseError.staleVersion("transaction \(id)", actual: before.version, expected: expected)
            }
            var after = before
            after.apply(edits, fields: given)
            after.status = status
            if let gatewayID { after.gatewayID = gatewayID }
            if let processedAt { after.processedAt = processedAt }
            return try settle(before, as: after, &wc).answerJSON
        }
    }

    /// Settles pending `before` as `after` (its status success or failure, or still pending with new details),
    /// with the parent's and the order's sums, in this write.
    private func settle(_ before: Transaction, as after: Transaction, _ wc: inout WriteContext) throws(OrderbaseError) -> Transaction {
        guard before.status == "pending" else {
            throw PaymentLedger.refuse("transaction \(before.id) is \(before.status); only a pending one can be settled", reason: "not_pending", field: "status")
        }
        var after = after
        var order = try loadOrder(before.orderID, &wc)
        let old = order
        var parent = try before.parentID.map { (id) throws(OrderbaseError) in try wc.load(Transaction.self, id, field: "parent_id") }
        let parentBefore = parent
        PaymentLedger.settle(before, as: after, parent: &parent, order: &order)
        after.version = before.version + 1
        after.updatedAt = wc.now
        wc.commit("transaction.updated", before: before, after: after)
        if let parent { wc.commit("transaction.updated", before: parentBefore, after: parent) }
        if let rid = after.refundID { try refundSettled(rid, order: &order, &wc) }
        _ = try orders.commitChange(old: old, new: order, type: "order.transaction_settled", reason: "\(after.kind) \(after.id) \(after.status)", &wc)
        return after
    }

    // MARK: transactions.get, list

    /// `{"id"}` → the transaction, with `capturable` (authorizations) or `refundable` (captures, sales).
    public func getTransaction(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(Transaction.self, id).answerJSON
    }

    /// `{"order_id"?, "kind"?, "status"?, "limit"?, "starting_after"?}` → transactions, newest first.
    public func listTransactions(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let kind = try f.oneOf("kind", Transaction.kinds)
        let status = try f.oneOf("status", Transaction.statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(Transaction.self, index: order.map { ("order_id", $0) }, after: after, limit: limit, render: { $0.answerJSON }) { t in
            (kind == nil || t.kind == kind) && (status == nil || t.status == status)
        }
    }

    // MARK: payments.capture, refund, void (through the payment handler)

    /// `{"order_id", "amount"?, "parent_id"?, "idempotency_key"?}` → `{"transactions", "order"}`: asks the payment
    /// handler to capture from an authorization (the oldest with money left, unless named); the amount defaults
    /// to all the authorization has left, within what the order still owes.
    public func capture(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try throughHandler(request, action: "capture") { (order, parent, amount, candidates) throws(OrderbaseError) in
            let auths = candidates.filter { $0.kind == "authorization" && $0.open > 0 }
            guard let auth = parent ?? auths.first else {
                throw PaymentLedger.refuse("order \(order.number) has no authorization with money left to capture", reason: "nothing_to_capture", field: "order_id")
            }
            let room = order.total - (order.payments.captured + order.payments.pending - order.payments.refunded)
            var t = Transaction.blank
            t.kind = "capture"
            t.parentID = auth.id
            t.amount = amount ?? min(auth.open, max(0, room))
            if t.amount == 0 {
                throw PaymentLedger.refuse("order \(order.number) owes nothing more", reason: "exceeds_outstanding", ["outstanding": .int(0)])
            }
            return [t]
        }
    }

    /// `{"order_id", "amount", "parent_id"?, "message"?, "idempotency_key"?}` → `{"transactions", "order"}`: asks the
    /// payment handler to refund; without `parent_id` the amount is taken from captures and sales newest first,
    /// one refund per parent.
    public func refund(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try throughHandler(request, action: "refund") { (order, parent, amount, candidates) throws(OrderbaseError) in
            guard let amount else { throw OrderbaseError.invalid("amount is required (minor units, > 0)", field: "amount") }
            let parents: [Transaction] = parent.map { [$0] } ?? Array(candidates.filter { ($0.kind == "capture" || $0.kind == "sale") && $0.open > 0 }.reversed())
            let available = parents.reduce(Int64(0)) { $0 + $1.open }
            guard amount <= available else {
                throw PaymentLedger.refuse("refund of \(amount) exceeds what is refundable (\(available))", reason: "exceeds_refundable", ["refundable": .int(available)])
            }
            var left = amount
            var out: [Transaction] = []
            for p in parents where left > 0 && p.open > 0 {
                var t = Transaction.blank
                t.kind = "refund"
                t.parentID = p.id
                t.amount = min(left, p.open)
                left -= t.amount
                out.append(t)
            }
            return out
        }
    }

    /// `{"order_id", "parent_id"?, "idempotency_key"?}` → `{"transactions", "order"}`: asks the payment handler to
    /// void what is left of an authorization (every authorization with money left, unless one is named).
    public func void(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try throughHandler(request, action: "void") { (order, parent, _, candidates) throws(OrderbaseError) in
            let auths: [Transaction] = parent.map { [$0] } ?? candidates.filter { $0.kind == "authorization" && $0.open > 0 }
            guard !auths.isEmpty else {
                throw PaymentLedger.refuse("order \(order.number) has no authorization with money left to void", reason: "nothing_to_void", field: "order_id")
            }
            return auths.map { a in
                var t = Transaction.blank
                t.kind = "void"
                t.parentID = a.id
                return t
            }
        }
    }

    /// The three handler methods: read the request; in one write, choose the transactions (`plan`, given
    /// the order, the named parent, the amount and the order's transactions as the write sees them) and
    /// record them pending; call the handler for each outside the lock; in a second write settle each as it
    /// answered. A crash between the writes leaves them pending (docs/payments.md, "The payment handler").
    private func throughHandler(_ request: JSON, action: String,
                                plan: (Order, Transaction?, Int64?, [Transaction]) throws(OrderbaseError) -> [Transaction]) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let orderID = try f.string("order_id", maxLength: 64, required: true, allowEmpty: false)!
        let amount = action == "void" ? nil : try f.int("amount", in: 1...Money.max)
        let parentID = try f.string("parent_id", maxLength: 64, allowEmpty: false)
        let message = action == "refund" ? try f.string("message", maxLength: 1000, allowEmpty: false) : nil
        let idemKey = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        guard let handler = core.outboundConfig.paymentHandler else {
            throw PaymentLedger.refuse("no payment handler is registered (orderbase_engine_set_payment_handler); record what your gateway did with transactions.create",
                                       reason: "no_payment_handler", field: nil)
        }
        let fingerprint = idemKey.map { _ in OrderService.fingerprint(request) }
        let known = try indexedIDs(.transaction, "order_id", orderID)
        var replayed: [String]?
        let (pending, orderBytes) = try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> ([Transaction], [UInt8]) in
            if let idemKey, let fingerprint, let ids = try wc.replay("payments:" + idemKey, fingerprint) {
                replayed = String(decoding: ids, as: UTF8.self).split(separator: ",").map(String.init)
                return ([], [])
            }
            var order = try loadOrder(orderID, &wc)
            let old = order
            var parent: Transaction?
            if let parentID {
                let p = try wc.load(Transaction.self, parentID, field: "parent_id")
                guard p.orderID == order.id else { throw PaymentLedger.refuse("transaction \(p.id) belongs to another order", reason: "wrong_parent", field: "parent_id") }
                parent = p
            }
            var candidates: [Transaction] = []
            for id in known { if let t = try wc.loadIfPresent(Transaction.self, id) { candidates.append(t) } }
            candidates.sort { $0.id < $1.id }
            var made = try plan(order, parent, amount, candidates)
            for n in made.indices {
                made[n].status = "pending"
                made[n].message = message
                // The gateway that made the parent is the one asked.
                let pid = made[n].parentID
                made[n].gateway = (parent?.id == pid ? parent : candidates.first { $0.id == pid })?.gateway ?? "manual"
                try record(&made[n], source: "handler", order: &order, &wc)
            }
            _ = try orders.commitChange(old: old, new: order, type: "order.transaction_recorded",
                                        reason: made.map { "\($0.kind) \($0.id)" }.joined(separator: ", "), &wc)
            if let idemKey, let fingerprint { wc.remember("payments:" + idemKey, fingerprint, Array(made.map(\.id).joined(separator: ",").utf8)) }
            return (made, try wc.read(Keyspace.orderKey(order.id)) ?? [])
        }
        if let replayed { return try answer(replayed, orderID: orderID) }
        try askAndSettle(handler, action: action, pending, orderBytes: orderBytes, ctx)
        return try answer(pending.map(\.id), orderID: orderID)
    }

    /// Asks the handler for each pending transaction, one at a time, outside the lock, then settles each
    /// as it answered in one write (one settled meanwhile by `transactions.update` is left as it is).
    func askAndSettle(_ handler: PaymentHandler, action: String, _ pending: [Transaction], orderBytes: [UInt8],
                      _ ctx: RequestContext) throws(OrderbaseError) {
        var replies: [(Transaction, PaymentReply)] = []
        for t in pending {
            var w = JSONWriter()
            w.beginObject()
            w.key("action"); w.string(action)
            w.key("tenant"); w.string(core.id)
            w.key("transaction"); w.raw(t.apiJSON)
            if let pid = t.parentID, let p = try? stored(Transaction.self, pid) { w.key("parent"); w.raw(p.apiJSON) } else { w.key("parent"); w.null() }
            w.key("order"); w.raw(orderBytes)
            w.endObject()
            replies.append((t, handler(core.id, w.bytes)))
        }
        try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) in
            for (t, reply) in replies {
                let before = try wc.load(Transaction.self, t.id)
                guard before.status == "pending" else { continue }  // settled meanwhile (transactions.update)
                var after = before
                after.status = reply.status
                if let g = reply.gatewayID { after.gatewayID = g }
                if reply.status == "failure" { after.errorCode = reply.errorCode }
                if let m = reply.message { after.message = m }
                if reply.status == "pending" && reply.gatewayID == nil && reply.message == nil { continue }
                _ = try settle(before, as: after, &wc)
            }
        }
    }

    /// `{"transactions": [...], "order": {...}}` as stored now.
    func answer(_ ids: [String], orderID: String) throws(OrderbaseError) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("transactions"); w.beginArray()
        for id in ids { w.raw(try stored(Transaction.self, id).answerJSON) }
        w.endArray()
        w.key("order"); w.raw(try orders.loadRecord(orderID, snapshot: nil))
        w.endObject()
        return w.bytes
    }
}
