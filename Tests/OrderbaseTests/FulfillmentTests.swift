import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

extension Fixture {
    func order(_ id: String) throws -> JSON { try call({ $0.orders.getOrder }, #"{"id":"\#(id)"}"#) }
    func fo(_ id: String) throws -> JSON { try call({ $0.inventory.getFulfillmentOrder }, #"{"id":"\#(id)"}"#) }
}

@Suite("Fulfillment")
struct FulfillmentTests {
    /// Two warehouses (A ranked first) with mugs and tees, and an order for 3 mugs and 1 tee at A.
    func shop() throws -> (Fixture, a: String, b: String, order: String, fo: String, mugLine: String, teeLine: String) {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A","rank":1,"ships_to":["GB"]}"#), b = try fx.location(#"{"name":"B","rank":2}"#)
        try fx.stock("MUG", at: a, 10); try fx.stock("TEE", at: a, 10); try fx.stock("MUG", at: b, 10); try fx.stock("TEE", at: b, 1)
        let o = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":500},{"sku":"TEE","title":"Tee","quantity":1,"unit_price":900}],"shipping_address":{"country":"GB"}}"#)
        let id = o["id"]!.stringValue!
        let fo = try fx.fulfillmentOrders(of: id)[0]
        let lines = o["line_items"]!.array.map { $0["id"]!.stringValue! }
        return (fx, a, b, id, fo["id"]!.stringValue!, lines[0], lines[1])
    }

    @Test("shipments consume committed stock; the order's fulfillment_status follows: partially_fulfilled, then fulfilled")
    func shipInParts() throws {
        let (fx, a, _, order, fo, mug, _) = try shop()
        let s1 = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":2}],"tracking":{"carrier":"DHL","number":"JD01","url":"https://track.example/JD01"},"notify_customer":true}"#)
        #expect(s1["status"] == .string("confirmed") && s1["lines"]!.array.first?["quantity"] == .int(2) && s1["tracking"]?["number"] == .string("JD01"))
        var l = try fx.level("MUG", at: a)
        #expect(l["on_hand"] == .int(8) && l["committed"] == .int(1) && l["available"] == .int(7))
        #expect(try fx.fo(fo)["status"] == .string("in_progress"))
        #expect(try fx.order(order)["fulfillment_status"] == .string("partially_fulfilled"))
        // The rest: everything unshipped by default.
        let s2 = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)"}"#)
        #expect(s2["lines"]!.array.map { $0["quantity"] } == [.int(1), .int(1)])
        l = try fx.level("MUG", at: a)
        #expect(l["on_hand"] == .int(7) && l["committed"] == .int(0))
        let closed = try fx.fo(fo)
        #expect(closed["status"] == .string("closed") && closed["supported_actions"] == .array([]))
        #expect(try fx.order(order)["fulfillment_status"] == .string("fulfilled"))
        // Nothing left: refused, nothing written.
        let before = fx.counters
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)"}"#)?.details?["reason"] == .string("action_not_supported"))
        #expect(fx.counters == before)
        // Carrier news.
        let delivered = try fx.call({ $0.inventory.updateShipmentStatus }, #"{"id":"\#(s1["id"]!.stringValue!)","status":"delivered"}"#)
        #expect(delivered["status"] == .string("delivered") && delivered["delivered_at"] != .null)
        let events = try fx.events(#"{"types":["shipment.*"]}"#)
        #expect(events.map { $0["type"]!.stringValue! } == ["shipment.created", "shipment.created", "shipment.delivered"])
        #expect(events.allSatisfy { $0["order_id"] == .string(order) && $0["order"]?["id"] == .string(order) })
        #expect(events[1]["order"]?["fulfillment_status"] == .string("fulfilled"))
        #expect(events[0]["data"]?["notify_customer"] == .bool(true))
        let listed = try fx.call({ $0.inventory.listShipments }, #"{"order_id":"\#(order)"}"#)["data"]!.array
        #expect(listed.count == 2 && listed[0]["id"] == s2["id"])
        let shipped = try fx.call({ $0.inventory.listMovements }, #"{"reference":"shipment:\#(s1["id"]!.stringValue!)"}"#)["data"]!.array
        #expect(shipped.count == 2 && shipped.allSatisfy { $0["reason"] == .string("order_fulfilled") })
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("bad shipments are refused and change nothing: too many, unknown lines, a hostile tracking URL")
    func badShipments() throws {
        let (fx, _, _, _, fo, mug, _) = try shop()
        let before = fx.counters
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":4}]}"#)?.details?["reason"] == .string("insufficient_quantity"))
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"li_nope","quantity":1}]}"#)?.code == .notFound)
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[]}"#)?.field == "lines")
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","tracking":{"url":"javascript:alert(1)"}}"#)?.field == "tracking.url")
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","tracking":{"colour":"red"}}"#)?.code == .invalidArgument)
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"fo_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.inventory.updateShipmentStatus }, #"{"id":"shp_nope","status":"delivered"}"#)?.code == .notFound)
        #expect(fx.counters == before)
        // Idempotent: the same request answers the same shipment once.
        let req = #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":1}],"idempotency_key":"ship-1"}"#
        let first = try fx.call({ $0.inventory.createShipment }, req)
        #expect(try fx.call({ $0.inventory.createShipment }, req) == first)
        #expect(try fx.fo(fo)["lines"]!.array[0]["shipped"] == .int(1))
    }

    @Test("hold and release: no shipping while held; the order shows on_hold while every fulfillment order waits")
    func holds() throws {
        let (fx, _, _, order, fo, _, _) = try shop()
        let held = try fx.call({ $0.inventory.holdFulfillmentOrder }, #"{"id":"\#(fo)","reason":"incorrect_address","note":"check the flat number"}"#)
        #expect(held["status"] == .string("on_hold") && held["hold_reason"] == .string("incorrect_address"))
        #expect(held["supported_actions"]!.array.contains(.string("release_hold")) && !held["supported_actions"]!.array.contains(.string("ship")))
        #expect(try fx.order(order)["fulfillment_status"] == .string("on_hold"))
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)"}"#)?.code == .invalidState)
        #expect(fx.error({ $0.inventory.holdFulfillmentOrder }, #"{"id":"\#(fo)","reason":"other"}"#)?.code == .invalidState)
        #expect(fx.error({ $0.inventory.holdFulfillmentOrder }, #"{"id":"\#(fo)","reason":"whim"}"#)?.field == "reason")
        let free = try fx.call({ $0.inventory.releaseFulfillmentOrderHold }, #"{"id":"\#(fo)"}"#)
        #expect(free["status"] == .string("open") && free["hold_reason"] == .null)
        #expect(try fx.order(order)["fulfillment_status"] == .string("unfulfilled"))
        let trail = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"fulfillment_order","subject_id":"\#(fo)"}"#)["data"]!.array
        #expect(trail.map { $0["action"]!.stringValue! } == ["fulfillment_order.created", "fulfillment_order.held", "fulfillment_order.hold_released"])
        #expect(trail.allSatisfy { $0["order_id"] == .string(order) })
    }

    @Test("move: the unshipped part goes to a location that has it; commitment moves with it; refusals name why")
    func move() throws {
        let (fx, a, b, order, fo, mug, _) = try shop()
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        let before = fx.counters
        #expect(fx.error({ $0.inventory.moveFulfillmentOrder }, #"{"id":"\#(fo)","location_id":"\#(a)"}"#)?.details?["reason"] == .string("same_location"))
        // B has only 1 tee: fine (the order needs 1); but first make B short of mugs.
        try fx.stock("MUG", at: b, 1)
        let short = fx.error({ $0.inventory.moveFulfillmentOrder }, #"{"id":"\#(fo)","location_id":"\#(b)"}"#)
        #expect(short?.details?["reason"] == .string("insufficient_stock") && short?.details?["short"]?.array.first?["sku"] == .string("MUG"))
        #expect(fx.counters.eventSeq == before.eventSeq + 1)  // only the stock count
        try fx.stock("MUG", at: b, 10)
        let moved = try fx.call({ $0.inventory.moveFulfillmentOrder }, #"{"id":"\#(fo)","location_id":"\#(b)"}"#)
        #expect(moved["location_id"] == .string(b) && moved["status"] == .string("open"))
        #expect(moved["lines"]!.array.map { $0["quantity"] } == [.int(2), .int(1)])
        let old = try fx.fo(fo)
        #expect(old["status"] == .string("closed") && old["merged_into"] == moved["id"] && old["lines"]!.array.map { $0["quantity"] } == [.int(1), .int(0)])
        #expect(try fx.level("MUG", at: a)["committed"] == .int(0) && (try fx.level("MUG", at: b))["committed"] == .int(2))
        #expect(try fx.level("TEE", at: b)["available"] == .int(0))
        #expect(try fx.order(order)["fulfillment_status"] == .string("partially_fulfilled"))
        #expect(try fx.fulfillmentOrders(of: order).count == 2)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("split and merge keep the commitment where it is; a split must leave something")
    func splitMerge() throws {
        let (fx, a, _, _, fo, mug, tee) = try shop()
        let r = try fx.call({ $0.inventory.splitFulfillmentOrder }, #"{"id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":2},{"line_item_id":"\#(tee)","quantity":1}]}"#)
        let both = r["data"]!.array
        #expect(both.count == 2 && both[0]["lines"]!.array.map { $0["quantity"] } == [.int(1)] && both[1]["lines"]!.array.map { $0["quantity"] } == [.int(2), .int(1)])
        #expect(try fx.level("MUG", at: a)["committed"] == .int(3))
        let newID = both[1]["id"]!.stringValue!
        #expect(fx.error({ $0.inventory.splitFulfillmentOrder }, #"{"id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":1}]}"#)?.details?["reason"] == .string("nothing_left"))
        #expect(fx.error({ $0.inventory.splitFulfillmentOrder }, #"{"id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":5}]}"#)?.details?["reason"] == .string("insufficient_quantity"))
        let merged = try fx.call({ $0.inventory.mergeFulfillmentOrders }, #"{"id":"\#(newID)","into":"\#(fo)"}"#)
        #expect(merged["lines"]!.array.map { $0["quantity"] } == [.int(3), .int(1)])
        #expect(try fx.fo(newID)["status"] == .string("closed"))
        #expect(fx.error({ $0.inventory.mergeFulfillmentOrders }, #"{"id":"\#(fo)","into":"\#(fo)"}"#)?.code == .invalidState)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(3))
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("cancelling a fulfillment order releases its unshipped units; one partly shipped ends incomplete")
    func cancel() throws {
        let (fx, a, _, order, fo, mug, _) = try shop()
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        let c = try fx.call({ $0.inventory.cancelFulfillmentOrder }, #"{"id":"\#(fo)","reason":"customer changed their mind"}"#)
        #expect(c["status"] == .string("incomplete") && c["lines"]!.array.map { $0["quantity"] } == [.int(1), .int(0)])
        let l = try fx.level("MUG", at: a)
        #expect(l["committed"] == .int(0) && l["on_hand"] == .int(9))
        #expect(try fx.order(order)["fulfillment_status"] == .string("fulfilled"))  // all that is left to ship has shipped
        // Cancelling the order afterwards has nothing more to release.
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(order)"}"#)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("reschedule: a future fulfill_at makes it scheduled; the scheduler opens it on time")
    func reschedule() throws {
        let (fx, _, _, order, fo, _, _) = try shop()
        let now = fx.clock.nowMilliseconds()
        let at = Timestamp.format(now + 3_600_000)
        let r = try fx.call({ $0.inventory.rescheduleFulfillmentOrder }, #"{"id":"\#(fo)","fulfill_at":"\#(at)"}"#)
        #expect(r["status"] == .string("scheduled") && r["fulfill_at"] == .string(at))
        #expect(try fx.order(order)["fulfillment_status"] == .string("scheduled"))
        #expect(try fx.core.runDueTimers() == 0)
        fx.clock.advance(milliseconds: 3_600_000)
        #expect(try fx.core.runDueTimers() == 1)
        #expect(try fx.fo(fo)["status"] == .string("open"))
        #expect(try fx.order(order)["fulfillment_status"] == .string("unfulfilled"))
        #expect(fx.error({ $0.inventory.rescheduleFulfillmentOrder }, #"{"id":"\#(fo)","fulfill_by":null}"#)?.field == "fulfill_at")
        #expect(try fx.events(#"{"types":["fulfillment_order.opened"]}"#).count == 1)
    }

    @Test("backorders wait on hold and are released, oldest first, when stock arrives")
    func backorderRelease() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        _ = try fx.call({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder":"allow"}"#)
        let first = try fx.createOrder(lines: #"[{"sku":"PRE","title":"Preorder","quantity":3,"unit_price":500}]"#)
        let second = try fx.createOrder(lines: #"[{"sku":"PRE","title":"Preorder","quantity":1,"unit_price":500}]"#)
        #expect(first["fulfillment_status"] == .string("on_hold") && second["fulfillment_status"] == .string("on_hold"))
        let fo1 = try fx.fulfillmentOrders(of: first["id"]!.stringValue!)[0]["id"]!.stringValue!
        let fo2 = try fx.fulfillmentOrders(of: second["id"]!.stringValue!)[0]["id"]!.stringValue!
        #expect(try fx.level("PRE", at: a)["available"] == .int(-4))
        #expect(fx.error({ $0.inventory.releaseFulfillmentOrderHold }, #"{"id":"\#(fo2)"}"#)?.details?["reason"] == .string("insufficient_stock"))
        #expect(fx.error({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo1)"}"#)?.code == .invalidState)
        // Two arrive: not enough for the oldest (3), and the younger one (1) waits behind it.
        _ = try fx.call({ $0.inventory.adjust }, #"{"sku":"PRE","location_id":"\#(a)","delta":2,"reason":"received"}"#)
        #expect(try fx.fo(fo1)["status"] == .string("on_hold") && (try fx.fo(fo2))["status"] == .string("on_hold"))
        // Two more: both are covered, released in order.
        _ = try fx.call({ $0.inventory.adjust }, #"{"sku":"PRE","location_id":"\#(a)","delta":2,"reason":"received"}"#)
        #expect(try fx.fo(fo1)["status"] == .string("open") && (try fx.fo(fo2))["status"] == .string("open"))
        #expect(try fx.order(first["id"]!.stringValue!)["fulfillment_status"] == .string("unfulfilled"))
        let released = try fx.events(#"{"types":["fulfillment_order.hold_released"]}"#)
        #expect(released.map { $0["subject"]?["id"]?.stringValue } == [fo1, fo2])
        let l = try fx.level("PRE", at: a)
        #expect(l["available"] == .int(0) && l["committed"] == .int(4))
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo1)"}"#)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("backorder_locations: a SKU may be backordered at some locations only; routing backorders at the first that allows it; a backorder moves only to one that allows it")
    func backorderPerLocation() throws {
        let fx = try Fixture()
        let w = try fx.location(#"{"name":"Warehouse","rank":1}"#)
        let d = try fx.location(#"{"name":"Supplier","rank":2,"type":"drop_shipper"}"#)
        try fx.stock("PRE", at: w, 1)
        let before = fx.counters
        #expect(fx.error({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder_locations":{"loc_nope":"allow"}}"#)?.field == "backorder_locations.loc_nope")
        #expect(fx.error({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder_locations":{"warehouse":"allow"}}"#)?.field == "backorder_locations")
        #expect(fx.error({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder_locations":{"\#(d)":"maybe"}}"#)?.field == "backorder_locations." + d)
        #expect(fx.error({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder_locations":["\#(d)"]}"#)?.field == "backorder_locations")
        #expect(fx.counters == before)
        // Items stored by the previous release have no backorder_locations: their backorder applies everywhere.
        #expect(try InventoryItem.decode(Array(#"{"sku":"OLD","tracked":true,"backorder":"allow"}"#.utf8)).allowsBackorder(at: w))
        let item = try fx.call({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder_locations":{"\#(d)":"allow"}}"#)
        #expect(item["backorder"] == .string("deny") && item["backorder_locations"] == .object([d: .string("allow")]))
        // Three wanted, the warehouse has one and denies: the supplier takes the backorder.
        let big = try fx.createOrder(lines: #"[{"sku":"PRE","title":"Preorder","quantity":3,"unit_price":500}]"#)
        let fos = try fx.fulfillmentOrders(of: big["id"]!.stringValue!)
        #expect(fos.map { $0["location_id"]!.stringValue! } == [d] && fos[0]["status"] == .string("on_hold") && fos[0]["hold_reason"] == .string("out_of_stock"))
        #expect(try fx.level("PRE", at: w)["committed"] == .int(0) && (try fx.level("PRE", at: d))["available"] == .int(-3))
        // One wanted: the warehouse has it.
        let small = try fx.createOrder(lines: #"[{"sku":"PRE","title":"Preorder","quantity":1,"unit_price":500}]"#)
        #expect(try fx.fulfillmentOrders(of: small["id"]!.stringValue!).map { $0["location_id"]!.stringValue! } == [w])
        #expect(try fx.level("PRE", at: w)["available"] == .int(0))
        // The backorder cannot move to the warehouse, which denies backorders of PRE.
        let mark = fx.counters
        let refused = fx.error({ $0.inventory.moveFulfillmentOrder }, #"{"id":"\#(fos[0]["id"]!.stringValue!)","location_id":"\#(w)"}"#)
        #expect(refused?.code == .invalidState && refused?.details?["reason"] == .string("backorder_denied"))
        #expect(fx.counters == mark)
        // Cleared: no location takes backorders, so the next short order fails.
        _ = try fx.call({ $0.inventory.updateItem }, #"{"sku":"PRE","backorder_locations":{}}"#)
        #expect(fx.error({ $0.orders.createOrder }, #"{"line_items":[{"sku":"PRE","title":"Preorder","quantity":1,"unit_price":500}]}"#)?.details?["reason"] == .string("insufficient_stock"))
        #expect(try fx.level("PRE", at: w)["available"] == .int(0))
        #expect(try fx.integrityProblems() == [])
    }

    @Test("orders.audit with related: the order's entries interleaved with its fulfillment orders' and shipments', in chain order")
    func relatedAudit() throws {
        let (fx, _, _, order, fo, mug, _) = try shop()
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(mug)","quantity":1}]}"#)
        _ = try fx.call({ $0.inventory.holdFulfillmentOrder }, #"{"id":"\#(fo)","reason":"other","note":"dented box"}"#)
        let own = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(order)"}"#)["data"]!.array
        let all = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(order)","related":true}"#)["data"]!.array
        #expect(own.allSatisfy { $0["subject"]?["type"] == .string("order") })
        let actions = all.map { $0["action"]!.stringValue! }
        #expect(actions.first == "order.created" && actions.contains("fulfillment_order.created"))
        #expect(actions.contains("shipment.created") && actions.last == "fulfillment_order.held")
        #expect(all.map { $0["seq"]!.intValue! } == all.map { $0["seq"]!.intValue! }.sorted())
        #expect(Set(all.map { $0["seq"]!.intValue! }).isSuperset(of: own.map { $0["seq"]!.intValue! }))
        let page = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(order)","related":true,"limit":2}"#)
        #expect(page["data"]!.array.count == 2 && page["has_more"] == .bool(true))
        #expect(fx.error({ $0.audit.orderAudit }, #"{"id":"\#(order)","related":"yes"}"#)?.field == "related")
    }

    @Test("an order placed already fulfilled (an import of history) commits nothing and keeps its status")
    func history() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 1)
        let o = try fx.call({ $0.orders.createOrder }, #"{"fulfillment_status":"fulfilled","line_items":[{"sku":"MUG","title":"Mug","quantity":5,"unit_price":500}]}"#)
        #expect(o["fulfillment_status"] == .string("fulfilled"))
        #expect(try fx.fulfillmentOrders(of: o["id"]!.stringValue!).isEmpty && (try fx.level("MUG", at: a))["committed"] == .int(0))
    }
}

@Suite("Shipment notifications")
struct ShipmentNotificationTests {
    @Test("a template on shipment.created renders the order and the tracking, and sends only when notify_customer is set")
    func notify() throws {
        let f = try WebhookFixture()
        let loc = try f.call({ $0.inventory.createLocation }, #"{"name":"A"}"#)["id"]!.stringValue!
        _ = try f.call({ $0.inventory.set }, #"{"sku":"MUG","location_id":"\#(loc)","quantity":10,"reason":"cycle_count"}"#)
        let c = try f.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        _ = try f.call({ $0.notifications.createNotificationTemplate }, #"{"name":"shipped","channel_id":"\#(c)","event_types":["shipment.created"],"condition":"event.data.notify_customer == true","text":"{{order.number}} is on its way: {{event.data.tracking.carrier}} {{event.data.tracking.number}}","recipients":[{"type":"staff","address":"ops"}]}"#)
        let calls = Locked<[JSON]>([])
        f.engine.setNotificationHandler { _, bytes in calls.withLock { $0.append(try! JSON.parse(bytes)); return 0 } }
        for notify in [true, false] {
            let o = try f.call({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5}]}"#)
            let fo = try f.call({ $0.inventory.listFulfillmentOrders }, #"{"order_id":"\#(o["id"]!.stringValue!)"}"#)["data"]!.array[0]["id"]!.stringValue!
            _ = try f.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","tracking":{"carrier":"DHL","number":"JD0\#(notify ? 1 : 2)"},"notify_customer":\#(notify)}"#)
        }
        _ = try f.engine.pump(maxMilliseconds: 1000)
        #expect(calls.withLock { $0.map { $0["text"]?.stringValue ?? "" } } == ["#1001 is on its way: DHL JD01"])
    }
}
