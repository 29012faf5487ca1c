import Testing
@testable import Orderbase

/// A shop's workflow: artwork between confirmed and processing, a marketplace
/// path, a guard, a required reason and field, and approvals over £5,000.
let artworkWorkflow = """
{"key":"artwork","name":"Made to order",
 "states":[{"key":"pending","initial":true},{"key":"confirmed"},{"key":"awaiting_artwork","label":"Awaiting artwork"},
           {"key":"processing"},{"key":"shipped","category":"done","final":true},{"key":"cancelled","category":"cancelled","final":true}],
 "transitions":[
   {"name":"confirm","from":"pending","to":"confirmed"},
   {"name":"request_artwork","from":"confirmed","to":"awaiting_artwork","required_fields":["customer.email"]},
   {"name":"artwork_received","from":"awaiting_artwork","to":"processing",
    "approval":{"tiers":[{"name":"manager","approvers":1,"roles":["manager"],"when":"order.total > 500000"},
                         {"name":"directors","approvers":2,"roles":["director"],"when":"order.total > 2000000"}],
                "expires_after_seconds":3600}},
   {"name":"ship","from":"processing","to":"shipped","guard":"order.financial_status == \\"paid\\" and order.shipping_address.country != \\"\\""},
   {"name":"cancel","from":"*","to":"cancelled","requires_reason":true}],
 "applies_to":{"channels":["online","phone"],"condition":"some(order.line_items, item.sku starts_with \\"ART\\")"}}
"""

extension Fixture {
    /// An order of the artwork workflow, moved to `awaiting_artwork`, of `total` minor units.
    func artworkOrder(total: Int, channel: String = "online") throws -> String {
        let o = try createOrder(#""channel":"\#(channel)","customer":{"email":"a@b.c"},"financial_status":"paid","shipping_address":{"country":"GB"}"#,
                                lines: #"[{"sku":"ART-1","title":"Portrait","quantity":1,"unit_price":\#(total)}]"#)
        #expect(o["workflow"]?["key"] == .string("artwork"))
        let id = o["id"]!.stringValue!
        try call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"confirmed"}"#)
        try call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"awaiting_artwork"}"#)
        return id
    }
}

@Suite("Workflows")
struct WorkflowTests {
    /// Each broken definition with the field and words of its problem.
    static let broken: [(String, String, String)] = [
        (#""states":[{"key":"a","initial":true},{"key":"a","category":"done","final":true}],"transitions":[]"#, "states[1].key", "defined twice"),
        (#""states":[{"key":"a"},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"}]"#, "states", "exactly one state must be initial; 0 are"),
        (#""states":[{"key":"a","initial":true},{"key":"b","initial":true,"category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"}]"#, "states[1]", "both initial and final"),
        (#""states":[{"key":"a","initial":true},{"key":"b"}],"transitions":[{"name":"t","from":"a","to":"b"}]"#, "states", "at least one state must be final"),
        (#""states":[{"key":"a","initial":true},{"key":"b","final":true}],"transitions":[{"name":"t","from":"a","to":"b"}]"#, "states[1].category", "must be in category done or cancelled"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"c"}]"#, "transitions[0].to", "unknown state c"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":["a","x"],"to":"b"}]"#, "transitions[0].from[1]", "unknown state x"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"},{"name":"u","from":"b","to":"a"}]"#, "transitions[1].from[0]", "final state b"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"},{"name":"u","from":"a","to":"a"}]"#, "transitions[1].from[0]", "to itself"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"},{"name":"u","from":"*","to":"b"}]"#, "transitions[1]", "a second transition from a to b"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"},{"name":"t","from":"a","to":"b"}]"#, "transitions[1].name", "defined twice"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b","guard":"order.totl > 5"}]"#, "transitions[0].guard", "unknown field order.totl (did you mean order.total?)"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b","guard":"order.total > \"lots\""}]"#, "transitions[0].guard", "order.total is a number"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b","required_fields":["shipping_adress"]}]"#, "transitions[0].required_fields[0]", "did you mean order.shipping_address?"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b","approval":{"tiers":[{"when":"order.currency > 5"}]}}]"#, "transitions[0].approval.tiers[0].when", "order.currency is a string"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true},{"key":"c"}],"transitions":[{"name":"t","from":"a","to":"b"}]"#, "states[2]", "cannot be reached from the initial state a"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true},{"key":"c"}],"transitions":[{"name":"t","from":"a","to":"b"},{"name":"u","from":"a","to":"c"}]"#, "states[2]", "state c has no way to a final state"),
        (#""states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"}],"applies_to":{"condition":"order.chanel == \"phone\""}"#, "applies_to.condition", "did you mean order.channel?"),
    ]

    @Test("validation rejects each broken definition with its field and a clear message, and saves nothing", arguments: 0..<broken.count)
    func validation(_ n: Int) throws {
        let fx = try Fixture()
        let (body, field, words) = Self.broken[n]
        let v = try fx.call({ $0.workflows.validateWorkflow }, #"{"key":"w","name":"W",\#(body)}"#)
        #expect(v["valid"] == .bool(false))
        let errors = v["errors"]!.array
        #expect(errors.contains { $0["field"] == .string(field) && $0["message"]?.stringValue?.contains(words) == true }, "\(errors)")
        let e = fx.error({ $0.workflows.createWorkflow }, #"{"key":"w","name":"W",\#(body)}"#)
        #expect(e?.code == .invalidArgument && e?.field == field && e?.message.contains(words) == true, "\(String(describing: e))")
        #expect(e?.details?["errors"]?.array.count == errors.count)
        #expect(fx.error({ $0.workflows.getWorkflow }, #"{"key":"w"}"#)?.code == .notFound)
    }

    @Test("a guard that does not parse is refused with its line and column; a malformed request is refused outright")
    func unparsable() throws {
        let fx = try Fixture()
        let body = #""key":"w","name":"W","states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b","guard":"order.total >"}]"#
        let e = fx.error({ $0.workflows.createWorkflow }, "{\(body)}")
        #expect(e?.code == .invalidArgument && e?.field == "transitions[0].guard" && e?.message.contains("line 1, column") == true, "\(String(describing: e))")
        #expect(try fx.call({ $0.workflows.validateWorkflow }, "{\(body)}")["valid"] == .bool(false))
        let fine = body.replacingOccurrences(of: #""order.total >""#, with: #""order.total > 1""#)
        #expect(try fx.call({ $0.workflows.validateWorkflow }, "{\(fine)}")["valid"] == .bool(true))
        #expect(fx.error({ $0.workflows.validateWorkflow }, "{\(fine),\"colour\":1}")?.field == "colour")
        #expect(fx.error({ $0.workflows.createWorkflow }, #"{"key":"Bad Key","name":"W","states":[]}"#)?.field == "key")
        #expect(fx.error({ $0.workflows.createWorkflow }, #"{"key":"validate","name":"W","states":[]}"#)?.message.contains("reserved") == true)
        #expect(fx.error({ $0.workflows.createWorkflow }, #"{"key":"w","name":"W","states":[{"key":"a","category":"closed"}]}"#)?.field == "states[0].category")
        #expect(fx.error({ $0.workflows.createWorkflow }, #"{"key":"w","name":"W","states":[{"key":"a"}],"transitions":[{"name":"t","from":5,"to":"a"}]}"#)?.field == "transitions[0].from")
        #expect(fx.error({ $0.workflows.validateWorkflow }, #"{"key":"w","name":"W","states":[{"key":"a"}],"transitions":[[null]]}"#)?.field == "transitions[0]", "types are refused, not reported")
    }

    @Test("the default workflow is data: get, list, and the core lifecycle's transitions; it cannot be archived or created again")
    func defaultAsData() throws {
        let fx = try Fixture()
        let d = try fx.call({ $0.workflows.getWorkflow }, #"{"key":"default"}"#)
        #expect(d["version"] == .int(1) && d["states"]!.array.map { $0["key"]!.stringValue! } == OrderStatus.all)
        #expect(try fx.call({ $0.workflows.listWorkflows }, "{}")["data"]!.array.map { $0["key"]! } == [.string("default")])
        #expect(fx.error({ $0.workflows.archiveWorkflow }, #"{"key":"default"}"#)?.code == .invalidState)
        #expect(fx.error({ $0.workflows.createWorkflow }, #"{"key":"default","name":"D","states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"t","from":"a","to":"b"}]}"#)?.code == .alreadyExists)
        // What get answers is a valid definition again (round trip through validate).
        guard case .object(var o) = d else { return }
        for k in ["version", "archived", "created_at", "created_by"] { o[k] = nil }
        var ts = o["transitions"]!.array
        for i in ts.indices { if case .object(var t) = ts[i] { t["guard_text"] = nil; ts[i] = .object(t) } }
        o["transitions"] = .array(ts)
        #expect(try fx.call({ $0.workflows.validateWorkflow }, String(decoding: JSON.object(o).bytes, as: UTF8.self))["valid"] == .bool(true))
    }

    @Test("new orders are assigned by workflow name, by applies_to (channels and condition, priority first), else the default")
    func assignment() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let art = #"[{"sku":"ART-9","title":"Portrait","quantity":1,"unit_price":100}]"#
        #expect(try fx.createOrder(lines: art)["workflow"] == .object(["key": .string("artwork"), "version": .int(1)]))
        #expect(try fx.createOrder(#""channel":"marketplace""#, lines: art)["workflow"]?["key"] == .string("default"), "channel not listed")
        #expect(try fx.createOrder()["workflow"]?["key"] == .string("default"), "condition false")
        try fx.call({ $0.workflows.createWorkflow }, #"{"key":"market","name":"Marketplace","priority":5,"applies_to":{"channels":["marketplace","online"]},"states":[{"key":"received","initial":true},{"key":"done","category":"done","final":true}],"transitions":[{"name":"finish","from":"received","to":"done"}]}"#)
        let m = try fx.createOrder(lines: art)
        #expect(m["workflow"]?["key"] == .string("market") && m["status"] == .string("received"), "higher priority wins")
        #expect(try fx.createOrder(#""workflow":"artwork""#)["workflow"]?["key"] == .string("artwork"), "named explicitly")
        try fx.call({ $0.workflows.archiveWorkflow }, #"{"key":"market"}"#)
        #expect(try fx.createOrder(lines: art)["workflow"]?["key"] == .string("artwork"), "archived: no longer assigned")
        #expect(fx.error({ $0.orders.createOrder }, #"{"workflow":"market","line_items":\#(art)}"#)?.code == .invalidState)
        #expect(fx.error({ $0.orders.createOrder }, #"{"workflow":"nope","line_items":\#(art)}"#)?.code == .notFound)
        #expect(try fx.call({ $0.workflows.listWorkflows }, "{}")["data"]!.array.count == 2)
        #expect(try fx.call({ $0.workflows.listWorkflows }, #"{"include_archived":true}"#)["data"]!.array.count == 3)
        #expect(fx.error({ $0.workflows.updateWorkflow }, artworkWorkflow.replacingOccurrences(of: #""key":"artwork""#, with: #""key":"market""#))?.code == .invalidState)
    }

    @Test("transitions are enforced: not in the workflow, reason, required fields and guards each refuse with their own error and write nothing")
    func enforcement() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let o = try fx.createOrder(lines: #"[{"sku":"ART-1","title":"Portrait","quantity":1,"unit_price":1000}]"#)
        let id = o["id"]!.stringValue!
        let before = fx.counters
        let bad = fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)
        #expect(bad?.code == .invalidTransition && bad?.details?["allowed"] == .array([.string("confirmed"), .string("cancelled")]))
        let noReason = fx.error({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)
        #expect(noReason?.code == .invalidArgument && noReason?.field == "reason")
        try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"confirmed"}"#)
        let missing = fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"awaiting_artwork"}"#)
        #expect(missing?.code == .invalidState && missing?.details?["missing"] == .array([.string("customer.email")]))
        try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","customer":{"email":"ann@example.com"}}"#)
        try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"awaiting_artwork"}"#)
        try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)  // 10.00: no approval tier applies
        let g = fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"shipped"}"#)
        #expect(g?.code == .guardFailed)
        #expect(g?.message == #"transition ship (processing → shipped) is guarded by `order.financial_status == "paid" and order.shipping_address.country != ""`, which is false for order #1001 (order.financial_status = "pending", order.shipping_address.country = null)"#, "\(g?.message ?? "")")
        #expect(g?.details?["transition"] == .string("ship") && g?.details?["values"]?["order.financial_status"] == .string("pending"))
        let list = try fx.call({ $0.orders.orderTransitions }, #"{"id":"\#(id)"}"#)
        #expect(list["workflow"]?["key"] == .string("artwork"))
        let shipped = list["transitions"]!.array.first { $0["to"] == .string("shipped") }
        #expect(shipped?["allowed"] == .bool(false) && shipped?["code"] == .string("guard_failed") && shipped?["transition"] == .string("ship"))
        #expect(fx.counters.eventSeq == before.eventSeq + 4, "refusals wrote nothing (four changes went through)")
        // A final state closes the order; cancel takes the workflow's cancelled state.
        let other = try fx.createOrder(lines: #"[{"sku":"ART-2","title":"Portrait","quantity":1,"unit_price":1000}]"#)["id"]!.stringValue!
        let c = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(other)","reason":"duplicate"}"#)
        #expect(c["status"] == .string("cancelled") && c["closed_at"] != .null && c["cancel_reason"] == .string("duplicate"))
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(other)","shipping_address":{"country":"FR"}}"#)?.code == .invalidState)
    }

    @Test("simulate answers transition, approval_required or refused, and writes nothing")
    func simulate() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let small = try fx.artworkOrder(total: 1000), big = try fx.artworkOrder(total: 600_000)
        let before = fx.counters
        let a = try fx.call({ $0.workflows.simulateWorkflow }, #"{"order_id":"\#(small)","to":"processing"}"#)
        #expect(a["outcome"] == .string("transition") && a["order"]?["status"] == .string("processing") && a["event"] == .string("order.status_changed"))
        let b = try fx.call({ $0.workflows.simulateWorkflow }, #"{"order_id":"\#(big)","to":"processing"}"#)
        #expect(b["outcome"] == .string("approval_required") && b["approval"]?["tiers"]?.array.map { $0["name"]! } == [.string("manager")])
        let c = try fx.call({ $0.workflows.simulateWorkflow }, #"{"order_id":"\#(big)","to":"shipped"}"#)
        #expect(c["outcome"] == .string("refused") && c["error"]?["code"] == .string("invalid_transition"))
        #expect(fx.counters == before)
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(small)"}"#)["status"] == .string("awaiting_artwork"))
    }

    @Test("updating makes a new version; orders keep theirs until migrated with a state mapping, audited; dry runs and bad mappings change nothing")
    func versionsAndMigration() throws {
        let fx = try Fixture()
        let v1 = #"{"key":"simple","name":"Simple","applies_to":{"channels":["phone"]},"states":[{"key":"new","initial":true},{"key":"packing"},{"key":"sent","category":"done","final":true}],"transitions":[{"name":"pack","from":"new","to":"packing"},{"name":"send","from":"packing","to":"sent"}]}"#
        try fx.call({ $0.workflows.createWorkflow }, v1)
        let a = try fx.createOrder(#""channel":"phone""#)["id"]!.stringValue!
        let b = try fx.createOrder(#""channel":"phone""#)["id"]!.stringValue!
        try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(b)","to":"packing"}"#)
        // Version 2 renames packing to picking and adds a check before sending.
        let v2 = #"{"key":"simple","name":"Simple","expected_version":1,"applies_to":{"channels":["phone"]},"states":[{"key":"new","initial":true},{"key":"picking"},{"key":"sent","category":"done","final":true}],"transitions":[{"name":"pick","from":"new","to":"picking"},{"name":"send","from":"picking","to":"sent","requires_reason":true}]}"#
        #expect(try fx.call({ $0.workflows.updateWorkflow }, v2)["version"] == .int(2))
        #expect(fx.error({ $0.workflows.updateWorkflow }, v2)?.code == .versionConflict)
        #expect(try fx.call({ $0.workflows.getWorkflow }, #"{"key":"simple","version":1}"#)["states"]!.array.count == 3)
        #expect(fx.error({ $0.workflows.getWorkflow }, #"{"key":"simple","version":9}"#)?.code == .notFound)
        let c = try fx.createOrder(#""channel":"phone""#)
        #expect(c["workflow"]?["version"] == .int(2))
        // Pinned: a still follows version 1.
        #expect(try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(a)","to":"packing"}"#)["workflow"]?["version"] == .int(1))
        let before = fx.counters
        let unmapped = fx.error({ $0.workflows.migrateWorkflow }, #"{"key":"simple"}"#)
        #expect(unmapped?.code == .invalidState && unmapped?.details?["unmapped"] == .array([.string("packing (version 1)")]))
        #expect(fx.error({ $0.workflows.migrateWorkflow }, #"{"key":"simple","mapping":{"packing":"nowhere"}}"#)?.field == "mapping.packing")
        let dry = try fx.call({ $0.workflows.migrateWorkflow }, #"{"key":"simple","mapping":{"packing":"picking"},"dry_run":true}"#)
        #expect(dry["migrated"] == .int(2) && fx.counters == before)
        let page = try fx.call({ $0.workflows.migrateWorkflow }, #"{"key":"simple","mapping":{"packing":"picking"},"limit":1,"actor":{"type":"user","id":"ops"}}"#)
        #expect(page["migrated"] == .int(1) && page["has_more"] == .bool(true) && page["order_ids"] == .array([.string(a)]))
        let rest = try fx.call({ $0.workflows.migrateWorkflow }, #"{"key":"simple","mapping":{"packing":"picking"},"starting_after":"\#(page["next_starting_after"]!.stringValue!)"}"#)
        #expect(rest["migrated"] == .int(1) && rest["has_more"] == .bool(false))
        let moved = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(a)"}"#)
        #expect(moved["status"] == .string("picking") && moved["workflow"]?["version"] == .int(2))
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(a)"}"#)["data"]!.array.last!
        #expect(audit["action"] == .string("order.workflow_migrated") && audit["actor"]?["id"] == .string("ops"))
        #expect(audit["reason"] == .string("workflows.migrate simple to version 2"))
        #expect(fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(a)","to":"sent"}"#)?.field == "reason", "now under version 2's rules")
        #expect(try fx.call({ $0.workflows.migrateWorkflow }, #"{"key":"simple","mapping":{"packing":"picking"}}"#)["migrated"] == .int(0))
    }

    @Test("workflow definitions survive reopening the tenant, with their heads")
    func persisted() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        try fx.call({ $0.workflows.archiveWorkflow }, #"{"key":"artwork"}"#)
        fx.tenant.close()
        let again = try fx.engine.openTenant("shop")
        let w = try JSON.parse(try again.core().workflows.getWorkflow(try JSON.parse(#"{"key":"artwork"}"#)))
        #expect(w["archived"] == .bool(true) && w["transitions"]!.array.count == 5)
        #expect(w["applies_to"]?["condition_text"] == .string(#"some(order.line_items, item.sku starts_with "ART")"#))
        again.close()
    }
}

@Suite("Approvals")
struct ApprovalTests {
    static let manager = #"{"type":"user","id":"maria","roles":["manager"]}"#
    static let clerk = #"{"type":"user","id":"carl","roles":["clerk"]}"#

    @Test("over £5,000 a transition waits for a manager: the requester and non-managers may not approve; the approval moves the order in the same write")
    func quorum() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let id = try fx.artworkOrder(total: 600_000)
        let waiting = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing","reason":"artwork in","actor":\#(Self.clerk)}"#)
        #expect(waiting["status"] == .string("awaiting_artwork"))
        let apr = waiting["pending_approval"]!["id"]!.stringValue!
        #expect(waiting["pending_approval"]?["required"] == .int(1) && waiting["pending_approval"]?["approvals"] == .int(0))
        #expect(try fx.events().last?["type"] == .string("approval.requested"))
        #expect(fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)?.code == .invalidState, "already waiting")
        #expect(fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":\#(Self.clerk)}"#)?.code == .notPermitted, "requester")
        let noRole = fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":{"type":"user","id":"ivy","roles":["clerk"]}}"#)
        #expect(noRole?.code == .notPermitted && noRole?.details?["roles"] == .array([.string("manager")]))
        let before = fx.counters
        let done = try fx.call({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","note":"ok","actor":\#(Self.manager)}"#)
        #expect(done["status"] == .string("approved") && done["decided_by"]?["id"] == .string("maria"))
        #expect(fx.counters.eventSeq == before.eventSeq + 2, "approval.approved and order.status_changed in one write")
        let order = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)
        #expect(order["status"] == .string("processing") && order["pending_approval"] == .null)
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(id)"}"#)["data"]!.array.suffix(3).map { ($0["action"]!.stringValue!, $0["actor"]!["id"]!.stringValue!) }
        #expect(audit.map(\.0) == ["approval.requested", "approval.approved", "order.status_changed"])
        #expect(audit.map(\.1) == ["carl", "maria", "maria"])
        #expect(fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":\#(Self.manager)}"#)?.code == .invalidState, "closed")
    }

    @Test("tiers apply by condition and are satisfied in order; one actor counts once")
    func tiers() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let id = try fx.artworkOrder(total: 2_500_000)
        let apr = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)["pending_approval"]!["id"]!.stringValue!
        let r = try fx.call({ $0.approvals.getApproval }, #"{"id":"\#(apr)"}"#)
        #expect(r["tiers"]!.array.map { $0["name"]! } == [.string("manager"), .string("directors")])
        #expect(fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":{"type":"user","id":"dan","roles":["director"]}}"#)?.code == .notPermitted, "manager tier first")
        try fx.call({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":{"type":"user","id":"maria","roles":["manager","director"]}}"#)
        #expect(fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":{"type":"user","id":"maria","roles":["manager","director"]}}"#)?.code == .notPermitted, "twice")
        try fx.call({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":{"type":"user","id":"dan","roles":["director"]}}"#)
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["pending_approval"]?["approvals"] == .int(2))
        let last = try fx.call({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":{"type":"user","id":"dee","roles":["director"]}}"#)
        #expect(last["status"] == .string("approved"))
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["status"] == .string("processing"))
    }

    @Test("one rejection rejects; cancelling withdraws; cancelling the order closes its approval")
    func rejectAndCancel() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let a = try fx.artworkOrder(total: 700_000), b = try fx.artworkOrder(total: 700_000), c = try fx.artworkOrder(total: 700_000)
        func ask(_ id: String) throws -> String { try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)["pending_approval"]!["id"]!.stringValue! }
        let ra = try ask(a), rb = try ask(b), rc = try ask(c)
        #expect(fx.error({ $0.approvals.rejectApproval }, #"{"id":"\#(ra)","actor":\#(Self.clerk)}"#)?.code == .notPermitted)
        let rej = try fx.call({ $0.approvals.rejectApproval }, #"{"id":"\#(ra)","note":"price is wrong","actor":\#(Self.manager)}"#)
        #expect(rej["status"] == .string("rejected") && rej["note"] == .string("price is wrong"))
        let oa = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(a)"}"#)
        #expect(oa["status"] == .string("awaiting_artwork") && oa["pending_approval"] == .null)
        #expect(try fx.events().last?["type"] == .string("approval.rejected"))
        #expect(try fx.call({ $0.approvals.cancelApproval }, #"{"id":"\#(rb)"}"#)["status"] == .string("cancelled"))
        let cancelled = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(c)","reason":"customer cancelled"}"#)
        #expect(cancelled["status"] == .string("cancelled") && cancelled["pending_approval"] == .null)
        #expect(try fx.call({ $0.approvals.getApproval }, #"{"id":"\#(rc)"}"#)["status"] == .string("cancelled"))
        #expect(try fx.call({ $0.approvals.listApprovals }, #"{"status":"cancelled"}"#)["data"]!.array.count == 2)
        #expect(try fx.call({ $0.approvals.listApprovals }, #"{"order_id":"\#(a)"}"#)["data"]!.array.map { $0["id"]! } == [.string(ra)])
        let page = try fx.call({ $0.approvals.listApprovals }, #"{"limit":2}"#)
        #expect(page["data"]!.array.map { $0["id"]! } == [.string(rc), .string(rb)] && page["has_more"] == .bool(true))
        #expect(try fx.call({ $0.approvals.listApprovals }, #"{"starting_after":"\#(rb)"}"#)["data"]!.array.map { $0["id"]! } == [.string(ra)])
        #expect(fx.error({ $0.approvals.getApproval }, #"{"id":"apr_nope"}"#)?.code == .notFound)
    }

    @Test("expiry rejects: past it the request reads expired and cannot be approved; the next request closes it")
    func expiry() throws {
        // No delivery thread: the scheduler's expiry timer does not run here
        // (KernelTests has it), so the reads before it are what is tested.
        let fx = try Fixture(options: { var o = EngineOptions(); o.background = false; return o }())
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let id = try fx.artworkOrder(total: 600_000)
        let apr = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)["pending_approval"]!["id"]!.stringValue!
        fx.clock.advance(milliseconds: 3_599_999)
        #expect(try fx.call({ $0.approvals.getApproval }, #"{"id":"\#(apr)"}"#)["status"] == .string("pending"))
        fx.clock.advance(milliseconds: 1)
        #expect(try fx.call({ $0.approvals.getApproval }, #"{"id":"\#(apr)"}"#)["status"] == .string("expired"))
        let before = fx.counters
        let e = fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":\#(Self.manager)}"#)
        #expect(e?.code == .invalidState && e?.message.contains("expired") == true && fx.counters == before)
        let again = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)
        #expect(again["pending_approval"]?["id"] != .string(apr))
        let types = try fx.events().suffix(2).map { $0["type"]!.stringValue! }
        #expect(types == ["approval.expired", "approval.requested"])
        let old = try fx.call({ $0.approvals.getApproval }, #"{"id":"\#(apr)"}"#)
        #expect(old["status"] == .string("expired") && old["decided_by"] == .null)
    }

    @Test("a hold standing at the last approval refuses it and records nothing")
    func holdAtApproval() throws {
        let fx = try Fixture()
        try fx.call({ $0.workflows.createWorkflow }, artworkWorkflow)
        let id = try fx.artworkOrder(total: 600_000)
        let apr = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"processing"}"#)["pending_approval"]!["id"]!.stringValue!
        try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"high_risk_of_fraud"}"#)
        let before = fx.counters
        #expect(fx.error({ $0.approvals.approveApproval }, #"{"id":"\#(apr)","actor":\#(Self.manager)}"#)?.code == .onHold)
        #expect(fx.counters == before)
    }
}

@Suite("Expression calendar and money")
struct CalendarMoneyTests {
    @Test("calendar parts are in the tenant's time zone, across daylight saving")
    func calendar() throws {
        let fx = try Fixture(settings: #"{"time_zone":"Europe/London"}"#)
        let id = try fx.createOrder(#""placed_at":"2026-07-03T23:30:00.000Z""#)["id"]!.stringValue!
        func eval(_ e: String) throws -> JSON { try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":"\#(e)","order_id":"\#(id)"}"#)["result"]! }
        // 23:30 UTC on Friday 3 July is 00:30 BST on Saturday 4 July.
        #expect(try eval("weekday(order.placed_at)") == .int(6))
        #expect(try eval("hour(order.placed_at)") == .int(0))
        #expect(try eval("local_date(order.placed_at)") == .string("2026-07-04"))
        #expect(try eval("month(order.placed_at) == 7 and day(order.placed_at) == 4 and year(order.placed_at) == 2026") == .bool(true))
        let data = #"{"t":"2026-01-15T23:30:00Z"}"#
        let winter = try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":{"ob.hour":[{"var":"t"}]},"data":\#(data)}"#)
        #expect(winter["result"] == .int(23), "GMT in January")
        let ny = try Fixture(settings: #"{"time_zone":"America/New_York"}"#)
        let r = try ny.call({ $0.expressions.evaluateExpression }, #"{"expression":"hour(\"2026-03-08T06:59:00Z\") * 100 + hour(\"2026-03-08T07:00:00Z\")","data":{}}"#)
        #expect(r["result"] == .int(103), "01:59 EST, then 03:00 EDT")
        // Far beyond the zone file's table, the POSIX rule still applies.
        let far = try ny.call({ $0.expressions.evaluateExpression }, #"{"expression":"hour(\"2099-07-01T12:00:00Z\")","data":{}}"#)
        #expect(far["result"] == .int(8))
    }

    @Test("time zone names are checked: unknown, hostile and malformed names are invalid_argument")
    func zones() throws {
        for bad in ["Mars/Olympus", "../../etc/passwd", "Europe/../UTC", "", "/etc/localtime", "Europe//London", String(repeating: "A", count: 65)] {
            #expect(throws: OrderbaseError.self) { try TimeZoneRules.named(bad) }
        }
        #expect(try TimeZoneRules.named("Asia/Kolkata").offsetSeconds(at: 1_795_000_000_000) == 19_800)
        #expect(try TimeZoneRules.named("UTC").offsetSeconds(at: 0) == 0)
        do {
            _ = try Fixture(settings: #"{"time_zone":"Nowhere/Land"}"#)
            Issue.record("a tenant with an unknown zone was created")
        } catch let e as OrderbaseError {
            #expect(e.code == .invalidArgument && e.field == "settings.time_zone")
        }
    }

    @Test("money comparisons are in minor units and refuse another currency at evaluation and a bad one at save time")
    func money() throws {
        let fx = try Fixture(settings: #"{"default_currency":"GBP"}"#)
        let gbp = try fx.createOrder(lines: #"[{"title":"x","quantity":1,"unit_price":600000}]"#)["id"]!.stringValue!
        let eur = try fx.createOrder(#""currency":"EUR""#, lines: #"[{"title":"x","quantity":1,"unit_price":600000}]"#)["id"]!.stringValue!
        let over = #"money_gt(order.total, 500000, \"GBP\")"#
        #expect(try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":"\#(over)","order_id":"\#(gbp)"}"#)["result"] == .bool(true))
        let e = fx.error({ $0.expressions.evaluateExpression }, #"{"expression":"\#(over)","order_id":"\#(eur)"}"#)
        #expect(e?.code == .invalidState && e?.message == "ob.money_gt compares amounts in GBP; this order is in EUR")
        let v = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"money_gt(order.total, 500000, \"POUNDS\")"}"#)
        #expect(v["valid"] == .bool(false) && v["error"]?["message"]?.stringValue?.contains("ISO 4217") == true)
        let half = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"money_ge(order.total, 5000.5, \"GBP\")"}"#)
        #expect(half["valid"] == .bool(false))
        let text = try fx.call({ $0.expressions.validateExpression }, #"{"expression":{"ob.money_le":[{"var":"order.total"},100,"GBP"]}}"#)
        #expect(text["text"] == .string(#"money_le(order.total, 100, "GBP")"#))
    }
}
