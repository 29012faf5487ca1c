import OrderbaseStore

/// The tenant's routing rules (docs/inventory.md, "Routing"): which locations
/// may ship an order's lines, and in which order they are tried.
extension RoutingRules {
    struct Rule: Sendable, Equatable {
        var type: String
        /// `expression` rules: true keeps the location.
        var expression: Expression?

        static func == (a: Rule, b: Rule) -> Bool { a.type == b.type && a.expression?.json == b.expression?.json }

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("type"); w.string(type)
            if let e = expression {
                w.key("expression"); w.raw(e.json.bytes)
                w.key("expression_text"); w.optionalString(try? ExpressionText.format(e.json))
            }
            w.endObject()
        }

        static func decode(_ f: inout Fields) throws(OrderbaseError) -> Rule {
            var r = Rule(type: try f.string("type", required: true)!)
            _ = f.raw("expression_text")
            if let raw = f.raw("expression"), raw != .null { r.expression = try Expression(raw) }
            return r
        }

        var isFilter: Bool { RoutingRules.filters.contains(type) }
        var isOrdering: Bool { RoutingRules.orderings.contains(type) }
    }

    /// Rules that drop candidates.
    static let filters = ["ships_to", "expression"]
    /// Rules that rank the candidates left (the first decides; later ones break ties).
    static let orderings = ["rank", "most_available", "closest"]
    /// Rules that change how lines are placed.
    static let placements = ["fewest_locations", "allow_split"]
    static let types = filters + orderings + placements
    /// What a tenant that never set rules routes by.
    static let defaults = [Rule(type: "ships_to"), Rule(type: "fewest_locations"), Rule(type: "rank")]

    static let key = "routing"

    /// What an `expression` rule sees: the order (as `orders.get` answers it) and one location.
    static let shape: DataShape = {
        var l = Location.blank
        l.id = "loc_"
        l.name = "n"
        l.address = Order.sampleAddress
        l.shipsTo = ["GB"]
        return DataShape(root: .object(["order": DataShape.kind(of: Order.sample.render().bytes), "location": DataShape.kind(of: l.apiJSON)], open: false))
    }()

    /// `rules`: 0 to 20 rules; a type other than `expression` at most once;
    /// an expression checked against `order` and `location`.
    static func readRules(_ f: inout Fields) throws(OrderbaseError) -> [Rule]? {
        guard let list = try f.array("rules", maxCount: 20) else { return nil }
        var out: [Rule] = []
        for (n, item) in list.enumerated() {
            let path = "rules[\(n)]"
            guard case .object = item else { throw OrderbaseError.invalid("\(path) must be an object", field: path) }
            var g = try Fields(item, path: path)
            let type = try g.oneOf("type", types, required: true)!
            var rule = Rule(type: type)
            if type == "expression" {
                guard let raw = g.raw("expression"), raw != .null else {
                    throw OrderbaseError.invalid("\(path).expression is required for an expression rule", field: "\(path).expression")
                }
                do {
                    let (e, _) = try ExpressionService.compile(raw, check: false)
                    _ = try shape.check(e)
                    rule.expression = e
                } catch {
                    throw OrderbaseError(error.code, "\(path).expression: \(error.message)", field: "\(path).expression", details: error.details)
                }
            } else if let raw = g.raw("expression"), raw != .null {
                throw OrderbaseError.invalid("\(path).expression is only for expression rules", field: "\(path).expression")
            }
            try g.finish()
            if type != "expression", out.contains(where: { $0.type == type }) {
                throw OrderbaseError.invalid("\(path): a \(type) rule is given twice", field: "\(path).type")
            }
            out.append(rule)
        }
        return out
    }

    func has(_ type: String) -> Bool { rules.contains { $0.type == type } }

    /// `commit_at`: `create`, or a workflow state key (checked against the workflows by the update).
    static func readCommitAt(_ f: inout Fields) throws(OrderbaseError) -> String? {
        guard let v = try f.string("commit_at", maxLength: 64, allowEmpty: false) else { return nil }
        guard Workflow.isKey(v) else {
            throw OrderbaseError.invalid("commit_at must be create or a workflow state key (\(Workflow.keyPattern))", field: "commit_at")
        }
        return v
    }
}

extension InventoryService {
    /// The tenant's routing rules as this write (or, with `wc` nil, the store) has them.
    func routingRules(_ wc: inout WriteContext) throws(OrderbaseError) -> RoutingRules {
        try wc.loadIfPresent(RoutingRules.self, RoutingRules.key) ?? RoutingRules.blank
    }

    // MARK: routing_rules.get / update

    public func getRoutingRules(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try Fields.request(request).0.finish()
        let b = try store({ () throws(StoreError) in try database.get(Keyspace.routingRulesKey(RoutingRules.key)) })
        return try (b.map { (b) throws(OrderbaseError) in try RoutingRules.decode(b) } ?? RoutingRules.blank).apiJSON
    }

    /// `{"rules"?: [...], "commit_at"?}` (at least one): replaces the list (`[]`:
    /// every active location that fulfills online orders, oldest first, one line
    /// at a time) and/or sets when orders commit stock.
    public func updateRoutingRules(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var edits = RoutingRules.blank
        let given = try RoutingRules.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        guard !given.isEmpty else { throw OrderbaseError.invalid("give rules, commit_at or both", field: "rules") }
        if given.contains("commit_at"), edits.commitAt != "create" { try checkCommitState(edits.commitAt) }
        // Expressions were checked against the order's shape when read; again now with the tenant's custom fields typed.
        let shape = RoutingRules.shape.typed(by: try core.customFieldRegistry.all(core))
        for (n, rule) in edits.rules.enumerated() {
            guard let e = rule.expression else { continue }
            do { _ = try shape.check(e) } catch {
                throw OrderbaseError(error.code, "rules[\(n)].expression: \(error.message)", field: "rules[\(n)].expression", details: error.details)
            }
        }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.loadIfPresent(RoutingRules.self, RoutingRules.key)
            var after = before ?? RoutingRules.blank
            after.apply(edits, fields: given)
            if before == nil || after.storedJSON != before!.storedJSON {
                after.updatedAt = wc.now
                wc.commit("routing_rules.updated", before: before ?? RoutingRules.blank, after: after)
            }
            return after.apiJSON
        }
    }

    /// A commit state must be a state, not of the cancelled category, of the latest version of some workflow.
    private func checkCommitState(_ key: String) throws(OrderbaseError) {
        var states: Set<String> = []
        for wk in Set(try workflowRegistry.heads(core).keys).union([Workflow.defaultKey]).sorted() {
            let wf = try workflowRegistry.latest(core, wk)
            if let s = wf.state(key), s.category != "cancelled" { return }
            for s in wf.states where s.category != "cancelled" { states.insert(s.key) }
        }
        throw OrderbaseError(.invalidArgument, "commit_at \(key) is not a state (outside the cancelled category) of any workflow; give create or one of \(states.sorted().joined(separator: ", "))",
                             field: "commit_at", details: .object(["allowed": .array((["create"] + states.sorted()).map { .string($0) })]))
    }

    // MARK: fulfillment.route_preview

    /// `{"order_id"}` or `{"line_items", "shipping_address"?}` (a draft): where
    /// routing would send each line if the order were placed now, and, for
    /// every location, what it has of each line and which rule dropped it.
    /// Writes nothing.
    public func routePreview(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let orderID = try f.string("order_id", maxLength: 64, allowEmpty: false)
        var draft = Order(id: "ord_preview", number: "", version: 1, currency: settings.defaultCurrency, createdAt: 0, updatedAt: 0, placedAt: 0)
        let hasLines = f.has("line_items") && !f.isNull("line_items")
        if hasLines {
            draft.lineItems = try f.objects("line_items", maxCount: limits.maxLineItems) { (g: inout Fields) throws(OrderbaseError) in
                try LineItem.read(&g, limits: limits)
            } ?? []
            guard !draft.lineItems.isEmpty else { throw OrderbaseError.invalid("a draft needs at least one line item", field: "line_items") }
            for n in draft.lineItems.indices { draft.lineItems[n].id = "line_\(n)" }
        }
        if !hasLines { _ = f.raw("line_items") }
        if var a = try f.object("shipping_address") {
            guard hasLines else { throw OrderbaseError.invalid("shipping_address goes with line_items (a draft)", field: "shipping_address") }
            draft.shippingAddress = try Address.read(&a)
            try a.finish()
        }
        try f.finish()
        guard (orderID == nil) != !hasLines else {
            throw OrderbaseError.invalid("give exactly one of order_id or line_items", field: orderID == nil ? "order_id" : "line_items")
        }
        // A write that is never committed: routing reads through the write path, and nothing is staged.
        return try core.dryRun(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let order = orderID == nil ? draft : try orders.loadForWrite(orderID!, &wc, expected: nil)
            var batch = StockBatch(reason: "order_committed", reference: nil, actor: ctx.actor)
            var trace = RoutingTrace()
            let plan = try route(order, &batch, &wc, trace: &trace)
            var w = JSONWriter()
            w.beginObject()
            w.key("rules"); w.beginArray(); for r in trace.rules { r.write(&w) }; w.endArray()
            w.key("locations"); w.beginArray()
            for (l, why) in trace.locations {
                w.beginObject()
                w.key("location_id"); w.string(l.id)
                w.key("name"); w.string(l.name)
                w.key("candidate"); w.bool(why == nil)
                w.key("dropped_by"); w.optionalString(why)
                w.key("distance_m")
                if let d = l.address.distance(to: order.shippingAddress) { w.int(Int64(d.rounded())) } else { w.null() }
                w.key("lines"); w.beginArray()
                for (n, li) in order.lineItems.enumerated() {
                    guard let sku = li.sku, trace.tracked.contains(sku) else { continue }
                    w.beginObject()
                    w.key("line_index"); w.int(Int64(n))
                    w.key("sku"); w.string(sku)
                    w.key("requested"); w.int(li.quantity)
                    w.key("available"); w.int(try batch.level(sku, at: l.id, field: "line_items", &wc, createItem: false).available)
                    w.endObject()
                }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.key("assignments"); w.beginArray()
            for a in plan.assignments {
                w.beginObject()
                w.key("line_index"); w.int(Int64(a.line))
                w.key("sku"); w.optionalString(a.sku)
                w.key("location_id"); w.string(a.location)
                w.key("quantity"); w.int(a.quantity)
                w.key("tracked"); w.bool(a.tracked)
                w.key("backorder"); w.bool(a.backorder)
                w.endObject()
            }
            w.endArray()
            w.key("short"); w.raw(JSON.array(plan.short).bytes)
            w.endObject()
            return w.bytes
        }
    }
}

/// What routing did, for `route_preview`: the rules it applied, every location
/// with the rule that dropped it (nil: a candidate), and the tracked SKUs.
struct RoutingTrace {
    var rules: [RoutingRules.Rule] = []
    var locations: [(Location, String?)] = []
    var tracked: Set<String> = []
}
