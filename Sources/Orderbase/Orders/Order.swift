/// Limits applied while reading order input (engine options).
public struct OrderLimits: Sendable {
    public var maxLineItems = 500
    public var maxMetadataBytes = 16_384
    public var maxShippingLines = 50
    public var maxDiscounts = 50
    public var maxTaxLines = 10
    public var maxProperties = 50
    public init() {}
}

public enum OrderStatus {
    public static let all = ["pending", "confirmed", "processing", "on_hold", "completed", "cancelled"]
    public static let open: Set<String> = ["pending", "confirmed", "processing", "on_hold"]
    public static let financial = ["pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"]
    public static let fulfillment = ["unfulfilled", "partially_fulfilled", "fulfilled"]
    public static let channels = ["online", "phone", "in_store", "marketplace"]
    /// `orders.list` orders.
    public static let sorts = ["created_desc", "created_asc", "updated_desc", "updated_asc"]
}

public struct Address: Equatable, Sendable {
    var name, company, line1, line2, city, region, postalCode, country, phone: String?

    static func read(_ f: inout Fields) throws(OrderbaseError) -> Address {
        var a = Address()
        a.name = try f.string("name", maxBytes: 255)
        a.company = try f.string("company", maxBytes: 255)
        a.line1 = try f.string("line1", maxBytes: 255)
        a.line2 = try f.string("line2", maxBytes: 255)
        a.city = try f.string("city", maxBytes: 255)
        a.region = try f.string("region", maxBytes: 255)
        a.postalCode = try f.string("postal_code", maxBytes: 32)
        a.phone = try f.string("phone", maxBytes: 64)
        if let c = try f.string("country", maxBytes: 2) {
            guard c.utf8.count == 2, c.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw OrderbaseError.invalid("\(f.fieldPath("country")) must be an ISO 3166-1 alpha-2 code like \"GB\"", field: f.fieldPath("country"))
            }
            a.country = c
        }
        return a
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        for (k, v) in [("name", name), ("company", company), ("line1", line1), ("line2", line2), ("city", city),
                       ("region", region), ("postal_code", postalCode), ("country", country), ("phone", phone)] as [(StaticString, String?)] {
            if let v { w.key(k); w.string(v) }
        }
        w.endObject()
    }
}

public struct Customer: Equatable, Sendable {
    var id, email, name, phone: String?

    static func read(_ f: inout Fields) throws(OrderbaseError) -> Customer {
        var c = Customer()
        c.id = try f.string("id", maxBytes: 255, allowEmpty: false)
        c.email = try f.string("email", maxBytes: 254)
        if let e = c.email, !(e.contains("@") && !e.hasPrefix("@") && !e.hasSuffix("@")) {
            throw OrderbaseError.invalid("\(f.fieldPath("email")) is not an email address", field: f.fieldPath("email"))
        }
        c.name = try f.string("name", maxBytes: 255)
        c.phone = try f.string("phone", maxBytes: 64)
        return c
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        for (k, v) in [("id", id), ("email", email), ("name", name), ("phone", phone)] as [(StaticString, String?)] {
            if let v { w.key(k); w.string(v) }
        }
        w.endObject()
    }
}

public struct Discount: Equatable, Sendable {
    var code, description: String?
    var amount: Int64

    static func read(_ f: inout Fields) throws(OrderbaseError) -> Discount {
        Discount(code: try f.string("code", maxBytes: 255), description: try f.string("description", maxBytes: 255),
                 amount: try f.int("amount", in: 0...Money.max, required: true)!)
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        if let code { w.key("code"); w.string(code) }
        if let description { w.key("description"); w.string(description) }
        w.key("amount"); w.int(amount)
        w.endObject()
    }
}

public struct TaxLine: Equatable, Sendable {
    var name: String
    var rate: DecimalRate
    /// Supplied by the caller (an external tax service) or computed from the rate.
    var amount: Int64?

    static func read(_ f: inout Fields) throws(OrderbaseError) -> TaxLine {
        let name = try f.string("name", maxBytes: 255, required: true, allowEmpty: false)!
        let rateText = try f.string("rate", maxBytes: 12, required: true)!
        guard let rate = DecimalRate(rateText), rate.isFraction else {
            throw OrderbaseError.invalid("\(f.fieldPath("rate")) must be a decimal string between \"0\" and \"1\" with at most 6 decimals, like \"0.20\"", field: f.fieldPath("rate"))
        }
        return TaxLine(name: name, rate: rate, amount: try f.int("amount", in: 0...Money.max))
    }

    /// The caller's amount, or the rate applied to `base`.
    func amount(on base: Int64, field: String) throws(OrderbaseError) -> Int64 {
        if let amount { return amount }
        return try Money.applyRate(base, rate: rate, field: field)
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.string(name)
        w.key("rate"); w.string(rate.text)
        w.key("amount"); w.int(amount ?? 0)
        w.endObject()
    }
}

public struct LineItem: Equatable, Sendable {
    var id: String?
    var sku, title, variantTitle: String?
    var quantity: Int64
    var unitPrice: Int64
    var unitCost: Int64?
    var discounts: [Discount]
    var taxLines: [TaxLine]
    var properties: [String: String]

    static func read(_ f: inout Fields, limits: OrderLimits) throws(OrderbaseError) -> LineItem {
        let id = try f.string("id", maxBytes: 64)
        let sku = try f.string("sku", maxBytes: 255)
        let title = try f.string("title", maxBytes: 255, required: true, allowEmpty: false)
        let variant = try f.string("variant_title", maxBytes: 255)
        let qty = try f.int("quantity", in: 1...1_000_000, required: true)!
        let price = try f.int("unit_price", in: 0...Money.max, required: true)!
        let cost = try f.int("unit_cost", in: 0...Money.max)
        let discounts = try f.objects("discounts", maxCount: limits.maxDiscounts) { (g: inout Fields) throws(OrderbaseError) in try Discount.read(&g) } ?? []
        let taxes = try f.objects("tax_lines", maxCount: limits.maxTaxLines) { (g: inout Fields) throws(OrderbaseError) in try TaxLine.read(&g) } ?? []
        var props: [String: String] = [:]
        if let p = try f.object("properties") {
            if p.object.count > limits.maxProperties {
                throw OrderbaseError(.limitExceeded, "\(p.path) has more than \(limits.maxProperties) entries", field: p.path)
            }
            for (k, v) in p.object {
                guard k.utf8.count <= 255 else { throw OrderbaseError.invalid("property names are at most 255 bytes", field: p.fieldPath(k)) }
                guard case .string(let s) = v, s.utf8.count <= 1024 else {
                    throw OrderbaseError.invalid("\(p.fieldPath(k)) must be a string of at most 1024 bytes", field: p.fieldPath(k))
                }
                props[k] = s
            }
        }
        return LineItem(id: id, sku: sku, title: title, variantTitle: variant, quantity: qty, unitPrice: price,
                        unitCost: cost, discounts: discounts, taxLines: taxes, properties: props)
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        if let id { w.key("id"); w.string(id) }
        if let sku { w.key("sku"); w.string(sku) }
        if let title { w.key("title"); w.string(title) }
        if let variantTitle { w.key("variant_title"); w.string(variantTitle) }
        w.key("quantity"); w.int(quantity)
        w.key("unit_price"); w.int(unitPrice)
        if let unitCost { w.key("unit_cost"); w.int(unitCost) }
        w.key("discounts"); w.beginArray(); for d in discounts { d.write(&w) }; w.endArray()
        w.key("tax_lines"); w.beginArray(); for t in taxLines { t.write(&w) }; w.endArray()
        w.key("properties"); w.beginObject()
        for k in properties.keys.sorted() { w.dynamicKey(k); w.string(properties[k]!) }
        w.endObject()
        w.endObject()
    }
}

public struct ShippingLine: Equatable, Sendable {
    var title: String
    var code: String?
    var price: Int64
    var taxLines: [TaxLine]

    static func read(_ f: inout Fields, limits: OrderLimits) throws(OrderbaseError) -> ShippingLine {
        ShippingLine(
            title: try f.string("title", maxBytes: 255, required: true, allowEmpty: false)!,
            code: try f.string("code", maxBytes: 255),
            price: try f.int("price", in: 0...Money.max, required: true)!,
            taxLines: try f.objects("tax_lines", maxCount: limits.maxTaxLines) { (g: inout Fields) throws(OrderbaseError) in try TaxLine.read(&g) } ?? [])
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("title"); w.string(title)
        if let code { w.key("code"); w.string(code) }
        w.key("price"); w.int(price)
        w.key("tax_lines"); w.beginArray(); for t in taxLines { t.write(&w) }; w.endArray()
        w.endObject()
    }
}

/// A hold on an order (Shopify's fulfillment holds, for the whole order): a
/// reason from a fixed set, a note, who placed it and when.
public struct Hold: Equatable, Sendable {
    public static let reasons = ["awaiting_payment", "high_risk_of_fraud", "incorrect_address", "out_of_stock",
                                 "awaiting_return_items", "other"]
    var id: String
    var reason: String
    var note: String?
    var placedAt: Int64
    var placedBy: Actor

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> Hold {
        guard let at = try f.timestamp("placed_at") else { throw OrderbaseError.invalid("hold without placed_at") }
        var by = Actor.api
        if var a = try f.object("placed_by") { by = try Actor.read(&a) }
        return Hold(id: try f.string("id", required: true)!, reason: try f.string("reason", required: true)!,
                    note: try f.string("note", maxBytes: Int.max), placedAt: at, placedBy: by)
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("reason"); w.string(reason)
        w.key("note"); w.optionalString(note)
        w.key("placed_at"); w.timestamp(placedAt)
        w.key("placed_by"); placedBy.write(&w)
        w.endObject()
    }

    var json: JSON {
        var w = JSONWriter()
        write(&w)
        return (try? JSON.parse(w.bytes)) ?? .null
    }
}

public struct Actor: Equatable, Sendable {
    public var type: String
    public var id: String?
    /// The actor's roles as the host states them (`manager`, `warehouse`…):
    /// expressions read them as `actor.roles`. Recorded only when given.
    public var roles: [String] = []
    public static let types = ["user", "api", "automation", "system"]
    public static let api = Actor(type: "api", id: nil)

    static func read(_ f: inout Fields) throws(OrderbaseError) -> Actor {
        var a = Actor(type: try f.oneOf("type", types, required: true)!, id: try f.string("id", maxBytes: 255))
        if let roles = try f.array("roles", maxCount: 20) {
            for (n, r) in roles.enumerated() {
                guard case .string(let s) = r, !s.isEmpty, s.utf8.count <= 64 else {
                    throw OrderbaseError.invalid("\(f.fieldPath("roles"))[\(n)] must be a role name of 1 to 64 bytes", field: "\(f.fieldPath("roles"))[\(n)]")
                }
                a.roles.append(s)
            }
        }
        return a
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string(type)
        if let id { w.key("id"); w.string(id) }
        if !roles.isEmpty { w.key("roles"); w.beginArray(); for r in roles { w.string(r) }; w.endArray() }
        w.endObject()
    }

    /// The actor as expressions see it (`actor.type`, `actor.id`, `actor.roles`).
    public var json: JSON {
        var o: JSONObject = ["type": .string(type), "roles": .array(roles.map { .string($0) })]
        if let id { o["id"] = .string(id) }
        return .object(o)
    }
}

/// Who asked and why: lands in every audit entry and event of the command.
public struct RequestContext: Sendable {
    public var actor: Actor = .api
    public var requestID: String?
    public init() {}

    /// Reads the optional `actor` and `request_id` common to every request.
    public static func read(_ f: inout Fields) throws(OrderbaseError) -> RequestContext {
        var c = RequestContext()
        if var a = try f.object("actor") {
            c.actor = try Actor.read(&a)
            try a.finish()
        }
        c.requestID = try f.string("request_id", maxBytes: 255)
        return c
    }
}

extension Fields {
    /// A method's request object, with the `actor` and `request_id` every
    /// request may carry already read (and validated).
    public static func request(_ json: JSON) throws(OrderbaseError) -> (Fields, RequestContext) {
        var f = try Fields(json)
        f.isRequest = true
        let ctx = try RequestContext.read(&f)
        return (f, ctx)
    }
}

/// An order as stored and as returned by the API.
public struct Order: Equatable, Sendable {
    public var id: String
    public var number: String
    public var version: Int64
    public var status = "pending"
    public var financialStatus = "pending"
    public var fulfillmentStatus = "unfulfilled"
    public var channel = "online"
    public var sourceName: String?
    public var sourceExternalID: String?
    public var currency: String
    var customer: Customer?
    var billingAddress: Address?
    var shippingAddress: Address?
    var lineItems: [LineItem] = []
    var shippingLines: [ShippingLine] = []
    var discounts: [Discount] = []
    public var subtotal: Int64 = 0
    public var totalDiscount: Int64 = 0
    public var totalTax: Int64 = 0
    public var totalShipping: Int64 = 0
    public var total: Int64 = 0
    public var note: String?
    public var metadata: JSON = .object([:])
    public var cancelReason: String?
    /// Standing holds: while any stands, the order's status does not change.
    var holds: [Hold] = []
    /// The workflow version the order follows (pinned at creation; `workflows.migrate` moves it).
    public var workflowKey = Workflow.defaultKey
    public var workflowVersion: Int64 = 1
    /// A transition waiting for approval (`approvals.*`).
    var pendingApproval: PendingApproval?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var placedAt: Int64
    public var cancelledAt: Int64?
    public var closedAt: Int64?

    public var customerID: String? { customer?.id }
    public var lineItemCount: Int { lineItems.count }
    /// In a final state of its workflow: entering one sets `closed_at`.
    public var isFinal: Bool { closedAt != nil }

    /// Computes tax amounts and every total from the lines, with checked
    /// arithmetic. Totals are never taken from the caller.
    mutating func computeTotals() throws(OrderbaseError) {
        var subtotal: Int64 = 0, discount: Int64 = 0, tax: Int64 = 0, shipping: Int64 = 0
        for n in lineItems.indices {
            let path = "line_items[\(n)]"
            let line = try Money.multiply(lineItems[n].quantity, lineItems[n].unitPrice, field: path)
            subtotal = try Money.add(subtotal, line, field: "subtotal")
            var lineDiscount: Int64 = 0
            for d in lineItems[n].discounts { lineDiscount = try Money.add(lineDiscount, d.amount, field: "\(path).discounts") }
            guard lineDiscount <= line else {
                throw OrderbaseError.invalid("\(path).discounts exceed the line's amount (\(line))", field: "\(path).discounts")
            }
            discount = try Money.add(discount, lineDiscount, field: "total_discount")
            for t in lineItems[n].taxLines.indices {
                let amount = try lineItems[n].taxLines[t].amount(on: line - lineDiscount, field: "\(path).tax_lines[\(t)]")
                lineItems[n].taxLines[t].amount = amount
                tax = try Money.add(tax, amount, field: "total_tax")
            }
        }
        for n in shippingLines.indices {
            shipping = try Money.add(shipping, shippingLines[n].price, field: "total_shipping")
            for t in shippingLines[n].taxLines.indices {
                let amount = try shippingLines[n].taxLines[t].amount(on: shippingLines[n].price, field: "shipping_lines[\(n)].tax_lines[\(t)]")
                shippingLines[n].taxLines[t].amount = amount
                tax = try Money.add(tax, amount, field: "total_tax")
            }
        }
        var orderDiscount: Int64 = 0
        for d in discounts { orderDiscount = try Money.add(orderDiscount, d.amount, field: "discounts") }
        guard orderDiscount <= subtotal - discount else {
            throw OrderbaseError.invalid("discounts exceed the order's discounted subtotal (\(subtotal - discount))", field: "discounts")
        }
        discount = try Money.add(discount, orderDiscount, field: "total_discount")
        self.subtotal = subtotal
        self.totalDiscount = discount
        self.totalTax = tax
        self.totalShipping = shipping
        self.total = try Money.add(try Money.add(subtotal - discount, tax, field: "total"), shipping, field: "total")
    }
}

/// An order rendered to its stored/API JSON, with each top-level field's byte
/// span so audit diffs compare bytes instead of re-rendering.
struct RenderedOrder {
    let bytes: [UInt8]
    /// One span per top-level field, always in the same order (so two
    /// renderings compare field by field by position).
    let spans: [(field: StaticString, volatile: Bool, range: Range<Int>)]
}

extension Order {
    /// Renders the stored/API JSON. Written without closures on purpose: closures
    /// capturing `self` copied the whole Order (≈60k instructions per create).
    func render() -> RenderedOrder {
        var w = JSONWriter(capacity: 768 + lineItems.count * 256)
        var spans: [(field: StaticString, volatile: Bool, range: Range<Int>)] = []
        spans.reserveCapacity(28)
        var start = 0
        w.beginObject()
        w.key("id"); start = w.bytes.count; w.string(id); spans.append(("id", false, start..<w.bytes.count))
        w.key("number"); start = w.bytes.count; w.string(number); spans.append(("number", false, start..<w.bytes.count))
        w.key("version"); start = w.bytes.count; w.int(version); spans.append(("version", true, start..<w.bytes.count))
        w.key("status"); start = w.bytes.count; w.string(status); spans.append(("status", false, start..<w.bytes.count))
        w.key("financial_status"); start = w.bytes.count; w.string(financialStatus)
        spans.append(("financial_status", false, start..<w.bytes.count))
        w.key("fulfillment_status"); start = w.bytes.count; w.string(fulfillmentStatus)
        spans.append(("fulfillment_status", false, start..<w.bytes.count))
        w.key("channel"); start = w.bytes.count; w.string(channel); spans.append(("channel", false, start..<w.bytes.count))
        w.key("source"); start = w.bytes.count
        if let sourceName {
            w.beginObject()
            w.key("name"); w.string(sourceName)
            if let sourceExternalID { w.key("external_id"); w.string(sourceExternalID) }
            w.endObject()
        } else { w.null() }
        spans.append(("source", false, start..<w.bytes.count))
        w.key("currency"); start = w.bytes.count; w.string(currency); spans.append(("currency", false, start..<w.bytes.count))
        w.key("customer"); start = w.bytes.count
        if let customer { customer.write(&w) } else { w.null() }
        spans.append(("customer", false, start..<w.bytes.count))
        w.key("billing_address"); start = w.bytes.count
        if let billingAddress { billingAddress.write(&w) } else { w.null() }
        spans.append(("billing_address", false, start..<w.bytes.count))
        w.key("shipping_address"); start = w.bytes.count
        if let shippingAddress { shippingAddress.write(&w) } else { w.null() }
        spans.append(("shipping_address", false, start..<w.bytes.count))
        w.key("line_items"); start = w.bytes.count
        w.beginArray(); for l in lineItems { l.write(&w) }; w.endArray()
        spans.append(("line_items", false, start..<w.bytes.count))
        w.key("shipping_lines"); start = w.bytes.count
        w.beginArray(); for l in shippingLines { l.write(&w) }; w.endArray()
        spans.append(("shipping_lines", false, start..<w.bytes.count))
        w.key("discounts"); start = w.bytes.count
        w.beginArray(); for d in discounts { d.write(&w) }; w.endArray()
        spans.append(("discounts", false, start..<w.bytes.count))
        w.key("subtotal"); start = w.bytes.count; w.int(subtotal); spans.append(("subtotal", false, start..<w.bytes.count))
        w.key("total_discount"); start = w.bytes.count; w.int(totalDiscount)
        spans.append(("total_discount", false, start..<w.bytes.count))
        w.key("total_tax"); start = w.bytes.count; w.int(totalTax); spans.append(("total_tax", false, start..<w.bytes.count))
        w.key("total_shipping"); start = w.bytes.count; w.int(totalShipping)
        spans.append(("total_shipping", false, start..<w.bytes.count))
        w.key("total"); start = w.bytes.count; w.int(total); spans.append(("total", false, start..<w.bytes.count))
        w.key("note"); start = w.bytes.count; w.optionalString(note); spans.append(("note", false, start..<w.bytes.count))
        w.key("metadata"); start = w.bytes.count; w.value(metadata); spans.append(("metadata", false, start..<w.bytes.count))
        w.key("cancel_reason"); start = w.bytes.count; w.optionalString(cancelReason)
        spans.append(("cancel_reason", false, start..<w.bytes.count))
        w.key("holds"); start = w.bytes.count
        w.beginArray(); for h in holds { h.write(&w) }; w.endArray()
        spans.append(("holds", false, start..<w.bytes.count))
        w.key("workflow"); start = w.bytes.count
        Workflow.writeReference(key: workflowKey, version: workflowVersion, &w)
        spans.append(("workflow", false, start..<w.bytes.count))
        w.key("pending_approval"); start = w.bytes.count
        if let pendingApproval { pendingApproval.write(&w) } else { w.null() }
        spans.append(("pending_approval", false, start..<w.bytes.count))
        w.key("created_at"); start = w.bytes.count; w.timestamp(createdAt); spans.append(("created_at", false, start..<w.bytes.count))
        w.key("updated_at"); start = w.bytes.count; w.timestamp(updatedAt); spans.append(("updated_at", true, start..<w.bytes.count))
        w.key("placed_at"); start = w.bytes.count; w.timestamp(placedAt); spans.append(("placed_at", false, start..<w.bytes.count))
        w.key("cancelled_at"); start = w.bytes.count
        if let cancelledAt { w.timestamp(cancelledAt) } else { w.null() }
        spans.append(("cancelled_at", false, start..<w.bytes.count))
        w.key("closed_at"); start = w.bytes.count
        if let closedAt { w.timestamp(closedAt) } else { w.null() }
        spans.append(("closed_at", false, start..<w.bytes.count))
        w.endObject()
        return RenderedOrder(bytes: w.bytes, spans: spans)
    }

    /// Decodes a stored record. A record that does not decode is `corruption`.
    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> Order {
        do {
            var f = try Fields(try JSON.parse(bytes))
            let limits = OrderLimits.unbounded
            func ts(_ key: String) throws(OrderbaseError) -> Int64 {
                guard let v = try f.timestamp(key) else { throw OrderbaseError.invalid("missing \(key)") }
                return v
            }
            var o = Order(id: try f.string("id", required: true)!, number: try f.string("number", required: true)!,
                          version: try f.int("version", in: 1...Int64.max, required: true)!,
                          currency: try f.string("currency", required: true)!,
                          createdAt: 0, updatedAt: 0, placedAt: 0)
            o.status = try f.string("status", required: true)!
            o.financialStatus = try f.string("financial_status", required: true)!
            o.fulfillmentStatus = try f.string("fulfillment_status", required: true)!
            o.channel = try f.string("channel", required: true)!
            if var s = try f.object("source") {
                o.sourceName = try s.string("name")
                o.sourceExternalID = try s.string("external_id")
            }
            if var c = try f.object("customer") { o.customer = try Customer.read(&c) }
            if var a = try f.object("billing_address") { o.billingAddress = try Address.read(&a) }
            if var a = try f.object("shipping_address") { o.shippingAddress = try Address.read(&a) }
            o.lineItems = try f.objects("line_items", maxCount: Int.max) { (g: inout Fields) throws(OrderbaseError) in try LineItem.read(&g, limits: limits) } ?? []
            o.shippingLines = try f.objects("shipping_lines", maxCount: Int.max) { (g: inout Fields) throws(OrderbaseError) in try ShippingLine.read(&g, limits: limits) } ?? []
            o.discounts = try f.objects("discounts", maxCount: Int.max) { (g: inout Fields) throws(OrderbaseError) in try Discount.read(&g) } ?? []
            o.subtotal = try f.int("subtotal", in: Int64.min...Int64.max) ?? 0
            o.totalDiscount = try f.int("total_discount", in: Int64.min...Int64.max) ?? 0
            o.totalTax = try f.int("total_tax", in: Int64.min...Int64.max) ?? 0
            o.totalShipping = try f.int("total_shipping", in: Int64.min...Int64.max) ?? 0
            o.total = try f.int("total", in: Int64.min...Int64.max) ?? 0
            o.note = try f.string("note", maxBytes: Int.max)
            o.metadata = f.raw("metadata") ?? .object([:])
            o.cancelReason = try f.string("cancel_reason", maxBytes: Int.max)
            // Orders stored before holds existed have none.
            o.holds = try f.objects("holds", maxCount: Int.max) { (g: inout Fields) throws(OrderbaseError) in try Hold.decode(&g) } ?? []
            // Orders stored before workflows follow version 1 of the default workflow.
            if var wf = try f.object("workflow") {
                o.workflowKey = try wf.string("key", required: true)!
                o.workflowVersion = try wf.int("version", in: 1...Int64.max, required: true)!
            }
            if var p = try f.object("pending_approval") { o.pendingApproval = try PendingApproval.decode(&p) }
            o.createdAt = try ts("created_at")
            o.updatedAt = try ts("updated_at")
            o.placedAt = try ts("placed_at")
            o.cancelledAt = try f.timestamp("cancelled_at")
            o.closedAt = try f.timestamp("closed_at")
            return o
        } catch {
            throw OrderbaseError(.corruption, "stored order does not decode: \(error.message)")
        }
    }
}

extension Order {
    /// Copies the named editable fields from `edits` (an update request already
    /// read by `readEditable`, where `null` has become "cleared").
    mutating func apply(_ edits: Order, fields: Set<String>) {
        if fields.contains("customer") { customer = edits.customer }
        if fields.contains("billing_address") { billingAddress = edits.billingAddress }
        if fields.contains("shipping_address") { shippingAddress = edits.shippingAddress }
        if fields.contains("note") { note = edits.note }
        if fields.contains("metadata") { metadata = edits.metadata }
        if fields.contains("line_items") { lineItems = edits.lineItems }
        if fields.contains("shipping_lines") { shippingLines = edits.shippingLines }
        if fields.contains("discounts") { discounts = edits.discounts }
    }

    /// The order's stored/API JSON.
    public var json: [UInt8] { render().bytes }

    /// An order from its stored/API JSON (`corruption` if it does not decode).
    public init(json: [UInt8]) throws(OrderbaseError) { self = try Order.decode(json) }
}

extension OrderLimits {
    static let unbounded: OrderLimits = {
        var l = OrderLimits()
        l.maxLineItems = Int.max
        l.maxDiscounts = Int.max
        l.maxTaxLines = Int.max
        l.maxProperties = Int.max
        l.maxShippingLines = Int.max
        return l
    }()
}
