import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

@Suite("Split and merge: one write each, totals, payments and stock kept consistent, both sides linked")
struct SplitMergeTests {
    func ids(_ o: JSON) -> [String] { o["line_items"]!.array.map { $0["id"]!.stringValue! } }

    @Test("a split divides line and order discounts and taxes exactly, apportions what was paid, moves the committed stock, and links both orders")
    func split() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 10); try fx.stock("TEE", at: a, 10)
        // Mugs 3 × 800 less 300, 20% VAT (420); a tee 1500; 500 off the order; shipping 400: 3920, paid.
        let o = try fx.call({ $0.orders.createOrder }, #"""
            {"customer":{"id":"cus_1"},"line_items":[
               {"sku":"MUG","title":"Mug","quantity":3,"unit_price":800,"discounts":[{"amount":300}],"tax_lines":[{"name":"VAT","rate":"0.2"}]},
               {"sku":"TEE","title":"Tee","quantity":1,"unit_price":1500}],
             "discounts":[{"code":"WELCOME","amount":500}],"shipping_lines":[{"title":"Post","price":400}],
             "transactions":[{"kind":"sale","amount":3920}]}
            """#)
        let id = o["id"]!.stringValue!, mug = ids(o)[0], tee = ids(o)[1]
        #expect(o["total"] == .int(3920))
        // Refusals change nothing: every unit, a line twice, an unknown line, more than the line has, a stale version.
        let before = fx.counters
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":3},{"line_item_id":"\#(tee)","quantity":1}]}"#)?
                    .details?["reason"] == .string("nothing_left"))
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1},{"line_item_id":"\#(mug)","quantity":1}]}"#)?
                    .field == "line_items[1].line_item_id")
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"li_nope","quantity":1}]}"#)?.code == .notFound)
        let over = fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":4}]}"#)
        #expect(over?.details?["reason"] == .string("not_movable") && over?.details?["movable"] == .int(3) && over?.field == "line_items[0].quantity")
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","expected_version":9,"line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.code == .versionConflict)
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1,"colour":"red"}]}"#)?.field == "line_items[0].colour")
        #expect(fx.counters == before)

        let body = #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":2}],"note":"ship the mugs later","idempotency_key":"split-1"}"#
        let r = try fx.call({ $0.orderEdits.split }, body)
        let kept = r["order"]!, new = r["new_order"]!
        // Moved: 1600 less 200 (2/3 of 300), VAT 280, 194 of the order's 500 (1400/3600 of it, rounded down): 1486.
        #expect(new["total"] == .int(1486) && new["subtotal"] == .int(1600) && new["total_discount"] == .int(394) && new["total_tax"] == .int(280))
        #expect(new["discounts"]!.array.map { $0["amount"]! } == [.int(194)] && new["shipping_lines"]!.array.isEmpty)
        #expect(new["line_items"]!.array.map { [$0["quantity"]!, $0["discounts"]!.array[0]["amount"]!, $0["tax_lines"]!.array[0]["amount"]!] } == [[.int(2), .int(200), .int(280)]])
        // Kept: 1 mug (800 less 100, VAT 140), the tee, 306 off, the shipping: 2434; the two add up to 3920.
        #expect(kept["total"] == .int(2434) && kept["discounts"]!.array[0]["amount"] == .int(306) && kept["line_items"]!.array[0]["quantity"] == .int(1))
        // Paid in full, apportioned by total: 1486 moved as a refund on the order and a sale on the new one (gateway split).
        #expect(new["payments"]?["captured"] == .int(1486) && new["payments"]?["outstanding"] == .int(0) && new["financial_status"] == .string("paid"))
        #expect(kept["payments"]?["net"] == .int(2434) && kept["payments"]?["captured"] == .int(2434) && kept["payments"]?["outstanding"] == .int(0) && kept["financial_status"] == .string("paid"))
        #expect(r["transactions"]!.array.map { [$0["kind"]!, $0["gateway"]!, $0["amount"]!] } == [[.string("refund"), .string("split"), .int(1486)], [.string("sale"), .string("split"), .int(1486)]])
        // Linked both ways; the new order keeps the customer and the placing time.
        #expect(kept["related_orders"]!.array.map { [$0["relation"]!, $0["order_id"]!] } == [[.string("split_into"), new["id"]!]])
        #expect(new["related_orders"]!.array.map { [$0["relation"]!, $0["order_id"]!] } == [[.string("split_from"), .string(id)]])
        #expect(new["customer"]?["id"] == .string("cus_1") && new["placed_at"] == o["placed_at"] && new["status"] == o["status"])
        // Stock: still 3 mugs committed, 1 for the order and 2 for the new one in its own fulfillment order.
        #expect(try fx.level("MUG", at: a)["committed"] == .int(3))
        let newFOs = try fx.fulfillmentOrders(of: new["id"]!.stringValue!)
        #expect(newFOs.count == 1 && newFOs[0]["lines"]!.array.map { [$0["sku"]!, $0["quantity"]!] } == [[.string("MUG"), .int(2)]])
        #expect(try fx.fulfillmentOrders(of: id).flatMap { $0["lines"]!.array }.filter { $0["sku"] == .string("MUG") }.map { $0["quantity"]! } == [.int(1)])
        // Audited on both orders, with the note; the replay writes nothing.
        let trail = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","subject_id":"\#(id)"}"#)["data"]!.array
        #expect(trail.contains { $0["action"] == .string("order.split") && $0["reason"] == .string("split into order \(new["number"]!.stringValue!): ship the mugs later") })
        let newTrail = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","subject_id":"\#(new["id"]!.stringValue!)"}"#)["data"]!.array
        #expect(newTrail.contains { $0["action"] == .string("order.created") && $0["reason"]?.stringValue?.hasPrefix("split from order") == true })
        let after = fx.counters
        #expect(try fx.call({ $0.orderEdits.split }, body)["new_order"]?["id"] == new["id"])
        #expect(fx.counters == after)
        // The transfer gateways are the engine's own.
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1,"gateway":"split"}"#)?.field == "gateway")
        // Shipped units do not move.
        let fo = try fx.fulfillmentOrders(of: id)[0]["id"]!.stringValue!
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(tee)","quantity":1}]}"#)
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(tee)","quantity":1}]}"#)?.details?["movable"] == .int(0))
        // Refunded units keep the order whole.
        let sale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)"}"#)["data"]!.array.first { $0["kind"] == .string("sale") && $0["gateway"] != .string("split") }!["id"]!.stringValue!
        let owed = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)["total"]!.intValue!
        _ = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1}],"transactions":[{"parent_id":"\#(sale)","amount":\#(owed)}]}"#)
        #expect(fx.error({ $0.orderEdits.split }, #"{"id":"\#(id)","line_items":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.details?["reason"] == .string("refunded"))
        // Part paid (half): each keeps half of its total paid; merged back, the order owes what it owed.
        let part = try fx.call({ $0.orders.createOrder }, #"{"customer":{"id":"cus_1"},"line_items":[{"title":"Cup","quantity":4,"unit_price":800}],"transactions":[{"kind":"sale","amount":1600}]}"#)
        let s = try fx.call({ $0.orderEdits.split }, #"{"id":"\#(part["id"]!.stringValue!)","line_items":[{"line_item_id":"\#(ids(part)[0])","quantity":3}]}"#)
        #expect(s["order"]?["payments"]?["outstanding"] == .int(400) && s["new_order"]?["payments"]?["outstanding"] == .int(1200) && s["transactions"]!.array.map { $0["amount"]! } == [.int(1200), .int(1200)])
        #expect(s["order"]?["payments"]?["captured"] == .int(400) && s["order"]?["payments"]?["refunded"] == .int(0) && s["order"]?["financial_status"] == .string("partially_paid"))
        let back = try fx.call({ $0.orderEdits.merge }, #"{"id":"\#(part["id"]!.stringValue!)","order_ids":["\#(s["new_order"]!["id"]!.stringValue!)"]}"#)
        #expect(back["order"]?["total"] == .int(3200) && back["order"]?["payments"]?["net"] == .int(1600) && back["order"]?["payments"]?["outstanding"] == .int(1600))
        #expect(try fx.integrityProblems() == [])
    }

    @Test("a merge moves lines, shipping, discounts, payments and committed stock into one order and cancels the others; refusals change nothing")
    func merge() throws {
        let fx = try Fixture()
        func order(_ body: String) throws -> String { try fx.call({ $0.orders.createOrder }, body)["id"]!.stringValue! }
        // Placed before the tenant had any stock: it holds none.
        let plain = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"title":"Gift card","quantity":1,"unit_price":2000}]}"#)
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 10); try fx.stock("TEE", at: a, 10); try fx.stock("CAP", at: a, 10)
        let target = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"sku":"TEE","title":"Tee","quantity":1,"unit_price":1500}],"transactions":[{"kind":"sale","amount":1500}]}"#)
        let paid = try order(#"""
            {"customer":{"id":"cus_1"},"line_items":[{"sku":"MUG","title":"Mug","quantity":2,"unit_price":800,"tax_lines":[{"name":"VAT","rate":"0.2"}]}],
             "shipping_lines":[{"title":"Post","price":400}],"transactions":[{"kind":"sale","amount":2320}]}
            """#)
        let unpaid = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"sku":"CAP","title":"Cap","quantity":1,"unit_price":1000}],"discounts":[{"amount":100}]}"#)
        // Refusals: another currency, another customer, shipped units, a hold, refunds, the target named twice.
        let euro = try order(#"{"currency":"EUR","customer":{"id":"cus_1"},"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        let other = try order(#"{"customer":{"id":"cus_2"},"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        let guest = try order(#"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        let shipped = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":800}]}"#)
        let sfo = try fx.fulfillmentOrders(of: shipped)[0]
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(sfo["id"]!.stringValue!)","lines":[{"line_item_id":"\#(sfo["lines"]!.array[0]["line_item_id"]!.stringValue!)","quantity":1}]}"#)
        let held = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        _ = try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(held)","reason":"other"}"#)
        let refunded = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"title":"x","quantity":2,"unit_price":5}],"transactions":[{"kind":"sale","amount":10}]}"#)
        let rsale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(refunded)"}"#)["data"]!.array[0]["id"]!.stringValue!
        let rline = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(refunded)"}"#)["line_items"]!.array[0]["id"]!.stringValue!
        _ = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(refunded)","line_items":[{"line_item_id":"\#(rline)","quantity":1}],"transactions":[{"parent_id":"\#(rsale)","amount":5}]}"#)
        let before = fx.counters
        for (others, reason) in [(euro, "currency_mismatch"), (other, "customer_mismatch"), (guest, "no_customer"), (shipped, "fulfilled_lines"),
                                 (held, "on_hold"), (refunded, "refunded")] {
            let e = fx.error({ $0.orderEdits.merge }, #"{"id":"\#(target)","order_ids":["\#(paid)","\#(others)"]}"#)
            #expect(e?.details?["reason"] == .string(reason) && e?.field == "order_ids[1]", "\(reason): \(String(describing: e))")
        }
        #expect(fx.error({ $0.orderEdits.merge }, #"{"id":"\#(target)","order_ids":["\#(target)"]}"#)?.field == "order_ids[0]")
        #expect(fx.error({ $0.orderEdits.merge }, #"{"id":"\#(target)","order_ids":["\#(paid)","\#(paid)"]}"#)?.field == "order_ids[1]")
        #expect(fx.error({ $0.orderEdits.merge }, #"{"id":"\#(target)","order_ids":[]}"#)?.field == "order_ids")
        #expect(fx.error({ $0.orderEdits.merge }, #"{"id":"\#(target)","order_ids":[7]}"#)?.field == "order_ids[0]")
        #expect(fx.counters == before)

        let r = try fx.call({ $0.orderEdits.merge }, #"{"id":"\#(target)","order_ids":["\#(paid)","\#(unpaid)"],"note":"one parcel"}"#)
        let m = r["order"]!
        // 1500 + 2320 + (1000 − 100) = 4720; 3820 paid (its own and the moved 2320), 900 outstanding.
        #expect(m["total"] == .int(4720) && m["line_items"]!.array.count == 3 && m["shipping_lines"]!.array.count == 1 && m["discounts"]!.array.count == 1)
        #expect(m["payments"]?["captured"] == .int(3820) && m["payments"]?["outstanding"] == .int(900) && m["financial_status"] == .string("partially_paid"))
        #expect(m["related_orders"]!.array.map { $0["relation"]! } == [.string("merged_from"), .string("merged_from")])
        let gone = r["merged"]!.array
        #expect(gone.map { $0["status"]! } == [.string("cancelled"), .string("cancelled")] && gone.allSatisfy { $0["related_orders"]?.array.first?["order_id"] == .string(target) })
        #expect(gone[0]["payments"]?["net"] == .int(0) && r["transactions"]!.array.map { $0["gateway"]! }.allSatisfy { $0 == .string("merge") })
        // Stock: the mugs and the cap committed to the target now; the merged orders' fulfillment orders hold nothing.
        #expect(try fx.level("MUG", at: a)["committed"] == .int(2) && fx.level("CAP", at: a)["committed"] == .int(1))
        let skus = try fx.fulfillmentOrders(of: target).filter { $0["status"] != .string("cancelled") }.flatMap { $0["lines"]!.array }.map { $0["sku"]!.stringValue! }
        #expect(skus.sorted() == ["CAP", "MUG", "TEE"])
        // A target holding no stock (no fulfillment orders) commits the tracked lines it takes as a new order would.
        let mugs = try order(#"{"customer":{"id":"cus_1"},"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":800}]}"#)
        let lv = try fx.level("MUG", at: a), pf = try fx.fulfillmentOrders(of: plain)
        #expect(lv["committed"] == .int(5) && pf.isEmpty, "\(lv) \(pf)")
        _ = try fx.call({ $0.orderEdits.merge }, #"{"id":"\#(plain)","order_ids":["\#(mugs)"]}"#)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(5))
        #expect(try fx.fulfillmentOrders(of: plain).flatMap { $0["lines"]!.array }.filter { $0["sku"] == .string("MUG") }.map { $0["quantity"]! } == [.int(3)])
        // Every order is audited; the sales ledger moves the merged sales to the target.
        for o in [target, paid, unpaid] {
            let trail = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order","subject_id":"\#(o)"}"#)["data"]!.array
            #expect(trail.contains { $0["action"] == .string("order.merged") }, "\(o)")
        }
        let lines = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(paid)"}"#)["data"]!.array
        #expect(lines.reduce(0) { $0 + $1["total_sales"]!.intValue! } == 0)
        #expect(try fx.integrityProblems() == [])
        // integrity.check: a link with no link back, and a merged order whose sale was not moved, are problems.
        var o = try Order.decode(try fx.core.database.get(Keyspace.orderKey(target))!)
        o.relatedOrders.removeFirst()
        let b = WriteBatch()
        b.put(Keyspace.orderKey(target), o.json)
        try fx.core.database.write(b, sync: true)
        let problems = try fx.integrityProblems()
        #expect(problems.contains { $0.contains("merged_into order \(target), which has no link back") })
    }
}
