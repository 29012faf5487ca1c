import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

@Suite("Audit and events")
struct AuditEventTests {
    @Test("an update audits exactly the fields it changed, with before and after values, actor and request id")
    func beforeAfter() throws {
        let f = try Fixture()
        let o = try f.createOrder(#""note":"old","shipping_address":{"city":"Leeds","country":"GB"}"#)
        let id = o["id"]!.stringValue!
        f.clock.advance(milliseconds: 60_000)
        try f.call({ $0.orders.updateOrder }, """
            {"id":"\(id)","note":"new","shipping_address":{"city":"York","country":"GB"},
             "actor":{"type":"user","id":"u-7"},"request_id":"req-42"}
            """)
        let audit = try f.call({ $0.audit.orderAudit }, #"{"id":"\#(id)"}"#)["data"]!.array
        #expect(audit.count == 2)
        #expect(audit[0]["action"] == .string("order.created"))
        let u = audit[1]
        #expect(u["action"] == .string("order.updated"))
        #expect(u["actor"] == .object(["type": .string("user"), "id": .string("u-7")]))
        #expect(u["request_id"] == .string("req-42"))
        #expect(u["at"] == .string(Timestamp.format(f.clock.nowMilliseconds())))
        let changes = u["changes"]!.array
        #expect(changes.map { $0["field"]!.stringValue! } == ["shipping_address", "note"])
        #expect(changes[0]["before"] == .object(["city": .string("Leeds"), "country": .string("GB")]))
        #expect(changes[0]["after"] == .object(["city": .string("York"), "country": .string("GB")]))
        #expect(changes[1]["before"] == .string("old") && changes[1]["after"] == .string("new"))
    }

    @Test("an update changes only the named fields; null clears them")
    func partialAndClearing() throws {
        let f = try Fixture()
        let id = try f.createOrder(#""note":"keep","customer":{"id":"c1"},"metadata":{"a":1},"shipping_address":{"city":"Leeds"}"#)["id"]!.stringValue!
        let r = try f.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","customer":null,"metadata":null}"#)
        #expect(r["customer"] == .null)
        #expect(r["metadata"] == .object([:]))
        #expect(r["note"] == .string("keep"), "fields the request does not name stay")
        #expect(r["shipping_address"] == .object(["city": .string("Leeds")]))
        #expect(try f.call({ $0.orders.listOrders }, #"{"customer_id":"c1"}"#)["data"]?.array.isEmpty == true, "the customer index entry went too")
        #expect(try f.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
    }

    @Test("an update that changes nothing writes nothing and keeps the version")
    func noop() throws {
        let f = try Fixture()
        let id = try f.createOrder(#""note":"same""#)["id"]!.stringValue!
        let before = f.counters
        let r = try f.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","note":"same"}"#)
        #expect(r["version"] == .int(1))
        #expect(f.counters == before)
    }

    @Test("line items keep their ids when edited; unknown ids are refused; totals follow")
    func lineEdits() throws {
        let f = try Fixture()
        let o = try f.createOrder()
        let id = o["id"]!.stringValue!
        let lid = o["line_items"]!.array[0]["id"]!.stringValue!
        let r = try f.call({ $0.orders.updateOrder }, """
            {"id":"\(id)","line_items":[{"id":"\(lid)","title":"Mug","quantity":3,"unit_price":500},{"title":"Plate","quantity":1,"unit_price":250}]}
            """)
        let lines = r["line_items"]!.array
        #expect(lines[0]["id"] == .string(lid))
        #expect(lines[1]["id"]?.stringValue?.hasPrefix("li_") == true)
        #expect(r["total"] == .int(1750))
        #expect(f.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[{"id":"li_forged","title":"x","quantity":1,"unit_price":1}]}"#)?.field == "line_items[0].id")
        #expect(f.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[]}"#)?.code == .invalidArgument)
    }

    @Test("events are appended in order with gap-free sequences, and filter by type with wildcards")
    func eventLog() throws {
        let f = try Fixture()
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try f.createOrder()["id"]!.stringValue!) }
        try f.call({ $0.orders.transitionOrder }, #"{"id":"\#(ids[0])","to":"confirmed"}"#)
        try f.call({ $0.orders.updateOrder }, #"{"id":"\#(ids[1])","note":"n"}"#)
        try f.call({ $0.orders.cancelOrder }, #"{"id":"\#(ids[2])"}"#)
        _ = f.error({ $0.orders.transitionOrder }, #"{"id":"\#(ids[2])","to":"confirmed"}"#)
        let all = try f.events(#"{"limit":1000}"#)
        #expect(all.map { $0["sequence"]!.intValue! } == Array(1...8))
        #expect(all.map { $0["type"]!.stringValue! } == Array(repeating: "order.created", count: 5) + ["order.status_changed", "order.updated", "order.cancelled"])
        #expect(all[5]["order"]?["status"] == .string("confirmed"), "events carry the order as of the event")
        #expect(all[5]["changes"]?.array.first?["field"] == .string("status"))
        // Paging by sequence.
        let page = try f.call({ $0.audit.listEvents }, #"{"after_sequence":3,"limit":2}"#)
        #expect(page["data"]!.array.map { $0["sequence"]!.intValue! } == [4, 5])
        #expect(page["has_more"] == .bool(true))
        #expect(page["last_sequence"] == .int(5))
        #expect(try f.events(#"{"types":["order.status_changed","order.cancelled"]}"#).count == 2)
        #expect(try f.events(#"{"types":["order.*"]}"#).count == 8)
        #expect(try f.events(#"{"types":["payment.*"]}"#).isEmpty)
    }

    @Test("the audit chain verifies, and tampering with a stored entry is detected at that entry")
    func tamper() throws {
        let f = try Fixture()
        for _ in 0..<3 { _ = try f.createOrder() }
        #expect(try f.call({ $0.audit.verifyAudit }, "{}")["ok"] == .bool(true))
        let dir = f.dir
        f.engine.close()
        // Rewrite entry 2's content (keeping its stored hash) directly in LevelDB.
        do {
            let db = try Database(path: dir + "/tenants/shop/db", createIfMissing: false)
            var stored = try db.get(Keyspace.auditKey(2))!
            let text = String(decoding: stored[32...], as: UTF8.self).replacingOccurrences(of: "\"api\"", with: "\"system\"")
            stored = Array(stored[0..<32]) + Array(text.utf8)
            let b = WriteBatch()
            b.put(Keyspace.auditKey(2), stored)
            try db.write(b, sync: true)
        }

        let engine = try Engine(root: dir)
        defer { engine.close() }
        let core = try engine.openTenant("shop").core()
        let r = try JSON.parse(try core.audit.verifyAudit(.object([:])))
        #expect(r["ok"] == .bool(false))
        #expect(r["broken_at"] == .int(2))
        #expect(try JSON.parse(try core.audit.checkIntegrity(.object([:])))["ok"] == .bool(false))
    }

    @Test("deleting the last audit entry is detected against the recorded head")
    func truncation() throws {
        let f = try Fixture()
        for _ in 0..<2 { _ = try f.createOrder() }
        let dir = f.dir
        f.engine.close()
        do {
            let db = try Database(path: dir + "/tenants/shop/db", createIfMissing: false)
            let b = WriteBatch()
            b.delete(Keyspace.auditKey(2))
            try db.write(b, sync: true)
        }
        let engine = try Engine(root: dir)
        defer { engine.close() }
        let r = try JSON.parse(try engine.openTenant("shop").core().audit.verifyAudit(.object([:])))
        #expect(r["ok"] == .bool(false))
        #expect(r["reason"]?.stringValue?.contains("head") == true)
    }
}

@Suite("Listing")
struct ListTests {
    @Test("cursor pages cover every order exactly once even when orders arrive between pages")
    func stability() throws {
        let f = try Fixture()
        var created: [String] = []
        for _ in 0..<25 {
            created.append(try f.createOrder()["id"]!.stringValue!)
            f.clock.advance(milliseconds: 1)
        }
        for sort in ["created_desc", "created_asc"] {
            var seen: [String] = []
            var after: String?
            var pages = 0
            repeat {
                let cursor = after.map { #","starting_after":"\#($0)""# } ?? ""
                let page = try f.call({ $0.orders.listOrders }, #"{"limit":10,"sort":"\#(sort)"\#(cursor)}"#)
                let ids = page["data"]!.array.map { $0["id"]!.stringValue! }
                seen += ids
                after = ids.last
                pages += 1
                // New orders arrive mid-pagination.
                _ = try f.createOrder()
                if page["has_more"] != .bool(true) { break }
            } while pages < 20
            let originals = seen.filter { created.contains($0) }
            #expect(Set(originals).count == originals.count, "no duplicates")
            #expect(Set(originals) == Set(created), "nothing skipped")
            #expect(originals == (sort == "created_asc" ? created : created.reversed()))
        }
    }

    @Test("filters use indexes and combine; created and updated ranges are exclusive")
    func filters() throws {
        let f = try Fixture()
        let t0 = f.clock.nowMilliseconds()
        let a = try f.createOrder(#""channel":"phone","customer":{"id":"c1"}"#)["id"]!.stringValue!
        f.clock.advance(milliseconds: 10)
        let b = try f.createOrder(#""customer":{"id":"c1"}"#)["id"]!.stringValue!
        f.clock.advance(milliseconds: 10)
        let c = try f.createOrder(#""customer":{"id":"c2"}"#)["id"]!.stringValue!
        f.clock.advance(milliseconds: 10)
        try f.call({ $0.orders.transitionOrder }, #"{"id":"\#(a)","to":"confirmed"}"#)
        func ids(_ q: String) throws -> [String] { try f.call({ $0.orders.listOrders }, q)["data"]!.array.map { $0["id"]!.stringValue! } }
        #expect(try ids(#"{"customer_id":"c1"}"#) == [b, a])
        #expect(try ids(#"{"customer_id":"c1","status":"pending"}"#) == [b])
        #expect(try ids(#"{"status":"confirmed"}"#) == [a])
        #expect(try ids(#"{"channel":"phone"}"#) == [a])
        #expect(try ids(#"{"channel":"online","sort":"created_asc"}"#) == [b, c])
        #expect(try ids(#"{"fulfillment_status":"unfulfilled","financial_status":"pending"}"#) == [c, b, a])
        let ts = { (ms: Int64) in Timestamp.format(ms) }
        #expect(try ids(#"{"created_after":"\#(ts(t0))"}"#) == [c, b])
        #expect(try ids(#"{"created_before":"\#(ts(t0 + 20))"}"#) == [b, a])
        #expect(try ids(#"{"sort":"updated_desc"}"#) == [a, c, b])
        #expect(try ids(#"{"sort":"updated_asc","starting_after":"\#(b)"}"#) == [c, a])
        #expect(try ids(#"{"updated_after":"\#(ts(t0 + 20))"}"#) == [a])
        #expect(try ids(#"{"customer_id":"nobody"}"#).isEmpty)
        #expect(f.error({ $0.orders.listOrders }, #"{"limit":0}"#)?.field == "limit")
        #expect(try ids(#"{"status":"lost"}"#).isEmpty)
        #expect(f.error({ $0.orders.listOrders }, #"{"status":"Lost!"}"#)?.field == "status")
        #expect(f.error({ $0.orders.listOrders }, #"{"created_after":"last week"}"#)?.field == "created_after")
    }

    @Test("get by number, and not_found for unknown ids and numbers")
    func getByNumber() throws {
        let f = try Fixture(settings: #"{"order_number_prefix":"SO-","order_number_start":500}"#)
        let o = try f.createOrder()
        #expect(o["number"] == .string("SO-500"))
        #expect(try f.createOrder()["number"] == .string("SO-501"))
        #expect(try f.call({ $0.orders.getOrder }, #"{"number":"SO-500"}"#)["id"] == o["id"])
        #expect(f.error({ $0.orders.getOrder }, #"{"number":"SO-9"}"#)?.code == .notFound)
        #expect(f.error({ $0.orders.getOrder }, #"{"id":"ord_x"}"#)?.code == .notFound)
        #expect(f.error({ $0.orders.getOrder }, #"{}"#)?.code == .invalidArgument)
        #expect(f.error({ $0.orders.getOrder }, #"{"id":"a","number":"b"}"#)?.code == .invalidArgument)
    }
}
