import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

/// The kernel (DESIGN §8): every kind audited and evented, indexes per kind, one prefix registry.
@Suite("Kernel: every record kind")
struct KernelTests {
    /// The audit entries of one subject, through audit.list.
    func audit(_ fx: WebhookFixture, _ type: String, _ id: String) throws -> [JSON] {
        try fx.call({ $0.audit.listAudit }, #"{"subject_type":"\#(type)","subject_id":"\#(id)"}"#)["data"]!.array
    }

    func change(_ entry: JSON, _ field: String) -> (before: JSON, after: JSON)? {
        guard let c = entry["changes"]?.array.first(where: { $0["field"] == .string(field) }) else { return nil }
        return (c["before"] ?? .null, c["after"] ?? .null)
    }

    func event(_ fx: WebhookFixture, sequence: Int64) throws -> JSON {
        try fx.call({ $0.audit.listEvents }, #"{"after_sequence":\#(sequence - 1),"limit":1}"#)["data"]!.array[0]
    }

    @Test("a webhook endpoint's creation, new URL, rotation, disabling by the system and deletion are each audited and evented, secrets redacted")
    func webhookEndpoints() throws {
        let fx = try WebhookFixture()
        let e = try fx.endpoint()
        let id = e["id"]!.stringValue!, secret = e["secret"]!.stringValue!
        try fx.call({ $0.webhooks.updateWebhook }, #"{"id":"\#(id)","url":"http://127.0.0.1:9/other","actor":{"type":"user","id":"mallory"},"request_id":"r-9"}"#)
        try fx.call({ $0.webhooks.rotateWebhookSecret }, #"{"id":"\#(id)"}"#)
        try fx.call({ $0.webhooks.updateWebhook }, #"{"id":"\#(id)","description":null}"#)  // no change: nothing recorded
        let entries = try audit(fx, "webhook_endpoint", id)
        #expect(entries.map { $0["action"]!.stringValue! } == ["webhook_endpoint.created", "webhook_endpoint.updated", "webhook_endpoint.secret_rotated"])
        // Who repointed the webhook: the actor, the request, the old and new URL.
        let repoint = entries[1]
        #expect(repoint["actor"]?["id"] == .string("mallory") && repoint["request_id"] == .string("r-9"))
        #expect(change(repoint, "url")! == (.string("http://127.0.0.1:9/hook"), .string("http://127.0.0.1:9/other")))
        #expect(repoint["changes"]!.array.count == 1, "updated_at is bookkeeping, not a change")
        #expect(repoint["subject"] == .object(["type": .string("webhook_endpoint"), "id": .string(id)]) && repoint["order_id"] == .null)
        #expect(change(entries[2], "secrets")! == (.string("[redacted]"), .string("[redacted]")))
        #expect(change(entries[0], "url")?.after == .string("http://127.0.0.1:9/hook") && change(entries[0], "secrets")?.before == .null)
        // The events say the same, with the endpoint's API form as data.
        let ev = try event(fx, sequence: repoint["event_sequence"]!.intValue!)
        #expect(ev["type"] == .string("webhook_endpoint.updated") && ev["subject"]?["id"] == .string(id) && ev["order"] == .null)
        #expect(ev["data"]?["url"] == .string("http://127.0.0.1:9/other") && change(ev, "url") != nil)
        // No secret is in any audit entry or event.
        let everything = try fx.call({ $0.audit.listAudit }, "{}").text + fx.call({ $0.audit.listEvents }, "{}").text
        #expect(!everything.contains(secret) && !everything.contains(String(secret.dropFirst(6))))
        // The delivery pass disables it (410): audited as the system, the event keeps its data shape.
        fx.transport.answer(OutboundResponse(status: 410, latencyMilliseconds: 1))
        _ = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let disabled = try audit(fx, "webhook_endpoint", id).last!
        #expect(disabled["action"] == .string("webhook.endpoint_disabled") && disabled["actor"]?["type"] == .string("system"))
        #expect(change(disabled, "enabled")! == (.bool(true), .bool(false)))
        let dev = try event(fx, sequence: disabled["event_sequence"]!.intValue!)
        #expect(dev["data"] == .object(["endpoint_id": .string(id), "url": .string("http://127.0.0.1:9/other"), "reason": .string("the endpoint answered 410 Gone")]))
        try fx.call({ $0.webhooks.deleteWebhook }, #"{"id":"\#(id)"}"#)
        let deleted = try audit(fx, "webhook_endpoint", id).last!
        #expect(deleted["action"] == .string("webhook_endpoint.deleted") && change(deleted, "url")?.after == .null)
        #expect(try fx.call({ $0.audit.verifyAudit }, "{}")["ok"] == .bool(true))
    }

    @Test("notification channels and templates are audited and evented; a password is never shown, its change is")
    func notificationConfig() throws {
        let fx = try WebhookFixture()
        let c = try fx.call({ $0.notifications.createNotificationChannel },
                            #"{"name":"mail","type":"email","email":{"host":"127.0.0.1","security":"none","from":"shop@example.com","username":"u","password":"hunter2-secret"}}"#)
        let cid = c["id"]!.stringValue!
        try fx.call({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(cid)","email":{"password":"correct-horse"}}"#)
        try fx.call({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(cid)","name":"mail 2"}"#)
        let entries = try audit(fx, "notification_channel", cid)
        #expect(entries.map { $0["action"]!.stringValue! } == ["notification_channel.created", "notification_channel.updated", "notification_channel.updated"])
        let pw = change(entries[1], "email")!
        #expect(pw.before["password"] == .string("[redacted]") && pw.after["password"] == .string("[redacted]") && pw.after["host"] == .string("127.0.0.1"))
        #expect(change(entries[2], "name")! == (.string("mail"), .string("mail 2")) && change(entries[2], "email") == nil)
        let all = try fx.call({ $0.audit.listAudit }, "{}").text + fx.call({ $0.audit.listEvents }, "{}").text
        #expect(!all.contains("hunter2") && !all.contains("correct-horse"))

        let t = try fx.call({ $0.notifications.createNotificationTemplate },
                            #"{"name":"thanks","channel_id":"\#(cid)","event_types":["order.created"],"subject":"Hi","text":"{{order.number}}","recipients":[{"type":"customer"}]}"#)
        let tid = t["id"]!.stringValue!
        try fx.call({ $0.notifications.updateNotificationTemplate }, #"{"id":"\#(tid)","text":"Order {{order.number}}"}"#)
        try fx.call({ $0.notifications.deleteNotificationTemplate }, #"{"id":"\#(tid)"}"#)
        let te = try audit(fx, "notification_template", tid)
        #expect(te.map { $0["action"]!.stringValue! } == ["notification_template.created", "notification_template.updated", "notification_template.deleted"])
        #expect(change(te[1], "text")! == (.string("{{order.number}}"), .string("Order {{order.number}}")))
        let ev = try event(fx, sequence: te[2]["event_sequence"]!.intValue!)
        #expect(ev["type"] == .string("notification_template.deleted") && ev["data"]?["id"] == .string(tid))
        try fx.call({ $0.notifications.deleteNotificationChannel }, #"{"id":"\#(cid)"}"#)
        #expect(try audit(fx, "notification_channel", cid).last?["action"] == .string("notification_channel.deleted"))
    }

    @Test("workflow versions and archiving are audited against the version before, and evented")
    func workflows() throws {
        let fx = try WebhookFixture()
        let states = #""states":[{"key":"new","initial":true},{"key":"done","category":"done","final":true}]"#
        try fx.call({ $0.workflows.createWorkflow }, #"{"key":"simple","name":"Simple",\#(states),"transitions":[{"name":"finish","from":"new","to":"done"}]}"#)
        try fx.call({ $0.workflows.updateWorkflow }, #"{"key":"simple","name":"Simpler",\#(states),"transitions":[{"name":"finish","from":"new","to":"done"}]}"#)
        try fx.call({ $0.workflows.archiveWorkflow }, #"{"key":"simple"}"#)
        let entries = try audit(fx, "workflow", "simple")
        #expect(entries.map { $0["action"]!.stringValue! } == ["workflow.created", "workflow.updated", "workflow.archived"])
        #expect(change(entries[1], "name")! == (.string("Simple"), .string("Simpler")) && change(entries[1], "version")! == (.int(1), .int(2)))
        #expect(change(entries[1], "states") == nil, "unchanged parts are not listed")
        #expect(change(entries[2], "archived")! == (.bool(false), .bool(true)))
        let events = try fx.call({ $0.audit.listEvents }, #"{"types":["workflow.*"]}"#)["data"]!.array
        #expect(events.count == 3 && events.allSatisfy { $0["subject"]?["type"] == .string("workflow") })
    }

    @Test("audit.list pages the whole chain, one subject, one id of any kind, or one kind")
    func auditList() throws {
        let fx = try Fixture()
        let a = try fx.createOrder()["id"]!.stringValue!
        _ = try fx.createOrder()
        try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(a)","note":"n"}"#)
        let mine = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","subject_id":"\#(a)","limit":1}"#)
        #expect(mine["data"]!.array.count == 1 && mine["has_more"] == .bool(true))
        let next = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","subject_id":"\#(a)","starting_after":\#(mine["data"]!.array[0]["seq"]!.intValue!)}"#)
        #expect(next["data"]!.array.map { $0["action"]! } == [.string("order.updated")])
        #expect(try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(a)"}"#)["data"]!.array.count == 2)
        let all = try fx.call({ $0.audit.listAudit }, #"{"starting_after":1}"#)["data"]!.array
        #expect(all.map { $0["seq"]!.intValue! } == [2, 3])
        #expect(all.allSatisfy { $0["subject"]?["type"] == .string("order") })
        // Half a subject: subject_type alone is every entry about that kind, subject_id alone every entry about that id.
        try fx.call({ $0.webhooks.createWebhook }, #"{"url":"https://example.com/h","event_types":["*"]}"#)
        let orders = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","limit":2}"#)
        #expect(orders["data"]!.array.map { $0["seq"]!.intValue! } == [1, 2] && orders["has_more"] == .bool(true))
        let endpoints = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"webhook_endpoint"}"#)["data"]!.array
        #expect(endpoints.count == 1 && endpoints[0]["seq"] == .int(4))
        let byID = try fx.call({ $0.audit.listAudit }, #"{"subject_id":"\#(a)","limit":1}"#)
        #expect(byID["data"]!.array.map { $0["seq"]!.intValue! } == [1] && byID["has_more"] == .bool(true))
        #expect(try fx.call({ $0.audit.listAudit }, #"{"subject_id":"\#(a)","starting_after":1}"#)["data"]!.array.map { $0["seq"]!.intValue! } == [3])
        #expect(try fx.call({ $0.audit.listAudit }, #"{"subject_id":"nobody"}"#)["data"]!.array.isEmpty)
        #expect(fx.error({ $0.audit.listAudit }, #"{"subject_type":"nope","subject_id":"x"}"#)?.code == .invalidArgument)
    }

    @Test("orders.list filters by the states of custom workflows; a state no workflow has matches nothing")
    func customStatus() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, #"""
            {"key":"artwork","name":"Artwork","states":[{"key":"awaiting_artwork","initial":true},{"key":"printed","category":"done","final":true}],
             "transitions":[{"name":"print","from":"awaiting_artwork","to":"printed"}]}
            """#)
        let a = try fx.createOrder(#""workflow":"artwork""#)["id"]!.stringValue!
        _ = try fx.createOrder()
        let listed = try fx.call({ $0.orders.listOrders }, #"{"status":"awaiting_artwork"}"#)["data"]!.array
        #expect(listed.map { $0["id"]! } == [.string(a)])
        #expect(try fx.call({ $0.orders.listOrders }, #"{"status":"pending"}"#)["data"]!.array.count == 1)
        // A state added by a later version is known at once.
        try fx.call({ $0.workflows.updateWorkflow }, #"""
            {"key":"artwork","name":"Artwork","states":[{"key":"awaiting_artwork","initial":true},{"key":"proofing"},{"key":"printed","category":"done","final":true}],
             "transitions":[{"name":"proof","from":"awaiting_artwork","to":"proofing"},{"name":"print","from":"proofing","to":"printed"}]}
            """#)
        #expect(try fx.call({ $0.orders.listOrders }, #"{"status":"proofing"}"#)["data"]!.array.isEmpty)
        // A state no workflow has matches nothing; a value that is not a state key is refused.
        #expect(try fx.call({ $0.orders.listOrders }, #"{"status":"awaiting_artworkk"}"#)["data"]!.array.isEmpty)
        let e = fx.error({ $0.orders.listOrders }, #"{"status":"Awaiting-Artwork"}"#)
        #expect(e?.code == .invalidArgument && e?.field == "status")
    }

    @Test("integrity.check reports stale and missing index entries of every indexed kind, not only orders")
    func integrityPerKind() throws {
        let fx = try WebhookFixture()
        _ = try fx.endpoint()
        fx.transport.answer(OutboundResponse(status: 500, latencyMilliseconds: 1))
        let order = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
        let db = fx.core.database
        // A notification-by-order entry naming no notification, and an `I` entry of a kind nobody registered.
        let b = WriteBatch()
        b.put(Keyspace.notificationOrderKey(order, "ntf_ghost"), [])
        b.put(Keyspace.indexKey(RecordKind("shipment"), "status", "open", "shp_1"), [])
        try db.write(b, sync: true)
        let report = try fx.call({ $0.audit.checkIntegrity }, "{}")
        let problems = report["problems"]!.array.compactMap(\.stringValue)
        #expect(report["ok"] == .bool(false))
        #expect(problems.contains { $0.hasPrefix("stale notification index entry") })
        #expect(problems.contains { $0.hasPrefix("stale shipment index entry") })
        // A pending delivery's queue entry removed: reported missing.
        let d = try fx.deliveries()[0]
        let delivery = try WebhookDelivery.decode(try JSON.parse(d.text).bytes)
        #expect(delivery.status == "pending")
        let c = WriteBatch()
        c.delete(Keyspace.queueKey(delivery.endpointID, delivery.orderID ?? "", delivery.eventSequence, delivery.id))
        c.delete(Keyspace.notificationOrderKey(order, "ntf_ghost"))
        c.delete(Keyspace.indexKey(RecordKind("shipment"), "status", "open", "shp_1"))
        try db.write(c, sync: true)
        let after = try fx.call({ $0.audit.checkIntegrity }, "{}")["problems"]!.array
        #expect(after == [.string("1 index entries are missing")])
    }

    @Test("the primary error codes are frozen (docs/errors.md): new refusals get a details.reason")
    func frozenCodes() {
        let frozen: [(Int32, String)] = [
            (-1, "invalid_argument"), (-2, "not_found"), (-3, "already_exists"), (-4, "version_conflict"),
            (-5, "invalid_transition"), (-6, "idempotency_mismatch"), (-7, "busy"), (-8, "io_error"), (-9, "corruption"),
            (-10, "misuse"), (-11, "limit_exceeded"), (-12, "internal"), (-13, "invalid_state"), (-14, "on_hold"),
            (-15, "guard_failed"), (-16, "not_permitted"),
        ]
        #expect(ErrorCode.allCases.map { "\($0.rawValue) \($0.name)" } == frozen.map { "\($0.0) \($0.1)" })
    }

    @Test("every key prefix belongs to one thing, and every kind name is distinct")
    func prefixRegistry() {
        let bytes = Keyspace.prefixes.map(\.prefix)
        #expect(Set(bytes).count == bytes.count, "two entries share a prefix byte")
        #expect(Set(Keyspace.prefixes.map(\.holds)).count == bytes.count)
        let names = RecordKind.all.map(\.name)
        #expect(Set(names).count == names.count)
        // Index field names of orders must never read as a kind (the 1 → 2 migration tells them apart so).
        #expect(Order.indexedFields.allSatisfy { RecordKind.named($0) == nil })
        // Every prefix the integrity check scans is registered.
        for ik in IndexedKind.all {
            #expect(bytes.contains(ik.recordPrefix) && ik.ownPrefixes.allSatisfy(bytes.contains))
        }
    }

    @Test("the scheduler writes an approval as expired at its time, by the system, and the timer goes with the decision")
    func approvalExpiryTimer() throws {
        let fx = try Fixture(options: { var o = EngineOptions(); o.background = false; return o }())
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let id = try fx.artworkOrder(total: 600_000)
        let apr = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)["pending_approval"]!["id"]!.stringValue!
        let requested = fx.clock.nowMilliseconds()
        var timers = try fx.call({ $0.audit.listConsumers }, "{}")["timers"]!
        #expect(timers["pending"] == .int(1) && timers["next_due_at"] == .string(Timestamp.format(requested + 3_600_000)))
        fx.clock.advance(milliseconds: 3_599_999)
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 0, "not due yet")
        fx.clock.advance(milliseconds: 5_000)
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 1)
        // Written, not only read as expired: the stored request and the order.
        let stored = try ApprovalRequest.decode(try fx.core.database.get(Keyspace.approvalKey(apr))!)
        #expect(stored.status == "expired" && stored.decidedAt == requested + 3_600_000 && stored.decidedBy == nil)
        let order = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)
        #expect(order["pending_approval"] == .null && order["status"] == .string("awaiting_artwork"))
        let last = try fx.events().last!
        #expect(last["type"] == .string("approval.expired") && last["actor"] == .object(["type": .string("system"), "id": .string("scheduler")]))
        timers = try fx.call({ $0.audit.listConsumers }, "{}")["timers"]!
        #expect(timers["pending"] == .int(0) && timers["next_due_at"] == .null)
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 0, "a timer runs once")
        // A request decided before its time takes its timer with it.
        let again = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)["pending_approval"]!["id"]!.stringValue!
        #expect(try fx.call({ $0.audit.listConsumers }, "{}")["timers"]!["pending"] == .int(1))
        try fx.call({ $0.approvals.cancelApproval }, #"{"id":"\#(again)"}"#)
        #expect(try fx.call({ $0.audit.listConsumers }, "{}")["timers"]!["pending"] == .int(0))
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
    }

    @Test("timers survive a restart, and a failing timer is kept and retried with backoff without stopping the others")
    func timersDurableAndRetried() throws {
        let dir = NSTemporaryDirectory() + "orderbase-timers-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(1_795_000_000_000)
        var o = EngineOptions()
        o.background = false
        let now = clock.nowMilliseconds()
        var apr = ""
        do {
            let engine = try Engine(root: dir, options: o, clock: clock)
            defer { engine.close() }
            try engine.createTenant("shop", settings: nil)
            let core = try engine.openTenant("shop").core()
            _ = try core.workflows.createWorkflow(try JSON.parse(artworkWorkflow))
            let order = try JSON.parse(try core.orders.createOrder(try JSON.parse(#"""
                {"customer":{"email":"a@b.c"},"line_items":[{"sku":"ART-1","title":"Portrait","quantity":1,"unit_price":600000}]}
                """#)))["id"]!.stringValue!
            for to in ["confirmed", "awaiting_artwork"] {
                _ = try core.orders.transitionOrder(try JSON.parse(#"{"id":"\#(order)","to":"\#(to)"}"#))
            }
            apr = try JSON.parse(try core.orders.transitionOrder(try JSON.parse(#"{"id":"\#(order)","to":"processing"}"#)))["pending_approval"]!["id"]!.stringValue!
            // A timer whose action no release knows, due before the expiry.
            try core.write(RequestContext.system) { (wc: inout WriteContext) throws(OrderbaseError) in
                wc.schedule("no.such_action", target: "x", at: now + 1000)
            }
        }
        clock.advance(milliseconds: 3_600_000)
        let engine = try Engine(root: dir, options: o, clock: clock)
        defer { engine.close() }
        let core = try engine.openTenant("shop").core()
        #expect(try engine.pump(maxMilliseconds: 1000) == 1, "the expiry ran after the restart; the bad timer did not count")
        #expect(try ApprovalRequest.decode(try core.database.get(Keyspace.approvalKey(apr))!).status == "expired")
        var bad: [ScheduledTimer] = []
        try core.scan(from: [Keyspace.timer], to: [Keyspace.timer + 1]) { _, v throws(OrderbaseError) in bad.append(try ScheduledTimer.decode(Array(v))); return true }
        #expect(bad.count == 1 && bad[0].attempts == 1 && bad[0].lastError?.hasPrefix("corruption: timer no.such_action:x") == true)
        #expect(bad[0].due == clock.nowMilliseconds() + 60_000, "retried in a minute, not at once")
        #expect(try engine.pump(maxMilliseconds: 1000) == 0)
        clock.advance(milliseconds: 60_000)
        _ = try engine.pump(maxMilliseconds: 1000)
        bad = []
        try core.scan(from: [Keyspace.timer], to: [Keyspace.timer + 1]) { _, v throws(OrderbaseError) in bad.append(try ScheduledTimer.decode(Array(v))); return true }
        #expect(bad.count == 1 && bad[0].attempts == 2 && bad[0].due == clock.nowMilliseconds() + 120_000)
    }

    @Test("consumers.list shows each consumer's cursor and lag, host subscriptions included")
    func consumersList() throws {
        let fx = try WebhookFixture()
        var list = try fx.call({ $0.audit.listConsumers }, "{}")
        #expect(list["data"]!.array.map { $0["name"]! } == [.string("webhooks"), .string("notifications")])
        #expect(list["data"]!.array.allSatisfy { $0["active"] == .bool(false) && $0["lag"] == .int(0) })
        _ = try fx.endpoint()
        _ = try fx.order()
        _ = try fx.order()
        list = try fx.call({ $0.audit.listConsumers }, "{}")
        let webhooks = list["data"]!.array[0]
        #expect(list["last_sequence"] == .int(3) && webhooks["active"] == .bool(true) && webhooks["cursor"] == .int(0) && webhooks["lag"] == .int(3))
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        list = try fx.call({ $0.audit.listConsumers }, "{}")
        #expect(list["data"]!.array[0]["cursor"] == .int(3) && list["data"]!.array[0]["lag"] == .int(0))
        #expect(list["data"]!.array[1]["lag"] == .int(3), "no templates: the notification cursor has not moved")
        let s = try fx.engine.subscribe(fx.tenant, name: "erp", types: nil, callback: { _ in 0 }, release: {})
        defer { fx.engine.unsubscribe(s) }
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        list = try fx.call({ $0.audit.listConsumers }, "{}")
        let erp = list["data"]!.array.first { $0["name"] == .string("subscription:erp") }
        #expect(erp?["kind"] == .string("subscription") && erp?["cursor"] == .int(3) && erp?["lag"] == .int(0))
        #expect(fx.engine.consumerLags().map(\.consumer) == ["notifications", "webhooks"])
    }
}

/// `po_number`, added as one row of Tools/codegen/order_fields.py (issue 12's proof).
@Suite("The po_number field")
struct PONumberTests {
    @Test("po_number is set on create, edited while open, audited, filterable through its index, checked, and seen by expressions")
    func poNumber() throws {
        let fx = try Fixture()
        let a = try fx.createOrder(#""po_number":"PO-7781""#)
        #expect(a["po_number"] == .string("PO-7781"))
        let b = try fx.createOrder()["id"]!.stringValue!
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(b)"}"#)["po_number"] == .null)
        let id = a["id"]!.stringValue!
        let u = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","po_number":"PO-7782"}"#)
        #expect(u["po_number"] == .string("PO-7782") && u["version"] == .int(2))
        let trail = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(id)"}"#)["data"]!.array
        #expect(trail.last?["changes"] == .array([.object(["field": .string("po_number"), "before": .string("PO-7781"), "after": .string("PO-7782")])]))
        // Filterable, through the index (no order without one is listed).
        let listed = try fx.call({ $0.orders.listOrders }, #"{"po_number":"PO-7782"}"#)["data"]!.array
        #expect(listed.map { $0["id"]! } == [.string(id)])
        #expect(try fx.call({ $0.orders.listOrders }, #"{"po_number":"PO-7781"}"#)["data"]!.array.isEmpty)
        #expect(try fx.call({ $0.orders.listOrders }, #"{"po_number":"PO-7782","status":"pending"}"#)["data"]!.array.count == 1)
        #expect(fx.error({ $0.orders.listOrders }, #"{"po_number":"\#(String(repeating: "0", count: 65))"}"#)?.field == "po_number",
                "the filter's limit is the field's, as the schema says")
        // Limits and types; null clears.
        let long = String(repeating: "x", count: 65)
        let before = fx.counters
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","po_number":"\#(long)"}"#)?.field == "po_number")
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","po_number":42}"#)?.code == .invalidArgument)
        #expect(fx.counters == before)
        #expect(try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","po_number":null}"#)["po_number"] == .null)
        #expect(try fx.call({ $0.orders.listOrders }, #"{"po_number":"PO-7782"}"#)["data"]!.array.isEmpty, "the index entry went with the value")
        // Editable while open only.
        try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(b)","reason":"r"}"#)
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(b)","po_number":"PO-1"}"#)?.code == .invalidState)
        // Expressions know its type.
        #expect(try fx.call({ $0.expressions.validateExpression }, #"{"expression":"order.po_number starts_with \"PO-\""}"#)["valid"] == .bool(true))
        let typo = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"order.po_numbr == \"x\""}"#)
        #expect(typo["valid"] == .bool(false) && typo["error"]?["message"]?.stringValue?.contains("did you mean order.po_number") == true)
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
    }
}

/// A record kind that exists only here, to show what the kernel gives any
/// new kind: one `commit` writes the record, its index entries, one event and
/// one audit entry in the command's batch.
struct Widget: StoredRecord, Equatable {
    static let kind = RecordKind("widget")
    static let noun = "widget"
    static let prefix = UInt8(ascii: "~")  // not a registered prefix: the test cleans up after itself
    static func key(_ id: String) -> [UInt8] { var k = KeyBuilder(prefix); k.string(id); return k.bytes }
    var id: String
    var colour: String
    var secretCode: String?

    var subjectID: String { id }
    var storedJSON: [UInt8] {
        JSON.object(["id": .string(id), "colour": .string(colour), "secret_code": secretCode.map(JSON.string) ?? .null]).bytes
    }
    var apiJSON: [UInt8] { JSON.object(["id": .string(id), "colour": .string(colour)]).bytes }
    var indexKeys: [[UInt8]] { [Keyspace.indexKey(Self.kind, "colour", colour, id)] }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> Widget {
        let j = try JSON.parse(bytes)
        return Widget(id: j["id"]?.stringValue ?? "", colour: j["colour"]?.stringValue ?? "", secretCode: j["secret_code"]?.stringValue)
    }
}

@Suite("The generic commit")
struct GenericCommitTests {
    func keys(_ core: TenantCore, _ prefix: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try core.scan(from: prefix, to: prefixUpperBound(prefix)) { k, _ throws(OrderbaseError) in out.append(Array(k)); return true }
        return out
    }

    @Test("one commit writes any kind's record, index changes, event and audit entry; load and delete go through it too")
    func widget() throws {
        let fx = try Fixture()
        let core = fx.core
        let before = fx.counters
        try core.write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
            wc.commit("widget.created", before: nil, after: Widget(id: "w1", colour: "red"))
        }
        #expect(fx.counters.eventSeq == before.eventSeq + 1 && fx.counters.auditSeq == before.auditSeq + 1)
        #expect(try core.stored(Widget.self, "w1") == Widget(id: "w1", colour: "red"))
        #expect(try keys(core, Keyspace.indexPrefix(Widget.kind, "colour", "red")).count == 1)
        try core.write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
            let w = try wc.load(Widget.self, "w1")
            var blue = w
            blue.colour = "blue"
            blue.secretCode = "1234"
            wc.commit("widget.updated", before: w, after: blue)
        }
        #expect(try keys(core, Keyspace.indexPrefix(Widget.kind, "colour", "red")).isEmpty)
        #expect(try keys(core, Keyspace.indexPrefix(Widget.kind, "colour", "blue")).count == 1)
        let trail = try fx.call({ $0.audit.listAudit }, "{}")["data"]!.array.filter { $0["subject"]?["type"] == .string("widget") }
        #expect(trail.map { $0["action"]! } == [.string("widget.created"), .string("widget.updated")])
        let fields = trail[1]["changes"]!.array.map { $0["field"]! }
        #expect(fields == [.string("colour"), .string("secret_code")])
        let event = try fx.events().last!
        #expect(event["type"] == .string("widget.updated") && event["data"] == .object(["id": .string("w1"), "colour": .string("blue")]))
        // The index entry of a kind with records is not stale only if integrity.check knows the kind;
        // a kind that skips IndexedKind is reported, as it should be.
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["problems"]!.array.contains { $0.stringValue?.hasPrefix("stale widget index entry") == true })
        try core.write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
            wc.commit("widget.deleted", before: try wc.load(Widget.self, "w1"), after: nil)
        }
        #expect(try keys(core, [Widget.prefix]).isEmpty && keys(core, Keyspace.indexPrefix(Widget.kind, "colour", "blue")).isEmpty)
        #expect(fx.error({ (c: TenantCore) in { (_: JSON) throws(OrderbaseError) -> [UInt8] in _ = try c.stored(Widget.self, "w1"); return [] } }, "{}")?.code == .notFound)
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
        #expect(try fx.call({ $0.audit.verifyAudit }, "{}")["ok"] == .bool(true))
    }
}

@Suite("Decode memo")
struct DecodeMemoTests {
    @Test("a memo answers only the decoding of the bytes read now: a kept write that never landed, corrupt bytes and a full memo change nothing")
    func neverStale() throws {
        let memo = DecodeMemo<InventoryLevel>(capacity: 2)
        var a = InventoryLevel(sku: "MUG", locationID: "loc_1")
        a.onHand = 5
        var b = a
        b.onHand = 7
        #expect(try memo.decode("loc_1:MUG", a.storedJSON).onHand == 5)
        // A write staged (and kept) whose batch then failed: the database still has a's bytes.
        memo.keep("loc_1:MUG", b.storedJSON, b)
        #expect(try memo.decode("loc_1:MUG", a.storedJSON).onHand == 5)
        #expect(try memo.decode("loc_1:MUG", b.storedJSON).onHand == 7)
        #expect(throws: OrderbaseError.self) { try memo.decode("loc_1:MUG", Array("{\"on_hand\":".utf8)) }
        // Past capacity it starts again; every answer is still the bytes' own.
        for (n, id) in ["x", "y", "z", "loc_1:MUG"].enumerated() {
            var l = a
            l.onHand = Int64(n)
            #expect(try memo.decode(id, l.storedJSON).onHand == Int64(n))
        }
    }

    @Test("the memoized kinds' stored forms decode back to the same record (what `save` keeps must be what a read decodes); a movement's stored form is its API form")
    func roundTrip() throws {
        var level = InventoryLevel(sku: "MUG", locationID: "loc_1")
        (level.onHand, level.committed, level.reserved, level.incoming) = (9, 4, 1, 7)
        (level.damaged, level.qualityControl, level.safetyStock) = (2, 3, 5)
        level.backorders = ["fo_1", "fo_2"]
        level.updatedAt = 1_764_000_000_123
        #expect(try InventoryLevel.decode(level.storedJSON).storedJSON == level.storedJSON)
        var item = InventoryItem(sku: "MUG")
        item.tracked = false
        item.backorder = "allow"
        item.backorderLocations = ["loc_2": "deny", "loc_1": "allow"]
        (item.createdAt, item.updatedAt) = (1_764_000_000_001, 1_764_000_000_999)
        #expect(try InventoryItem.decode(item.storedJSON).storedJSON == item.storedJSON)
        // `StockBatch` renders a movement once, for the ledger and for the level's
        // event and the answer: that needs its stored form to be its API form.
        var m = InventoryMovement.blank
        (m.id, m.sku, m.locationID, m.quantity, m.delta, m.after) = ("mov_1", "MUG", "loc_1", "committed", 3, 7)
        (m.reason, m.reference, m.at) = ("order_committed", "order:ord_1", 1_764_000_000_123)
        #expect(m.storedJSON == m.apiJSON)
    }

    @Test("a write that saves a level and then fails leaves the next order routing on the stored level")
    func failedWrite() throws {
        let fx = try Fixture()
        let loc = try fx.location(#"{"name":"Main"}"#)
        try fx.stock("MUG", at: loc, 2)
        let failed = try? fx.core.write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
            var level = try wc.load(InventoryLevel.self, loc + ":MUG")
            let before = level
            level.onHand = 50
            wc.save(before: before, after: level)  // kept by the memo, then the command fails
            throw OrderbaseError(.invalidState, "refused after the save")
        }
        #expect(failed == nil)
        #expect(try fx.level("MUG", at: loc)["on_hand"] == .int(2))
        let e = fx.error({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":5}]}"#)
        #expect(e?.details?["reason"] == .string("insufficient_stock"))
        _ = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":2,"unit_price":5}]"#)
        #expect(try fx.level("MUG", at: loc)["committed"] == .int(2) && fx.integrityProblems().isEmpty)
    }
}

/// A record whose stored form is given as text, to show how the audit reads
/// one. It takes the webhook endpoint's policy: `secrets` redacted,
/// `updated_at` not compared.
struct StoredText: AuditedRecord {
    static let kind = RecordKind.webhookEndpoint
    var text: String
    var subjectID: String { "we_1" }
    var storedJSON: [UInt8] { Array(text.utf8) }
    var apiJSON: [UInt8] { Array(text.utf8) }
}

@Suite("Audit form")
struct AuditFormTests {
    func changes(_ before: String?, _ after: String?) -> [String: (before: String?, after: String?)] {
        var out: [String: (before: String?, after: String?)] = [:]
        let text = { (b: ArraySlice<UInt8>?) in b.map { String(decoding: $0, as: UTF8.self) } }
        for c in AuditForm.diff(before.map { AuditForm(StoredText(text: $0)) }, after.map { AuditForm(StoredText(text: $0)) }) {
            guard case .named(let name) = c.field else { continue }
            out[name] = (text(c.before), text(c.after))
        }
        return out
    }

    @Test("a stored form's members are delimited without parsing their values; anything else is left to the parser")
    func members() {
        let text = #"{ "a" : 1 , "b" : [1, {"c": "}],\"{"}] ,"d":"x\"y","e":{"f":null}}"#
        let bytes = Array(text.utf8)
        let found = JSON.members(bytes)
        #expect(found?.map(\.key) == ["a", "b", "d", "e"])
        #expect(found?.map { String(decoding: bytes[$0.value], as: UTF8.self) } == ["1", #"[1, {"c": "}],\"{"}]"#, #""x\"y""#, #"{"f":null}"#])
        #expect(JSON.members(Array("{}".utf8))?.isEmpty == true)
        for bad in ["[1]", #"{"a":1"#, #"{"a\"b":1}"#, #"{"a":1}x"#, #"{"a":}"#, #"{"a" 1}"#, "", #""s""#] {
            #expect(JSON.members(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("on any object the writer writes, each member's text parses back to that member's value")
    func membersOfWrittenObjects() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {  // SplitMix64: the same objects every run
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
        let pieces = ["a", "\"", "\\", "}", "]", ",", ":", "{", "[", " ", "é", "\u{1}", "\n", "x"]
        func text() -> String { (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined() }
        func value(_ depth: Int) -> JSON {
            switch next(depth > 2 ? 5 : 7) {
            case 0: return .null
            case 1: return .bool(next(2) == 0)
            case 2: return .int(Int64(next(2_000_001)) - 1_000_000)
            case 3: return .double(Double(next(100_000)) + 0.25)  // never whole: a whole one reads back as .int
            case 4: return .string(text())
            case 5: return .array((0..<next(4)).map { _ in value(depth + 1) })
            default:
                var o = JSONObject()
                for k in 0..<next(4) { o["k\(k)" + text()] = value(depth + 1) }  // nested keys need no escape-free names
                return .object(o)
            }
        }
        for _ in 0..<500 {
            var o = JSONObject()
            for k in 0..<(1 + next(6)) { o["f\(k)"] = value(0) }
            let bytes = JSON.object(o).bytes
            let found = try #require(JSON.members(bytes))
            #expect(found.count == o.count)
            for (key, range) in found { #expect(try JSON.parse(Array(bytes[range])) == o[key], "\(key) in \(String(decoding: bytes, as: UTF8.self))") }
        }
    }

    @Test("a creation shows every audited field as stored, secrets redacted, nulls and bookkeeping left out")
    func creation() {
        let c = changes(nil, #"{"id":"we_1","url":"https://a.example/h","secrets":["whsec_1"],"meta":{"b":1,"a":"x"},"note":null,"updated_at":"2026-12-03T10:00:00.000Z"}"#)
        #expect(Set(c.keys) == ["id", "url", "secrets", "meta"])
        #expect(c["secrets"]?.after == #""[redacted]""#)
        #expect(c["meta"]?.after == #"{"b":1,"a":"x"}"#)
        #expect(c["url"]?.before == nil)
    }

    @Test("a change counts only fields whose JSON differs: members reordered or bookkeeping changed are no change")
    func changesOnly() {
        let old = #"{"id":"we_1","url":"https://a.example/h","secrets":["whsec_1"],"meta":{"b":1,"a":"x},\"y"},"updated_at":"2026-12-03T10:00:00.000Z"}"#
        #expect(changes(old, #"{"id":"we_1","url":"https://a.example/h","secrets":["whsec_1"],"meta":{"a":"x},\"y","b":1},"updated_at":"2026-12-03T11:00:00.000Z"}"#).isEmpty)
        let c = changes(old, #"{"id":"we_1","url":"https://b.example/h","secrets":["whsec_2"],"meta":{"a":"x},\"y","b":1.0}}"#)
        #expect(Set(c.keys) == ["url", "secrets"])
        #expect(c["url"]?.before == #""https://a.example/h""# && c["url"]?.after == #""https://b.example/h""#)
        #expect(c["secrets"]?.before == #""[redacted]""# && c["secrets"]?.after == #""[redacted]""#)
        // A field that goes away is a change to nothing; one that was null and goes away is none.
        let gone = changes(#"{"id":"we_1","note":"n","x":null}"#, #"{"id":"we_1"}"#)
        #expect(Set(gone.keys) == ["note"] && gone["note"]?.after == nil)
    }
}
