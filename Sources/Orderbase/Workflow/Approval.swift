/// What an order shows of a transition waiting for approval.
struct PendingApproval: Equatable, Sendable {
    var id: String
    var transition: String
    var to: String
    var requestedAt: Int64
    var expiresAt: Int64?
    /// Approvals given so far, and how many the applicable tiers need in all.
    var approvals: Int64 = 0
    var required: Int64 = 1

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("transition"); w.string(transition)
        w.key("to"); w.string(to)
        w.key("requested_at"); w.timestamp(requestedAt)
        w.key("expires_at"); if let expiresAt { w.timestamp(expiresAt) } else { w.null() }
        w.key("approvals"); w.int(approvals)
        w.key("required"); w.int(required)
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> PendingApproval {
        guard let at = try f.timestamp("requested_at") else { throw OrderbaseError.invalid("pending_approval without requested_at") }
        return PendingApproval(id: try f.string("id", required: true)!, transition: try f.string("transition", required: true)!,
                               to: try f.string("to", required: true)!, requestedAt: at, expiresAt: try f.timestamp("expires_at"),
                               approvals: try f.int("approvals", in: 0...Int64.max) ?? 0, required: try f.int("required", in: 0...Int64.max) ?? 1)
    }

    func isExpired(at now: Int64) -> Bool { expiresAt.map { now >= $0 } ?? false }
}

/// An approval request: a transition that waits for approvers (by tier,
/// in order) before it happens. Stored under its own key (`R id`), mirrored
/// on the order as `pending_approval` while it is pending.
struct ApprovalRequest: Sendable, KeyedRecord {
    static let kind = RecordKind.approval
    static let noun = "approval request"
    static func key(_ id: String) -> [UInt8] { Keyspace.approvalKey(id) }
    var subjectID: String { id }
    var storedJSON: [UInt8] { stored }

    struct Vote: Sendable {
        var actor: Actor
        var at: Int64
        var note: String?
    }

    struct Tier: Sendable {
        var name: String?
        var approvers: Int64
        var roles: [String]
        var votes: [Vote] = []
        var satisfied: Bool { Int64(votes.count) >= approvers }
    }

    static let statuses = ["pending", "approved", "rejected", "cancelled", "expired"]

    var id: String
    var orderID: String
    var orderNumber: String
    var workflowKey: String
    var workflowVersion: Int64
    var transition: String
    var from: String
    var to: String
    var reason: String?
    var requestedBy: Actor
    var requestedAt: Int64
    var expiresAt: Int64?
    var allowRequester: Bool
    var tiers: [Tier]
    var status = "pending"
    var decidedAt: Int64?
    var decidedBy: Actor?
    var note: String?

    /// The status a reader sees: a pending request past its expiry is expired
    /// even before a write records it.
    func effectiveStatus(at now: Int64) -> String {
        status == "pending" && (expiresAt.map { now >= $0 } ?? false) ? "expired" : status
    }

    var pending: PendingApproval {
        PendingApproval(id: id, transition: transition, to: to, requestedAt: requestedAt, expiresAt: expiresAt,
                        approvals: tiers.reduce(0) { $0 + Int64($1.votes.count) }, required: tiers.reduce(0) { $0 + $1.approvers })
    }

    func write(_ w: inout JSONWriter, now: Int64?) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("status"); w.string(now.map { effectiveStatus(at: $0) } ?? status)
        w.key("order_id"); w.string(orderID)
        w.key("order_number"); w.string(orderNumber)
        w.key("workflow"); Workflow.writeReference(key: workflowKey, version: workflowVersion, &w)
        w.key("transition"); w.string(transition)
        w.key("from"); w.string(from)
        w.key("to"); w.string(to)
        w.key("reason"); w.optionalString(reason)
        w.key("requested_by"); requestedBy.write(&w)
        w.key("requested_at"); w.timestamp(requestedAt)
        w.key("expires_at"); if let expiresAt { w.timestamp(expiresAt) } else { w.null() }
        w.key("allow_requester"); w.bool(allowRequester)
        w.key("tiers"); w.beginArray()
        for t in tiers {
            w.beginObject()
            w.key("name"); w.optionalString(t.name)
            w.key("approvers"); w.int(t.approvers)
            w.key("roles"); w.beginArray(); for r in t.roles { w.string(r) }; w.endArray()
            w.key("approvals"); w.beginArray()
            for v in t.votes {
                w.beginObject()
                w.key("actor"); v.actor.write(&w)
                w.key("at"); w.timestamp(v.at)
                w.key("note"); w.optionalString(v.note)
                w.endObject()
            }
            w.endArray()
            w.key("satisfied"); w.bool(t.satisfied)
            w.endObject()
        }
        w.endArray()
        w.key("decided_at"); if let decidedAt { w.timestamp(decidedAt) } else { w.null() }
        w.key("decided_by"); if let decidedBy { decidedBy.write(&w) } else { w.null() }
        w.key("note"); w.optionalString(note)
        w.endObject()
    }

    /// The stored form (status as written, not as seen at some time).
    var stored: [UInt8] {
        var w = JSONWriter()
        write(&w, now: nil)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> ApprovalRequest {
        do {
            var f = try Fields(try JSON.parse(bytes))
            func actor(_ key: String) throws(OrderbaseError) -> Actor? {
                guard var a = try f.object(key) else { return nil }
                let r = try Actor.read(&a)
                return r
            }
            guard var wf = try f.object("workflow"), let requestedAt = try f.timestamp("requested_at"),
                  let requestedBy = try actor("requested_by") else { throw OrderbaseError.invalid("incomplete approval request") }
            var r = ApprovalRequest(
                id: try f.string("id", required: true)!, orderID: try f.string("order_id", required: true)!,
                orderNumber: try f.string("order_number", required: true)!,
                workflowKey: try wf.string("key", required: true)!, workflowVersion: try wf.int("version", in: 1...Int64.max, required: true)!,
                transition: try f.string("transition", required: true)!, from: try f.string("from", required: true)!,
                to: try f.string("to", required: true)!, reason: try f.string("reason", maxLength: Int.max),
                requestedBy: requestedBy, requestedAt: requestedAt, expiresAt: try f.timestamp("expires_at"),
                allowRequester: try f.bool("allow_requester") ?? false, tiers: [])
            r.tiers = try f.objects("tiers", maxCount: Int.max) { (g: inout Fields) throws(OrderbaseError) -> Tier in
                var t = Tier(name: try g.string("name"), approvers: try g.int("approvers", in: 1...Int64.max, required: true)!,
                             roles: (try g.array("roles", maxCount: Int.max) ?? []).compactMap(\.stringValue))
                t.votes = try g.objects("approvals", maxCount: Int.max) { (v: inout Fields) throws(OrderbaseError) -> Vote in
                    guard var a = try v.object("actor"), let at = try v.timestamp("at") else { throw OrderbaseError.invalid("incomplete vote") }
                    return Vote(actor: try Actor.read(&a), at: at, note: try v.string("note", maxLength: Int.max))
                } ?? []
                _ = g.raw("satisfied")
                return t
            } ?? []
            r.status = try f.string("status", required: true)!
            r.decidedAt = try f.timestamp("decided_at")
            r.decidedBy = try actor("decided_by")
            r.note = try f.string("note", maxLength: Int.max)
            return r
        } catch {
            throw OrderbaseError(.corruption, "stored approval request does not decode: \((error as? OrderbaseError)?.message ?? "\(error)")")
        }
    }
}
