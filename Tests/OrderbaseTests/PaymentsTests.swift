import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

/// A payment handler for tests: answers from a script and records what it was asked.
final class ScriptedGateway: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var requests: [JSON] = []
    var answer: (JSON) -> PaymentReply = { r in PaymentReply(status: "success", gatewayID: "gw_" + (r["transaction"]?["id"]?.stringValue ?? "?")) }

    var handler: PaymentHandler {
        { [self] _, bytes in
            let r = (try? JSON.parse(bytes)) ?? .null
            lock.lock(); requests.append(r); let a = answer; lock.unlock()
            return a(r)
        }
    }
}

@Suite("Payments: the transactions ledger")
struct PaymentsTests {
    /// An order of 2 × 500 + a 490 shipping line: total 1490 (no tax).
    func order(_ fx: Fixture, currency: String = "GBP") throws -> String {
        try fx.createOrder(#""currency":"\#(currency)","shipping_lines":[{"title":"Post","price":490}]"#)["id"]!.stringValue!
    }

    func payments(_ fx: Fixture, _ id: String) throws -> (JSON, String) {
        let o = try fx.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)
        return (o["payments"]!, o["financial_status"]!.stringValue!)
    }

    @Test("authorize, capture in parts, refund in parts: sums, capturable/refundable and financial_status follow the rules")
    func lifecycle() throws {
        let fx = try Fixture()
        let id = try order(fx)
        #expect(try payments(fx, id).1 == "pending")
        let auth = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":1490,"gateway":"stripe","gateway_id":"pi_1"}"#)
        let aid = auth["id"]!.stringValue!
        #expect(auth["capturable"] == .int(1490) && auth["currency"] == .string("GBP") && auth["source"] == .string("recorded"))
        var (p, status) = try payments(fx, id)
        #expect(status == "authorized" && p["authorized"] == .int(1490) && p["outstanding"] == .int(1490))
        let c1 = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1000,"parent_id":"\#(aid)","gateway":"stripe"}"#)
        (p, status) = try payments(fx, id)
        #expect(status == "partially_paid" && p["captured"] == .int(1000) && p["authorized"] == .int(490) && p["outstanding"] == .int(490))
        #expect(try fx.call({ $0.payments.getTransaction }, #"{"id":"\#(aid)"}"#)["capturable"] == .int(490))
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":490,"parent_id":"\#(aid)"}"#)
        (p, status) = try payments(fx, id)
        #expect(status == "paid" && p["authorized"] == .int(0) && p["outstanding"] == .int(0) && p["refundable"] == .int(1490))
        let r1 = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"refund","amount":300,"parent_id":"\#(c1["id"]!.stringValue!)"}"#)
        #expect(r1["kind"] == .string("refund"))
        (p, status) = try payments(fx, id)
        #expect(status == "partially_refunded" && p["refunded"] == .int(300) && p["net"] == .int(1190) && p["refundable"] == .int(1190))
        #expect(try fx.call({ $0.payments.getTransaction }, #"{"id":"\#(c1["id"]!.stringValue!)"}"#)["refundable"] == .int(700))
        // Refund the rest of both captures: refunded.
        let caps = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)","kind":"capture"}"#)["data"]!.array
        #expect(caps.count == 2)
        for c in caps {
            let left = c["refundable"]!.intValue!
            _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"refund","amount":\#(left),"parent_id":"\#(c["id"]!.stringValue!)"}"#)
        }
        (p, status) = try payments(fx, id)
        #expect(status == "refunded" && p["refunded"] == .int(1490) && p["refundable"] == .int(0) && p["transactions"] == .int(6))
        // Events: one transaction.created each, and the order's change with it.
        #expect(try fx.events(#"{"types":["transaction.created"]}"#).count == 6)
        #expect(try fx.events(#"{"types":["order.transaction_recorded"]}"#).count == 6)
        #expect(try fx.events(#"{"types":["transaction.created"]}"#)[0]["order_id"] == .string(id))
        // The timeline shows the transactions' audit entries.
        let timeline = try fx.call({ $0.timeline.orderTimeline }, #"{"id":"\#(id)","types":["audit"],"limit":250}"#)["data"]!.array
        #expect(timeline.filter { $0["audit"]?["action"] == .string("transaction.created") }.count == 6)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("sale, void, failure and the rule order of financial_status")
    func saleVoidFailure() throws {
        let fx = try Fixture()
        let id = try order(fx)
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":500,"status":"failure","error_code":"card_declined","message":"Declined"}"#)
        var (p, status) = try payments(fx, id)
        #expect(status == "pending" && p["captured"] == .int(0) && p["transactions"] == .int(1))
        let auth = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":1490}"#)["id"]!.stringValue!
        let void = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"void","parent_id":"\#(auth)"}"#)
        #expect(void["amount"] == .int(1490))
        (p, status) = try payments(fx, id)
        #expect(status == "voided" && p["authorized"] == .int(0) && p["voided"] == .int(1490))
        let e = fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"void","parent_id":"\#(auth)"}"#)
        #expect(e?.code == .invalidState && e?.details?["reason"] == .string("nothing_to_void"))
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1490,"gateway":"cash"}"#)
        (p, status) = try payments(fx, id)
        #expect(status == "paid" && p["captured"] == .int(1490))
        let over = fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1}"#)
        #expect(over?.details?["reason"] == .string("exceeds_outstanding") && over?.details?["outstanding"] == .int(0))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("orders.create takes the checkout's payments: recorded in the order's batch, after its created event")
    func inlineTransactions() throws {
        let fx = try Fixture()
        let lines = #"[{"sku":"A1","title":"Mug","quantity":2,"unit_price":500}]"#
        let paid = try fx.call({ $0.orders.createOrder }, #"{"line_items":\#(lines),"transactions":[{"kind":"sale","amount":1000,"gateway":"stripe","gateway_id":"ch_1"}],"idempotency_key":"k"}"#)
        let id = paid["id"]!.stringValue!
        #expect(paid["financial_status"] == .string("paid") && paid["payments"]?["captured"] == .int(1000) && paid["version"] == .int(1))
        let listed = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)"}"#)["data"]!.array
        #expect(listed.count == 1 && listed[0]["gateway_id"] == .string("ch_1") && listed[0]["refundable"] == .int(1000))
        let types = try fx.events().map { $0["type"]!.stringValue! }
        #expect(types.suffix(2) == ["order.created", "transaction.created"])
        // A replay records nothing again.
        _ = try fx.call({ $0.orders.createOrder }, #"{"line_items":\#(lines),"transactions":[{"kind":"sale","amount":1000,"gateway":"stripe","gateway_id":"ch_1"}],"idempotency_key":"k"}"#)
        #expect(try fx.call({ $0.payments.listTransactions }, "{}")["data"]!.array.count == 1)
        let auth = try fx.call({ $0.orders.createOrder }, #"{"line_items":\#(lines),"transactions":[{"kind":"authorization","amount":1200},{"kind":"sale","amount":1,"status":"failure","error_code":"declined"}]}"#)
        #expect(auth["financial_status"] == .string("authorized") && auth["payments"]?["authorized"] == .int(1200) && auth["payments"]?["transactions"] == .int(2))
        let before = fx.counters
        let refused: [(String, String)] = [
            (#"{"line_items":\#(lines),"transactions":[{"kind":"sale","amount":1001}]}"#, "transactions[0].amount"),
            (#"{"line_items":\#(lines),"transactions":[{"kind":"capture","amount":1}]}"#, "transactions[0].kind"),
            (#"{"line_items":\#(lines),"transactions":[{"kind":"sale"}]}"#, "transactions[0].amount"),
            (#"{"line_items":\#(lines),"transactions":[{"kind":"sale","amount":1,"error_code":"x"}]}"#, "transactions[0].error_code"),
            (#"{"line_items":\#(lines),"transactions":[{"kind":"sale","amount":1,"parent_id":"txn_1"}]}"#, "transactions[0].parent_id"),
            (#"{"line_items":\#(lines),"transactions":[{"kind":"sale","amount":1}],"financial_status":"paid"}"#, "financial_status"),
            (#"{"line_items":\#(lines),"transactions":{"kind":"sale"}}"#, "transactions"),
        ]
        for (body, field) in refused { #expect(fx.error({ $0.orders.createOrder }, body)?.field == field, "\(body)") }
        #expect(fx.counters.nextNumber == before.nextNumber && fx.counters.eventSeq == before.eventSeq)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("a change of total re-derives financial_status (paid becomes partially_paid)")
    func totalChange() throws {
        let fx = try Fixture()
        let id = try order(fx)
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1490}"#)
        #expect(try payments(fx, id).1 == "paid")
        _ = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[{"sku":"A1","title":"Mug","quantity":3,"unit_price":500}]}"#)
        let (p, status) = try payments(fx, id)
        #expect(status == "partially_paid" && p["outstanding"] == .int(500))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("refusals: each names its field or reason and changes nothing")
    func refusals() throws {
        let fx = try Fixture()
        let id = try order(fx)
        let other = try order(fx, currency: "JPY")
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":1000}"#)
        let aid = try fx.call({ $0.payments.listTransactions }, #"{"order_id":"\#(id)"}"#)["data"]!.array[0]["id"]!.stringValue!
        let sale = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(other)","kind":"sale","amount":100}"#)["id"]!.stringValue!
        let before = fx.counters
        let invalid: [(String, String)] = [
            (#"{"kind":"sale","amount":1}"#, "order_id"),
            (#"{"order_id":"\#(id)","amount":1}"#, "kind"),
            (#"{"order_id":"\#(id)","kind":"gift","amount":1}"#, "kind"),
            (#"{"order_id":"\#(id)","kind":"sale"}"#, "amount"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":0}"#, "amount"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":-5}"#, "amount"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":"5"}"#, "amount"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1000000000000000001}"#, "amount"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"status":"done"}"#, "status"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"gateway":"Stripe"}"#, "gateway"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"gateway":"../x"}"#, "gateway"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"currency":"JPY"}"#, "currency"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"error_code":"x"}"#, "error_code"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"tip":1}"#, "tip"),
            (#"{"order_id":"\#(id)","kind":"capture","amount":1}"#, "parent_id"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1,"parent_id":"\#(aid)"}"#, "parent_id"),
            (#"{"order_id":"\#(id)","kind":"refund","amount":1,"parent_id":"\#(aid)"}"#, "parent_id"),
            (#"{"order_id":"\#(id)","kind":"refund","amount":1,"parent_id":"\#(sale)"}"#, "parent_id"),
            (#"{"order_id":"\#(id)","kind":"void","amount":5,"parent_id":"\#(aid)"}"#, "amount"),
        ]
        for (body, field) in invalid {
            let e = fx.error({ $0.payments.createTransaction }, body)
            #expect(e?.field == field, "\(body)")
        }
        let states: [(String, String)] = [
            (#"{"order_id":"\#(id)","kind":"capture","amount":1001,"parent_id":"\#(aid)"}"#, "exceeds_capturable"),
            (#"{"order_id":"\#(id)","kind":"sale","amount":1491}"#, "exceeds_outstanding"),
        ]
        for (body, reason) in states {
            let e = fx.error({ $0.payments.createTransaction }, body)
            #expect(e?.code == .invalidState && e?.details?["reason"] == .string(reason), "\(body)")
        }
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"ord_nope","kind":"sale","amount":1}"#)?.code == .notFound)
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1,"parent_id":"txn_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.payments.updateTransaction }, #"{"id":"\#(aid)","status":"success"}"#)?.details?["reason"] == .string("not_pending"))
        #expect(fx.error({ $0.payments.updateTransaction }, #"{"id":"\#(aid)","status":"pending"}"#)?.field == "status")
        #expect(fx.error({ $0.payments.capture }, #"{"order_id":"\#(id)"}"#)?.details?["reason"] == .string("no_payment_handler"))
        #expect(fx.counters.eventSeq == before.eventSeq && fx.counters.auditSeq == before.auditSeq)
        // A cancelled order takes no more money in, but can still be refunded and voided.
        _ = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"cancelled","reason":"customer"}"#)
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1}"#)?.details?["reason"] == .string("order_cancelled"))
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"void","parent_id":"\#(aid)"}"#)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("pending transactions hold their amount until settled; a failure gives it back; idempotency keys replay")
    func pending() throws {
        let fx = try Fixture()
        let id = try order(fx)
        let aid = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":1490}"#)["id"]!.stringValue!
        let c = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1490,"parent_id":"\#(aid)","status":"pending","idempotency_key":"cap-1"}"#)
        let cid = c["id"]!.stringValue!
        var (p, status) = try payments(fx, id)
        #expect(p["pending"] == .int(1490) && p["authorized"] == .int(0) && status == "pending")
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1,"parent_id":"\#(aid)"}"#)?.details?["reason"] == .string("exceeds_capturable"))
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"refund","amount":1,"parent_id":"\#(cid)"}"#)?.details?["reason"] == .string("parent_not_successful"))
        // The same key and request answers the same transaction; another request with it is refused.
        #expect(try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1490,"parent_id":"\#(aid)","status":"pending","idempotency_key":"cap-1"}"#)["id"] == .string(cid))
        #expect(fx.error({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1,"parent_id":"\#(aid)","idempotency_key":"cap-1"}"#)?.code == .idempotencyMismatch)
        let failed = try fx.call({ $0.payments.updateTransaction }, #"{"id":"\#(cid)","status":"failure","error_code":"timeout","expected_version":1}"#)
        #expect(failed["status"] == .string("failure") && failed["version"] == .int(2))
        (p, status) = try payments(fx, id)
        #expect(p["pending"] == .int(0) && p["authorized"] == .int(1490) && status == "authorized")
        let c2 = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"capture","amount":1490,"parent_id":"\#(aid)","status":"pending"}"#)["id"]!.stringValue!
        #expect(fx.error({ $0.payments.updateTransaction }, #"{"id":"\#(c2)","status":"success","expected_version":2}"#)?.code == .versionConflict)
        _ = try fx.call({ $0.payments.updateTransaction }, #"{"id":"\#(c2)","status":"success","gateway_id":"ch_9"}"#)
        (p, status) = try payments(fx, id)
        #expect(p["captured"] == .int(1490) && status == "paid")
        #expect(try fx.call({ $0.payments.getTransaction }, #"{"id":"\#(c2)"}"#)["gateway_id"] == .string("ch_9"))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("8 threads refunding one order at once never refund more than was captured")
    func concurrentRefunds() throws {
        let fx = try Fixture()
        let id = try order(fx)
        let sale = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1490}"#)["id"]!.stringValue!
        let core = fx.core
        let ok = Counter(), refused = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10 {
                do {
                    _ = try core.payments.createTransaction(try JSON.parse(#"{"order_id":"\#(id)","kind":"refund","amount":37,"parent_id":"\#(sale)"}"#))
                    ok.add()
                } catch let e as OrderbaseError {
                    if e.details?["reason"] == .string("exceeds_refundable") { refused.add() }
                } catch {}
            }
        }
        // 1490 / 37 = 40 refunds fit; the other 40 are refused.
        #expect(ok.value == 40 && refused.value == 40)
        let (p, _) = try payments(fx, id)
        #expect(p["refunded"] == .int(1480) && p["refundable"] == .int(10))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("the payment handler: capture, refund across captures newest first, void; failure and pending answers; replay")
    func handler() throws {
        let fx = try Fixture()
        let gw = ScriptedGateway()
        fx.engine.setPaymentHandler(gw.handler)
        let id = try order(fx)
        let a1 = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":1000,"gateway":"stripe","gateway_id":"pi_1"}"#)["id"]!.stringValue!
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"authorization","amount":1000,"gateway":"adyen"}"#)
        // The oldest authorization first, all it has left within what is owed.
        let cap = try fx.call({ $0.payments.capture }, #"{"order_id":"\#(id)","idempotency_key":"k1"}"#)
        let t1 = cap["transactions"]!.array[0]
        #expect(t1["status"] == .string("success") && t1["amount"] == .int(1000) && t1["parent_id"] == .string(a1) && t1["gateway"] == .string("stripe"))
        #expect(t1["source"] == .string("handler") && t1["gateway_id"] == .string("gw_" + t1["id"]!.stringValue!))
        #expect(gw.requests.count == 1 && gw.requests[0]["action"] == .string("capture") && gw.requests[0]["parent"]?["gateway_id"] == .string("pi_1"))
        #expect(gw.requests[0]["order"]?["id"] == .string(id) && gw.requests[0]["transaction"]?["status"] == .string("pending"))
        #expect(cap["order"]?["financial_status"] == .string("partially_paid"))
        // A replay answers the same transactions without asking the gateway again.
        let again = try fx.call({ $0.payments.capture }, #"{"order_id":"\#(id)","idempotency_key":"k1"}"#)
        #expect(again["transactions"]!.array[0]["id"] == t1["id"] && gw.requests.count == 1)
        // Next capture: the second authorization, limited to what is owed (490).
        let cap2 = try fx.call({ $0.payments.capture }, #"{"order_id":"\#(id)"}"#)["transactions"]!.array[0]
        #expect(cap2["amount"] == .int(490) && cap2["gateway"] == .string("adyen"))
        // Refund 700: from the newest capture (490), then 210 from the first.
        let refund = try fx.call({ $0.payments.refund }, #"{"order_id":"\#(id)","amount":700,"message":"damaged"}"#)
        let rs = refund["transactions"]!.array
        #expect(rs.map { $0["amount"]!.intValue! } == [490, 210] && rs[0]["parent_id"] == cap2["id"] && rs[1]["message"] == .string("damaged"))
        #expect(refund["order"]?["payments"]?["refunded"] == .int(700))
        #expect(fx.error({ $0.payments.refund }, #"{"order_id":"\#(id)","amount":791}"#)?.details?["reason"] == .string("exceeds_refundable"))
        // A declined refund is recorded as a failure and moves nothing.
        gw.answer = { _ in PaymentReply(status: "failure", errorCode: "insufficient_funds", message: "Declined") }
        let declined = try fx.call({ $0.payments.refund }, #"{"order_id":"\#(id)","amount":10}"#)["transactions"]!.array[0]
        #expect(declined["status"] == .string("failure") && declined["error_code"] == .string("insufficient_funds"))
        // A pending answer stays pending until transactions.update.
        gw.answer = { _ in PaymentReply(status: "pending", gatewayID: "re_later") }
        let later = try fx.call({ $0.payments.refund }, #"{"order_id":"\#(id)","amount":10}"#)
        #expect(later["transactions"]!.array[0]["status"] == .string("pending") && later["order"]?["payments"]?["refund_pending"] == .int(10))
        // Void: the second authorization has 510 left.
        gw.answer = { _ in PaymentReply(status: "success") }
        let void = try fx.call({ $0.payments.void }, #"{"order_id":"\#(id)"}"#)["transactions"]!.array
        #expect(void.count == 1 && void[0]["amount"] == .int(510))
        #expect(fx.error({ $0.payments.void }, #"{"order_id":"\#(id)"}"#)?.details?["reason"] == .string("nothing_to_void"))
        #expect(fx.error({ $0.payments.capture }, #"{"order_id":"\#(id)"}"#)?.details?["reason"] == .string("nothing_to_capture"))
        fx.engine.setPaymentHandler(nil)
        #expect(fx.error({ $0.payments.refund }, #"{"order_id":"\#(id)","amount":1}"#)?.details?["reason"] == .string("no_payment_handler"))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("the C reply: codes and JSON become a PaymentReply; anything else is pending")
    func replies() {
        #expect(PaymentReply(code: 0, reply: Array(#"{"gateway_id":"ch_1"}"#.utf8) + [0, 0]) == PaymentReply(status: "success", gatewayID: "ch_1"))
        #expect(PaymentReply(code: 1, reply: Array("card declined".utf8)) == PaymentReply(status: "failure", message: "card declined"))
        #expect(PaymentReply(code: 2, reply: []).status == "pending")
        let odd = PaymentReply(code: 7, reply: [])
        #expect(odd.status == "pending" && odd.message?.contains("returned 7") == true)
        #expect(PaymentReply(code: 0, reply: Array(#"{"gateway_id":""}"#.utf8)).gatewayID == nil)
    }

    func put(_ fx: Fixture, _ key: [UInt8], _ value: [UInt8]) throws {
        let b = WriteBatch()
        b.put(key, value)
        try fx.core.database.write(b, sync: true)
    }

    @Test("integrity.check finds sums and settled amounts that do not add up")
    func integrity() throws {
        let fx = try Fixture()
        let id = try order(fx)
        let sale = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"sale","amount":1490}"#)["id"]!.stringValue!
        _ = try fx.call({ $0.payments.createTransaction }, #"{"order_id":"\#(id)","kind":"refund","amount":90,"parent_id":"\#(sale)"}"#)
        #expect(try fx.integrityProblems().isEmpty)
        // Tamper: the sale says less of it is refunded than its refund holds.
        var t = try fx.core.stored(Transaction.self, sale)
        t.settledAmount = 0
        try put(fx, Keyspace.transactionKey(sale), t.storedJSON)
        let problems = try fx.integrityProblems()
        #expect(problems.contains { $0.contains("transaction \(sale) says 0") })
        // Tamper the order's sums.
        t.settledAmount = 90
        try put(fx, Keyspace.transactionKey(sale), t.storedJSON)
        var o = try Order.decode(try fx.core.database.get(Keyspace.orderKey(id))!)
        o.payments.refunded = 0
        try put(fx, Keyspace.orderKey(id), o.render().bytes)
        #expect(try fx.integrityProblems().contains { $0.contains("payments do not equal") })
    }
}
