import Testing
@testable import Orderbase

@Suite("Holds")
struct HoldTests {
    @Test("a standing hold refuses every status change, listing the holds; releasing them all lets it through")
    func holdsBlock() throws {
        let fx = try Fixture()
        let o = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        let id = o["id"]!.stringValue!
        _ = try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"high_risk_of_fraud","note":"card country differs","actor":{"type":"user","id":"risk-bot"}}"#)
        let h2 = try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"incorrect_address"}"#)
        guard case .array(let holds)? = h2["holds"] else { Issue.record("no holds"); return }
        #expect(holds.count == 2 && h2["version"] == .int(3))
        #expect(holds[0]["reason"] == .string("high_risk_of_fraud") && holds[0]["placed_by"]?["id"] == .string("risk-bot"))
        #expect(holds[0]["note"] == .string("card country differs"))
        for to in ["confirmed", "cancelled"] {
            let e = fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"\#(to)"}"#)
            #expect(e?.code == .onHold && e?.message.contains("high_risk_of_fraud, incorrect_address") == true)
            if case .array(let listed)? = e?.details?["holds"] { #expect(listed.count == 2) } else { Issue.record("no holds in details") }
        }
        #expect(fx.error({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)?.code == .onHold)
        let options = try fx.call({ $0.orders.orderTransitions }, #"{"id":"\#(id)"}"#)
        guard case .array(let ts)? = options["transitions"] else { Issue.record("no transitions"); return }
        #expect(ts.allSatisfy { $0["allowed"] == .bool(false) })
        let toConfirmed = ts.first { $0["to"] == .string("confirmed") }, toCompleted = ts.first { $0["to"] == .string("completed") }
        #expect(toConfirmed?["code"] == .string("on_hold") && toConfirmed?["reason"]?.stringValue?.contains("on hold (high_risk_of_fraud, incorrect_address)") == true)
        #expect(toCompleted?["code"] == .string("invalid_transition")
                && toCompleted?["reason"] == .string("order #1001: no transition from pending to completed; allowed: confirmed, on_hold, cancelled"))
        // Edits that are not status changes still work.
        #expect(try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","note":"checking"}"#)["note"] == .string("checking"))
        let first = holds[0]["id"]!.stringValue!, second = holds[1]["id"]!.stringValue!
        _ = try fx.call({ $0.orders.releaseHold }, #"{"id":"\#(id)","hold_id":"\#(first)"}"#)
        #expect(fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"confirmed"}"#)?.code == .onHold)
        let free = try fx.call({ $0.orders.releaseHold }, #"{"id":"\#(id)","hold_id":"\#(second)","note":"address fixed"}"#)
        #expect(free["holds"] == .array([]))
        let open = try fx.call({ $0.orders.orderTransitions }, #"{"id":"\#(id)"}"#)
        if case .array(let ts)? = open["transitions"] {
            #expect(ts.filter { $0["allowed"] == .bool(true) }.map { $0["to"]!.stringValue! } == ["confirmed", "on_hold", "cancelled"])
        }
        #expect(try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"confirmed"}"#)["status"] == .string("confirmed"))
        _ = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"cancelled"}"#)
        let closed = try fx.call({ $0.orders.orderTransitions }, #"{"id":"\#(id)"}"#)
        if case .array(let ts)? = closed["transitions"] {
            #expect(ts.allSatisfy { $0["allowed"] == .bool(false) && $0["reason"] == .string("order #1001: cancelled is a final state") })
        }
        #expect(fx.error({ $0.orders.orderTransitions }, #"{"id":"ord_nope"}"#)?.code == .notFound)
    }

    @Test("holds are events and audit entries with the actor; bad requests change nothing")
    func recorded() throws {
        let fx = try Fixture()
        let o = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        let id = o["id"]!.stringValue!
        let held = try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"out_of_stock","actor":{"type":"user","id":"ann"}}"#)
        let hid = (held["holds"].flatMap { if case .array(let a) = $0 { a.first } else { nil } })?["id"]?.stringValue ?? ""
        _ = try fx.call({ $0.orders.releaseHold }, #"{"id":"\#(id)","hold_id":"\#(hid)"}"#)
        let events = try fx.call({ $0.audit.listEvents }, #"{"types":["order.held","order.hold_released"]}"#)
        guard case .array(let list)? = events["data"] else { Issue.record("no events"); return }
        #expect(list.map { $0["type"]!.stringValue! } == ["order.held", "order.hold_released"])
        #expect(list[0]["actor"]?["id"] == .string("ann") && list[0]["reason"] == .string("out_of_stock"))
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(id)"}"#)
        guard case .array(let entries)? = audit["data"] else { Issue.record("no audit"); return }
        #expect(entries.count == 3 && entries[1]["action"] == .string("order.held"))
        #expect(entries[1]["changes"]?.text.contains("\"field\":\"holds\"") == true)
        let version = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["version"]
        #expect(fx.error({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"lunch"}"#)?.field == "reason")
        #expect(fx.error({ $0.orders.holdOrder }, #"{"id":"\#(id)"}"#)?.field == "reason")
        #expect(fx.error({ $0.orders.releaseHold }, #"{"id":"\#(id)","hold_id":"hold_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"other","expected_version":1}"#)?.code == .versionConflict)
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["version"] == version)
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)
        #expect(fx.error({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"other"}"#)?.code == .invalidState)
    }

    @Test("an order takes at most 20 holds: the 21st is limit_exceeded naming the quota, and writes nothing")
    func holdQuota() throws {
        let fx = try Fixture()
        let id = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)["id"]!.stringValue!
        for _ in 0..<20 { _ = try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"other"}"#) }
        let version = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["version"]
        let e = fx.error({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"other"}"#)
        #expect(e?.code == .limitExceeded && e?.details?["quota"] == .string("holds") && e?.details?["limit"] == .int(20))
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["version"] == version)
    }
}
