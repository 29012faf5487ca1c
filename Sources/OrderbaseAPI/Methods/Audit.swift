import Orderbase

extension Catalogue {
    /// Audit, events and the kernel's view of itself: audit trails and the hash chain, integrity, consumers, the event log.
    static let auditMethods: [Method] = [
        Method("audit.list", .admin, [Route("GET", "/v1/audit")],
               "The tenant's audit entries, oldest first: every one; one record's (subject_type and subject_id); every entry about an id (subject_id alone); or about one kind (subject_type alone).",
               request: [opt("subject_type", .oneOf(RecordKind.audited.map(\.name)), "The kind of record (order, workflow, webhook_endpoint, …)."),
                         opt("subject_id", .string(max: 255, min: 1), "The record's id (a workflow's key)."),
                         limit100, opt("starting_after", .int(0...Int64.max), "The last seq of the previous page.")],
               response: Schemas.page(.ref("AuditEntry")),
               .tenant { t, r throws(OrderbaseError) in try t.audit.listAudit(r) }),
        Method("consumers.list", .read, [Route("GET", "/v1/consumers")],
               "The consumers of the tenant's event log (webhooks, notifications, host subscriptions): cursor and lag; and the scheduler's timers.",
               response: .object([
                   req("data", .list(.object([
                       req("name", .string()), req("kind", .oneOf(ValueLists.consumerKinds)),
                       req("active", .described("Whether it has anything to consume here (endpoints, templates; subscriptions always).", .boolean)),
                       req("cursor", .described("The last event sequence it acknowledged.", .int(0...Int64.max))),
                       req("lag", .described("Events logged after its cursor.", .int(0...Int64.max))),
                   ]))),
                   req("has_more", .boolean), req("last_sequence", .int(0...Int64.max)),
                   req("timers", .object([req("pending", .int(0...Int64.max)), req("next_due_at", .nullable(.timestamp))])),
               ]),
               .tenant { t, r throws(OrderbaseError) in try t.audit.listConsumers(r) }),
        Method("audit.verify", .read, [Route("GET", "/v1/audit/verify")],
               "Walk the tenant's audit hash chain and report the first broken link.",
               response: .object([req("ok", .boolean), req("entries_checked", .int(0...Int64.max)), req("head", .string()),
                                  opt("broken_at", .int(0...Int64.max)), opt("reason", .string())]),
               scansEverything: true, .tenant { t, r throws(OrderbaseError) in try t.audit.verifyAudit(r) }),
        Method("integrity.check", .admin, [Route("GET", "/v1/integrity")],
               "Check that records, indexes, numbers, the event log, the audit chain, the stock ledger and the file store agree.",
               request: [opt("max_problems", .int(1...1000)),
                         opt("verify_files", .boolean, "Also re-hash every stored file (reads every byte; default false: existence and size).")],
               response: .object([req("ok", .boolean), req("orders", .int(0...Int64.max)), req("events", .int(0...Int64.max)),
                                  req("audit_entries", .int(0...Int64.max)), req("problems", .list(.string()))]),
               scansEverything: true, .tenant { t, r throws(OrderbaseError) in try t.audit.checkIntegrity(r) }),
        Method("events.list", .read, [Route("GET", "/v1/events")], "The tenant's event log by sequence.",
               request: [opt("after_sequence", .int(0...Int64.max)), limit100,
                         opt("types", .list(.string(max: 128, min: 1), max: 100), "Exact types or wildcards (order.*, *).")],
               response: Schemas.page(.ref("Event"), [req("last_sequence", .int(0...Int64.max), "Pass as the next after_sequence.")]),
               .tenant { t, r throws(OrderbaseError) in try t.audit.listEvents(r) }),
    ]
}
