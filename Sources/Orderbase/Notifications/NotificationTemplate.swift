/// A notification template (docs/notifications.md); its fields are declared in
/// Tools/codegen/record_fields.py (`NotificationTemplate+Fields.generated.swift`).
extension NotificationTemplate {
    struct Recipient: Sendable, Equatable {
        /// "customer" (the order's customer email or phone), "staff" (a fixed
        /// `address`), or "field" (the address at `field`, like order.metadata.gift_email).
        var type: String
        var address: String?
        var field: String?
        static let types = ["customer", "staff", "field"]

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("type"); w.string(type)
            if let address { w.key("address"); w.string(address) }
            if let field { w.key("field"); w.string(field) }
            w.endObject()
        }

        static func decode(_ g: inout Fields) throws(OrderbaseError) -> Recipient {
            Recipient(type: try g.string("type", required: true)!, address: try g.string("address", maxLength: Int.max),
                      field: try g.string("field", maxLength: Int.max))
        }
    }

    static let parts = ["subject", "text", "html", "body"]

    func part(_ name: String) -> MustacheTemplate? {
        switch name {
        case "subject": subject
        case "text": text
        case "html": html
        default: body
        }
    }

    mutating func setPart(_ name: String, _ t: MustacheTemplate?) {
        switch name {
        case "subject": subject = t
        case "text": text = t
        case "html": html = t
        default: body = t
        }
    }

    func matches(_ type: String) -> Bool { TenantCore.typeMatches(type, eventTypes) }

    /// A Mustache part of a request, parsed and checked against what templates see.
    static func readPart(_ f: inout Fields, _ name: String) throws(OrderbaseError) -> MustacheTemplate? {
        guard let s = try f.string(name, maxLength: MustacheTemplate.maxLength, allowEmpty: false) else { return nil }
        let tpl = try MustacheTemplate(s, field: name)
        try tpl.check(NotificationData.shape, field: name)
        return tpl
    }

    /// The `recipients` of a request: 1 to 20, each checked against the order's shape.
    static func readRecipients(_ f: inout Fields) throws(OrderbaseError) -> [Recipient]? {
        guard let list = try f.objects("recipients", maxCount: 20, { (g: inout Fields) throws(OrderbaseError) -> Recipient in
            let type = try g.oneOf("type", Recipient.types, required: true)!
            var r = Recipient(type: type)
            // Each member is read whatever the type, so one given for another type is named as such.
            let address = try g.string("address", maxLength: 320, allowEmpty: false)
            let path = try g.string("field", maxLength: 255, allowEmpty: false)
            func only(_ name: String, _ forType: String) -> OrderbaseError {
                OrderbaseError.invalid("\(g.fieldPath(name)) is only for recipients of type \(forType)", field: g.fieldPath(name))
            }
            func missing(_ name: String) -> OrderbaseError { OrderbaseError.invalid("\(g.fieldPath(name)) is required", field: g.fieldPath(name)) }
            if address != nil, type != "staff" { throw only("address", "staff") }
            if path != nil, type != "field" { throw only("field", "field") }
            switch type {
            case "staff":
                guard let address else { throw missing("address") }
                r.address = address
            case "field":
                guard let path else { throw missing("field") }
                guard RecipientField.isText(path) else {
                    throw OrderbaseError.invalid("\(g.fieldPath("field")) must name a text field of the order, like order.customer.email or order.metadata.gift_email (not through a list)",
                                                 field: g.fieldPath("field"))
                }
                r.field = path
            default: break
            }
            try g.finish()
            return r
        }) else { return nil }
        guard !list.isEmpty else { throw OrderbaseError.invalid("recipients must name at least one recipient", field: "recipients") }
        return list
    }

    /// Checks the parts and the condition again with the tenant's custom fields typed (`custom_fields.boxs` is an
    /// unknown field, `order.custom_fields.boxes` a number): the request was read before the tenant was at hand.
    func checkCustomFields(_ defs: [CustomFieldDefinition]) throws(OrderbaseError) {
        guard !defs.isEmpty else { return }
        let shape = DataShape(root: NotificationData.shape).typed(by: defs).root
        for (name, part) in [("subject", subject), ("text", text), ("html", html), ("body", body)] {
            if let part { _ = try part.check(shape, field: name) }
        }
        if let condition {
            do { _ = try NotificationData.conditionShape.typed(by: defs).check(condition) } catch {
                throw OrderbaseError(error.code, "condition: \(error.message)", field: "condition", details: error.details)
            }
        }
    }

    /// A condition of a request, compiled and checked against what conditions see.
    static func readCondition(_ raw: JSON) throws(OrderbaseError) -> Expression {
        do {
            let (e, _) = try ExpressionService.compile(raw, check: false)
            _ = try NotificationData.conditionShape.check(e)
            return e
        } catch {
            throw OrderbaseError(error.code, "condition: \(error.message)", field: "condition", details: error.details)
        }
    }

    /// What a channel of `type` needs: email a subject and a text part (HTML
    /// optional), SMS a body, a callback anything but nothing at all.
    /// Each part's worst case for an order at the engine's limits fits the rendering budgets.
    func checkWorstCase(limits: OrderLimits, budgets: Budgets) throws(OrderbaseError) {
        for p in Self.parts {
            try part(p)?.checkWorstCase(NotificationData.shape, limits: limits, budgets: budgets, field: p)
        }
    }

    func checkParts(for type: String) throws(OrderbaseError) {
        switch type {
        case "email":
            guard subject != nil else { throw OrderbaseError.invalid("an email template needs a subject", field: "subject") }
            guard text != nil else { throw OrderbaseError.invalid("an email template needs a text part (html is optional, beside it)", field: "text") }
            if body != nil { throw OrderbaseError.invalid("an email template has subject, text and html, not body", field: "body") }
        case "sms":
            guard body != nil else { throw OrderbaseError.invalid("an SMS template needs a body", field: "body") }
            for p in ["subject", "text", "html"] where part(p) != nil {
                throw OrderbaseError.invalid("an SMS template has only a body, not \(p)", field: p)
            }
        default:
            guard Self.parts.contains(where: { part($0) != nil }) else {
                throw OrderbaseError.invalid("a template needs at least one of subject, text, html and body", field: "text")
            }
        }
        for r in recipients where r.type == "staff" {
            if let why = RecipientAddress.problem(r.address ?? "", channelType: type) {
                throw OrderbaseError.invalid("recipients: \(why) for a \(type) channel", field: "recipients")
            }
        }
    }
}

/// Where a recipient of type `field` reads its address: a path from `order` to a
/// text field of the order (`order.customer.email`), not through a list; below an
/// open object (`order.metadata`) any path of non-empty keys. `pattern` is the same
/// rule as a regular expression, for the OpenAPI document.
public enum RecipientField {
    static var order: DataShape.Kind {
        guard case .object(let fields, _) = NotificationData.shape, let o = fields["order"] else { return .any }
        return o
    }

    static func isText(_ path: String) -> Bool {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "order" else { return false }
        return isText(parts.dropFirst(), order)
    }

    private static func isText(_ parts: ArraySlice<String>, _ kind: DataShape.Kind) -> Bool {
        guard let p = parts.first else {
            switch kind {
            case .string, .any: return true
            default: return false
            }
        }
        guard case .object(let fields, let open) = kind else { return false }
        if let next = fields[p] { return isText(parts.dropFirst(), next) }
        return open && parts.allSatisfy { !$0.isEmpty }
    }

    public static let pattern: String = "^order" + (rest(order) ?? "(?!)") + "$"

    /// The regular expression for what may follow a value of `kind`; nil when no text is below it.
    private static func rest(_ kind: DataShape.Kind) -> String? {
        switch kind {
        case .string, .any: return ""
        case .object(let fields, let open):
            var alternatives = fields.sorted { $0.key < $1.key }.compactMap { k, v in rest(v).map { "\\." + escape(k) + $0 } }
            if open { alternatives.append("(\\.[^.]+)+") }
            return alternatives.isEmpty ? nil : "(" + alternatives.joined(separator: "|") + ")"
        default: return nil
        }
    }

    private static func escape(_ s: String) -> String {
        String(s.flatMap { "\\^$.|?*+()[]{}/".contains($0) ? ["\\", $0] : [$0] })
    }
}

/// What templates and conditions see.
///
/// Templates: `order` (the order after the event's change, with a
/// `<name>_formatted` decimal string beside every amount, like
/// `total_formatted` "1234.50"), `customer` (the order's), `shop` (the
/// tenant's settings), `event` (`id`, `type`, `sequence`, `at`, `actor`,
/// `reason`) and `recipient` (`type`, `address`). Conditions: `order`,
/// `actor` and `event`.
enum NotificationData {
    static let moneyFields: Set<String> = ["amount", "unit_price", "unit_cost", "price", "subtotal", "total_discount", "total_tax",
                                           "total_shipping", "total"]

    static let shape: DataShape.Kind = {
        let order = DataShape.kind(of: augment((try? JSON.parse(Order.sample.render().bytes)) ?? .null, currency: "GBP").bytes)
        var customer = DataShape.Kind.any
        if case .object(let fields, _) = order, let c = fields["customer"] { customer = c }
        var settings = TenantSettings()
        settings.name = "n"
        return .object(["order": order, "customer": customer, "shop": DataShape.kind(of: settings.json), "event": event,
                        "recipient": .object(["type": .string, "address": .string], open: false)], open: false)
    }()

    /// The event a notification is about; `data` is the event's own (a shipment's
    /// on `shipment.*`: `event.data.tracking.number`, `event.data.notify_customer`), free-form.
    static let event = DataShape.Kind.object([
        "id": .string, "type": .string, "sequence": .number, "at": .timestamp, "reason": .string,
        "actor": .object(["type": .string, "id": .string, "roles": .array(.string)], open: false),
        "data": .object([:], open: true),
    ], open: false)

    static let conditionShape: DataShape = {
        guard case .object(let fields, _) = shape else { fatalError("notification shape") }
        return DataShape(root: .object(["order": fields["order"]!, "actor": .object(["type": .string, "id": .string, "roles": .array(.string)], open: false),
                                        "event": event], open: false))
    }()

    /// The order with `<amount>_formatted` beside every amount, at any depth.
    static func augment(_ v: JSON, currency: String) -> JSON {
        let exponent = Currency.exponent(currency) ?? 2
        func walk(_ v: JSON) -> JSON {
            switch v {
            case .object(let o):
                var out = JSONObject()
                for m in o {
                    out.append(m.key, walk(m.value))
                    if moneyFields.contains(m.key), case .int(let minor) = m.value, o[m.key + "_formatted"] == nil {
                        out.append(m.key + "_formatted", .string(decimal(minor, exponent: exponent)))
                    }
                }
                return .object(out)
            case .array(let a): return .array(a.map(walk))
            default: return v
            }
        }
        return walk(v)
    }

    /// 123450, 2 → "1234.50"; -5, 2 → "-0.05"; 100, 0 → "100".
    static func decimal(_ minor: Int64, exponent: Int) -> String {
        let negative = minor < 0
        let digits = String(minor.magnitude)
        guard exponent > 0 else { return (negative ? "-" : "") + digits }
        let padded = String(repeating: "0", count: max(0, exponent + 1 - digits.count)) + digits
        let cut = padded.index(padded.endIndex, offsetBy: -exponent)
        return (negative ? "-" : "") + padded[..<cut] + "." + padded[cut...]
    }

    /// The render data for one event (or a manual send), without `recipient`
    /// (`with(recipient:)` adds it per message).
    static func context(order: JSON, event: JSON, shop: TenantSettings) -> JSONObject {
        let currency = order["currency"]?.stringValue ?? shop.defaultCurrency
        let o = order == .null ? JSON.null : augment(order, currency: currency)
        return ["order": o, "customer": order["customer"] ?? .null, "shop": (try? JSON.parse(shop.json)) ?? .null, "event": event]
    }

    static func with(_ context: JSONObject, recipient: (type: String, address: String)) -> JSON {
        var data = context
        data["recipient"] = .object(["type": .string(recipient.type), "address": .string(recipient.address)])
        return .object(data)
    }

    /// `event` as templates see it, from a stored event.
    static func event(from stored: JSON) -> JSON {
        var e = JSONObject()
        for k in ["id", "type", "sequence", "at", "actor", "reason", "data"] { e[k] = stored[k] ?? .null }
        return .object(e)
    }
}
