import Foundation
import Testing
@testable import Orderbase

/// The worked examples of docs/refunds.md, to the minor unit, and the refund rules.
@Suite("Refunds: line shares, fees, transactions")
struct RefundsTests {
    /// docs/refunds.md's GBP order: 3 cake stands (1275, 300 off the line), 2 mugs (500), 20% VAT on both and on
    /// shipping (495), 1000 off the order. Total 5024.
    static let gbp = #"""
    {"currency":"GBP","line_items":[
      {"sku":"22423","title":"Cake stand","quantity":3,"unit_price":1275,"discounts":[{"amount":300}],"tax_lines":[{"name":"VAT","rate":"0.2"}]},
      {"sku":"37370","title":"Mugs","quantity":2,"unit_price":500,"tax_lines":[{"name":"VAT","rate":"0.2"}]}],
     "discounts":[{"code":"WELCOME","amount":1000}],
     "shipping_lines":[{"title":"Royal Mail","price":495,"tax_lines":[{"name":"VAT","rate":"0.2"}]}]}
    """#
    static let jpy = #"""
    {"currency":"JPY","line_items":[
      {"title":"Tea bowl","quantity":3,"unit_price":1999,"tax_lines":[{"name":"JCT","rate":"0.1"}]},
      {"title":"Whisk","quantity":1,"unit_price":3000,"tax_lines":[{"name":"JCT","rate":"0.1"}]}],
     "discounts":[{"amount":1000}],"shipping_lines":[{"title":"Yamato","price":800}]}
    """#
    static let kwd = #"""
    {"currency":"KWD","line_items":[
      {"title":"Dates box","quantity":2,"unit_price":4750,"discounts":[{"amount":250}]},
      {"title":"Coffee","quantity":3,"unit_price":1125}],
     "discounts":[{"amount":1000}],"shipping_lines":[{"title":"Courier","price":2000}]}
    """#

    func order(_ fx: Fixture, _ body: String, pay: Bool = true) throws -> (id: String, lines: [String], total: Int64) {
        let o = try fx.call({ $0.orders.createOrder }, body)
        let id = o["id"]!.stringValue!, total = o["total"]!.intValue!
        if pay { _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":\#(total),"gateway":"stripe"}"#) }
        return (id, o["line_items"]!.array.map { $0["id"]!.stringValue! }, total)
    }

    func amounts(_ r: JSON) -> [Int64] {
        ["subtotal", "discount", "tax", "shipping", "restocking_fee", "return_shipping_fee", "total"].map { r[$0]!.intValue! }
    }

    @Test("GBP: each unit carries its share of the line's and the order's discounts and of the tax; the units add up to the line exactly")
    func gbpWorkedExample() throws {
        let fx = try Fixture()
        let (id, lines, total) = try order(fx, Self.gbp)
        #expect(total == 5024)
        // The order's 1000 off: 779 on the stands (3525 of 4525), 221 on the mugs (the largest remainder).
        let o = try Order.decode(try fx.core.orders.loadRecord(id, snapshot: nil))
        #expect(RefundMath.orderDiscountShares(o) == [779, 221])
        let one = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[0])","quantity":1}]}"#)
        #expect(one["line_items"]!.array[0]["discount"] == .int(360) && one["line_items"]!.array[0]["tax"] == .int(235))
        #expect(amounts(one) == [1275, 360, 235, 0, 0, 0, 1150] && one["maximum_refundable"] == .int(5024))
        #expect(one["transactions"]!.array.count == 1 && one["transactions"]!.array[0]["amount"] == .int(1150))
        // Refund the stands one at a time: 1150, 1151, 1150 = 3825 − 300 − 779 + 705.
        var refunded: [Int64] = []
        for n in 0..<3 {
            let sale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)","kind":"sale"}"#)["data"]!.array[0]
            let r = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[0])","quantity":1}]}"#)
            let t = r["total"]!.intValue!
            let made = try fx.call({ $0.payments.createRefund },
                #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[0])","quantity":1}],"transactions":[{"parent_id":"\#(sale["id"]!.stringValue!)","amount":\#(t),"gateway_id":"re_\#(n)"}]}"#)
            #expect(made["refund"]?["status"] == .string("success") && made["refund"]?["refunded"] == .int(t))
            refunded.append(t)
        }
        #expect(refunded == [1150, 1151, 1150] && refunded.reduce(0, +) == 3451)
        let done = fx.error({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[0])","quantity":1}]}"#)
        #expect(done?.details?["reason"] == .string("exceeds_refundable_quantity") && done?.field == "line_items[0].quantity")
        // The mugs and all the shipping: the rest of the order, to the penny.
        let rest = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[1])","quantity":2}],"shipping":{"full":true}}"#)
        #expect(amounts(rest) == [1000, 221, 200, 594, 0, 0, 1573])
        #expect(refunded.reduce(0, +) + rest["total"]!.intValue! == total)
        let got = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)
        #expect(got["line_items"]!.array[0]["refunded_quantity"] == .int(3) && got["financial_status"] == .string("partially_refunded"))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("JPY and KWD: the same rules in currencies of 0 and 3 decimals; fees come off the lines after discounts")
    func jpyAndKwd() throws {
        let fx = try Fixture()
        let (jp, jl, jt) = try order(fx, Self.jpy)
        #expect(jt == 9697)
        let j1 = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(jp)","line_items":[{"line_item_id":"\#(jl[0])","quantity":1}]}"#)
        #expect(amounts(j1) == [1999, 222, 200, 0, 0, 0, 1977])
        let j2 = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(jp)","line_items":[{"line_item_id":"\#(jl[0])","quantity":3}]}"#)
        #expect(amounts(j2) == [5997, 667, 600, 0, 0, 0, 5930])
        let (kw, kl, kt) = try order(fx, Self.kwd)
        #expect(kt == 13625)
        let k = try fx.call({ $0.payments.calculateRefund },
            #"{"order_id":"\#(kw)","line_items":[{"line_item_id":"\#(kl[0])","quantity":1},{"line_item_id":"\#(kl[1])","quantity":1}],"restocking_fee_percent":"10","return_shipping_fee":500}"#)
        #expect(k["line_items"]!.array.map { $0["total"]!.intValue! } == [4258, 1036])
        #expect(amounts(k) == [5875, 581, 0, 0, 529, 500, 4265] && k["currency"] == .string("KWD"))
    }

    @Test("through the payment handler: refunds newest first; a declined refund fails and gives its units back")
    func handler() throws {
        let fx = try Fixture()
        let gw = ScriptedGateway()
        fx.engine.setPaymentHandler(gw.handler)
        let (id, lines, _) = try order(fx, Self.gbp, pay: false)
        let auth = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":5024,"gateway":"adyen","gateway_id":"psp_1"}"#)["id"]!.stringValue!
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":4024,"parent_id":"\#(auth)"}"#)
        let newest = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1000,"parent_id":"\#(auth)"}"#)["id"]!.stringValue!
        // 2 mugs (1000 − 221 + 200 = 979) and 1 stand (1150): 2129, 1000 of it from the newest capture.
        let made = try fx.call({ $0.payments.createRefund },
            #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[1])","quantity":2},{"line_item_id":"\#(lines[0])","quantity":1}],"note":"broken in transit","idempotency_key":"r1"}"#)
        let txns = made["transactions"]!.array
        #expect(made["refund"]?["total"] == .int(2129) && made["refund"]?["status"] == .string("success"))
        #expect(txns.map { $0["amount"]!.intValue! } == [1000, 1129] && txns[0]["parent_id"] == .string(newest) && txns[0]["refund_id"] == made["refund"]?["id"])
        #expect(gw.requests.count == 2 && gw.requests.allSatisfy { $0["action"] == .string("refund") })
        #expect(made["order"]?["payments"]?["refunded"] == .int(2129))
        // A replay answers the same refund and asks nobody.
        let again = try fx.call({ $0.payments.createRefund },
            #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[1])","quantity":2},{"line_item_id":"\#(lines[0])","quantity":1}],"note":"broken in transit","idempotency_key":"r1"}"#)
        #expect(again["refund"]?["id"] == made["refund"]?["id"] && gw.requests.count == 2)
        // Declined: recorded as failed; the stand can be refunded again.
        gw.answer = { _ in PaymentReply(status: "failure", errorCode: "declined") }
        let declined = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[0])","quantity":2}]}"#)
        #expect(declined["refund"]?["status"] == .string("failed") && declined["refund"]?["refunded"] == .int(0))
        #expect(declined["order"]?["line_items"]?.array[0]["refunded_quantity"] == .int(1))
        // Pending, then failed by transactions.update: the units come back then.
        gw.answer = { _ in PaymentReply(status: "pending", gatewayID: "re_wait") }
        let waiting = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(lines[0])","quantity":2}]}"#)
        #expect(waiting["refund"]?["status"] == .string("pending") && waiting["order"]?["line_items"]?.array[0]["refunded_quantity"] == .int(3))
        let tid = waiting["transactions"]!.array[0]["id"]!.stringValue!
        _ = try fx.call({ $0.payments.updateTransaction }, #"{"id":"\#(tid)","status":"failure"}"#)
        let rid = waiting["refund"]!["id"]!.stringValue!
        #expect(try fx.call({ $0.payments.getRefund }, #"{"id":"\#(rid)"}"#)["status"] == .string("failed"))
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["line_items"]!.array[0]["refunded_quantity"] == .int(1))
        #expect(try fx.call({ $0.payments.listRefunds }, #"{"order_id":"\#(id)","status":"failed"}"#)["data"]!.array.count == 2)
        #expect(try fx.events(#"{"types":["refund.updated"]}"#).count == 4 && (try fx.events(#"{"types":["order.refunded"]}"#)).count == 3)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("refusals name their field or reason and change nothing")
    func refusals() throws {
        let fx = try Fixture()
        let (id, lines, _) = try order(fx, Self.gbp)
        let unpaid = try order(fx, Self.gbp, pay: false)
        let sale = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)"}"#)["data"]!.array[0]["id"]!.stringValue!
        let before = fx.counters
        let l0 = lines[0]
        let invalid: [(String, String)] = [
            (#"{"line_items":[{"line_item_id":"\#(l0)","quantity":1}]}"#, "order_id"),
            (#"{"order_id":"\#(id)"}"#, "line_items"),
            (#"{"order_id":"\#(id)","line_items":[]}"#, "line_items"),
            (#"{"order_id":"\#(id)","line_items":[{"line_item_id":"li_nope","quantity":1}]}"#, "line_items[0].line_item_id"),
            (#"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(l0)","quantity":0}]}"#, "line_items[0].quantity"),
            (#"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(l0)","quantity":1,"price":1}]}"#, "line_items[0].price"),
            (#"{"order_id":"\#(id)","shipping":{}}"#, "shipping.full"),
            (#"{"order_id":"\#(id)","shipping":{"full":true,"amount":5}}"#, "shipping.amount"),
            (#"{"order_id":"\#(id)","shipping":{"full":true},"restocking_fee_percent":"101"}"#, "restocking_fee_percent"),
            (#"{"order_id":"\#(id)","shipping":{"full":true},"restocking_fee_percent":"5."}"#, "restocking_fee_percent"),
            (#"{"order_id":"\#(id)","shipping":{"full":true},"restocking_fee_percent":"007"}"#, "restocking_fee_percent"),
            (#"{"order_id":"\#(id)","shipping":{"full":true},"return_shipping_fee":595}"#, "return_shipping_fee"),
            (#"{"order_id":"\#(id)","shipping":{"full":true},"transactions":[{"parent_id":"\#(sale)","amount":1}]}"#, "transactions"),
            (#"{"order_id":"\#(id)","shipping":{"full":true},"transactions":[{"parent_id":"\#(sale)","amount":594,"error_code":"x"}]}"#, "transactions[0].error_code"),
        ]
        for (body, field) in invalid {
            #expect(fx.error({ $0.payments.createRefund }, body)?.field == field, "\(body)")
        }
        let states: [(String, String)] = [
            (#"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(l0)","quantity":4}]}"#, "exceeds_refundable_quantity"),
            (#"{"order_id":"\#(id)","shipping":{"amount":595}}"#, "exceeds_refundable_shipping"),
            (#"{"order_id":"\#(id)","shipping":{"full":true}}"#, "no_payment_handler"),
            (#"{"order_id":"\#(unpaid.id)","shipping":{"full":true},"transactions":[{"parent_id":"\#(sale)","amount":594}]}"#, "exceeds_refundable"),
        ]
        for (body, reason) in states {
            #expect(fx.error({ $0.payments.createRefund }, body)?.details?["reason"] == .string(reason), "\(body)")
        }
        #expect(fx.counters.eventSeq == before.eventSeq)
        // A line named twice counts once, its quantities added.
        let twice = try fx.call({ $0.payments.calculateRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(l0)","quantity":1},{"line_item_id":"\#(l0)","quantity":2}]}"#)
        #expect(twice["line_items"]!.array.count == 1 && twice["line_items"]!.array[0]["quantity"] == .int(3) && twice["total"] == .int(3451))
        // A zero refund (shipping full: false) is allowed and moves nothing.
        let zero = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","shipping":{"full":false}}"#)
        #expect(zero["refund"]?["total"] == .int(0) && zero["transactions"]!.array.isEmpty)
        // Once refunded, the lines cannot be replaced by orders.update.
        _ = try fx.call({ $0.payments.createRefund }, #"{"order_id":"\#(id)","line_items":[{"line_item_id":"\#(l0)","quantity":1}],"transactions":[{"parent_id":"\#(sale)","amount":1150}]}"#)
        let e = fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#)
        #expect(e?.details?["reason"] == .string("refunded"))
        #expect(try fx.integrityProblems().isEmpty)
    }
}
