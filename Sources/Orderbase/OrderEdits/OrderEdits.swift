import OrderbaseStore

/// One staged change of an order edit (docs/order-edits.md, "Actions").
enum EditAction: Sendable {
    case addLine(LineItem)
    case setQuantity(String, Int64)
    case setPrice(String, Int64)
    case setLineDiscount(String, Int64)
    case addShippingLine(ShippingLine)
    case removeShippingLine(Int)
    case setShippingAddress(Address?)
    case setBillingAddress(Address?)

    static let types = ["add_line", "set_quantity", "set_price", "set_line_discount", "add_shipping_line", "remove_shipping_line",
                        "set_shipping_address", "set_billing_address"]

    /// The members each type takes (the others are unknown fields; the catalogue's schema states it).
    static let members: [(type: String, members: [String])] = [
        ("add_line", ["line_item"]), ("set_quantity", ["line_item_id", "quantity"]), ("set_price", ["line_item_id", "unit_price"]),
        ("set_line_discount", ["line_item_id", "amount"]), ("add_shipping_line", ["shipping_line"]), ("remove_shipping_line", ["index"]),
        ("set_shipping_address", ["address"]), ("set_billing_address", ["address"]),
    ]

    /// `{"type", …}` as a request gives it (strict) or as stored.
    static func read(_ g: inout Fields, limits: OrderLimits) throws(OrderbaseError) -> EditAction {
        let type = try g.oneOf("type", types, required: true)!
        func line() throws(OrderbaseError) -> String { try g.string("line_item_id", maxLength: 64, required: true, allowEmpty: false)! }
        func address() throws(OrderbaseError) -> Address? {
            if g.isNull("address") { _ = g.raw("address"); return nil }
            guard var a = try g.object("address") else {
                throw OrderbaseError.invalid("\(g.fieldPath("address")) is required (null clears it)", field: g.fieldPath("address"))
            }
            let address = try Address.read(&a)
            try a.finish()
            return address
        }
        let action: EditAction
        switch type {
        case "add_line":
            guard var l = try g.object("line_item") else { throw OrderbaseError.invalid("\(g.fieldPath("line_item")) is required", field: g.fieldPath("line_item")) }
            let item = try LineItem.read(&l, limits: limits)
            try l.finish()
            if item.id != nil { throw OrderbaseError.invalid("\(l.fieldPath("id")): a new line gets its id when the edit is committed", field: l.fieldPath("id")) }
            action = .addLine(item)
        case "set_quantity": action = .setQuantity(try line(), try g.int("quantity", in: 0...1_000_000, required: true)!)
        case "set_price": action = .setPrice(try line(), try g.int("unit_price", in: 0...Money.max, required: true)!)
        case "set_line_discount": action = .setLineDiscount(try line(), try g.int("amount", in: 0...Money.max, required: true)!)
        case "add_shipping_line":
            guard var s = try g.object("shipping_line") else { throw OrderbaseError.invalid("\(g.fieldPath("shipping_line")) is required", field: g.fieldPath("shipping_line")) }
            let line = try ShippingLine.read(&s, limits: limits)
            try s.finish()
            action = .addShippingLine(line)
        case "remove_shipping_line": action = .removeShippingLine(Int(try g.int("index", in: 0...999, required: true)!))
        case "set_shipping_address": action = .setShippingAddress(try address())
        default: action = .setBillingAddress(try address())
        }
        return action
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        switch self {
        case .addLine(let l): w.key("type"); w.string("add_line"); w.key("line_item"); l.write(&w)
        case .setQuantity(let id, let q): w.key("type"); w.string("set_quantity"); w.key("line_item_id"); w.string(id); w.key("quantity"); w.int(q)
        case .setPrice(let id, let p): w.key("type"); w.string("set_price"); w.key("line_item_id"); w.string(id); w.key("unit_price"); w.int(p)
        case .setLineDiscount(let id, let a): w.key("type"); w.string("set_line_discount"); w.key("line_item_id"); w.string(id); w.key("amount"); w.int(a)
        case .addShippingLine(let s): w.key("type"); w.string("add_shipping_line"); w.key("shipping_line"); s.write(&w)
        case .removeShippingLine(let i): w.key("type"); w.string("remove_shipping_line"); w.key("index"); w.int(Int64(i))
        case .setShippingAddress(let a):
            w.key("type"); w.string("set_shipping_address"); w.key("address"); if let a { a.write(&w) } else { w.null() }
        case .setBillingAddress(let a):
            w.key("type"); w.string("set_billing_address"); w.key("address"); if let a { a.write(&w) } else { w.null() }
        }
        w.endObject()
    }

    /// Whether it changes what the lines are worth (and so how an order discount spreads over them).
    var movesLineAmounts: Bool {
        switch self {
        case .addLine, .setQuantity, .setPrice, .setLineDiscount: true
        default: false
        }
    }
}

extension OrderEdit: AuditedRecord {
    static let statuses = ["open", "committed", "discarded"]
    /// The most actions one edit stages.
    static let maxActions = 100

    var belongsToOrder: String? { orderID }
    /// `I order_edit order_id <order> <id>`: an order's edits.
    var indexKeys: [[UInt8]] { [Keyspace.indexKey(.orderEdit, "order_id", orderID, id)] }

    /// `order` with `actions` applied (docs/order-edits.md, "Rules"): only unfulfilled units change (`fulfilled`: units
    /// per line shipped, or all of them for an order fulfilled without fulfillment orders); lines with refunds keep their
    /// quantity, price and discount, and an order with refunds and order discounts keeps its lines' amounts (each refund
    /// was worked out from them); an edited line's tax is worked out again from its rates. New lines get ids from `newID`.
    static func apply(_ actions: [EditAction], to order: Order, fulfilled: [String: Int64], limits: OrderLimits,
                      newID: () -> String) throws(OrderbaseError) -> Order {
        var new = order
        let refunded = order.lineItems.contains { $0.refundedQuantity > 0 } || order.refundedShipping > 0
        func refuse(_ message: String, _ reason: String, _ field: String, _ details: JSONObject = [:]) -> OrderbaseError {
            var d = details
            d["reason"] = .string(reason)
            return OrderbaseError(.invalidState, message, field: field, details: .object(d))
        }
        for (n, action) in actions.enumerated() {
            let path = "actions[\(n)]"
            if refunded && !order.discounts.isEmpty && action.movesLineAmounts {
                throw refuse("order \(order.number) has refunds and order discounts: its refunds' shares of those discounts would move, so its lines' amounts cannot change",
                             "refunded", "\(path).type")
            }
            /// A line the order had (not one this edit adds: its id is given at commit), still there.
            func line(_ id: String) throws(OrderbaseError) -> Int {
                guard order.lineItems.contains(where: { $0.id == id }), let i = new.lineItems.firstIndex(where: { $0.id == id }) else {
                    throw OrderbaseError(.notFound, "line item \(id) is not a line of order \(order.number)", field: "\(path).line_item_id")
                }
                if new.lineItems[i].refundedQuantity > 0 {
                    throw refuse("line item \(id) has refunds: its quantity, price and discount stay as they were refunded", "refunded", "\(path).line_item_id")
                }
                return i
            }
            /// An edited line's tax follows its new amount (rates kept).
            func retax(_ i: Int) { for t in new.lineItems[i].taxLines.indices { new.lineItems[i].taxLines[t].amount = nil } }
            switch action {
            case .addLine(var l):
                guard new.lineItems.count < limits.maxLineItems else {
                    throw OrderbaseError.quota("line_items", limit: limits.maxLineItems, "an order has at most \(limits.maxLineItems) line items", field: "\(path).line_item")
                }
                l.id = newID()
                new.lineItems.append(l)
            case .setQuantity(let id, let q):
                let i = try line(id)
                let done = fulfilled[id] ?? 0
                guard q >= done else {
                    throw refuse("line item \(id) has \(done) fulfilled unit\(done == 1 ? "" : "s"); only unfulfilled units can change (quantity ≥ \(done))",
                                 "below_fulfilled", "\(path).quantity", ["fulfilled_quantity": .int(done)])
                }
                if q == 0 { new.lineItems.remove(at: i) } else { new.lineItems[i].quantity = q; retax(i) }
            case .setPrice(let id, let p):
                let i = try line(id)
                new.lineItems[i].unitPrice = p
                retax(i)
            case .setLineDiscount(let id, let a):
                let i = try line(id)
                new.lineItems[i].discounts = a == 0 ? [] : [Discount(code: nil, description: "order edit", amount: a)]
                retax(i)
            case .addShippingLine(let s):
                guard new.shippingLines.count < limits.maxShippingLines else {
                    throw OrderbaseError.quota("shipping_lines", limit: limits.maxShippingLines, "an order has at most \(limits.maxShippingLines) shipping lines", field: "\(path).shipping_line")
                }
                new.shippingLines.append(s)
            case .removeShippingLine(let k):
                guard k < new.shippingLines.count else {
                    throw OrderbaseError(.notFound, "order \(order.number) has \(new.shippingLines.count) shipping line\(new.shippingLines.count == 1 ? "" : "s"); there is no index \(k)",
                                         field: "\(path).index")
                }
                if order.refundedShipping > 0 {
                    throw refuse("order \(order.number) has refunded shipping: its shipping lines stay as they were refunded", "refunded", "\(path).index")
                }
                new.shippingLines.remove(at: k)
            case .setShippingAddress(let a): new.shippingAddress = a
            case .setBillingAddress(let a): new.billingAddress = a
            }
        }
        guard !new.lineItems.isEmpty else {
            throw OrderbaseError(.invalidState, "an order needs at least one line item (cancel it instead)", field: "actions",
                                 details: .object(["reason": .string("nothing_left")]))
        }
        do { try new.computeTotals() } catch {
            throw OrderbaseError(error.code, "after the edit: \(error.message)", field: "actions", details: error.details)
        }
        return new
    }
}
