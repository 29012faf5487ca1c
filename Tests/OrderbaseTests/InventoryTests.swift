import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

/// A fixture with locations, and shortcuts for stock.
extension Fixture {
    @discardableResult
    func location(_ body: String) throws -> String {
        try call({ $0.inventory.createLocation }, body)["id"]!.stringValue!
    }

    @discardableResult
    func stock(_ sku: String, at location: String, _ quantity: Int, name: String = "on_hand") throws -> JSON {
        try call({ $0.inventory.set }, #"{"sku":"\#(sku)","location_id":"\#(location)","name":"\#(name)","quantity":\#(quantity),"reason":"cycle_count"}"#)
    }

    func level(_ sku: String, at location: String) throws -> JSON {
        let item = try call({ $0.inventory.getItem }, #"{"sku":"\#(sku)"}"#)
        return item["levels"]!.array.first { $0["location_id"] == .string(location) } ?? .null
    }

    func fulfillmentOrders(of order: String) throws -> [JSON] {
        try call({ $0.inventory.listFulfillmentOrders }, #"{"order_id":"\#(order)"}"#)["data"]!.array.reversed()
    }

    func integrityProblems() throws -> [String] {
        try call({ $0.audit.checkIntegrity }, "{}")["problems"]!.array.compactMap(\.stringValue)
    }
}

@Suite("Inventory")
struct InventoryTests {
    @Test("locations: create with defaults, read, list in routing order, update; bad input changes nothing")
    func locations() throws {
        let fx = try Fixture()
        let a = try fx.call({ $0.inventory.createLocation }, #"{"name":"Leeds DC","address":{"city":"Leeds","country":"GB"},"ships_to":["GB","IE","GB"],"rank":5}"#)
        #expect(a["type"] == .string("warehouse") && a["active"] == .bool(true) && a["fulfills_online_orders"] == .bool(true))
        #expect(a["ships_to"] == .array([.string("GB"), .string("IE")]) && a["address"]?["country"] == .string("GB"))
        let b = try fx.location(#"{"name":"Shop","type":"store","rank":1}"#)
        let list = try fx.call({ $0.inventory.listLocations }, "{}")["data"]!.array
        #expect(list.map { $0["id"]!.stringValue! } == [b, a["id"]!.stringValue!])
        let u = try fx.call({ $0.inventory.updateLocation }, #"{"id":"\#(b)","active":false,"rank":9}"#)
        #expect(u["active"] == .bool(false) && u["rank"] == .int(9))
        #expect(try fx.call({ $0.inventory.listLocations }, #"{"active":false}"#)["data"]!.array.count == 1)
        let before = fx.counters
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","ships_to":["gb"]}"#)?.field == "ships_to[0]")
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","rank":-1}"#)?.field == "rank")
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","address":{"country":"GB","planet":"Mars"}}"#)?.code == .invalidArgument)
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":""}"#)?.field == "name")
        #expect(fx.error({ $0.inventory.updateLocation }, #"{"id":"loc_nope","rank":1}"#)?.code == .notFound)
        #expect(fx.counters == before)
        let audit = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"location"}"#)["data"]!.array
        #expect(audit.count == 3)
    }

    @Test("adjust, set and move change named quantities through movements; available is derived; the ledger sums to the level")
    func ledger() throws {
        let fx = try Fixture()
        let loc = try fx.location(#"{"name":"Main"}"#)
        let r = try fx.call({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","delta":10,"reason":"received","reference":"po:77"}"#)
        #expect(r["levels"]!.array.first?["on_hand"] == .int(10) && r["levels"]!.array.first?["available"] == .int(10))
        #expect(r["movements"]!.array.first?["after"] == .int(10) && r["movements"]!.array.first?["reference"] == .string("po:77"))
        _ = try fx.call({ $0.inventory.move }, #"{"sku":"MUG","location_id":"\#(loc)","from":"available","to":"damaged","quantity":3,"reason":"damaged"}"#)
        _ = try fx.call({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","name":"incoming","delta":20,"reason":"received"}"#)
        _ = try fx.call({ $0.inventory.move }, #"{"sku":"MUG","location_id":"\#(loc)","from":"incoming","to":"available","quantity":5,"reason":"received"}"#)
        _ = try fx.call({ $0.inventory.move }, #"{"sku":"MUG","location_id":"\#(loc)","from":"damaged","to":"reserved","quantity":1,"reason":"movement"}"#)
        let l = try fx.level("MUG", at: loc)
        #expect(l["on_hand"] == .int(15) && l["damaged"] == .int(2) && l["reserved"] == .int(1) && l["incoming"] == .int(15))
        #expect(l["available"] == .int(12))
        let item = try fx.call({ $0.inventory.getItem }, #"{"sku":"MUG"}"#)
        #expect(item["tracked"] == .bool(true) && item["backorder"] == .string("deny") && item["totals"]?["available"] == .int(12))
        // Refusals change nothing.
        let before = fx.counters
        #expect(fx.error({ $0.inventory.move }, #"{"sku":"MUG","location_id":"\#(loc)","from":"available","to":"damaged","quantity":13,"reason":"damaged"}"#)?.details?["reason"] == .string("insufficient_quantity"))
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","name":"damaged","delta":-3,"reason":"correction"}"#)?.code == .invalidState)
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","delta":0,"reason":"correction"}"#)?.field == "delta")
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","name":"committed","delta":1,"reason":"correction"}"#)?.field == "name")
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","delta":1,"reason":"order_committed"}"#)?.field == "reason")
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"loc_none","delta":1,"reason":"correction"}"#)?.code == .notFound)
        #expect(fx.error({ $0.inventory.move }, #"{"sku":"MUG","location_id":"\#(loc)","from":"damaged","to":"incoming","quantity":1,"reason":"movement"}"#)?.field == "to")
        #expect(fx.error({ $0.inventory.move }, #"{"sku":"MUG","location_id":"\#(loc)","from":"damaged","to":"damaged","quantity":1,"reason":"movement"}"#)?.field == "to")
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"","location_id":"\#(loc)","delta":1,"reason":"correction"}"#)?.field == "sku")
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","delta":1000000000001,"reason":"correction"}"#)?.field == "delta")
        #expect(fx.counters == before)
        // set with compare_quantity: a stale compare is a version conflict with the actual value.
        let stale = fx.error({ $0.inventory.set }, #"{"sku":"MUG","location_id":"\#(loc)","quantity":40,"compare_quantity":14,"reason":"cycle_count"}"#)
        #expect(stale?.code == .versionConflict && stale?.details?["actual"] == .int(15) && stale?.details?["expected"] == .int(14))
        let set = try fx.call({ $0.inventory.set }, #"{"sku":"MUG","location_id":"\#(loc)","quantity":40,"compare_quantity":15,"reason":"cycle_count"}"#)
        #expect(set["movements"]!.array.first?["delta"] == .int(25))
        // Setting the value it has writes nothing.
        let quiet = fx.counters
        #expect(try fx.call({ $0.inventory.set }, #"{"sku":"MUG","location_id":"\#(loc)","quantity":40,"reason":"cycle_count"}"#)["movements"] == .array([]))
        #expect(fx.counters.eventSeq == quiet.eventSeq)
        let ledger = try fx.call({ $0.inventory.listMovements }, #"{"sku":"MUG"}"#)["data"]!.array
        #expect(ledger.count == 8 && ledger.first?["reason"] == .string("cycle_count"))  // newest first
        #expect(try fx.call({ $0.inventory.listMovements }, #"{"reference":"po:77"}"#)["data"]!.array.count == 1)
        let page = try fx.call({ $0.inventory.listMovements }, #"{"location_id":"\#(loc)","limit":3}"#)
        #expect(page["has_more"] == .bool(true))
        let next = try fx.call({ $0.inventory.listMovements }, #"{"location_id":"\#(loc)","limit":10,"starting_after":"\#(page["data"]!.array[2]["id"]!.stringValue!)"}"#)
        #expect(next["data"]!.array.count == 5)
        // A time window: two movements an hour later; the window bounds are exclusive.
        let t0 = fx.clock.nowMilliseconds()
        fx.clock.advance(milliseconds: 3_600_000)
        _ = try fx.call({ $0.inventory.adjust }, #"{"sku":"MUG","location_id":"\#(loc)","delta":1,"reason":"correction"}"#)
        _ = try fx.call({ $0.inventory.adjust }, #"{"sku":"TEE","location_id":"\#(loc)","delta":1,"reason":"correction"}"#)
        let t1 = fx.clock.nowMilliseconds()
        let stamp = { (ms: Int64) in Timestamp.format(ms) }
        #expect(try fx.call({ $0.inventory.listMovements }, #"{"created_after":"\#(stamp(t0))"}"#)["data"]!.array.count == 2)
        #expect(try fx.call({ $0.inventory.listMovements }, #"{"sku":"MUG","created_after":"\#(stamp(t0))"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.inventory.listMovements }, #"{"sku":"MUG","created_before":"\#(stamp(t1))"}"#)["data"]!.array.count == 8)
        #expect(try fx.call({ $0.inventory.listMovements }, #"{"created_after":"\#(stamp(t1))"}"#)["data"]!.array.isEmpty)
        #expect(fx.error({ $0.inventory.listMovements }, #"{"created_after":"yesterday"}"#)?.field == "created_after")
        let events = try fx.events(#"{"types":["inventory_level.updated"]}"#)
        #expect(events.count == 8 && events[5]["data"]?["level"]?["on_hand"] == .int(40))
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("adjust_many and set_many are one write, all or nothing; set_many applies in order; idempotency keys replay")
    func bulk() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#), b = try fx.location(#"{"name":"B"}"#)
        var changes: [String] = []
        for n in 0..<2000 { changes.append(#"{"sku":"S\#(n)","location_id":"\#(n % 2 == 0 ? a : b)","quantity":\#(n + 1)}"#) }
        let counted = try fx.call({ $0.inventory.setMany }, #"{"quantities":[\#(changes.joined(separator: ","))],"reason":"cycle_count"}"#)
        #expect(counted["levels"]!.array.count == 2000)
        #expect(try fx.level("S1999", at: b)["on_hand"] == .int(2000))
        // One bad entry at the end: nothing of the call is written.
        let before = fx.counters
        let e = fx.error({ $0.inventory.adjustMany }, #"{"changes":[{"sku":"S0","location_id":"\#(a)","delta":5},{"sku":"S2","location_id":"\#(a)","delta":-99}],"reason":"correction"}"#)
        #expect(e?.code == .invalidState && e?.field == "changes[1].delta")
        let s0 = try fx.level("S0", at: a)
        #expect(fx.counters == before && s0["on_hand"] == .int(1))
        // In order: the second entry for a level sees the first.
        let r = try fx.call({ $0.inventory.setMany }, #"{"quantities":[{"sku":"S0","location_id":"\#(a)","quantity":7},{"sku":"S0","location_id":"\#(a)","quantity":9,"compare_quantity":7}],"reason":"cycle_count"}"#)
        #expect(r["movements"]!.array.map { $0["delta"] } == [.int(6), .int(2)] && r["levels"]!.array.count == 1)
        // Idempotency: the same request answers the same; another request with the key is refused.
        let req = #"{"sku":"S0","location_id":"\#(a)","delta":1,"reason":"correction","idempotency_key":"k1"}"#
        let first = try fx.call({ $0.inventory.adjust }, req)
        let seq = fx.counters.eventSeq
        #expect(try fx.call({ $0.inventory.adjust }, req) == first && fx.counters.eventSeq == seq)
        #expect(fx.error({ $0.inventory.adjust }, #"{"sku":"S0","location_id":"\#(a)","delta":2,"reason":"correction","idempotency_key":"k1"}"#)?.code == .idempotencyMismatch)
        #expect(fx.error({ $0.inventory.set }, #"{"sku":"S0","location_id":"\#(a)","quantity":1,"reason":"correction","idempotency_key":"k1"}"#)?.code == .idempotencyMismatch)
        #expect(try fx.level("S0", at: a)["on_hand"] == .int(10))
        #expect(fx.error({ $0.inventory.adjustMany }, #"{"changes":[],"reason":"correction"}"#)?.field == "changes")
        #expect(fx.error({ $0.inventory.adjustMany }, #"{"changes":[{"sku":"S0","location_id":"\#(a)","delta":1,"x":1}],"reason":"correction"}"#)?.code == .invalidArgument)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("an order commits its tracked lines at one location when one has everything, in its own write")
    func commitAtOneLocation() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A","rank":1}"#), b = try fx.location(#"{"name":"B","rank":2}"#)
        try fx.stock("MUG", at: a, 1); try fx.stock("MUG", at: b, 5); try fx.stock("TEE", at: b, 5)
        let o = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":2,"unit_price":500},{"sku":"TEE","title":"Tee","quantity":1,"unit_price":900},{"title":"Gift wrap","quantity":1,"unit_price":100},{"sku":"NEW","title":"Unknown SKU","quantity":1,"unit_price":1}]"#)
        let fos = try fx.fulfillmentOrders(of: o["id"]!.stringValue!)
        #expect(fos.count == 1 && fos[0]["location_id"] == .string(b) && fos[0]["status"] == .string("open"))
        // Every line is in it; only the tracked ones hold stock (gift wrap has no SKU, NEW is unknown to inventory).
        #expect(fos[0]["lines"]!.array.map { $0["sku"] } == [.string("MUG"), .string("TEE"), .null, .string("NEW")])
        #expect(fos[0]["lines"]!.array.map { $0["tracked"] } == [.bool(true), .bool(true), .bool(false), .bool(false)])
        #expect(o["fulfillment_status"] == .string("unfulfilled"))
        #expect(fos[0]["lines"]!.array[0]["line_item_id"] == o["line_items"]!.array[0]["id"])
        let mug = try fx.level("MUG", at: b)
        #expect(mug["committed"] == .int(2) && mug["available"] == .int(3) && mug["on_hand"] == .int(5))
        #expect(try fx.level("MUG", at: a)["committed"] == .int(0))
        let moved = try fx.call({ $0.inventory.listMovements }, #"{"reference":"order:\#(o["id"]!.stringValue!)"}"#)["data"]!.array
        #expect(moved.count == 2 && moved.allSatisfy { $0["reason"] == .string("order_committed") && $0["quantity"] == .string("committed") })
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("lines go whole to the first location that has them; a short order fails naming each line and what each location has")
    func splitAndShort() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A","rank":1}"#), b = try fx.location(#"{"name":"B","rank":2}"#)
        try fx.stock("MUG", at: a, 2); try fx.stock("TEE", at: b, 3); try fx.stock("MUG", at: b, 1)
        let o = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":2,"unit_price":500},{"sku":"TEE","title":"Tee","quantity":3,"unit_price":900}]"#)
        let fos = try fx.fulfillmentOrders(of: o["id"]!.stringValue!)
        #expect(Set(fos.map { $0["location_id"]!.stringValue! }) == [a, b] && fos.count == 2)
        let before = fx.counters
        let e = fx.error({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5},{"sku":"TEE","title":"Tee","quantity":1,"unit_price":5}]}"#)
        // MUG is left at B only (1), TEE nowhere: the MUG line would place, the TEE line is short.
        #expect(e?.code == .invalidState && e?.details?["reason"] == .string("insufficient_stock") && e?.field == "line_items[1].quantity")
        let short = e?.details?["short"]?.array ?? []
        #expect(short.count == 1 && short.first?["sku"] == .string("TEE") && short.first?["requested"] == .int(1) && short.first?["line_index"] == .int(1))
        #expect(short.first?["available"]?.array.map { $0["location_id"]!.stringValue! } == [a, b])
        #expect(short.first?["available"]?.array.map { $0["available"] } == [.int(0), .int(0)])
        #expect(fx.counters == before)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("routing skips inactive locations, those that do not fulfill online orders, and those that do not ship to the country")
    func candidates() throws {
        let fx = try Fixture()
        let off = try fx.location(#"{"name":"Off","rank":0,"active":false}"#)
        let store = try fx.location(#"{"name":"Store","rank":1,"fulfills_online_orders":false}"#)
        let de = try fx.location(#"{"name":"Berlin","rank":2,"ships_to":["DE","AT"]}"#)
        let gb = try fx.location(#"{"name":"Leeds","rank":3,"ships_to":["GB"]}"#)
        for l in [off, store, de, gb] { try fx.stock("MUG", at: l, 10) }
        func placed(_ country: String?) throws -> String? {
            let address = country.map { #","shipping_address":{"country":"\#($0)"}"# } ?? ""
            let o = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5}]\#(address)}"#)
            return try fx.fulfillmentOrders(of: o["id"]!.stringValue!).first?["location_id"]?.stringValue
        }
        #expect(try placed("GB") == gb)
        #expect(try placed("AT") == de)
        #expect(try placed(nil) == de)
        let e = fx.error({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5}],"shipping_address":{"country":"US"}}"#)
        #expect(e?.details?["reason"] == .string("insufficient_stock") && e?.message.contains("ships to US") == true)
    }

    @Test("backorders: a SKU that allows them commits what is there and the rest in a fulfillment order on hold (out_of_stock)")
    func backorders() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("PRE", at: a, 2)
        _ = try fx.call({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder":"allow"}"#)
        let o = try fx.createOrder(lines: #"[{"sku":"PRE","title":"Preorder","quantity":5,"unit_price":500}]"#)
        let fos = try fx.fulfillmentOrders(of: o["id"]!.stringValue!)
        #expect(fos.map { $0["status"] } == [.string("open"), .string("on_hold")])
        #expect(fos.map { $0["lines"]!.array[0]["quantity"] } == [.int(2), .int(3)] && fos[1]["hold_reason"] == .string("out_of_stock"))
        let l = try fx.level("PRE", at: a)
        #expect(l["committed"] == .int(5) && l["available"] == .int(-3))
        let problems = try fx.integrityProblems()
        #expect(problems == [])
        // Untracked: no commitment at all.
        _ = try fx.call({ $0.inventory.updateItem }, #"{"sku":"PRE","tracked":false}"#)
        let free = try fx.createOrder(lines: #"[{"sku":"PRE","title":"Preorder","quantity":50,"unit_price":500}]"#)
        #expect(try fx.fulfillmentOrders(of: free["id"]!.stringValue!).map { $0["lines"]!.array[0]["tracked"] } == [.bool(false)])
        #expect(try fx.level("PRE", at: a)["committed"] == .int(5))
    }

    @Test("cancelling an order releases its commitment in the cancellation's write; its lines cannot change while committed")
    func release() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 3)
        let o = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":500}]"#)
        let id = o["id"]!.stringValue!
        let e = fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":500}]}"#)
        #expect(e?.code == .invalidState && e?.details?["reason"] == .string("stock_committed"))
        #expect(fx.error({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5}]}"#)?.code == .invalidState)
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)","reason":"customer"}"#)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(0))
        #expect(try fx.fulfillmentOrders(of: id).map { $0["status"] } == [.string("cancelled")])
        let released = try fx.call({ $0.inventory.listMovements }, #"{"reference":"order:\#(id)"}"#)["data"]!.array
        #expect(released.first?["reason"] == .string("order_released") && released.first?["delta"] == .int(-3))
        _ = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":500}]"#)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("eight threads racing for the last units never oversell: committed never exceeds on hand")
    func race() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#), b = try fx.location(#"{"name":"B"}"#)
        try fx.stock("HOT", at: a, 150); try fx.stock("HOT", at: b, 50)
        let core = fx.core
        final class Tally: @unchecked Sendable {
            let lock = Mutex()
            var won: Int64 = 0, short = 0, other: [String] = []
        }
        let tally = Tally()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for n in 0..<400 {
                let q = 1 + (t + n) % 3
                do {
                    _ = try core.orders.createOrder(try JSON.parse(#"{"line_items":[{"sku":"HOT","title":"Hot","quantity":\#(q),"unit_price":5}]}"#))
                    tally.lock.withLock { tally.won += Int64(q) }
                } catch let e as OrderbaseError where e.details?["reason"] == .string("insufficient_stock") {
                    tally.lock.withLock { tally.short += 1 }
                } catch {
                    tally.lock.withLock { tally.other.append("\(error)") }
                }
            }
        }
        let la = try fx.level("HOT", at: a), lb = try fx.level("HOT", at: b)
        #expect(tally.other == [])
        #expect(la["committed"]!.intValue! <= 150 && lb["committed"]!.intValue! <= 50)
        #expect(la["available"]!.intValue! >= 0 && lb["available"]!.intValue! >= 0)
        #expect(la["committed"]!.intValue! + lb["committed"]!.intValue! == tally.won)
        #expect(tally.won >= 198 && tally.short > 0)  // at most one unit left over per location (quantities 1–3)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("transfers leave the source's on hand when sent, arrive as incoming, and become on hand when received; receipts release backorders")
    func transfers() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#), b = try fx.location(#"{"name":"B"}"#)
        try fx.stock("MUG", at: a, 10)
        _ = try fx.call({ $0.inventory.updateItem }, #"{"sku":"MUG","backorder":"allow"}"#)
        _ = try fx.call({ $0.inventory.updateLocation }, #"{"id":"\#(a)","fulfills_online_orders":false}"#)
        // B has none: an order backorders there.
        let o = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":4,"unit_price":5}]"#)
        #expect(o["fulfillment_status"] == .string("on_hold"))
        let t = try fx.call({ $0.inventory.createTransfer }, #"{"from_location_id":"\#(a)","to_location_id":"\#(b)","lines":[{"sku":"MUG","quantity":3},{"sku":"MUG","quantity":3}],"reference":"slip-9"}"#)
        #expect(t["status"] == .string("in_transit") && t["lines"]!.array.map { $0["quantity"] } == [.int(6)])
        #expect(try fx.level("MUG", at: a)["on_hand"] == .int(4) && (try fx.level("MUG", at: b))["incoming"] == .int(6))
        let id = t["id"]!.stringValue!
        let part = try fx.call({ $0.inventory.receiveTransfer }, #"{"id":"\#(id)","lines":[{"sku":"MUG","quantity":2}]}"#)
        #expect(part["status"] == .string("partially_received"))
        #expect(try fx.order(o["id"]!.stringValue!)["fulfillment_status"] == .string("on_hold"))  // 2 of 4
        let full = try fx.call({ $0.inventory.receiveTransfer }, #"{"id":"\#(id)"}"#)
        #expect(full["status"] == .string("received") && full["lines"]!.array[0]["received"] == .int(6))
        let lb = try fx.level("MUG", at: b)
        #expect(lb["on_hand"] == .int(6) && lb["incoming"] == .int(0) && lb["committed"] == .int(4) && lb["available"] == .int(2))
        #expect(try fx.order(o["id"]!.stringValue!)["fulfillment_status"] == .string("unfulfilled"))
        // Refusals change nothing.
        let before = fx.counters
        #expect(fx.error({ $0.inventory.receiveTransfer }, #"{"id":"\#(id)"}"#)?.details?["reason"] == .string("nothing_left"))
        #expect(fx.error({ $0.inventory.createTransfer }, #"{"from_location_id":"\#(a)","to_location_id":"\#(a)","lines":[{"sku":"MUG","quantity":1}]}"#)?.details?["reason"] == .string("same_location"))
        #expect(fx.error({ $0.inventory.createTransfer }, #"{"from_location_id":"\#(a)","to_location_id":"\#(b)","lines":[{"sku":"MUG","quantity":5}]}"#)?.details?["reason"] == .string("insufficient_quantity"))
        #expect(fx.error({ $0.inventory.createTransfer }, #"{"from_location_id":"\#(a)","to_location_id":"\#(b)","lines":[]}"#)?.field == "lines")
        #expect(fx.counters == before)
        #expect(try fx.call({ $0.inventory.listTransfers }, #"{"status":"received"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.inventory.listMovements }, #"{"reference":"transfer:\#(id)"}"#)["data"]!.array.count == 6)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("integrity.check finds a level that no longer equals its ledger, and a committed quantity no fulfillment order holds")
    func integrity() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 5)
        _ = try fx.createOrder(lines: #"[{"sku":"MUG","title":"Mug","quantity":2,"unit_price":5}]"#)
        var level = try InventoryLevel.decode(try fx.core.database.get(Keyspace.inventoryLevelKey(sku: "MUG", location: a))!)
        level.onHand = 6
        level.committed = 1
        let b = WriteBatch()
        b.put(Keyspace.inventoryLevelKey(sku: "MUG", location: a), level.storedJSON)
        try fx.core.database.write(b, sync: true)
        let problems = try fx.integrityProblems()
        #expect(problems.contains { $0.contains("on_hand is 6 but its movements sum to 5") })
        #expect(problems.contains { $0.contains("committed is 1 but open fulfillment orders hold 2") })
    }
}
