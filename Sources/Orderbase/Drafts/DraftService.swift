import OrderbaseStore

/// Order templates and draft orders (docs/drafts.md).
extension DraftOrder: AuditedRecord {
    static let statuses = ["open", "placed"]
    /// What a partial order may hold: the fields `orders.create` takes but the once-only ones.
    static let partialFields: Set<String> = Set(Order.editableFields).union(["channel", "currency", "workflow", "source", "financial_status", "fulfillment_status"])

    /// Reads `order` (a partial order) and checks it as `orders.create` would, but for completeness:
    /// line items may be missing; every field given must be right.
    static func readPartial(_ f: inout Fields) throws(OrderbaseError) -> JSON? {
        guard let raw = f.raw("order"), raw != .null else { return nil }
        guard case .object(let members) = raw else { throw OrderbaseError.invalid("order must be an object, got \(raw.typeName)", field: "order") }
        for (k, _) in members where !partialFields.contains(k) {
            throw OrderbaseError.invalid("order.\(k) is not a field a draft or template may hold (\(partialFields.sorted().joined(separator: ", ")))", field: "order.\(k)")
        }
        _ = try probe(raw)
        return raw
    }

    /// The order `orders.create` would make of `partial` (ids, number and times left empty); type and limit errors
    /// name `order.<field>`.
    static func probe(_ partial: JSON, limits: OrderLimits = OrderLimits()) throws(OrderbaseError) -> Order {
        var f = try Fields(partial, path: "order")
        var o = Order(id: "", number: "", version: 1, currency: "XXX", createdAt: 0, updatedAt: 0, placedAt: 0)
        _ = try f.oneOf("channel", OrderStatus.channels)
        _ = try f.oneOf("financial_status", OrderStatus.financial)
        _ = try f.oneOf("fulfillment_status", OrderStatus.fulfillment)
        if let c = try f.string("currency", maxLength: 3) {
            guard Currency.exponent(c) != nil else { throw OrderbaseError.invalid("order.currency must be an ISO 4217 code like \"GBP\"", field: "order.currency") }
            o.currency = c
        }
        if let w = try f.string("workflow", maxLength: 64, allowEmpty: false), !Workflow.isKey(w) {
            throw OrderbaseError.invalid("order.workflow must be \(Workflow.keyPattern)", field: "order.workflow")
        }
        if var s = try f.object("source") {
            _ = try s.string("name", maxLength: 255, required: true, allowEmpty: false)
            _ = try s.string("external_id", maxLength: 255)
            try s.finish()
        }
        try Order.readEditable(&f, into: &o, isCreate: false, limits: limits)
        try f.finish()
        for n in o.lineItems.indices where o.lineItems[n].id != nil {
            throw OrderbaseError.invalid("line item ids are assigned by the engine", field: "order.line_items[\(n)].id")
        }
        if !o.lineItems.isEmpty { try o.computeTotals() }
        return o
    }

    /// The totals the draft would have now, or null.
    func writePreview(_ w: inout JSONWriter) {
        guard let o = try? Self.probe(order), !o.lineItems.isEmpty else { w.null(); return }
        w.beginObject()
        w.key("subtotal"); w.int(o.subtotal)
        w.key("total_discount"); w.int(o.totalDiscount)
        w.key("total_tax"); w.int(o.totalTax)
        w.key("total_shipping"); w.int(o.totalShipping)
        w.key("total"); w.int(o.total)
        w.endObject()
    }
}

extension OrderTemplate: AuditedRecord {}

extension DraftService {
    // MARK: order_templates.*

    /// `{"name", "description"?, "order"}` → the template. Event `order_template.created`.
    public func createTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var t = OrderTemplate.blank
        _ = try OrderTemplate.read(&f, onto: &t, isCreate: true)
        try f.finish()
        try checkCustomFields(t.order)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            t.id = ids.make("otpl_", at: wc.now)
            t.createdAt = wc.now
            t.updatedAt = wc.now
            wc.commit("order_template.created", before: nil, after: t)
            return t.apiJSON
        }
    }

    public func getTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(OrderTemplate.self, id).apiJSON
    }

    public func listTemplates(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(OrderTemplate.self, after: after, limit: limit, render: { $0.apiJSON })
    }

    /// `{"id", "name"?, "description"?, "order"?}` → the template. Event `order_template.updated`.
    public func updateTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var edits = OrderTemplate.blank
        let given = try OrderTemplate.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        if given.contains("order") { try checkCustomFields(edits.order) }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(OrderTemplate.self, id)
            var after = before
            after.apply(edits, fields: given)
            guard after.storedJSON != before.storedJSON else { return before.apiJSON }
            after.updatedAt = wc.now
            wc.commit("order_template.updated", before: before, after: after)
            return after.apiJSON
        }
    }

    public func deleteTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(OrderTemplate.self, id)
            wc.commit("order_template.deleted", before: before, after: nil)
            return before.apiJSON
        }
    }

    /// `{"template_id", "overrides"?, "idempotency_key"?}` → the order: `orders.create` with the template's
    /// fields, each replaced by the override's of the same name (custom_fields merged key by key; null removes).
    public func createFromTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("template_id", maxLength: 64, required: true)!
        let overrides = try DraftOrder.readPartialNamed(&f, "overrides")
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        if let overrides { try checkCustomFields(overrides, prefix: "overrides") }
        let template = try stored(OrderTemplate.self, id, field: "template_id")
        var body = Self.merge(template.order, overrides ?? .object([:]))
        Self.addContext(&body, ctx, idempotencyKey: idem)
        return try Self.asStoredState("template", "template_incomplete") { () throws(OrderbaseError) in
            try FieldProbe.unrecorded { () throws(OrderbaseError) in try orders.createOrder(.object(body)) }
        }
    }

    // MARK: draft_orders.*

    /// `{"order"?, "template_id"?}` → the draft (from the template's fields, then `order`'s). Event `draft_order.created`.
    public func createDraft(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var d = DraftOrder.blank
        _ = try DraftOrder.read(&f, onto: &d, isCreate: true)
        let templateID = try f.string("template_id", maxLength: 64, allowEmpty: false)
        try f.finish()
        if let templateID {
            let t = try stored(OrderTemplate.self, templateID, field: "template_id")
            d.order = .object(Self.merge(t.order, d.order))
            d.templateID = templateID
            _ = try DraftOrder.probe(d.order)
        }
        try checkCustomFields(d.order)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            d.id = ids.make("draft_", at: wc.now)
            d.createdAt = wc.now
            d.updatedAt = wc.now
            wc.commit("draft_order.created", before: nil, after: d)
            return d.apiJSON
        }
    }

    public func getDraft(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(DraftOrder.self, id).apiJSON
    }

    public func listDrafts(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let status = try f.oneOf("status", DraftOrder.statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(DraftOrder.self, after: after, limit: limit, render: { $0.apiJSON }) { status == nil || $0.status == status }
    }

    /// `{"id", "order", "expected_version"?}` → the draft with the fields of `order` set (null removes one). Event `draft_order.updated`.
    public func updateDraft(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        guard let patch = try DraftOrder.readPartialNamed(&f, "order", allowNulls: true) else {
            throw OrderbaseError.invalid("order is required", field: "order")
        }
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try openDraft(id, expected: expected, &wc)
            var after = before
            after.order = .object(Self.merge(before.order, patch))
            _ = try DraftOrder.probe(after.order)
            try checkCustomFields(after.order)
            guard after.order != before.order else { return before.apiJSON }
            after.version += 1
            after.updatedAt = wc.now
            wc.commit("draft_order.updated", before: before, after: after)
            return after.apiJSON
        }
    }

    /// `{"id", "expected_version"?}` → the draft as it was. Event `draft_order.deleted`. A placed draft cannot be deleted.
    public func deleteDraft(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try openDraft(id, expected: expected, &wc)
            wc.commit("draft_order.deleted", before: before, after: nil)
            return before.apiJSON
        }
    }

    /// `{"id", "expected_version"?}` → `{"draft", "order"}`: runs `orders.create` with the draft (numbering,
    /// workflow, stock commitment, events), then marks the draft placed. The create carries the idempotency
    /// key `draft:<id>`: placing again (after a crash between the two writes, or twice) answers the same order.
    public func placeDraft(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        let draft = try stored(DraftOrder.self, id)
        if let expected, expected != draft.version {
            throw OrderbaseError.staleVersion("draft \(id)", actual: draft.version, expected: expected)
        }
        guard case .object(var body) = draft.order else { throw OrderbaseError(.corruption, "draft \(id) holds no order") }
        Self.addContext(&body, ctx, idempotencyKey: "draft:" + id)
        let orderBytes = try Self.asStoredState("draft", "draft_incomplete") { () throws(OrderbaseError) in
            try FieldProbe.unrecorded { () throws(OrderbaseError) in try orders.createOrder(.object(body)) }
        }
        let order = try JSON.parse(orderBytes)
        let placed = try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> DraftOrder in
            let before = try wc.load(DraftOrder.self, id)
            if before.status == "placed" { return before }
            var after = before
            after.status = "placed"
            after.orderID = order["id"]?.stringValue
            after.version += 1
            after.updatedAt = wc.now
            wc.commit("draft_order.placed", before: before, after: after)
            return after
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("draft"); w.raw(placed.apiJSON)
        w.key("order"); w.raw(orderBytes)
        w.endObject()
        return w.bytes
    }

    private func openDraft(_ id: String, expected: Int64?, _ wc: inout WriteContext) throws(OrderbaseError) -> DraftOrder {
        let d = try wc.load(DraftOrder.self, id)
        if let expected, expected != d.version {
            throw OrderbaseError.staleVersion("draft \(id)", actual: d.version, expected: expected)
        }
        if d.status == "placed" {
            throw OrderbaseError(.invalidState, "draft \(id) was placed as order \(d.orderID ?? "?"); it changes no more", field: "id")
        }
        return d
    }

    /// Runs a create made of a stored draft or template: what it refuses as invalid is the stored
    /// record's incompleteness (no lines, a required custom field missing), so `invalid_state`
    /// with `details.reason`, the field under `order.`.
    static func asStoredState<T>(_ what: String, _ reason: String, _ body: () throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
        do { return try body() } catch {
            guard error.code == .invalidArgument else { throw error }
            var details: JSONObject = ["reason": .string(reason)]
            if case .object(let d)? = error.details { for (k, v) in d { details[k] = v } }
            throw OrderbaseError(.invalidState, "the \(what) cannot become an order: \(error.message)", field: error.field.map { "order." + $0 },
                                 details: .object(details))
        }
    }

    /// Custom field values in a partial order are checked as a write would check them (the keys given;
    /// `required` waits for the create).
    private func checkCustomFields(_ partial: JSON, prefix: String = "order") throws(OrderbaseError) {
        var o = try DraftOrder.probe(partial)
        let given = Set(partial["custom_fields"]?.objectKeys ?? [])
        do throws(OrderbaseError) {
            try customFields.check(&o, given: given, linesGiven: false)
        } catch {
            throw OrderbaseError(error.code, error.message, field: error.field.map { prefix + "." + $0 }, details: error.details)
        }
    }

    /// `base` with `patch`'s fields set (null removes one); `custom_fields` merged key by key.
    static func merge(_ base: JSON, _ patch: JSON) -> JSONObject {
        guard case .object(var o) = base else { return JSONObject() }
        guard case .object(let p) = patch else { return o }
        for (k, v) in p {
            if k == "custom_fields", let old = o[k], v != .null { o[k] = CustomFieldService.merge(old, v) } else { o[k] = v == .null ? nil : v }
        }
        return o
    }

    /// The request's actor and request id (and an idempotency key) on a create made for it.
    static func addContext(_ body: inout JSONObject, _ ctx: RequestContext, idempotencyKey: String?) {
        body["actor"] = ctx.actor.json
        if let r = ctx.requestID { body["request_id"] = .string(r) }
        if let idempotencyKey { body["idempotency_key"] = .string(idempotencyKey) }
    }
}

extension DraftOrder {
    /// A partial order under another name (`overrides`, an update's `order`), checked the same way.
    static func readPartialNamed(_ f: inout Fields, _ name: String, allowNulls: Bool = false) throws(OrderbaseError) -> JSON? {
        guard let raw = f.raw(name), raw != .null else { return nil }
        guard case .object(let members) = raw else { throw OrderbaseError.invalid("\(name) must be an object, got \(raw.typeName)", field: name) }
        var present = JSONObject()
        for (k, v) in members {
            guard partialFields.contains(k) else {
                throw OrderbaseError.invalid("\(name).\(k) is not a field a draft or template may hold", field: "\(name).\(k)")
            }
            if v != .null { present[k] = v }
        }
        do throws(OrderbaseError) { _ = try probe(.object(present)) } catch {
            throw OrderbaseError(error.code, error.message, field: error.field.map { $0.hasPrefix("order") ? name + $0.dropFirst(5) : $0 }, details: error.details)
        }
        // In an update a null removes the field; elsewhere it is the same as leaving the field out (docs/rest.md).
        return allowNulls ? raw : .object(present)
    }
}
