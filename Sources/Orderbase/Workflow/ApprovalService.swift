import OrderbaseStore

/// Approvals: a transition whose workflow asks for approval waits, as an
/// approval request, until its tiers are satisfied in order (then it happens
/// in the same write as the last approval), one approver rejects it, someone
/// cancels it, or it expires. Every step is an order change with its event
/// and audit entry, so who approved what is in the order's audit.
extension ApprovalService {
    /// Makes the approval request for a transition and marks the order as waiting.
    func requestApproval(_ old: Order, _ wf: Workflow, _ t: Workflow.Transition, _ tiers: [ApprovalRequest.Tier],
                         _ rule: Workflow.Approval, reason: String?, _ wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] {
        let r = ApprovalRequest(
            id: ids.make("apr_", at: wc.now), orderID: old.id, orderNumber: old.number, workflowKey: wf.key, workflowVersion: wf.version,
            transition: t.name, from: old.status, to: t.to, reason: reason, requestedBy: wc.request.actor, requestedAt: wc.now,
            expiresAt: rule.expiresAfterSeconds.map { wc.now + $0 * 1000 }, allowRequester: rule.allowRequester, tiers: tiers)
        wc.save(before: nil, after: r)
        if let e = r.expiresAt { wc.schedule(TimerAction.approvalExpiry.name, target: r.id, at: e) }
        var new = old
        new.pendingApproval = r.pending
        return try orders.commitChange(old: old, new: new, type: "approval.requested", reason: reason, &wc)
    }

    /// Ends a pending approval request without its transition (rejected,
    /// cancelled, expired) and clears it from the order. Returns the order as
    /// committed and the request as written (`wc.read` does not see this write's own puts).
    @discardableResult
    func closeApproval(_ id: String, of order: Order, status: String, note: String?,
                       _ wc: inout WriteContext) throws(OrderbaseError) -> (Order, ApprovalRequest) {
        let before = try wc.load(ApprovalRequest.self, id)
        var r = before
        r.status = status
        r.decidedAt = status == "expired" ? (r.expiresAt ?? wc.now) : wc.now
        r.decidedBy = status == "expired" ? nil : wc.request.actor
        r.note = note
        wc.save(before: before, after: r)
        if let e = r.expiresAt { wc.unschedule(TimerAction.approvalExpiry.name, target: r.id, at: e) }
        var new = order
        new.pendingApproval = nil
        _ = try orders.commitChange(old: order, new: &new, type: "approval.\(status)", reason: note, &wc)
        return (new, r)
    }

    /// Reads `{"id", "note"?}` and loads the request and its order for a decision, refusing closed and expired requests.
    private func decisionInput(_ request: JSON) throws(OrderbaseError) -> (id: String, note: String?, ctx: RequestContext) {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let note = try f.string("note", maxLength: 1000)
        try f.finish()
        return (id, note, ctx)
    }

    private func openApproval(_ id: String, _ wc: inout WriteContext) throws(OrderbaseError) -> (ApprovalRequest, Order) {
        let r = try wc.load(ApprovalRequest.self, id)
        let status = r.effectiveStatus(at: wc.now)
        guard status == "pending" else {
            throw OrderbaseError(.invalidState, "approval request \(id) is \(status)"
                                 + (status == "expired" ? " (it expired at \(Timestamp.format(r.expiresAt ?? 0)))" : ""),
                                 field: "id", details: .object(["status": .string(status)]))
        }
        let order = try orders.loadForWrite(r.orderID, &wc, expected: nil)
        guard order.pendingApproval?.id == r.id else {
            throw OrderbaseError(.corruption, "approval request \(id) is pending but order \(order.number) does not wait for it")
        }
        return (r, order)
    }

    /// Who may decide the request now: not its requester unless allowed, not
    /// twice, holding a role of the first unsatisfied tier. Actors are told
    /// apart by type and id (an actor without an id is one anonymous actor of its type).
    private static func checkApprover(_ r: ApprovalRequest, _ actor: Actor) throws(OrderbaseError) -> Int {
        try approverTier(r.tiers, of: "approval \(r.id)", requestedBy: r.requestedBy, allowRequester: r.allowRequester, actor)
    }

    /// The tier of `tiers` whose approval `actor` gives now (the first unsatisfied one), or why they may
    /// not decide `what`: its requester (unless allowed), an actor who already approved, a missing role.
    /// Workflow approval requests and returns (docs/returns.md) share it.
    static func approverTier(_ tiers: [ApprovalRequest.Tier], of what: String, requestedBy: Actor, allowRequester: Bool,
                             _ actor: Actor) throws(OrderbaseError) -> Int {
        let who = "\(actor.type) \(actor.id ?? "(no id)")"
        func same(_ a: Actor) -> Bool { a.type == actor.type && a.id == actor.id }
        if !allowRequester && same(requestedBy) {
            throw OrderbaseError(.notPermitted, "\(who) requested \(what) and may not decide it", field: "actor")
        }
        if tiers.contains(where: { $0.votes.contains { same($0.actor) } }) {
            throw OrderbaseError(.notPermitted, "\(who) has already approved \(what)", field: "actor")
        }
        guard let n = tiers.firstIndex(where: { !$0.satisfied }) else {
            throw OrderbaseError(.internal, "\(what) is pending with every tier satisfied")
        }
        let roles = tiers[n].roles
        if !roles.isEmpty && !actor.roles.contains(where: roles.contains) {
            throw OrderbaseError(.notPermitted, "\(what) needs one of the roles \(roles.joined(separator: ", "))"
                                 + (tiers[n].name.map { " (tier \($0))" } ?? ""), field: "actor.roles",
                                 details: .object(["roles": .array(roles.map { .string($0) })]))
        }
        return n
    }

    // MARK: approvals.approve

    /// `{"id", "note"?}` → the approval request. The last approval the tiers
    /// need performs the transition in the same write (its checks run again:
    /// holds, guard, required fields; if they fail now, nothing is recorded).
    public func approveApproval(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, note, ctx) = try decisionInput(request)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            var (r, order) = try openApproval(id, &wc)
            let before = r
            let tier = try Self.checkApprover(r, ctx.actor)
            r.tiers[tier].votes.append(ApprovalRequest.Vote(actor: ctx.actor, at: wc.now, note: note))
            var voted = order
            voted.pendingApproval = r.pending
            _ = try orders.commitChange(old: order, new: &voted, type: "approval.approved", reason: note, &wc)
            if r.tiers.allSatisfy(\.satisfied) {
                let wf = try workflowRegistry.version(core, r.workflowKey, r.workflowVersion)
                guard order.status == r.from, case .apply(let t) = try orders.decide(voted, wf, to: r.to, reason: r.reason, actor: ctx.actor,
                                                                               now: wc.now, approved: true) else {
                    throw OrderbaseError(.invalidState, "order \(order.number) is no longer \(r.from)", field: "id")
                }
                r.status = "approved"
                r.decidedAt = wc.now
                r.decidedBy = ctx.actor
                if let e = r.expiresAt { wc.unschedule(TimerAction.approvalExpiry.name, target: r.id, at: e) }
                let (new, type) = OrderService.applied(voted, wf, t, reason: r.reason, now: wc.now)
                _ = try orders.commitChange(old: voted, new: new, type: type, reason: r.reason, &wc)
            }
            wc.save(before: before, after: r)
            return Self.approvalJSON(r, now: wc.now)
        }
    }

    // MARK: approvals.reject / approvals.cancel

    /// `{"id", "note"?}` → the request, rejected by an actor who could have approved it. The order stays where it is.
    public func rejectApproval(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, note, ctx) = try decisionInput(request)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let (r, order) = try openApproval(id, &wc)
            _ = try Self.checkApprover(r, ctx.actor)
            return Self.approvalJSON(try closeApproval(r.id, of: order, status: "rejected", note: note, &wc).1, now: wc.now)
        }
    }

    /// `{"id", "note"?}` → the request, withdrawn (by its requester or anyone with write access).
    public func cancelApproval(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        let (id, note, ctx) = try decisionInput(request)
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let (r, order) = try openApproval(id, &wc)
            return Self.approvalJSON(try closeApproval(r.id, of: order, status: "cancelled", note: note, &wc).1, now: wc.now)
        }
    }

    static func approvalJSON(_ r: ApprovalRequest, now: Int64) -> [UInt8] { r.json(at: now) }

    // MARK: approvals.get / approvals.list

    /// `{"id"}` → the request (a pending one past its expiry reads as expired).
    public func getApproval(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return Self.approvalJSON(try stored(ApprovalRequest.self, id), now: clock.nowMilliseconds())
    }

    /// `{"status"?, "order_id"?, "limit"?, "starting_after"?}` → requests, newest first.
    public func listApprovals(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let status = try f.oneOf("status", ApprovalRequest.statuses)
        let orderID = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        let now = clock.nowMilliseconds()
        var page: [[UInt8]] = []
        var hasMore = false
        let end = after.map { Keyspace.approvalKey($0) } ?? [Keyspace.approval + 1]
        try scan(from: [Keyspace.approval], to: end, reverse: true, snapshot: database.snapshot()) { _, v throws(OrderbaseError) in
            let r = try ApprovalRequest.decode(Array(v))
            if let status, r.effectiveStatus(at: now) != status { return true }
            if let orderID, r.orderID != orderID { return true }
            if page.count == limit { hasMore = true; return false }
            page.append(Self.approvalJSON(r, now: now))
            return true
        }
        return Self.listResponse(page, hasMore: hasMore)
    }
}

/// Approval expiry, on the scheduler: set when a request with
/// `expires_after_seconds` is made, removed when it is decided first, and run
/// at `expires_at`: the request is written as expired (decided at its
/// `expires_at`, by the scheduler) and the order stops waiting, with its
/// `approval.expired` event and audit entry.
extension TimerAction {
    static let approvalExpiry = TimerAction(name: "approval.expire") { (core, timer, wc) throws(OrderbaseError) in
        let r = try wc.load(ApprovalRequest.self, timer.target)
        guard r.status == "pending" else { return }  // decided meanwhile
        let order = try core.orders.loadForWrite(r.orderID, &wc, expected: nil)
        guard order.pendingApproval?.id == r.id else { return }
        try core.approvals.closeApproval(r.id, of: order, status: "expired", note: nil, &wc)
    }
}
