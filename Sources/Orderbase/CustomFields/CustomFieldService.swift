import OrderbaseStore

/// The tenant's custom field definitions, read once and kept until one changes.
final class CustomFieldRegistry: Sendable {
    private let kept = Reloadable<[CustomFieldDefinition]>()

    func all(_ core: TenantCore) throws(OrderbaseError) -> [CustomFieldDefinition] {
        try kept.get { () throws(OrderbaseError) in
            var defs: [CustomFieldDefinition] = []
            try core.scan(from: [Keyspace.customField], to: [Keyspace.customField + 1]) { _, v throws(OrderbaseError) in
                defs.append(try CustomFieldDefinition.decode(Array(v)))
                return true
            }
            return defs
        }
    }

    /// Drops the definitions when `wc`'s batch is staged and when it is durable.
    func invalidate(when wc: inout WriteContext) { kept.invalidate(when: &wc) }
}

extension Order {
    /// The `custom_fields` index values (`key=text`, `line_items.key=text`): every value that is one
    /// line of text of at most 255 characters, a number, a boolean or money, and each item of a list of them.
    /// Read from the values alone (not the definitions), so `integrity.check` can rebuild them.
    var customFieldIndexValues: [String] {
        var out: [String] = []
        func add(_ prefix: String, _ fields: JSON) {
            guard case .object(let o) = fields else { return }
            for (k, v) in o {
                let items: [JSON] = if case .array(let a) = v { a } else { [v] }
                for item in items {
                    let text: String
                    switch item {
                    case .string(let s):
                        guard !s.isLonger(than: 255), !s.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) else { continue }
                        text = s
                    case .int, .double, .bool: text = item.text
                    case .object(let m) where m.count == 2:
                        guard let a = m["amount"]?.intValue, let c = m["currency"]?.stringValue else { continue }
                        text = "\(a) \(c)"
                    default: continue
                    }
                    let entry = prefix + k + "=" + text
                    if !out.contains(entry) { out.append(entry) }
                }
            }
        }
        add("", customFields)
        for l in lineItems { add("line_items.", l.customFields) }
        return out
    }
}

extension CustomFieldService {
    var registry: CustomFieldRegistry { core.customFieldRegistry }

    // MARK: values on orders

    /// Checks and canonicalizes an order's custom field values before it is written.
    /// `given`: the order-level keys the request set (nil: all of them, a create); keys set to null are removed.
    /// A key with no definition is refused when given; a required one missing is refused on create,
    /// and when the request removes it. Line items' values are checked whole (a request gives each line whole).
    func check(_ o: inout Order, given: Set<String>?, linesGiven: Bool) throws(OrderbaseError) {
        let defs = try registry.all(core)
        let orderDefs = Dictionary(defs.filter { $0.owner == "order" }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        if given != nil || !orderDefs.isEmpty || o.customFields != .object([:]) {
            o.customFields = try Self.check(o.customFields, orderDefs, path: "custom_fields", given: given, owner: "orders")
        }
        guard linesGiven else { return }
        let lineDefs = Dictionary(defs.filter { $0.owner == "line_item" }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        if lineDefs.isEmpty && o.lineItems.allSatisfy({ $0.customFields == .object([:]) }) { return }
        for i in o.lineItems.indices {
            o.lineItems[i].customFields = try Self.check(o.lineItems[i].customFields, lineDefs, path: "line_items[\(i)].custom_fields",
                                                         given: nil, owner: "line items")
        }
    }

    private static func check(_ values: JSON, _ defs: [String: CustomFieldDefinition], path: String, given: Set<String>?,
                              owner: String) throws(OrderbaseError) -> JSON {
        guard case .object(let members) = values else { return values }
        var out = JSONObject()
        for (k, v) in members {
            if v == .null { continue }
            guard let def = defs[k] else {
                if given == nil || given!.contains(k) {
                    throw CustomFieldDefinition.broken("\(path).\(k)", "defined", "\(path).\(k) is not a custom field of \(owner) (custom_fields.create defines one)")
                }
                out[k] = v  // a value kept from a definition deleted with values: keep
                continue
            }
            out[k] = (given == nil || given!.contains(k)) ? try def.check(v, at: "\(path).\(k)") : v
        }
        for (k, def) in defs.sorted(by: { $0.key < $1.key }) where def.validations.required && out[k] == nil {
            if given == nil || given!.contains(k) {
                throw CustomFieldDefinition.broken("\(path).\(k)", "required", "\(path).\(k) is required")
            }
        }
        return .object(out)
    }

    /// `old` with `patch`'s members set (null: removed).
    static func merge(_ old: JSON, _ patch: JSON) -> JSON {
        guard case .object(var o) = old, case .object(let p) = patch else { return old }
        for (k, v) in p { o[k] = v == .null ? nil : v }
        return o.isEmpty ? .object([:]) : .object(o)
    }

    // MARK: custom_fields.create, get, list, update, delete

    /// `{"owner"?, "key", "name", "description"?, "type", "validations"?}` → the definition. Event `custom_field.created`.
    /// A `required` rule starts a check of stored orders (`validation_status: in_progress`).
    public func createDefinition(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var def = CustomFieldDefinition.blank
        _ = try CustomFieldDefinition.read(&f, onto: &def, isCreate: true)
        try f.finish()
        guard Workflow.isKey(def.key) else { throw OrderbaseError.invalid("key must be \(Workflow.keyPattern)", field: "key") }
        def.id = def.owner + "." + def.key
        try def.checkRules()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            if try wc.read(Keyspace.customFieldKey(def.id)) != nil {
                throw OrderbaseError(.alreadyExists, "\(def.owner) custom field \(def.key) exists", field: "key")
            }
            if try registry.all(core).filter({ $0.owner == def.owner }).count >= CustomFieldDefinition.maxPerOwner {
                throw OrderbaseError(.limitExceeded, "a tenant has at most \(CustomFieldDefinition.maxPerOwner) custom fields per owner", field: "key")
            }
            def.createdAt = wc.now
            def.updatedAt = wc.now
            if def.validations.required { try startCheck(&def, &wc) }
            wc.commit("custom_field.created", before: nil, after: def)
            let registry = self.registry
            registry.invalidate(when: &wc)
            return def.apiJSON
        }
    }

    /// `{"id"}` (`order.gift_message`) → the definition.
    public func getDefinition(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 80, required: true)!
        try f.finish()
        return try stored(CustomFieldDefinition.self, id).apiJSON
    }

    /// `{"owner"?}` → every definition (of that owner), by id.
    public func listDefinitions(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let owner = try f.oneOf("owner", CustomFieldDefinition.owners)
        try f.finish()
        let defs = try registry.all(core).filter { owner == nil || $0.owner == owner }.sorted { $0.id < $1.id }
        return Self.listResponse(defs.map(\.apiJSON), hasMore: false)
    }

    /// `{"id", "name"?, "description"?, "validations"?}` → the definition. Event `custom_field.updated`.
    /// New validations start a check of stored values; the type, owner and key never change.
    public func updateDefinition(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 80, required: true)!
        var edits = CustomFieldDefinition.blank
        let given = try CustomFieldDefinition.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(CustomFieldDefinition.self, id)
            var after = before
            after.apply(edits, fields: given)
            try after.checkRules()
            guard after.name != before.name || after.description != before.description || after.validations != before.validations else {
                return before.apiJSON
            }
            after.updatedAt = wc.now
            if after.validations != before.validations { try startCheck(&after, &wc) }
            wc.commit("custom_field.updated", before: before, after: after)
            let registry = self.registry
            registry.invalidate(when: &wc)
            return after.apiJSON
        }
    }

    /// `{"id", "values"?: "keep"|"remove"}` → `{"deleted": the definition, "job"}`. Event `custom_field.deleted`.
    /// `keep` (default) leaves stored values where they are (no longer checked; a request may not set them again);
    /// `remove` takes them off every order. Either way the job forgets the definition's findings
    /// (`custom_fields.invalid_orders`), and with `remove` changes the orders, in steps.
    public func deleteDefinition(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 80, required: true)!
        let values = try f.oneOf("values", ["keep", "remove"]) ?? "keep"
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(CustomFieldDefinition.self, id)
            wc.commit("custom_field.deleted", before: before, after: nil)
            let registry = self.registry
            registry.invalidate(when: &wc)
            let job = try jobs.enqueue("custom_fields.delete", params: ["id": .string(id), "values": .string(values)], total: 0, &wc)
            var w = JSONWriter()
            w.beginObject()
            w.key("deleted"); w.raw(before.apiJSON)
            w.key("job"); w.raw(job.apiJSON)
            w.endObject()
            return w.bytes
        }
    }

    /// `{"id"}` → the definition, `in_progress`: checks every stored order against its rules again.
    public func checkDefinition(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 80, required: true)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(CustomFieldDefinition.self, id)
            var after = before
            try startCheck(&after, &wc)
            after.updatedAt = wc.now
            wc.save(before: before, after: after)  // bookkeeping only: nothing audited changed
            let registry = self.registry
            registry.invalidate(when: &wc)
            return after.apiJSON
        }
    }

    /// `{"id", "limit"?, "starting_after"?}` → `{"data": [{"order_id", "field", "rule", "message"}], "has_more"}`:
    /// the orders whose values broke the definition's rules when it was last checked, oldest first.
    public func invalidOrders(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 80, required: true)!
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        _ = try stored(CustomFieldDefinition.self, id)
        let prefix = Keyspace.customFieldInvalidPrefix(id)
        var page: [[UInt8]] = []
        var hasMore = false
        try scan(from: after.map { Keyspace.customFieldInvalidKey(id, $0) + [0] } ?? prefix, to: prefixUpperBound(prefix)) { _, v throws(OrderbaseError) in
            if page.count == limit { hasMore = true; return false }
            page.append(Array(v))
            return true
        }
        return Self.listResponse(page, hasMore: hasMore)
    }

    // MARK: checks of stored values (jobs)

    /// Queues a check of every stored order against `def`'s rules; `def` is then `in_progress`.
    private func startCheck(_ def: inout CustomFieldDefinition, _ wc: inout WriteContext) throws(OrderbaseError) {
        let total = Int64(try count(Keyspace.order, upTo: Int.max))
        let job = try jobs.enqueue("custom_fields.validate", params: ["id": .string(def.id)], total: total, &wc)
        def.validationStatus = "in_progress"
        def.validationJob = job.id
        def.invalidCount = 0
    }

    /// One step of `custom_fields.validate` or `custom_fields.delete`: up to `Job.stepSize` orders after the cursor.
    static func step(_ core: TenantCore, _ job: inout Job, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        guard case .object(let p) = job.params, let id = p["id"]?.stringValue else { throw OrderbaseError(.corruption, "job \(job.id) names no custom field") }
        let owner = String(id.prefix { $0 != "." }), key = String(id.drop { $0 != "." }.dropFirst())
        let validating = job.type == "custom_fields.validate"
        var def: CustomFieldDefinition?
        if validating {
            // A newer check supersedes this one; a deleted definition ends it.
            guard let d = try wc.loadIfPresent(CustomFieldDefinition.self, id), d.validationJob == job.id else { return true }
            def = d
        } else {
            // Forget the old findings first, a step at a time.
            var stale: [[UInt8]] = []
            let prefix = Keyspace.customFieldInvalidPrefix(id)
            try core.scan(from: prefix, to: prefixUpperBound(prefix)) { k, _ throws(OrderbaseError) in
                stale.append(Array(k)); return stale.count < Job.stepSize
            }
            for k in stale { wc.deleteUnread(k) }
            if !stale.isEmpty { return false }
        }
        let removing = !validating && p["values"]?.stringValue == "remove"
        if !validating && !removing { return true }
        let ids = try job.nextOrders(core).map(\.id)
        let orders = core.orders
        for orderID in ids {
            job.processed += 1
            job.cursor = orderID
            let old = try orders.loadForWrite(orderID, &wc, expected: nil)
            if let def {
                let problem = Self.problem(old, def)
                let k = Keyspace.customFieldInvalidKey(id, orderID)
                if let problem {
                    job.changed += 1
                    var w = JSONWriter()
                    w.beginObject()
                    w.key("order_id"); w.string(orderID)
                    w.key("field"); w.optionalString(problem.field)
                    w.key("rule"); w.optionalString(problem.details?["rule"]?.stringValue)
                    w.key("message"); w.string(problem.message)
                    w.endObject()
                    wc.putUnread(k, w.bytes)
                } else {
                    wc.deleteUnread(k)
                }
            } else {
                var new = old
                if owner == "order" {
                    new.customFields = merge(old.customFields, .object([key: .null]))
                } else {
                    for i in new.lineItems.indices { new.lineItems[i].customFields = merge(new.lineItems[i].customFields, .object([key: .null])) }
                }
                guard new != old else { continue }
                _ = try orders.commitChange(old: old, new: new, type: "order.updated", reason: "custom_fields.delete (\(job.id))", &wc)
                job.changed += 1
            }
        }
        let done = ids.count < Job.stepSize
        if done, var d = def {
            let before = d
            d.validationStatus = job.changed > 0 ? "some_invalid" : "all_valid"
            d.invalidCount = job.changed
            d.updatedAt = wc.now
            wc.save(before: before, after: d)  // bookkeeping: no audit entry (AuditPolicy leaves these fields out)
            let registry = core.customFieldRegistry
            registry.invalidate(when: &wc)
        }
        return done
    }

    /// What is wrong with a stored order's values for `def` (nil: nothing).
    static func problem(_ o: Order, _ def: CustomFieldDefinition) -> OrderbaseError? {
        func one(_ values: JSON, _ path: String) -> OrderbaseError? {
            guard let v = values[def.key], v != .null else {
                return def.validations.required ? CustomFieldDefinition.broken("\(path).\(def.key)", "required", "\(path).\(def.key) is required") : nil
            }
            do { _ = try def.check(v, at: "\(path).\(def.key)"); return nil } catch { return error }
        }
        if def.owner == "order" { return one(o.customFields, "custom_fields") }
        for (i, l) in o.lineItems.enumerated() { if let e = one(l.customFields, "line_items[\(i)].custom_fields") { return e } }
        return nil
    }
}

extension TenantCore {
    /// What guards and `expressions.*` see, with `order.custom_fields` typed by this tenant's definitions.
    func guardShape() throws(OrderbaseError) -> DataShape { DataShape.guardData.typed(by: try customFieldRegistry.all(self)) }
}
