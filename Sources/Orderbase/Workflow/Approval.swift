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
/// An approval request (its fields: `ApprovalRequest+Fields.generated.swift`,
/// declared in Tools/codegen/record_fields.py).
extension ApprovalRequest {
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

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("name"); w.optionalString(name)
            w.key("approvers"); w.int(approvers)
            w.key("roles"); w.beginArray(); for r in roles { w.string(r) }; w.endArray()
            w.key("approvals"); w.beginArray()
            for v in votes {
                w.beginObject()
                w.key("actor"); v.actor.write(&w)
                w.key("at"); w.timestamp(v.at)
                w.key("note"); w.optionalString(v.note)
                w.endObject()
            }
            w.endArray()
            w.key("satisfied"); w.bool(satisfied)
            w.endObject()
        }

        static func decode(_ g: inout Fields) throws(OrderbaseError) -> Tier {
            var t = Tier(name: try g.string("name"), approvers: try g.int("approvers", in: 1...Int64.max, required: true)!,
                         roles: (try g.array("roles", maxCount: Int.max) ?? []).compactMap(\.stringValue))
            t.votes = try g.objects("approvals", maxCount: Int.max) { (v: inout Fields) throws(OrderbaseError) -> Vote in
                guard var a = try v.object("actor"), let at = try v.timestamp("at") else { throw OrderbaseError.invalid("incomplete vote") }
                return Vote(actor: try Actor.read(&a), at: at, note: try v.string("note", maxLength: Int.max))
            } ?? []
            _ = g.raw("satisfied")
            return t
        }
    }

    static let statuses = ["pending", "approved", "rejected", "cancelled", "expired"]

    /// The status a reader sees: a pending request past its expiry is expired
    /// even before a write records it.
    func effectiveStatus(at now: Int64) -> String {
        status == "pending" && (expiresAt.map { now >= $0 } ?? false) ? "expired" : status
    }

    var pending: PendingApproval {
        PendingApproval(id: id, transition: transition, to: to, requestedAt: requestedAt, expiresAt: expiresAt,
                        approvals: tiers.reduce(0) { $0 + Int64($1.votes.count) }, required: tiers.reduce(0) { $0 + $1.approvers })
    }

    /// The API form as seen at `now` (a pending request past its expiry reads as expired).
    func json(at now: Int64) -> [UInt8] {
        var seen = self
        seen.status = effectiveStatus(at: now)
        var w = JSONWriter()
        seen.write(&w)
        return w.bytes
    }
}
