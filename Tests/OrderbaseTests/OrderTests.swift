import Foundation
import Testing
@testable import Orderbase

@Suite("Money and totals")
struct MoneyTests {
    @Test("totals are computed: lines, discounts, tax on the discounted line, shipping")
    func example() throws {
        let f = try Fixture()
        let o = try f.call({ $0.orders.createOrder }, """
            {"currency":"GBP","line_items":[{"sku":"85123A","title":"Heart","quantity":6,"unit_price":255,"unit_cost":120,
              "discounts":[{"code":"SPRING","amount":100}],"tax_lines":[{"name":"VAT","rate":"0.20"}],"properties":{"gift_wrap":"yes"}}],
             "shipping_lines":[{"title":"Standard","price":495,"tax_lines":[]}]}
            """)
        #expect(o["subtotal"] == .int(1530))
        #expect(o["total_discount"] == .int(100))
        #expect(o["total_tax"] == .int(286))
        #expect(o["total_shipping"] == .int(495))
        #expect(o["total"] == .int(2211))
        #expect(o["line_items"]?.array.first?["tax_lines"]?.array.first?["amount"] == .int(286))
    }

    @Test("totals from the caller are refused, never trusted")
    func callerTotals() throws {
        let f = try Fixture()
        let e = f.error({ $0.orders.createOrder }, #"{"total":1,"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)
        #expect(e?.code == .invalidArgument && e?.field == "total")
    }

    @Test("tax rounds half away from zero; an explicit tax amount is kept")
    func rounding() throws {
        let f = try Fixture()
        // 3 × 5 = 15 at 10% = 1.5 -> 2; 1 × 4 at 0.125 = 0.5 -> 1
        let o = try f.createOrder(lines: #"[{"title":"a","quantity":3,"unit_price":5,"tax_lines":[{"name":"T","rate":"0.1"}]},{"title":"b","quantity":1,"unit_price":4,"tax_lines":[{"name":"T","rate":"0.125"},{"name":"X","rate":"0.2","amount":7}]}]"#)
        #expect(o["total_tax"] == .int(2 + 1 + 7))
        #expect(o["total"] == .int(15 + 4 + 10))
    }

    @Test("currencies are ISO 4217 with their exponent; unknown codes are refused")
    func currencies() throws {
        #expect(Currency.exponent("JPY") == 0)
        #expect(Currency.exponent("GBP") == 2)
        #expect(Currency.exponent("KWD") == 3)
        #expect(Currency.exponent("gbp") == nil)
        let f = try Fixture(settings: #"{"default_currency":"JPY"}"#)
        #expect(try f.createOrder()["currency"] == .string("JPY"))
        #expect(try f.createOrder(#""currency":"KWD""#)["currency"] == .string("KWD"))
        #expect(f.error({ $0.orders.createOrder }, #"{"currency":"XYZ","line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)?.field == "currency")
    }

    @Test("overflowing amounts are invalid_argument, not a trap", arguments: [
        #"[{"title":"x","quantity":1000000,"unit_price":1000000000000000}]"#,
        #"[{"title":"x","quantity":1,"unit_price":1000000000000001}]"#,
        #"[{"title":"x","quantity":1,"unit_price":600000000000000},{"title":"y","quantity":1,"unit_price":600000000000000}]"#,
        #"[{"title":"x","quantity":1,"unit_price":9223372036854775807}]"#,
        #"[{"title":"x","quantity":1,"unit_price":-1}]"#,
    ])
    func overflow(lines: String) throws {
        let f = try Fixture()
        let e = f.error({ $0.orders.createOrder }, #"{"line_items":\#(lines)}"#)
        #expect(e?.code == .invalidArgument)
        #expect(f.counters.eventSeq == 0)
    }

    @Test("discounts cannot exceed what they discount")
    func discounts() throws {
        let f = try Fixture()
        #expect(f.error({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":5,"discounts":[{"amount":6}]}]}"#)?.field == "line_items[0].discounts")
        #expect(f.error({ $0.orders.createOrder }, #"{"discounts":[{"amount":6}],"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)?.field == "discounts")
        let o = try f.createOrder(#""discounts":[{"code":"ALL","amount":5}]"#, lines: #"[{"title":"x","quantity":1,"unit_price":5}]"#)
        #expect(o["total"] == .int(0))
    }
}

@Suite("Lifecycle")
struct LifecycleTests {
    static let legal: [String: Set<String>] = [
        "pending": ["confirmed", "on_hold", "cancelled"],
        "confirmed": ["processing", "on_hold", "cancelled"],
        "processing": ["completed", "on_hold", "cancelled"],
        "on_hold": ["pending", "confirmed", "processing", "cancelled"],
        "completed": [], "cancelled": [],
    ]
    /// How to reach each status from pending.
    static let path: [String: [String]] = [
        "pending": [], "confirmed": ["confirmed"], "processing": ["confirmed", "processing"],
        "on_hold": ["on_hold"], "completed": ["confirmed", "processing", "completed"], "cancelled": ["cancelled"],
    ]

    @Test("every transition from every status: legal ones apply, others are invalid_transition and change nothing",
          arguments: OrderStatus.all)
    func matrix(from: String) throws {
        let f = try Fixture()
        for to in OrderStatus.all {
            let o = try f.createOrder()
            let id = o["id"]!.stringValue!
            for step in Self.path[from]! { try f.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"\#(step)"}"#) }
            let before = f.counters
            if Self.legal[from]!.contains(to) {
                let r = try f.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"\#(to)","reason":"test"}"#)
                #expect(r["status"] == .string(to))
                #expect(f.counters.eventSeq == before.eventSeq + 1)
            } else {
                let e = f.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"\#(to)"}"#)
                #expect(e?.code == .invalidTransition, "\(from) -> \(to)")
                guard case .array(let allowed)? = e?.details?["allowed"] else { Issue.record("no allowed list"); continue }
                #expect(Set(allowed.compactMap(\.stringValue)) == Self.legal[from]!, "the default workflow as data is the core lifecycle")
                #expect(f.counters == before, "a refused transition writes nothing")
            }
        }
    }

    @Test("cancel records the reason and time; completed and cancelled orders are final")
    func cancel() throws {
        let f = try Fixture()
        let id = try f.createOrder()["id"]!.stringValue!
        f.clock.advance(milliseconds: 5000)
        let c = try f.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)","reason":"customer changed mind"}"#)
        #expect(c["status"] == .string("cancelled"))
        #expect(c["cancel_reason"] == .string("customer changed mind"))
        #expect(c["cancelled_at"] == .string(Timestamp.format(f.clock.nowMilliseconds())))
        #expect(f.error({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)?.code == .invalidTransition)
        let ev = try f.events().last!
        #expect(ev["type"] == .string("order.cancelled"))
        #expect(ev["reason"] == .string("customer changed mind"))
    }

    @Test("a state the order's workflow lacks is invalid_transition naming the workflow; a malformed target is invalid_argument")
    func unknownStatus() throws {
        let f = try Fixture()
        let id = try f.createOrder()["id"]!.stringValue!
        let e = f.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"shipped"}"#)
        #expect(e?.code == .invalidTransition && e?.message == "order #1001: workflow default (version 1) has no state shipped")
        #expect(f.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":""}"#)?.code == .invalidArgument)
        #expect(f.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":7}"#)?.code == .invalidArgument)
    }
}

@Suite("Idempotency and versions")
struct IdempotencyTests {
    @Test("a repeat with the same key and payload returns the first result and writes nothing")
    func sameKey() throws {
        let f = try Fixture()
        let body = #"{"idempotency_key":"imp-1","request_id":"r1","line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#
        let first = try f.core.orders.createOrder(try JSON.parse(body))
        let seq = f.counters
        f.clock.advance(milliseconds: 1000)
        // A retry may carry another request id; it is the same request.
        let again = try f.core.orders.createOrder(try JSON.parse(body.replacingOccurrences(of: "\"r1\"", with: "\"r2\"")))
        #expect(again == first)
        #expect(f.counters == seq)
        let list = try f.call({ $0.orders.listOrders }, "{}")
        #expect(list["data"]?.array.count == 1)
    }

    @Test("the same key with a different payload is idempotency_mismatch")
    func mismatch() throws {
        let f = try Fixture()
        _ = try f.createOrder(#""idempotency_key":"imp-2""#)
        let e = f.error({ $0.orders.createOrder }, #"{"idempotency_key":"imp-2","line_items":[{"title":"Other","quantity":1,"unit_price":5}]}"#)
        #expect(e?.code == .idempotencyMismatch)
    }

    @Test("expected_version: a stale version is version_conflict and changes nothing")
    func stale() throws {
        let f = try Fixture()
        let id = try f.createOrder()["id"]!.stringValue!
        try f.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","expected_version":1,"note":"first"}"#)
        let before = f.counters
        let e = f.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","expected_version":1,"note":"second"}"#)
        #expect(e?.code == .versionConflict)
        #expect(e?.details?["actual"] == .int(2))
        #expect(f.counters == before)
        #expect(try f.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)["note"] == .string("first"))
    }

    @Test("N threads doing read-modify-write with expected_version lose no update")
    func concurrentWriters() async throws {
        let f = try Fixture()
        let id = try f.createOrder(#""metadata":{"count":0}"#)["id"]!.stringValue!
        let threads = 8, each = 25
        let conflicts = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    var done = 0
                    while done < each {
                        let o = try! JSON.parse(try! f.core.orders.getOrder(.object(["id": .string(id)])))
                        let n = o["metadata"]!["count"]!.intValue!
                        let v = o["version"]!.intValue!
                        do {
                            _ = try f.core.orders.updateOrder(.object(["id": .string(id), "expected_version": .int(v),
                                                                "metadata": .object(["count": .int(n + 1)])]))
                            done += 1
                        } catch let e as OrderbaseError where e.code == .versionConflict {
                            conflicts.add()
                        } catch {
                            Issue.record("\(error)")
                            return
                        }
                    }
                }
            }
        }
        let o = try f.call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#)
        #expect(o["metadata"]?["count"] == .int(Int64(threads * each)))
        #expect(o["version"] == .int(Int64(threads * each + 1)))
        let audit = try f.call({ $0.audit.orderAudit }, #"{"id":"\#(id)","limit":1000}"#)
        #expect(audit["data"]?.array.count == threads * each + 1)
        #expect(try f.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
        print("concurrent writers: \(threads * each) updates, \(conflicts.value) version conflicts retried")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
