import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

@Suite("Returns: requests, policy, approval tiers, receiving, restocking, refunds")
struct ReturnsTests {
    /// Warehouses A and B; an order for 3 mugs (500 each, 20% VAT) and a tee (900) at A, paid, 2 mugs and the tee shipped.
    func shop() throws -> (fx: Fixture, a: String, b: String, order: String, mug: String, tee: String, shipment: String, sale: String) {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A","rank":1}"#), b = try fx.location(#"{"name":"B","rank":2}"#)
        try fx.stock("MUG", at: a, 10); try fx.stock("TEE", at: a, 10)
        let o = try fx.call({ $0.orders.createOrder }, #"""
            {"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":500,"tax_lines":[{"name":"VAT","rate":"0.2"}]},
                           {"sku":"TEE","title":"Tee","quantity":1,"unit_price":900}],
             "transactions":[{"kind":"sale","amount":2700,"gateway":"stripe"}]}
            """#)
        let id = o["id"]!.stringValue!
        let lines = o["line_items"]!.array.map { $0["id"]!.stringValue! }
        let fo = try fx.fulfillmentOrders(of: id)[0]["id"]!.stringValue!
        let s = try fx.call({ $0.inventory.createShipment },
                            #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(lines[0])","quantity":2},{"line_item_id":"\#(lines[1])","quantity":1}]}"#)
        let sale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)"}"#)["data"]!.array[0]["id"]!.stringValue!
        return (fx, a, b, id, lines[0], lines[1], s["id"]!.stringValue!, sale)
    }

    @Test("only fulfilled units not held by another return come back; receiving restocks through the ledger; a refund names the return")
    func lifecycle() throws {
        let (fx, a, b, order, mug, tee, _, sale) = try shop()
        // 3 mugs ordered, 2 shipped: 3 is refused, and nothing is written.
        let before = fx.counters
        let e = fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":3,"reason":"defective"}]}"#)
        #expect(e?.code == .invalidState && e?.details?["reason"] == .string("exceeds_returnable_quantity") && e?.details?["returnable_quantity"] == .int(2))
        #expect(fx.counters == before)
        // Staff, no policy: approved at once. Its value: 2 × 500 + 20% VAT.
        let r = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":2,"reason":"defective"},{"line_item_id":"\#(tee)","quantity":1,"reason":"size_too_small"}]}"#)
        let id = r["id"]!.stringValue!
        #expect(r["status"] == .string("approved") && r["value"] == .int(2100) && r["line_items"]!.array[0]["sku"] == .string("MUG"))
        #expect(r["approval"] == .array([]) && r["decided_by"]?["type"] != nil && r["version"] == .int(1))
        // The units are held: no second return of them.
        #expect(fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.details?["returnable_quantity"] == .int(0))
        // Receive: a mug back on the shelf at A, a damaged mug held for processing at B, the tee missing.
        let received = try fx.call({ $0.returns.receiveReturn }, #"""
            {"id":"\#(id)","line_items":[
              {"line_item_id":"\#(mug)","quantity":1,"disposition":"restock","location_id":"\#(a)"},
              {"line_item_id":"\#(mug)","quantity":1,"condition":"damaged","disposition":"processing_required","location_id":"\#(b)"},
              {"line_item_id":"\#(tee)","quantity":1,"condition":"missing"}]}
            """#)
        #expect(received["status"] == .string("received") && received["receipts"]!.array.count == 3 && received["version"] == .int(2))
        let ml = received["line_items"]!.array[0]
        #expect(ml["received_quantity"] == .int(1) && ml["damaged_quantity"] == .int(1) && ml["restocked_quantity"] == .int(1) && ml["processing_quantity"] == .int(1))
        #expect(received["line_items"]!.array[1]["missing_quantity"] == .int(1))
        // A: 10 − 2 shipped + 1 back = 9 on hand, 1 still committed. B: 1 on hand, held for quality control.
        let la = try fx.level("MUG", at: a), lb = try fx.level("MUG", at: b)
        #expect(la["on_hand"] == .int(9) && la["committed"] == .int(1) && la["available"] == .int(8))
        #expect(lb["on_hand"] == .int(1) && lb["quality_control"] == .int(1) && lb["available"] == .int(0))
        let moved = try fx.call({ $0.inventory.listMovements }, #"{"reference":"return:\#(id)"}"#)["data"]!.array
        #expect(moved.count == 3 && moved.allSatisfy { $0["reason"] == .string("return_restocked") })
        // Nothing more is expected: refused.
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(tee)","quantity":1,"condition":"missing"}]}"#)?.code == .invalidState)
        // Receiving refunded nothing. The refund naming the return takes its units that came back (2 mugs; not the missing tee).
        #expect(try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(order)","return_id":"\#(id)"}"#)["total"] == .int(1200))
        let refund = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(order)","return_id":"\#(id)","restocking_fee_percent":"10","transactions":[{"parent_id":"\#(sale)","amount":1100}]}"#)
        #expect(refund["refund"]?["return_id"] == .string(id) && refund["refund"]?["total"] == .int(1100))
        let after = try fx.call({ $0.returns.getReturn }, #"{"id":"\#(id)"}"#)
        #expect(after["line_items"]!.array[0]["refunded_quantity"] == .int(2) && after["refund_ids"] == .array([refund["refund"]!["id"]!]))
        // Nothing of the return left to refund; a line outside it is refused.
        #expect(fx.error({ $0.payments.calculateRefund }, #"{"order_id":"\#(order)","return_id":"\#(id)"}"#)?.details?["reason"] == .string("nothing_to_refund"))
        #expect(fx.error({ $0.payments.calculateRefund }, #"{"order_id":"\#(order)","return_id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.details?["reason"] == .string("exceeds_refundable_quantity"))
        // Closed: the missing tee is let go (it can be returned again); cancelling is refused now.
        let closed = try fx.call({ $0.returns.closeReturn }, #"{"id":"\#(id)","note":"done"}"#)
        #expect(closed["status"] == .string("closed") && closed["closed_at"] != .null)
        #expect(fx.error({ $0.returns.cancelReturn }, #"{"id":"\#(id)"}"#)?.details?["reason"] == .string("invalid_return_status"))
        let again = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(tee)","quantity":1}]}"#)
        #expect(again["status"] == .string("approved"))
        #expect(fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.code == .invalidState)
        let types = try fx.events(#"{"types":["return.*"]}"#).map { $0["type"]!.stringValue! }
        #expect(types == ["return.requested", "return.received", "return.refunded", "return.closed", "return.requested"])
        #expect(try fx.call({ $0.returns.listReturns }, #"{"order_id":"\#(order)","status":"closed"}"#)["data"]!.array.count == 1)
        #expect(try fx.integrityProblems() == [])
    }

    @Test("receiving's inputs: a disposition for units that came back, a location to restock, none for missing units; each refusal writes nothing")
    func receivingInputs() throws {
        let (fx, a, _, order, mug, _, _, _) = try shop()
        let id = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)["id"]!.stringValue!
        let before = fx.counters
        for (body, field) in [
            (#"{"line_item_id":"\#(mug)","quantity":1}"#, "line_items[0].disposition"),
            (#"{"line_item_id":"\#(mug)","quantity":1,"disposition":"restock"}"#, "line_items[0].location_id"),
            (#"{"line_item_id":"\#(mug)","quantity":1,"disposition":"not_restocked","location_id":"\#(a)"}"#, "line_items[0].location_id"),
            (#"{"line_item_id":"\#(mug)","quantity":1,"condition":"missing","disposition":"restock","location_id":"\#(a)"}"#, "line_items[0].disposition"),
            (#"{"line_item_id":"\#(mug)","quantity":1,"condition":"broken","disposition":"restock","location_id":"\#(a)"}"#, "line_items[0].condition"),
        ] {
            let e = fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[\#(body)]}"#)
            #expect(e?.code == .invalidArgument && e?.field == field, "\(body)")
        }
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":2,"disposition":"not_restocked"}]}"#)?.details?["reason"] == .string("exceeds_expected_quantity"))
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"li_nope","quantity":1,"disposition":"not_restocked"}]}"#)?.code == .notFound)
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"disposition":"restock","location_id":"loc_nope"}]}"#)?.code == .notFound)
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(id)","expected_version":7,"line_items":[{"line_item_id":"\#(mug)","quantity":1,"disposition":"not_restocked"}]}"#)?.code == .versionConflict)
        #expect(fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}],"colour":"red"}"#)?.code == .invalidArgument)
        #expect(fx.counters == before)
        // A line without a SKU cannot be restocked.
        let plain = try fx.call({ $0.orders.createOrder }, #"{"fulfillment_status":"fulfilled","line_items":[{"title":"Gift wrap","quantity":1,"unit_price":200}]}"#)
        let line = plain["line_items"]!.array[0]["id"]!.stringValue!
        let r = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(plain["id"]!.stringValue!)","line_items":[{"line_item_id":"\#(line)","quantity":1}]}"#)["id"]!.stringValue!
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(r)","line_items":[{"line_item_id":"\#(line)","quantity":1,"disposition":"restock","location_id":"\#(a)"}]}"#)?.details?["reason"] == .string("not_restockable"))
        // In parts: in_progress, then received.
        let first = try fx.call({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"disposition":"not_restocked"}],"idempotency_key":"rcv-1"}"#)
        #expect(first["status"] == .string("received"))
        // The same key and request answers the first receiving, writing nothing.
        let c = fx.counters
        #expect(try fx.call({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"disposition":"not_restocked"}],"idempotency_key":"rcv-1"}"#) == first)
        #expect(fx.counters == c)
        #expect(try fx.integrityProblems() == [])
    }

    @Test("the return policy: a window after delivery, a condition, staff override; approval tiers for high values; decline and cancel")
    func policy() throws {
        let (fx, _, _, order, mug, tee, shipment, _) = try shop()
        _ = try fx.call({ $0.inventory.updateShipmentStatus }, #"{"id":"\#(shipment)","status":"delivered"}"#)
        let p = try fx.call({ $0.returns.updatePolicy }, #"""
            {"window_days":30,"condition":"not (\"final-sale\" in order.tags)",
             "approval_tiers":[{"name":"manager","roles":["manager"],"when":"return.value >= 1000"}]}
            """#)
        #expect(p["window_days"] == .int(30) && p["condition_text"] != .null && p["approval_tiers"]!.array[0]["when_text"] == .string("return.value >= 1000"))
        // Expressions are checked against what they see.
        #expect(fx.error({ $0.returns.updatePolicy }, #"{"condition":"return.valeu > 1"}"#)?.field == "condition")
        #expect(fx.error({ $0.returns.updatePolicy }, #"{"approval_tiers":[{"when":"return.value >"}]}"#)?.field == "approval_tiers[0].when")
        // Under 1000: no tier applies, approved at once. 1000 or more: waits for a manager.
        let small = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(tee)","quantity":1}]}"#)
        #expect(small["status"] == .string("approved") && small["value"] == .int(900) && small["window_ends_at"] != .null)
        let big = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":2}],"actor":{"type":"user","id":"sam"}}"#)
        let bid = big["id"]!.stringValue!
        #expect(big["status"] == .string("requested") && big["approval"]!.array.count == 1)
        #expect(fx.error({ $0.returns.receiveReturn }, #"{"id":"\#(bid)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"condition":"missing"}]}"#)?.details?["reason"] == .string("invalid_return_status"))
        #expect(fx.error({ $0.returns.approveReturn }, #"{"id":"\#(bid)","actor":{"type":"user","id":"kim","roles":["clerk"]}}"#)?.code == .notPermitted)
        #expect(fx.error({ $0.returns.approveReturn }, #"{"id":"\#(bid)","actor":{"type":"user","id":"sam","roles":["manager"]}}"#)?.code == .notPermitted)
        let ok = try fx.call({ $0.returns.approveReturn }, #"{"id":"\#(bid)","note":"fine","actor":{"type":"user","id":"ann","roles":["manager"]}}"#)
        #expect(ok["status"] == .string("approved") && ok["decided_by"]?["id"] == .string("ann") && ok["approval"]!.array[0]["satisfied"] == .bool(true))
        // Cancelled: the mugs can be asked for again (a customer's request always waits), then declined.
        #expect(try fx.call({ $0.returns.cancelReturn }, #"{"id":"\#(bid)"}"#)["status"] == .string("cancelled"))
        let asked = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","requested_via":"customer","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        #expect(asked["status"] == .string("requested") && asked["approval"] == .array([]))
        let declined = try fx.call({ $0.returns.declineReturn }, #"{"id":"\#(asked["id"]!.stringValue!)","reason":"final_sale"}"#)
        #expect(declined["status"] == .string("declined") && declined["decline_reason"] == .string("final_sale"))
        #expect(fx.error({ $0.returns.approveReturn }, #"{"id":"\#(asked["id"]!.stringValue!)"}"#)?.details?["reason"] == .string("invalid_return_status"))
        // The condition: a final-sale order is outside the policy; staff may override, a customer may not.
        _ = try fx.call({ $0.orders.addTags }, #"{"id":"\#(order)","tags":["final-sale"]}"#)
        let outside = fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        #expect(outside?.code == .invalidState && outside?.details?["reason"] == .string("outside_return_policy"))
        #expect(fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","requested_via":"customer","override_policy":true,"line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.field == "override_policy")
        _ = try fx.call({ $0.orders.removeTags }, #"{"id":"\#(order)","tags":["final-sale"]}"#)
        // 31 days after delivery: outside the window.
        fx.clock.advance(milliseconds: 31 * 86_400_000)
        let late = fx.error({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        #expect(late?.details?["reason"] == .string("outside_return_policy") && late?.details?["window_ends_at"] != .null)
        let overridden = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","override_policy":true,"line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        #expect(overridden["policy_overridden"] == .bool(true) && overridden["status"] == .string("approved"))
        #expect(try fx.integrityProblems() == [])
    }

    @Test("an exchange refunds the returned units as a credit, adds the new lines with their stock, and holds their fulfillment while a difference is owed")
    func exchange() throws {
        let (fx, a, _, order, mug, _, _, _) = try shop()
        let r1 = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"reason":"size_too_small"}]}"#)["id"]!.stringValue!
        // A mug (500 + 100 VAT) for a larger tee (900): 300 owed.
        let x = try fx.call({ $0.returns.exchangeReturn }, #"{"id":"\#(r1)","line_items":[{"sku":"TEE","title":"Tee L","quantity":1,"unit_price":900}],"note":"size swap"}"#)
        let ret = x["return"]!, o = x["order"]!
        #expect(ret["exchange_value"] == .int(900) && ret["exchange_difference"] == .int(300) && ret["exchange_line_item_ids"]!.array.count == 1)
        #expect(ret["line_items"]!.array[0]["refunded_quantity"] == .int(1) && x["refund"]?["return_id"] == .string(r1) && x["refund"]?["total"] == .int(600))
        #expect(x["transactions"]!.array.map { [$0["kind"]!, $0["gateway"]!, $0["amount"]!] } == [[.string("refund"), .string("exchange"), .int(600)], [.string("sale"), .string("exchange"), .int(600)]])
        #expect(o["total"] == .int(3600) && o["payments"]?["captured"] == .int(3300) && o["payments"]?["refunded"] == .int(600) && o["payments"]?["outstanding"] == .int(300))
        let newLine = ret["exchange_line_item_ids"]!.array[0]
        let held = try fx.fulfillmentOrders(of: order).filter { fo in fo["lines"]!.array.contains { $0["line_item_id"] == newLine } }
        #expect(held.count == 1 && held[0]["status"] == .string("on_hold") && held[0]["hold_reason"] == .string("awaiting_payment"))
        #expect(try fx.level("TEE", at: a)["committed"] == .int(1))
        #expect(fx.error({ $0.returns.exchangeReturn }, #"{"id":"\#(r1)","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#)?.details?["reason"] == .string("already_exchanged"))
        // The other shipped mug for a coaster (100): 500 owed back; nothing held.
        let r2 = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)["id"]!.stringValue!
        let y = try fx.call({ $0.returns.exchangeReturn }, #"{"id":"\#(r2)","line_items":[{"title":"Coaster","quantity":1,"unit_price":100}]}"#)
        #expect(y["return"]?["exchange_difference"] == .int(-500) && y["order"]?["payments"]?["outstanding"] == .int(0))
        #expect(try fx.fulfillmentOrders(of: order).allSatisfy { $0["hold_reason"] != .string("awaiting_payment") || $0["lines"]!.array.contains { $0["line_item_id"] == newLine } })
        let kinds = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(order)"}"#)["data"]!.array.map { $0["kind"]!.stringValue! }
        #expect(kinds == ["sale", "return", "edit", "return", "edit"])
        #expect(try fx.integrityProblems() == [])
    }

    @Test("integrity.check finds a return holding more than was fulfilled, counts that do not add up, and refunds it does not list")
    func integrity() throws {
        let (fx, a, _, order, mug, _, _, sale) = try shop()
        let id = try fx.call({ $0.returns.createReturn }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(mug)","quantity":2}]}"#)["id"]!.stringValue!
        _ = try fx.call({ $0.returns.receiveReturn }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"disposition":"restock","location_id":"\#(a)"}]}"#)
        _ = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(order)","return_id":"\#(id)","transactions":[{"parent_id":"\#(sale)","amount":600}]}"#)
        #expect(try fx.integrityProblems() == [])
        var r = try OrderReturn.decode(try fx.core.database.get(Keyspace.returnKey(id))!)
        r.lineItems[0].quantity = 3
        r.lineItems[0].restocked = 0
        r.refundIDs = []
        let b = WriteBatch()
        b.put(Keyspace.returnKey(id), r.storedJSON)
        try fx.core.database.write(b, sync: true)
        let problems = try fx.integrityProblems()
        #expect(problems.contains { $0.contains("returns hold 3 units of 2 fulfilled") })
        #expect(problems.contains { $0.contains("is not what went somewhere") })
        #expect(problems.contains { $0.contains("which does not list it") })
    }

    @Test("8 threads returning units of one line at once never return more than were fulfilled")
    func concurrentReturns() throws {
        let fx = try Fixture()
        let o = try fx.call({ $0.orders.createOrder }, #"{"fulfillment_status":"fulfilled","line_items":[{"sku":"CUP","title":"Cup","quantity":20,"unit_price":300}]}"#)
        let (id, line) = (o["id"]!.stringValue!, o["line_items"]!.array[0]["id"]!.stringValue!)
        let core = fx.core
        let ok = Counter(), refused = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<5 {
                do {
                    _ = try core.returns.createReturn(try JSON.parse(#"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(line)","quantity":1}]}"#))
                    ok.add()
                } catch let e as OrderbaseError {
                    if e.details?["reason"] == .string("exceeds_returnable_quantity") { refused.add() }
                } catch {}
            }
        }
        #expect(ok.value == 20 && refused.value == 20)
        #expect(try fx.integrityProblems() == [])
    }
}
