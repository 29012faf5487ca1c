import OrderbaseStore

/// `sla_policies.*`, `business_hours.*`, `orders.sla` and `sla.summary` (docs/sla.md).
extension SLAService {
    var registry: SLARegistry { core.slaRegistry }

    // MARK: sla_policies.*

    /// `{"name", "target_states" | "target_fulfillment", "within_minutes", …}` → the policy. Event `sla_policy.created`.
    public func createPolicy(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var p = SLAPolicy.blank
        let given = try SLAPolicy.read(&f, onto: &p, isCreate: true)
        try f.finish()
        if !given.contains("at_risk_minutes") { p.atRiskMinutes = p.withinMinutes / 5 }
        try Self.check(p)
        let registry = self.registry
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard try count(Keyspace.slaPolicy, upTo: SLAPolicy.maxPolicies) < SLAPolicy.maxPolicies else {
                throw OrderbaseError.quota("sla_policies", limit: SLAPolicy.maxPolicies, "a tenant has at most \(SLAPolicy.maxPolicies) SLA policies")
            }
            p.id = ids.make("slap_", at: wc.now)
            p.createdAt = wc.now
            p.updatedAt = wc.now
            wc.commit("sla_policy.created", before: nil, after: p)
            registry.invalidate(when: &wc)
            return p.apiJSON
        }
    }

    public func getPolicy(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(SLAPolicy.self, request) }

    public func listPolicies(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let active = try f.bool("active")
        let limit = Int(try f.int("limit", in: 1...250) ?? 100)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(SLAPolicy.self, after: after, limit: limit, keep: { p in active.map { p.active == $0 } ?? true })
    }

    /// `{"id", …the fields to change}` → the policy. Event `sla_policy.updated`.
    public func updatePolicy(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var edits = SLAPolicy.blank
        let given = try SLAPolicy.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        let registry = self.registry
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(SLAPolicy.self, id)
            var after = before
            after.apply(edits, fields: given)
            // Giving one target clears the other.
            if given.contains("target_states") && !given.contains("target_fulfillment") && !after.targetStates.isEmpty { after.targetFulfillment = nil }
            if given.contains("target_fulfillment") && !given.contains("target_states") && after.targetFulfillment != nil { after.targetStates = [] }
            try Self.check(after)
            guard after.storedJSON != before.storedJSON else { return before.apiJSON }
            after.updatedAt = wc.now
            wc.commit("sla_policy.updated", before: before, after: after)
            registry.invalidate(when: &wc)
            return after.apiJSON
        }
    }

    public func deletePolicy(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        let registry = self.registry
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(SLAPolicy.self, id)
            wc.commit("sla_policy.deleted", before: before, after: nil)
            registry.invalidate(when: &wc)
            return before.apiJSON
        }
    }

    /// The rules across fields: one target, and the warning inside the promise.
    static func check(_ p: SLAPolicy) throws(OrderbaseError) {
        switch (p.targetStates.isEmpty, p.targetFulfillment) {
        case (true, nil):
            throw OrderbaseError.invalid("give target_states or target_fulfillment: what the policy promises to reach", field: "target_states")
        case (false, .some):
            throw OrderbaseError.invalid("give target_states or target_fulfillment, not both", field: "target_fulfillment")
        default: break
        }
        guard p.atRiskMinutes < p.withinMinutes else {
            throw OrderbaseError.invalid("at_risk_minutes (\(p.atRiskMinutes)) must be less than within_minutes (\(p.withinMinutes))", field: "at_risk_minutes")
        }
    }

    // MARK: business_hours.*

    public func getBusinessHours(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        try f.finish()
        return (try registry.all(core).hours ?? BusinessHours.blank).apiJSON
    }

    /// `{"time_zone"?, "hours"?, "holidays"?}` → the business hours. Event `business_hours.updated`.
    public func updateBusinessHours(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var edits = BusinessHours.blank
        let given = try BusinessHours.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        let registry = self.registry
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.loadIfPresent(BusinessHours.self, "business_hours")
            var after = before ?? BusinessHours.blank
            after.apply(edits, fields: given)
            guard before == nil || after.storedJSON != before!.storedJSON else { return after.apiJSON }
            after.updatedAt = wc.now
            wc.commit("business_hours.updated", before: before ?? BusinessHours.blank, after: after)
            registry.invalidate(when: &wc)
            return after.apiJSON
        }
    }

    // MARK: orders.sla

    /// `{"id"}` → `{order_id, sla_status, entries}`, each entry with `remaining_ms` computed now.
    public func orderSLA(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        guard let bytes = try store({ () throws(StoreError) in try database.get(Keyspace.orderKey(id)) }) else {
            throw OrderbaseError(.notFound, "no order with id \(id)", field: "id")
        }
        let order = try Order.decode(bytes)
        let (policies, hours) = try registry.all(core)
        let now = clock.nowMilliseconds()
        var w = JSONWriter()
        w.beginObject()
        w.key("order_id"); w.string(order.id)
        w.key("sla_status"); w.optionalString(order.slaStatus)
        w.key("entries"); w.beginArray()
        for e in order.sla {
            var remaining: Int64?
            if e.running {
                if let kept = e.remainingMs, e.pausedAt != nil { remaining = kept } else {
                    // A deleted policy's entry counts on the calendar clock.
                    let cal = try policies.first { $0.id == e.policyID }.map { (p) throws(OrderbaseError) in try SLATracker.calendar(p, hours, core) } ?? .always
                    remaining = cal.elapsed(from: now, to: e.dueAt)
                }
            }
            e.write(&w, remaining: remaining)
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    // MARK: sla.summary

    /// `{"from", "to", "policy_id"?}` → per policy, its entries started in `[from, to)` by status.
    public func summary(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        guard let from = try f.timestamp("from") else { throw OrderbaseError.invalid("from is required", field: "from") }
        guard let to = try f.timestamp("to") else { throw OrderbaseError.invalid("to is required", field: "to") }
        let only = try f.string("policy_id", maxLength: 64, allowEmpty: false)
        try f.finish()
        guard to > from else { throw OrderbaseError.invalid("to must be after from", field: "to") }
        guard to - from <= 366 * 86_400_000 else { throw OrderbaseError.invalid("from and to are at most 366 days apart", field: "to") }
        var policies = try registry.all(core).policies.sorted { $0.id < $1.id }
        if let only {
            policies = policies.filter { $0.id == only }
            if policies.isEmpty { throw OrderbaseError(.notFound, "no SLA policy with id \(only)", field: "policy_id") }
        }
        let keys: [StaticString] = ["met", "breached", "met_late", "at_risk", "pending", "cancelled"]
        var counts: [String: [String: Int64]] = [:]
        for p in policies { counts[p.id] = Dictionary(uniqueKeysWithValues: keys.map { ("\($0)", 0) }) }
        let snap = database.snapshot()
        for status in SLAEntry.statuses {
            let prefix = Keyspace.indexPrefix(.order, "sla_status", status)
            try scan(from: prefix, to: prefixUpperBound(prefix), snapshot: snap) { k, _ throws(OrderbaseError) in
                let id = try Keyspace.indexEntryID(Array(k))
                guard let b = try store({ () throws(StoreError) in try database.get(Keyspace.orderKey(id), snapshot: snap) }) else {
                    throw OrderbaseError(.corruption, "an order index entry names a missing order")
                }
                for e in try Order.decode(b).sla where e.startedAt >= from && e.startedAt < to && counts[e.policyID] != nil {
                    counts[e.policyID]![e.status, default: 0] += 1
                    if e.status == "breached" && e.metAt != nil { counts[e.policyID]!["met_late", default: 0] += 1 }
                }
                return true
            }
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("from"); w.timestamp(from)
        w.key("to"); w.timestamp(to)
        w.key("policies"); w.beginArray()
        for p in policies {
            w.beginObject()
            w.key("policy_id"); w.string(p.id)
            w.key("name"); w.string(p.name)
            for k in keys { w.key(k); w.int(counts[p.id]!["\(k)"]!) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
