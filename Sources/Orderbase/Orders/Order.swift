import Glibc

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
    /// `on_hold` and `scheduled` are derived ones (every fulfillment order waiting): docs/fulfillment.md.
    public static let fulfillment = ["unfulfilled", "partially_fulfilled", "fulfilled", "on_hold", "scheduled"]
    public static let channels = ["online", "phone", "in_store", "marketplace"]
    /// How urgent an order is to the people working it (SLA policies will target these).
    public static let priorities = ["low", "normal", "high", "urgent"]
    /// `orders.list` orders.
    public static let sorts = ["created_desc", "created_asc", "updated_desc", "updated_asc"]
}

public struct Address: Equatable, Sendable {
    var name, company, line1, line2, city, region, postalCode, country, phone: String?
    /// WGS 84 degrees, both or neither: where it is, for routing by distance (`closest`).
    var latitude, longitude: Double?

    static func read(_ f: inout Fields) throws(OrderbaseError) -> Address {
        var a = Address()
        a.name = try f.string("name", maxLength: 255)
        a.company = try f.string("company", maxLength: 255)
        a.line1 = try f.string("line1", maxLength: 255)
        a.line2 = try f.string("line2", maxLength: 255)
        a.city = try f.string("city", maxLength: 255)
        a.region = try f.string("region", maxLength: 255)
        a.postalCode = try f.string("postal_code", maxLength: 32)
        a.phone = try f.string("phone", maxLength: 64)
        if let c = try f.string("country", maxLength: 2) {
            guard c.utf8.count == 2, c.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw OrderbaseError.invalid("\(f.fieldPath("country")) must be an ISO 3166-1 alpha-2 code like \"GB\"", field: f.fieldPath("country"))
            }
            a.country = c
        }
        a.latitude = try f.number("latitude", in: -90...90)
        a.longitude = try f.number("longitude", in: -180...180)
        if (a.latitude == nil) != (a.longitude == nil) {
            let missing = a.latitude == nil ? "latitude" : "longitude"
            throw OrderbaseError.invalid("\(f.fieldPath(missing)) is required with \(missing == "latitude" ? "longitude" : "latitude") (give both or neither)",
                                         field: f.fieldPath(missing))
        }
        return a
    }

    /// Great-circle distance in metres to `other` (haversine on a sphere of
    /// the mean Earth radius, 6,371.0088 km), or nil when either has no coordinates.
    func distance(to other: Address?) -> Double? {
        guard let la1 = latitude, let lo1 = longitude, let la2 = other?.latitude, let lo2 = other?.longitude else { return nil }
        let r = 6_371_008.8, rad = Double.pi / 180
        let dLat = (la2 - la1) * rad, dLon = (lo2 - lo1) * rad
        let h = pow(sin(dLat / 2), 2) + cos(la1 * rad) * cos(la2 * rad) * pow(sin(dLon / 2), 2)
        return 2 * r * asin(min(1, h.squareRoot()))
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        for (k, v) in [("name", name), ("company", company), ("line1", line1), ("line2", line2), ("city", city),
                       ("region", region), ("postal_code", postalCode), ("country", country), ("phone", phone)] as [(StaticString, String?)] {
            if let v { w.key(k); w.string(v) }
        }
        if let latitude, let longitude { w.key("latitude"); w.double(latitude); w.key("longitude"); w.double(longitude) }
        w.endObject()
    }
}

public struct Customer: Equatable, Sendable {
    var id, email, name, phone: String?

    static func read(_ f: inout Fields) throws(OrderbaseError) -> Customer {
        var c = Customer()
        c.id = try f.string("id", maxLength: 255, allowEmpty: false)
        c.email = try f.string("email", maxLength: 254)
        if let e = c.email, !(e.contains("@") && !e.hasPrefix("@") && !e.hasSuffix("@")) {
            throw OrderbaseError.invalid("\(f.fieldPath("email")) is not an email address", field: f.fieldPath("email"))
        }
        c.name = try f.string("name", maxLength: 255)
        c.phone = try f.string("phone", maxLength: 64)
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
        Discount(code: try f.string("code", maxLength: 255), description: try f.string("description", maxLength: 255),
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
        let name = try f.string("name", maxLength: 255, required: true, allowEmpty: false)!
        let rateText = try f.string("rate", maxLength: 12, required: true)!
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
    /// Values of the tenant's line item custom fields (docs/custom-fields.md); written only when there are some.
    var customFields: JSON = .object([:])
    /// Units refunded so far (refunds.create; docs/refunds.md); kept by the engine, written only when some are.
    var refundedQuantity: Int64 = 0

    /// A request's line (`stored`: a stored order's, with what only the engine writes).
    static func read(_ f: inout Fields, limits: OrderLimits, stored: Bool = false) throws(OrderbaseError) -> LineItem {
        let id = try f.string("id", maxLength: 64)
        let sku = try f.string("sku", maxLength: 255)
        let title = try f.string("title", maxLength: 255, required: true, allowEmpty: false)
        let variant = try f.string("variant_title", maxLength: 255)
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
                guard !k.isLonger(than: 255) else { throw OrderbaseError.invalid("property names are at most 255 characters", field: p.fieldPath(k)) }
                guard case .string(let s) = v, !s.isLonger(than: 1024) else {
                    throw OrderbaseError.invalid("\(p.fieldPath(k)) must be a string of at most 1024 characters", field: p.fieldPath(k))
                }
                props[k] = s
            }
        }
        var line = LineItem(id: id, sku: sku, title: title, variantTitle: variant, quantity: qty, unitPrice: price,
                            unitCost: cost, discounts: discounts, taxLines: taxes, properties: props)
        if let m = f.raw("custom_fields"), m != .null {
            guard case .object(let members) = m else {
                throw OrderbaseError.invalid("\(f.fieldPath("custom_fields")) must be an object, got \(m.typeName)", field: f.fieldPath("custom_fields"))
            }
            if members.count > CustomFieldDefinition.maxPerOwner {
                throw OrderbaseError(.limitExceeded, "\(f.fieldPath("custom_fields")) has more than \(CustomFieldDefinition.maxPerOwner) members", field: f.fieldPath("custom_fields"))
            }
            line.customFields = m
        }
        if stored { line.refundedQuantity = try f.int("refunded_quantity", in: 0...1_000_000) ?? 0 }
        return line
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
        if case .object(let cf) = customFields, !cf.isEmpty { w.key("custom_fields"); w.value(customFields) }
        if refundedQuantity > 0 { w.key("refunded_quantity"); w.int(refundedQuantity) }
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
            title: try f.string("title", maxLength: 255, required: true, allowEmpty: false)!,
            code: try f.string("code", maxLength: 255),
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
                    note: try f.string("note", maxLength: Int.max), placedAt: at, placedBy: by)
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
        var a = Actor(type: try f.oneOf("type", types, required: true)!, id: try f.string("id", maxLength: 255))
        if let roles = try f.array("roles", maxCount: 20) {
            for (n, r) in roles.enumerated() {
                guard case .string(let s) = r, !s.isEmpty, !s.isLonger(than: 64) else {
                    throw OrderbaseError.invalid("\(f.fieldPath("roles"))[\(n)] must be a role name of 1 to 64 characters", field: "\(f.fieldPath("roles"))[\(n)]")
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
        c.requestID = try f.string("request_id", maxLength: 255)
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

/// An order's derived values and totals (its fields are declared in
/// Tools/codegen/order_fields.py, which generates Order+Fields.generated.swift).
extension Order {
    public var customerID: String? { customer?.id }
    public var lineItemCount: Int { lineItems.count }
    /// In a final state of its workflow: entering one sets `closed_at`.
    public var isFinal: Bool { closedAt != nil }

    /// Computes tax amounts and every total from the lines, with checked
    /// arithmetic. Totals are never taken from the caller.
    mutating func computeTotals() throws(OrderbaseError) {
        var subtotal: Int64 = 0, discount: Int64 = 0, tax: Int64 = 0, shipping: Int64 = 0, cost_: Int64 = 0
        for n in lineItems.indices {
            let path = "line_items[\(n)]"
            let line = try Money.multiply(lineItems[n].quantity, lineItems[n].unitPrice, field: path)
            subtotal = try Money.add(subtotal, line, field: "subtotal")
            if let cost = lineItems[n].unitCost {
                // Bounded like the money it is: the sales ledger and the order's cost of goods add these up.
                cost_ = try Money.add(cost_, try Money.multiply(lineItems[n].quantity, cost, field: "\(path).unit_cost"), field: "\(path).unit_cost")
            }
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
    /// The order's stored/API JSON.
    public var json: [UInt8] { render().bytes }

    /// An address with every field set (for `sample`).
    static let sampleAddress = Address(name: "n", company: "c", line1: "l", line2: "l", city: "c", region: "r", postalCode: "p", country: "GB", phone: "p",
                                      latitude: 51.5, longitude: -0.12)

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
