import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

@Suite("Order edits: change sets, preview, stock and fulfillment in the commit")
struct OrderEditsTests {
    /// Warehouse A with mugs, tees and caps; an order for 3 mugs (800, 20% VAT) and a tee (1500), paid in full; one mug shipped.
    func shop() throws -> (fx: Fixture, a: String, order: String, mug: String, tee: String, fo: String) {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 10); try fx.stock("TEE", at: a, 10); try fx.stock("CAP", at: a, 2)
        let o = try fx.call({ $0.orders.createOrder }, #"""
            {"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":800,"tax_lines":[{"name":"VAT","rate":"0.2"}]},
                           {"sku":"TEE","title":"Tee","quantity":1,"unit_price":1500}],
             "transactions":[{"kind":"sale","amount":4380}]}
            """#)
        let id = o["id"]!.stringValue!
        let lines = o["line_items"]!.array.map { $0["id"]!.stringValue! }
        let fo = try fx.fulfillmentOrders(of: id)[0]["id"]!.stringValue!
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(lines[0])","quantity":1}]}"#)
        return (fx, a, id, lines[0], lines[1], fo)
    }

    func begin(_ fx: Fixture, _ order: String) throws -> String {
        try fx.call({ $0.orderEdits.begin }, #"{"order_id":"\#(order)","note":"customer called"}"#)["id"]!.stringValue!
    }

    @Test("an edit after payment previews a balance, then commits the order, its committed stock and fulfillment orders exactly, in one write")
    func paidEdit() throws {
        let (fx, a, order, mug, tee, fo) = try shop()
        let id = try begin(fx, order)
        // Only unfulfilled units change: one mug shipped, so not below 1.
        let low = fx.error({ $0.orderEdits.stage }, #"{"id":"\#(id)","actions":[{"type":"set_quantity","line_item_id":"\#(mug)","quantity":0}]}"#)
        #expect(low?.code == .invalidState && low?.details?["reason"] == .string("below_fulfilled") && low?.details?["fulfilled_quantity"] == .int(1)
                && low?.field == "actions[0].quantity")
        let staged = try fx.call({ $0.orderEdits.stage }, #"""
            {"id":"\#(id)","actions":[
              {"type":"set_quantity","line_item_id":"\#(mug)","quantity":2},
              {"type":"set_quantity","line_item_id":"\#(tee)","quantity":3},
              {"type":"add_line","line_item":{"sku":"CAP","title":"Cap","quantity":2,"unit_price":1000}},
              {"type":"add_shipping_line","shipping_line":{"title":"Courier","price":500}},
              {"type":"set_shipping_address","address":{"name":"Ann","city":"Leeds","country":"GB"}}]}
            """#)
        #expect(staged["actions"]!.array.count == 5 && staged["status"] == .string("open"))
        // The order is as it was until the commit; the preview writes nothing.
        let counters = fx.counters
        let p = try fx.call({ $0.orderEdits.preview }, #"{"id":"\#(id)"}"#)
        #expect(fx.counters == counters)
        // 2 mugs 1920 + 3 tees 4500 + 2 caps 2000 + shipping 500 = 8920; paid 4380: 4540 due.
        #expect(p["total_before"] == .int(4380) && p["total_after"] == .int(8920) && p["balance"] == .int(4540) && p["balance_due"] == .int(4540) && p["refund_owed"] == .int(0))
        #expect(p["stock"]!.array.map { [$0["sku"]!, $0["delta"]!] } == [[.string("MUG"), .int(-1)], [.string("TEE"), .int(2)], [.string("CAP"), .int(2)]])
        #expect(try fx.order(order)["total"] == .int(4380))
        let c = try fx.call({ $0.orderEdits.commit }, #"{"id":"\#(id)","notify_customer":true}"#)
        let o = c["order"]!
        #expect(c["edit"]?["status"] == .string("committed") && c["edit"]?["total_before"] == .int(4380) && c["edit"]?["total_after"] == .int(8920))
        #expect(o["total"] == .int(8920) && o["financial_status"] == .string("partially_paid") && o["payments"]?["outstanding"] == .int(4540))
        #expect(o["fulfillment_status"] == .string("partially_fulfilled") && o["shipping_address"]?["city"] == .string("Leeds"))
        #expect(o["line_items"]!.array.map { $0["quantity"]! } == [.int(2), .int(3), .int(2)])
        // Stock: mugs 10 − 1 shipped, 1 committed (was 2); tees 3 committed; caps 2.
        let m = try fx.level("MUG", at: a), t = try fx.level("TEE", at: a), cap = try fx.level("CAP", at: a)
        #expect(m["on_hand"] == .int(9) && m["committed"] == .int(1) && t["committed"] == .int(3) && cap["committed"] == .int(2) && cap["available"] == .int(0))
        let fos = try fx.fulfillmentOrders(of: order)
        #expect(fos.count == 2)
        let first = fos.first { $0["id"] == .string(fo) }!, added = fos.first { $0["id"] != .string(fo) }!
        #expect(first["lines"]!.array.map { [$0["quantity"]!, $0["shipped"]!] } == [[.int(2), .int(1)], [.int(1), .int(0)]])
        #expect(added["lines"]!.array.map { [$0["sku"]!, $0["quantity"]!] } == [[.string("TEE"), .int(2)], [.string("CAP"), .int(2)]])
        // One audit entry for the order with every change; the edit event carries notify_customer; the sales ledger has the edit.
        let trail = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","subject_id":"\#(order)"}"#)["data"]!.array
        let edited = trail.filter { $0["action"] == .string("order.edited") }
        #expect(edited.count == 1 && edited[0]["reason"] == .string("order edit \(id): customer called"))
        let ev = try fx.events(#"{"types":["order_edit.committed"]}"#)
        #expect(ev.count == 1 && ev[0]["data"]?["notify_customer"] == .bool(true) && ev[0]["data"]?["balance"] == .int(4540) && ev[0]["order"]?["id"] == .string(order))
        #expect(try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(order)"}"#)["data"]!.array.map { $0["kind"]! } == [.string("sale"), .string("edit")])
        // Committed: nothing more can be staged, committed or discarded.
        #expect(fx.error({ $0.orderEdits.discard }, #"{"id":"\#(id)"}"#)?.details?["reason"] == .string("invalid_edit_status"))
        #expect(try fx.integrityProblems() == [])
    }

    @Test("a commit needs the order as the edit found it; removing the units a fulfillment order holds ends it and releases the stock")
    func versionsAndRemovals() throws {
        let (fx, a, order, mug, tee, _) = try shop()
        let stale = try begin(fx, order)
        _ = try fx.call({ $0.orderEdits.stage }, #"{"id":"\#(stale)","actions":[{"type":"set_price","line_item_id":"\#(tee)","unit_price":1400}]}"#)
        let id = try begin(fx, order)
        _ = try fx.call({ $0.orderEdits.stage }, #"{"id":"\#(id)","actions":[{"type":"set_quantity","line_item_id":"\#(tee)","quantity":0},{"type":"set_quantity","line_item_id":"\#(mug)","quantity":1}]}"#)
        let c = try fx.call({ $0.orderEdits.commit }, #"{"id":"\#(id)"}"#)
        // 1 mug (shipped) is all that is left: fulfilled; 960 of 4380 paid: 3420 owed back.
        #expect(c["order"]?["fulfillment_status"] == .string("fulfilled") && c["order"]?["line_items"]?.array.count == 1 && c["order"]?["total"] == .int(960))
        #expect(c["order"]?["financial_status"] == .string("paid"))
        let m = try fx.level("MUG", at: a), t = try fx.level("TEE", at: a)
        #expect(m["committed"] == .int(0) && t["committed"] == .int(0) && t["available"] == .int(10))
        let fo = try fx.fulfillmentOrders(of: order)[0]
        #expect(fo["status"] == .string("incomplete") || fo["status"] == .string("closed"))
        let before = fx.counters
        let e = fx.error({ $0.orderEdits.commit }, #"{"id":"\#(stale)"}"#)
        #expect(e?.code == .versionConflict)
        #expect(fx.counters == before)
        #expect(try fx.call({ $0.orderEdits.discard }, #"{"id":"\#(stale)","note":"superseded"}"#)["status"] == .string("discarded"))
        #expect(try fx.call({ $0.orderEdits.list }, #"{"order_id":"\#(order)","status":"committed"}"#)["data"]!.array.count == 1)
        #expect(try fx.integrityProblems() == [])
    }

    @Test("refusals write nothing: short stock for added units, refunded lines, order discounts with refunds, closed orders, bad actions")
    func refusals() throws {
        let (fx, _, order, mug, tee, _) = try shop()
        let id = try begin(fx, order)
        _ = try fx.call({ $0.orderEdits.stage }, #"{"id":"\#(id)","actions":[{"type":"add_line","line_item":{"sku":"CAP","title":"Cap","quantity":3,"unit_price":1000}}]}"#)
        let before = fx.counters
        let short = fx.error({ $0.orderEdits.commit }, #"{"id":"\#(id)"}"#)
        #expect(short?.details?["reason"] == .string("insufficient_stock") && short?.field == "actions")
        #expect(fx.counters == before)
        // Bad actions: named by their index among the request's; nothing staged.
        for (body, field) in [
            (#"{"type":"set_quantity","line_item_id":"li_nope","quantity":1}"#, "actions[1].line_item_id"),
            (#"{"type":"remove_shipping_line","index":4}"#, "actions[1].index"),
            (#"{"type":"add_line","line_item":{"id":"li_x","title":"x","quantity":1,"unit_price":1}}"#, "actions[1].line_item.id"),
            (#"{"type":"set_price","line_item_id":"\#(tee)"}"#, "actions[1].unit_price"),
            (#"{"type":"set_quantity","line_item_id":"\#(tee)","quantity":1,"colour":"red"}"#, "actions[1].colour"),
            (#"{"type":"set_quantity","line_item_id":"\#(tee)","quantity":1,"index":2}"#, "actions[1].index"),
        ] {
            let e = fx.error({ $0.orderEdits.stage }, #"{"id":"\#(id)","actions":[{"type":"set_shipping_address","address":null},\#(body)]}"#)
            #expect(e?.field == field, "\(body): \(String(describing: e))")
        }
        #expect(fx.counters == before)
        // A line with refunds keeps its quantity, price and discount.
        let sale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(order)"}"#)["data"]!.array[0]["id"]!.stringValue!
        _ = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(tee)","quantity":1}],"transactions":[{"parent_id":"\#(sale)","amount":1500}]}"#)
        let fresh = try begin(fx, order)
        #expect(fx.error({ $0.orderEdits.stage }, #"{"id":"\#(fresh)","actions":[{"type":"set_line_discount","line_item_id":"\#(tee)","amount":100}]}"#)?.details?["reason"] == .string("refunded"))
        _ = try fx.call({ $0.orderEdits.stage }, #"{"id":"\#(fresh)","actions":[{"type":"set_quantity","line_item_id":"\#(mug)","quantity":2}]}"#)
        #expect(try fx.call({ $0.orderEdits.commit }, #"{"id":"\#(fresh)"}"#)["order"]?["line_items"]?.array[0]["quantity"] == .int(2))
        // An order with refunds and an order discount keeps its lines' amounts.
        let disc = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"title":"A","quantity":2,"unit_price":1000},{"title":"B","quantity":1,"unit_price":500}],"discounts":[{"amount":300}],"transactions":[{"kind":"sale","amount":2200}]}"#)
        let dl = disc["line_items"]!.array.map { $0["id"]!.stringValue! }
        let dsale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(disc["id"]!.stringValue!)"}"#)["data"]!.array[0]["id"]!.stringValue!
        let q = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(disc["id"]!.stringValue!)","line_items":[{"line_item_id":"\#(dl[1])","quantity":1}]}"#)["total"]!.intValue!
        _ = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(disc["id"]!.stringValue!)","line_items":[{"line_item_id":"\#(dl[1])","quantity":1}],"transactions":[{"parent_id":"\#(dsale)","amount":\#(q)}]}"#)
        let de = try begin(fx, disc["id"]!.stringValue!)
        #expect(fx.error({ $0.orderEdits.stage }, #"{"id":"\#(de)","actions":[{"type":"set_quantity","line_item_id":"\#(dl[0])","quantity":1}]}"#)?.details?["reason"] == .string("refunded"))
        // Addresses still change.
        _ = try fx.call({ $0.orderEdits.stage }, #"{"id":"\#(de)","actions":[{"type":"set_billing_address","address":{"name":"Bo","country":"FR"}}]}"#)
        #expect(try fx.call({ $0.orderEdits.commit }, #"{"id":"\#(de)"}"#)["order"]?["billing_address"]?["country"] == .string("FR"))
        // A closed order cannot be edited.
        let plain = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)["id"]!.stringValue!
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(plain)"}"#)
        #expect(fx.error({ $0.orderEdits.begin }, #"{"order_id":"\#(plain)"}"#)?.details?["reason"] == .string("order_closed"))
        #expect(try fx.integrityProblems() == [])
    }
}
