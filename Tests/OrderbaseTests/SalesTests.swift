import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

@Suite("The sales ledger, cost and margin")
struct SalesTests {
    /// 2 mugs at 500 (cost 200), a teapot at 2000 (cost 1100), 20% VAT, 300 off the order, 400 shipping.
    static let body = #"""
    {"currency":"GBP","placed_at":"2026-03-14T10:00:00Z","line_items":[
      {"sku":"MUG","title":"Mug","quantity":2,"unit_price":500,"unit_cost":200,"tax_lines":[{"name":"VAT","rate":"0.2"}]},
      {"sku":"POT","title":"Teapot","quantity":1,"unit_price":2000,"unit_cost":1100,"tax_lines":[{"name":"VAT","rate":"0.2"}]}],
     "discounts":[{"amount":300}],"shipping_lines":[{"title":"Post","price":400}]}
    """#

    func summary(_ fx: Fixture, _ from: String = "2026-01-01T00:00:00Z", _ to: String = "2026-12-31T00:00:00Z") throws -> JSON {
        try fx.call({ $0.payments.salesSummary }, #"{"from":"\#(from)","to":"\#(to)"}"#)["currencies"]!.array[0]
    }

    @Test("a sale dated when placed; the order's net sales, cost of goods and margin; edits and refunds as lines of their own")
    func ledger() throws {
        let fx = try Fixture()
        let o = try fx.call({ $0.orders.createOrder }, Self.body)
        let id = o["id"]!.stringValue!
        // 3000 − 300 = 2700 net; cost 400 + 1100 = 1500; margin 1200 = 44.44%.
        #expect(o["net_sales"] == .int(2700) && o["cost_of_goods"] == .int(1500) && o["gross_margin"] == .int(1200) && o["margin_percent"] == .string("44.44"))
        let lines = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(id)"}"#)["data"]!.array
        #expect(lines.count == 1 && lines[0]["kind"] == .string("sale") && lines[0]["at"] == .string("2026-03-14T10:00:00.000Z"))
        #expect(lines[0]["gross_sales"] == .int(3000) && lines[0]["discounts"] == .int(-300) && lines[0]["taxes"] == .int(600) && lines[0]["shipping"] == .int(400))
        #expect(lines[0]["net_sales"] == .int(2700) && lines[0]["total_sales"] == .int(3700) && lines[0]["gross_margin"] == .int(1200))
        // By date: the sale is in March, not in April.
        #expect(try fx.call({ $0.payments.listSales }, #"{"from":"2026-03-01T00:00:00Z","to":"2026-04-01T00:00:00Z"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.payments.listSales }, #"{"from":"2026-04-01T00:00:00Z","to":"2026-05-01T00:00:00Z"}"#)["data"]!.array.isEmpty)
        // An edit before anything ships: a third mug. The ledger gets the difference, dated now.
        let edited = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[{"id":"\#(o["line_items"]!.array[0]["id"]!.stringValue!)","sku":"MUG","title":"Mug","quantity":3,"unit_price":500,"unit_cost":200,"tax_lines":[{"name":"VAT","rate":"0.2"}]},{"id":"\#(o["line_items"]!.array[1]["id"]!.stringValue!)","sku":"POT","title":"Teapot","quantity":1,"unit_price":2000,"unit_cost":1100,"tax_lines":[{"name":"VAT","rate":"0.2"}]}]}"#)
        #expect(edited["net_sales"] == .int(3200) && edited["cost_of_goods"] == .int(1700))
        let edit = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(id)"}"#)["data"]!.array.last!
        #expect(edit["kind"] == .string("edit") && edit["gross_sales"] == .int(500) && edit["taxes"] == .int(100) && edit["cost"] == .int(200))
        // A refund of the teapot with a 10% restocking fee: a return line; the order's figures follow.
        let sale = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":\#(edited["total"]!.intValue!)}"#)["id"]!.stringValue!
        let pot = o["line_items"]!.array[1]["id"]!.stringValue!
        let quote = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(pot)","quantity":1}],"restocking_fee_percent":"10"}"#)
        let refund = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(pot)","quantity":1}],"restocking_fee_percent":"10","transactions":[{"parent_id":"\#(sale)","amount":\#(quote["total"]!.intValue!)}]}"#)
        let after = refund["order"]!
        // The pot's share of the 300 off: 2000 of 3500 → 171 (largest remainder); its net 1829, cost 1100.
        #expect(refund["refund"]?["discount"] == .int(171) && after["net_sales"] == .int(3200 - 1829) && after["cost_of_goods"] == .int(600))
        #expect(after["gross_margin"] == .int(3200 - 1829 - 600) && after["refunded_subtotal"] == .int(1829) && after["margin_percent"] == .string("56.24"))
        let ret = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(id)"}"#)["data"]!.array.last!
        #expect(ret["kind"] == .string("return") && ret["returns"] == .int(-2000) && ret["discounts"] == .int(171) && ret["cost"] == .int(-1100))
        #expect(ret["fees"] == .int(183) && ret["taxes"] == .int(-400))
        // The summary adds the lines up: net sales equal the order's.
        let all = try summary(fx, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
        #expect(all["net_sales"] == after["net_sales"] && all["orders"] == .int(1) && all["lines"] == .int(3))
        #expect(all["cost"] == after["cost_of_goods"] && all["gross_margin"] == after["gross_margin"] && all["fees"] == .int(183))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("a refund whose money all fails is reversed in the ledger; costs unknown leave the margin null")
    func reversalAndUnknownCost() throws {
        let fx = try Fixture()
        let gw = ScriptedGateway()
        fx.engine.setPaymentHandler(gw.handler)
        let o = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"title":"Vase","quantity":2,"unit_price":1500}],"transactions":[{"kind":"sale","amount":3000}]}"#)
        #expect(o["cost_of_goods"] == .null && o["gross_margin"] == .null && o["margin_percent"] == .null && o["net_sales"] == .int(3000))
        let id = o["id"]!.stringValue!, line = o["line_items"]!.array[0]["id"]!.stringValue!
        gw.answer = { _ in PaymentReply(status: "pending") }
        let r = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(line)","quantity":1}]}"#)
        #expect(r["order"]?["net_sales"] == .int(1500))
        _ = try fx.call({ $0.payments.updateTransaction }, #"{"id":"\#(r["transactions"]!.array[0]["id"]!.stringValue!)","status":"failure"}"#)
        let kinds = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(id)"}"#)["data"]!.array.map { $0["kind"]!.stringValue! }
        #expect(kinds == ["sale", "return", "return_reversed"])
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["net_sales"] == .int(3000))
        let now = fx.clock.nowMilliseconds()
        let s = try fx.call({ $0.payments.salesSummary }, #"{"from":"\#(Timestamp.format(now - 86_400_000))","to":"\#(Timestamp.format(now + 86_400_000))"}"#)["currencies"]!.array[0]
        #expect(s["net_sales"] == .int(3000) && s["returns"] == .int(0))
        #expect(try fx.integrityProblems().isEmpty)
        // Tamper: a lost sale line is found.
        let saleID = try fx.call({ $0.payments.listSales }, #"{"order_id":"\#(id)"}"#)["data"]!.array[0]["id"]!.stringValue!
        let b = WriteBatch()
        b.delete(Keyspace.salesLineKey(saleID))
        b.delete(Keyspace.indexKey(.salesLine, "order_id", id, saleID))
        try fx.core.database.write(b, sync: true)
        #expect(try fx.integrityProblems().contains { $0.contains("sales ledger lines do not add up") || $0.contains("no sale") })
    }

    @Test("margin_percent: two decimals, rounded half away from zero, negative when sold below cost")
    func percent() throws {
        var o = Order(id: "ord_x", number: "#1", version: 1, currency: "GBP", createdAt: 0, updatedAt: 0, placedAt: 0)
        o.lineItems = [LineItem(id: "li_1", sku: nil, title: "t", variantTitle: nil, quantity: 3, unitPrice: 1000, unitCost: 1001,
                                discounts: [], taxLines: [], properties: [:])]
        try o.computeTotals()
        #expect(o.marginPercent == "-0.10" && o.grossMargin == -3)
        o.lineItems[0].unitCost = 333
        #expect(o.marginPercent == "66.70")
        o.lineItems[0].unitCost = 0
        #expect(o.marginPercent == "100.00")
        #expect(RefundMath.scaled(1, 1, 2) == 1 && RefundMath.scaled(1_000_000_000_000_000, 999_999, 1_000_000) == 999_999_000_000_000)
    }

    @Test("summary refusals: from and to required, to after from, at most 366 days")
    func refusals() throws {
        let fx = try Fixture()
        #expect(fx.error({ $0.payments.salesSummary }, #"{"to":"2026-01-01T00:00:00Z"}"#)?.field == "from")
        #expect(fx.error({ $0.payments.salesSummary }, #"{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}"#)?.field == "to")
        #expect(fx.error({ $0.payments.salesSummary }, #"{"from":"2025-01-01T00:00:00Z","to":"2026-01-03T00:00:00Z"}"#)?.field == "to")
        #expect(fx.error({ $0.payments.listSales }, #"{"limit":0}"#)?.field == "limit")
        #expect(try fx.call({ $0.payments.salesSummary }, #"{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"}"#)["currencies"]!.array.isEmpty)
    }
}
