import OrderbaseStore

/// One line of a return: units of one order line coming back, why, and what became of them.
struct ReturnLine: Sendable, Equatable {
    var lineItemID: String
    var sku: String?
    var quantity: Int64
    var reason: String
    var note: String?
    /// Came back in good order, came back damaged, never came back.
    var received: Int64 = 0
    var damaged: Int64 = 0
    var missing: Int64 = 0
    /// Where what came back went: on hand at a location, on hand held for quality control, nowhere.
    var restocked: Int64 = 0
    var processing: Int64 = 0
    var notRestocked: Int64 = 0
    /// Units refunded by refunds that name the return.
    var refunded: Int64 = 0

    /// Units accounted for (came back, or reported missing).
    var accounted: Int64 { received + damaged + missing }
    /// Units still expected.
    var outstanding: Int64 { quantity - accounted }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("line_item_id"); w.string(lineItemID)
        w.key("sku"); w.optionalString(sku)
        w.key("quantity"); w.int(quantity)
        w.key("reason"); w.string(reason)
        w.key("note"); w.optionalString(note)
        w.key("received_quantity"); w.int(received)
        w.key("damaged_quantity"); w.int(damaged)
        w.key("missing_quantity"); w.int(missing)
        w.key("restocked_quantity"); w.int(restocked)
        w.key("processing_quantity"); w.int(processing)
        w.key("not_restocked_quantity"); w.int(notRestocked)
        w.key("refunded_quantity"); w.int(refunded)
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> ReturnLine {
        func n(_ k: String) throws(OrderbaseError) -> Int64 { try f.int(k, in: 0...Int64.max) ?? 0 }
        var l = ReturnLine(lineItemID: try f.string("line_item_id", required: true)!, sku: try f.string("sku", maxLength: Int.max),
                           quantity: try n("quantity"), reason: try f.string("reason") ?? "unknown", note: try f.string("note", maxLength: Int.max))
        l.received = try n("received_quantity")
        l.damaged = try n("damaged_quantity")
        l.missing = try n("missing_quantity")
        l.restocked = try n("restocked_quantity")
        l.processing = try n("processing_quantity")
        l.notRestocked = try n("not_restocked_quantity")
        l.refunded = try n("refunded_quantity")
        return l
    }
}

/// One receiving of units of one line: how they came back and where they went.
struct ReturnReceipt: Sendable, Equatable {
    static let conditions = ["received", "damaged", "missing"]
    static let dispositions = ["restock", "processing_required", "not_restocked"]

    var lineItemID: String
    var quantity: Int64
    var condition: String
    /// nil for missing units (nothing came back to put anywhere).
    var disposition: String?
    var locationID: String?
    var at: Int64
    var by: Actor

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("line_item_id"); w.string(lineItemID)
        w.key("quantity"); w.int(quantity)
        w.key("condition"); w.string(condition)
        w.key("disposition"); w.optionalString(disposition)
        w.key("location_id"); w.optionalString(locationID)
        w.key("at"); w.timestamp(at)
        w.key("by"); by.write(&w)
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> ReturnReceipt {
        guard var a = try f.object("by"), let at = try f.timestamp("at") else { throw OrderbaseError(.corruption, "a return receipt lacks by or at") }
        return ReturnReceipt(lineItemID: try f.string("line_item_id", required: true)!, quantity: try f.int("quantity", in: 0...Int64.max) ?? 0,
                             condition: try f.string("condition") ?? "received", disposition: try f.string("disposition"),
                             locationID: try f.string("location_id"), at: at, by: try Actor.read(&a))
    }
}

extension OrderReturn: AuditedRecord {
    static let statuses = ["requested", "approved", "in_progress", "received", "closed", "declined", "cancelled"]
    static let channels = ["staff", "customer"]
    /// Why the customer sends it back (Shopify's list).
    static let reasons = ["color", "defective", "not_as_described", "other", "size_too_large", "size_too_small", "style", "unknown", "unwanted", "wrong_item"]
    static let declineReasons = ["return_period_ended", "final_sale", "not_eligible", "other"]
    /// The most receipts one return keeps (each `returns.receive` line adds one).
    static let maxReceipts = 1000

    var belongsToOrder: String? { orderID }
    /// `I return order_id <order> <id>`: an order's returns.
    var indexKeys: [[UInt8]] { [Keyspace.indexKey(.orderReturn, "order_id", orderID, id)] }

    /// The units of line `id` this return holds against the line's fulfilled quantity: none once
    /// declined or cancelled; what came back once closed (units still expected, and missing ones, are let go); else all it asks for.
    func holds(_ id: String) -> Int64 {
        guard let l = lineItems.first(where: { $0.lineItemID == id }) else { return 0 }
        switch status {
        case "declined", "cancelled": return 0
        case "closed": return l.received + l.damaged
        default: return l.quantity
        }
    }

    /// Its status from its lines once approved: `received` when every unit is accounted for, `in_progress` when some are.
    var receivingStatus: String {
        if lineItems.allSatisfy({ $0.outstanding == 0 }) { return "received" }
        return lineItems.contains { $0.accounted > 0 } ? "in_progress" : "approved"
    }

    /// The expression data of its policy checks: `order`, `actor`, and `return`.
    static func policyData(_ order: Order, actor: Actor, lines: [ReturnLine], value: Int64, requestedVia: String,
                           daysSinceDelivery: Int64?) throws(OrderbaseError) -> JSON {
        guard case .object(var data) = try OrderService.guardData(order, actor: actor) else { return .null }
        data["return"] = .object([
            "value": .int(value), "currency": .string(order.currency), "quantity": .int(lines.reduce(0) { $0 + $1.quantity }),
            "days_since_delivery": daysSinceDelivery.map { .int($0) } ?? .null, "requested_via": .string(requestedVia),
            "reasons": .array(lines.map { .string($0.reason) }),
            "line_items": .array(lines.map { l in
                .object(["line_item_id": .string(l.lineItemID), "sku": l.sku.map { .string($0) } ?? .null, "quantity": .int(l.quantity), "reason": .string(l.reason)])
            }),
        ])
        return .object(data)
    }

    /// What `quantity` units of line `i` of `order` are worth to the customer: their price less their share of the
    /// line's own and the order's discounts (`shares`: RefundMath.orderDiscountShares), plus their share of its tax.
    static func value(of order: Order, line i: Int, quantity: Int64, shares: [Int64]) -> Int64 {
        let item = order.lineItems[i]
        let own = item.discounts.reduce(Int64(0)) { $0 + $1.amount }
        let tax = item.taxLines.reduce(Int64(0)) { $0 + ($1.amount ?? 0) }
        return quantity * item.unitPrice - RefundMath.scaled(own + shares[i], quantity, item.quantity) + RefundMath.scaled(tax, quantity, item.quantity)
    }
}

extension DataShape {
    /// What a return policy's condition and approval tiers see: the tenant's `order` and `actor` (as guards
    /// see them, custom fields typed) and `return`.
    func returnPolicy() -> DataShape {
        guard case .object(var top, _) = root else { return self }
        top["previous"] = nil
        top["return"] = .object([
            "value": .number, "currency": .string, "quantity": .number, "days_since_delivery": .number, "requested_via": .string,
            "reasons": .array(.string),
            "line_items": .array(.object(["line_item_id": .string, "sku": .string, "quantity": .number, "reason": .string], open: false)),
        ], open: false)
        return DataShape(root: .object(top, open: false))
    }
}

extension ReturnPolicy: AuditedRecord {
    /// `condition`: an expression (compiled; checked against the tenant's shape by the service), or null to clear it.
    static func readCondition(_ f: inout Fields) throws(OrderbaseError) -> Expression?? {
        if f.isNull("condition") { _ = f.raw("condition"); return .some(nil) }
        guard let raw = f.raw("condition") else { return nil }
        do { return .some(try ExpressionService.compile(raw, check: false).0) } catch {
            throw OrderbaseError(error.code, "condition: \(error.message)", field: "condition", details: error.details)
        }
    }

    /// `approval_tiers`: at most 5 tiers as a workflow transition's.
    static func readTiers(_ f: inout Fields) throws(OrderbaseError) -> [Workflow.ApprovalTier]? {
        try f.objects("approval_tiers", maxCount: 5) { (g: inout Fields) throws(OrderbaseError) -> Workflow.ApprovalTier in
            let t = try Workflow.ApprovalTier.read(&g, stored: false)
            try g.finish()
            return t
        }
    }
}
