/// Moving orders through their workflow: `orders.transition`, `orders.cancel`,
/// `orders.transitions` and `workflows.simulate` share one decision, so what
/// the simulation and the listing say is what a transition does.
extension OrderService {
    /// What asking for a transition would do.
    enum Decision {
        /// The transition happens now.
        case apply(Workflow.Transition)
        /// An approval request is made; the order stays where it is.
        case approval(Workflow.Transition, [ApprovalRequest.Tier], Workflow.Approval)
    }

    /// The data guards and conditions see.
    static func guardData(_ order: Order, actor: Actor) throws(OrderbaseError) -> JSON {
        .object(["order": try JSON.parse(order.render().bytes), "actor": actor.json])
    }

    /// Decides a transition of `order` to `to` in workflow `wf`. Throws what
    /// refuses it, in this order: no such transition (`invalid_transition`),
    /// holds (`on_hold`), a pending approval (`invalid_state`), a missing reason
    /// (`invalid_argument`), unset required fields (`invalid_state`), a false
    /// guard (`guard_failed`). `approved` skips asking for approval (the quorum
    /// was reached) and the pending-approval check (it is that approval).
    func decide(_ order: Order, _ wf: Workflow, to: String, reason: String?, actor: Actor, now: Int64,
                approved: Bool = false) throws(OrderbaseError) -> Decision {
        let target = wf.state(to)
        guard let t = wf.transition(from: order.status, to: to) else {
            let allowed = wf.targets(from: order.status)
            let why: String
            if target == nil { why = "workflow \(wf.key) (version \(wf.version)) has no state \(to)" }
            else if allowed.isEmpty { why = "\(order.status) is a final state" }
            else { why = "no transition from \(order.status) to \(to); allowed: \(allowed.joined(separator: ", "))" }
            throw OrderbaseError(.invalidTransition, "order \(order.number): \(why)", field: "to",
                                 details: .object(["from": .string(order.status), "to": .string(to),
                                                   "allowed": .array(allowed.map { .string($0) }),
                                                   "workflow": .string(wf.key), "workflow_version": .int(wf.version)]))
        }
        try Self.checkNoHolds(order, to: to)
        if !approved, let p = order.pendingApproval, !p.isExpired(at: now), target?.category != "cancelled" {
            throw OrderbaseError(.invalidState, "order \(order.number) is waiting for approval \(p.id) to go to \(p.to); approve, reject or cancel it first",
                                 field: "id", details: .object(["approval_id": .string(p.id), "to": .string(p.to)]))
        }
        if t.requiresReason && (reason ?? "").isEmpty {
            throw OrderbaseError.invalid("transition \(t.name) (\(order.status) → \(to)) requires a reason", field: "reason")
        }
        guard !t.requiredFields.isEmpty || t.guardExpression != nil || t.approval != nil else { return .apply(t) }

        let data = try Self.guardData(order, actor: actor)
        if !t.requiredFields.isEmpty {
            let missing = t.requiredFields.filter { p in
                switch Variable(.string("order." + p)).lookup(data, default: .null) {
                case .null, .string(""): return true
                case .array(let a): return a.isEmpty
                default: return false
                }
            }
            if !missing.isEmpty {
                throw OrderbaseError(.invalidState, "transition \(t.name) needs \(missing.joined(separator: ", ")) set on order \(order.number)",
                                     field: "id", details: .object(["transition": .string(t.name), "missing": .array(missing.map { .string($0) })]))
            }
        }
        let ctx = try expressions.evaluationContext(currency: order.currency)
        if let g = t.guardExpression, !(try g.test(data, context: ctx)) {
            let text = (try? ExpressionText.format(g.json)) ?? String(decoding: g.json.bytes, as: UTF8.self)
            var values: JSONObject = [:]
            for p in (try? DataShape.guardData.check(g)) ?? [] { values[p] = Variable(.string(p)).lookup(data, default: .null) }
            let shown = values.sorted { $0.key < $1.key }.map { "\($0.key) = \(String(decoding: $0.value.bytes, as: UTF8.self))" }.joined(separator: ", ")
            throw OrderbaseError(.guardFailed, "transition \(t.name) (\(order.status) → \(to)) is guarded by `\(text)`, which is false for order \(order.number)"
                                 + (shown.isEmpty ? "" : " (\(shown))"),
                                 field: "to", details: .object(["transition": .string(t.name), "guard": .string(text), "values": .object(values)]))
        }
        if !approved, let a = t.approval {
            var tiers: [ApprovalRequest.Tier] = []
            for tier in a.tiers where try tier.when?.test(data, context: ctx) ?? true {
                tiers.append(ApprovalRequest.Tier(name: tier.name, approvers: tier.approvers, roles: tier.roles))
            }
            if !tiers.isEmpty { return .approval(t, tiers, a) }
        }
        return .apply(t)
    }

    /// The order after transition `t` (status, closing times, reason), and its event type.
    static func applied(_ old: Order, _ wf: Workflow, _ t: Workflow.Transition, reason: String?, now: Int64) -> (Order, String) {
        var new = old
        let state = wf.state(t.to)!
        new.status = t.to
        new.pendingApproval = nil
        if state.final { new.closedAt = now }
        if state.category == "cancelled" {
            new.cancelledAt = now
            new.cancelReason = reason
            return (new, "order.cancelled")
        }
        return (new, "order.status_changed")
    }

    /// The workflow version an order follows.
    func workflow(of order: Order) throws(OrderbaseError) -> Workflow {
        try workflowRegistry.version(core, order.workflowKey, order.workflowVersion)
    }

    /// The target of `orders.cancel`: the first cancelled-category state the order's status has a transition to.
    static func cancelTarget(_ order: Order, _ wf: Workflow) throws(OrderbaseError) -> String {
        let targets = wf.targets(from: order.status)
        if let to = targets.first(where: { wf.state($0)?.category == "cancelled" }) { return to }
        throw OrderbaseError(.invalidTransition,
                             targets.isEmpty ? "order \(order.number) is \(order.status), a final state"
                                 : "order \(order.number) cannot be cancelled from \(order.status) in workflow \(wf.key)",
                             field: "id", details: .object(["from": .string(order.status), "allowed": .array(targets.map { .string($0) })]))
    }

    // MARK: orders.transition / orders.cancel

    public func transitionOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let to = try f.string("to", maxLength: 64, required: true, allowEmpty: false)!
        let reason = try f.string("reason", maxLength: 500)
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try transition(id: id, to: to, reason: reason, expected: expected, ctx)
    }

    public func cancelOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let reason = try f.string("reason", maxLength: 500)
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try transition(id: id, to: nil, reason: reason, expected: expected, ctx)
    }

    /// `to` nil: the workflow's cancellation from the current state.
    private func transition(id: String, to: String?, reason: String?, expected: Int64?, _ ctx: RequestContext) throws(OrderbaseError) -> [UInt8] {
        try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            var old = try loadForWrite(id, &wc, expected: expected)
            let wf = try workflow(of: old)
            let target: String
            if let to { target = to } else { target = try Self.cancelTarget(old, wf) }
            let decision = try decide(old, wf, to: target, reason: reason, actor: ctx.actor, now: wc.now)
            // A pending approval that expired, or that a cancellation overrides, is closed first.
            if let p = old.pendingApproval {
                old = try approvals.closeApproval(p.id, of: old, status: p.isExpired(at: wc.now) ? "expired" : "cancelled",
                                        note: nil, &wc).0
            }
            switch decision {
            case .apply(let t):
                let (new, type) = Self.applied(old, wf, t, reason: reason, now: wc.now)
                return try commitChange(old: old, new: new, type: type, reason: reason, &wc)
            case .approval(let t, let tiers, let rule):
                return try approvals.requestApproval(old, wf, t, tiers, rule, reason: reason, &wc)
            }
        }
    }

    // MARK: orders.transitions

    /// `{"id"}` → every other state of the order's workflow: whether it may go
    /// there now, whether that needs approval, and if not, why not.
    public func orderTransitions(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        let order = try Order.decode(try loadRecord(id, snapshot: nil))
        let wf = try workflow(of: order)
        let now = clock.nowMilliseconds()
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(order.id)
        w.key("status"); w.string(order.status)
        w.key("version"); w.int(order.version)
        w.key("workflow"); Workflow.writeReference(key: wf.key, version: wf.version, &w)
        w.key("transitions"); w.beginArray()
        for s in wf.states where s.key != order.status {
            w.beginObject()
            w.key("to"); w.string(s.key)
            if let t = wf.transition(from: order.status, to: s.key) { w.key("transition"); w.string(t.name) }
            do {
                let d = try decide(order, wf, to: s.key, reason: "—", actor: ctx.actor, now: now)
                w.key("allowed"); w.bool(true)
                if case .approval = d { w.key("approval_required"); w.bool(true) } else { w.key("approval_required"); w.bool(false) }
            } catch {
                w.key("allowed"); w.bool(false)
                w.key("approval_required"); w.bool(false)
                w.key("reason"); w.string(error.message)
                w.key("code"); w.string(error.code.name)
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
