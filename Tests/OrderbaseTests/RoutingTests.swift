import Foundation
import Testing
@testable import Orderbase

@Suite("Routing rules")
struct RoutingTests {
    /// Three locations: A (rank 3, GB), B (rank 1, everywhere), C (rank 2, a store).
    func shop() throws -> (Fixture, a: String, b: String, c: String) {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A","rank":3,"ships_to":["GB"]}"#)
        let b = try fx.location(#"{"name":"B","rank":1}"#)
        let c = try fx.location(#"{"name":"C","rank":2,"type":"store"}"#)
        return (fx, a, b, c)
    }

    func placed(_ fx: Fixture, _ lines: String, country: String = "GB") throws -> [(String, [Int64])] {
        let o = try fx.call({ $0.orders.createOrder }, #"{"line_items":\#(lines),"shipping_address":{"country":"\#(country)"}}"#)
        return try fx.fulfillmentOrders(of: o["id"]!.stringValue!).map { fo in
            (fo["location_id"]!.stringValue!, fo["lines"]!.array.map { $0["quantity"]!.intValue! })
        }
    }

    @Test("the defaults (ships_to, fewest_locations, rank) until set; set rules are audited and change routing")
    func rules() throws {
        let (fx, a, b, c) = try shop()
        let defaults = try fx.call({ $0.inventory.getRoutingRules }, "{}")
        #expect(defaults["rules"]!.array.map { $0["type"]!.stringValue! } == ["ships_to", "fewest_locations", "rank"] && defaults["updated_at"] != .null)
        try fx.stock("MUG", at: a, 10); try fx.stock("MUG", at: b, 2); try fx.stock("MUG", at: c, 5)
        // Rank: B first, but it has only 2 of 3; fewest_locations takes the first that has all: C.
        #expect(try placed(fx, #"[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":5}]"#).map(\.0) == [c])
        // Most available first.
        _ = try fx.call({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"most_available"},{"type":"rank"}]}"#)
        #expect(try placed(fx, #"[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5}]"#).map(\.0) == [a])
        // An expression: no stores.
        _ = try fx.call({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"expression","expression":"location.type != \"store\""},{"type":"rank"}]}"#)
        #expect(try placed(fx, #"[{"sku":"MUG","title":"Mug","quantity":2,"unit_price":5}]"#).map(\.0) == [b])
        // Split allowed: B has none left, C 2, A 9: 11 come from C and A, in rank order.
        _ = try fx.call({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"rank"},{"type":"allow_split"}]}"#)
        let split = try placed(fx, #"[{"sku":"MUG","title":"Mug","quantity":11,"unit_price":5}]"#)
        #expect(split.map(\.0) == [c, a] && split.map { $0.1 } == [[2], [9]])
        #expect(try fx.call({ $0.audit.listAudit }, #"{"subject_type":"routing_rules"}"#)["data"]!.array.count == 3)
        let problems = try fx.integrityProblems()
        #expect(problems == [])
    }

    @Test("bad rules are refused and change nothing")
    func badRules() throws {
        let (fx, _, _, _) = try shop()
        let before = fx.counters
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"nearest"}]}"#)?.field == "rules[0].type")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"rank"},{"type":"rank"}]}"#)?.field == "rules[1].type")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"expression"}]}"#)?.field == "rules[0].expression")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"expression","expression":"location.colour == 1"}]}"#)?.field == "rules[0].expression")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"rank","expression":"true"}]}"#)?.field == "rules[0].expression")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{}"#)?.field == "rules")
        #expect(fx.counters == before)
    }

    @Test("route_preview shows every location, what it has, which rule dropped it, and the plan; it writes nothing")
    func preview() throws {
        let (fx, a, b, c) = try shop()
        try fx.stock("MUG", at: a, 1); try fx.stock("MUG", at: b, 4)
        _ = try fx.call({ $0.inventory.updateLocation }, #"{"id":"\#(c)","fulfills_online_orders":false}"#)
        let before = fx.counters
        let p = try fx.call({ $0.inventory.routePreview }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":5},{"title":"Card","quantity":1,"unit_price":1}],"shipping_address":{"country":"FR"}}"#)
        #expect(fx.counters == before)
        let locations = p["locations"]!.array
        // In rank order: B, C, A.
        #expect(locations.map { $0["location_id"]!.stringValue! } == [b, c, a])
        #expect(locations.map { $0["dropped_by"] } == [.null, .string("fulfills_online_orders"), .string("ships_to")])
        #expect(locations[0]["lines"]!.array.first?["available"] == .int(4))
        #expect(p["assignments"]!.array.map { $0["location_id"]!.stringValue! } == [b, b])
        #expect(p["assignments"]!.array.map { $0["tracked"] } == [.bool(true), .bool(false)])
        let short = try fx.call({ $0.inventory.routePreview }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":9,"unit_price":5}]}"#)
        #expect(short["short"]!.array.count == 1 && short["assignments"] == .array([]))
        #expect(fx.error({ $0.inventory.routePreview }, #"{}"#)?.code == .invalidArgument)
        #expect(fx.error({ $0.inventory.routePreview }, #"{"order_id":"ord_x","line_items":[]}"#)?.code == .invalidArgument)
        #expect(fx.error({ $0.inventory.routePreview }, #"{"order_id":"ord_nope"}"#)?.code == .notFound)
        #expect(fx.counters == before)
    }

    @Test("commit_at a workflow state: nothing committed before it, the change into it commits (or fails short and changes nothing), cancel releases; a workflow without the state commits at create; a reopened order commits again")
    func commitAtState() throws {
        let fx = try Fixture()
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 5)
        let before = fx.counters
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"commit_at":"nowhere"}"#)?.field == "commit_at")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"commit_at":"cancelled"}"#)?.details?["allowed"]?.array.contains(.string("confirmed")) == true)
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"commit_at":"Confirmed"}"#)?.field == "commit_at")
        #expect(fx.error({ $0.inventory.updateRoutingRules }, #"{"commit_at":7}"#)?.field == "commit_at")
        #expect(fx.counters == before)
        // Rules stored by the previous release have no commit_at: they commit at create.
        #expect(try RoutingRules.decode(Array(#"{"rules":[{"type":"rank"}]}"#.utf8)).commitAt == "create")
        let set = try fx.call({ $0.inventory.updateRoutingRules }, #"{"commit_at":"confirmed"}"#)
        #expect(set["commit_at"] == .string("confirmed") && set["rules"]!.array.count == 3)

        let mug = { (q: Int) in #"[{"sku":"MUG","title":"Mug","quantity":\#(q),"unit_price":5}]"# }
        let first = try fx.createOrder(lines: mug(3))["id"]!.stringValue!
        #expect(try fx.fulfillmentOrders(of: first).isEmpty)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(0))
        // Not committed yet: its lines may still change.
        _ = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(first)","line_items":\#(mug(4))}"#)
        let second = try fx.createOrder(lines: mug(4))["id"]!.stringValue!
        let confirmed = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(first)","to":"confirmed"}"#)
        #expect(confirmed["fulfillment_status"] == .string("unfulfilled"))
        #expect(try fx.fulfillmentOrders(of: first).map { $0["lines"]!.array.map { $0["quantity"]!.intValue! } } == [[4]])
        #expect(try fx.level("MUG", at: a)["committed"] == .int(4))
        let types = try fx.events().suffix(3).map { $0["type"]!.stringValue! }
        #expect(types == ["order.status_changed", "fulfillment_order.created", "inventory_level.updated"])
        // The second does not fit: its transition fails and changes nothing.
        let mark = fx.counters
        let short = fx.error({ $0.orders.transitionOrder }, #"{"id":"\#(second)","to":"confirmed"}"#)
        #expect(short?.code == .invalidState && short?.details?["reason"] == .string("insufficient_stock"))
        #expect(fx.counters == mark)
        #expect(try fx.call({ $0.orders.getOrder }, #"{"id":"\#(second)"}"#)["status"] == .string("pending"))
        // Moving on from the commit state commits nothing more; cancelling releases.
        _ = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(first)","to":"processing"}"#)
        #expect(try fx.fulfillmentOrders(of: first).count == 1)
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(first)"}"#)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(0))
        _ = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(second)","to":"confirmed"}"#)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(4))

        // A workflow with no `confirmed` state commits at create; cancelled and reopened by a migration, it commits again.
        let wf = { (v: String, gone: String) in #"{"key":"phone","name":"Phone",\#(v)"applies_to":{"channels":["phone"]},"states":[{"key":"new","initial":true},{"key":"sent","category":"done","final":true},{"key":"\#(gone)","category":"cancelled","final":true}],"transitions":[{"name":"send","from":"new","to":"sent"},{"name":"drop","from":"new","to":"\#(gone)"}]}"# }
        try fx.call({ $0.workflows.createWorkflow }, wf("", "gone"))
        let phone = try fx.createOrder(#""channel":"phone""#, lines: mug(1))["id"]!.stringValue!
        #expect(try fx.level("MUG", at: a)["committed"] == .int(5))
        #expect(try fx.fulfillmentOrders(of: phone).count == 1)
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(phone)"}"#)
        #expect(try fx.level("MUG", at: a)["committed"] == .int(4))
        try fx.call({ $0.workflows.updateWorkflow }, wf(#""expected_version":1,"#, "void"))
        // Without the stock, the migration (one write) fails naming the order, and changes nothing.
        try fx.stock("MUG", at: a, 4)
        let before2 = fx.counters
        let short2 = fx.error({ $0.workflows.migrateWorkflow }, #"{"key":"phone","mapping":{"gone":"new"}}"#)
        #expect(short2?.details?["reason"] == .string("insufficient_stock") && short2?.details?["order_id"] == .string(phone))
        #expect(fx.counters == before2)
        try fx.stock("MUG", at: a, 5)
        let migrated = try fx.call({ $0.workflows.migrateWorkflow }, #"{"key":"phone","mapping":{"gone":"new"}}"#)
        #expect(migrated["migrated"] == .int(1))
        let fos = try fx.fulfillmentOrders(of: phone)
        #expect(fos.map { $0["status"]!.stringValue! } == ["cancelled", "open"])
        #expect(try fx.level("MUG", at: a)["committed"] == .int(5))
        #expect(try fx.integrityProblems() == [])
    }

    @Test("closest: great-circle distance from each location's coordinates to the shipping address; unknown coordinates last; coordinates are checked")
    func closest() throws {
        let fx = try Fixture()
        let before = fx.counters
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","address":{"latitude":51.5}}"#)?.field == "address.longitude")
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","address":{"latitude":91,"longitude":0}}"#)?.field == "address.latitude")
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","address":{"latitude":0,"longitude":-180.5}}"#)?.field == "address.longitude")
        #expect(fx.error({ $0.inventory.createLocation }, #"{"name":"X","address":{"latitude":"51","longitude":0}}"#)?.field == "address.latitude")
        #expect(fx.error({ $0.orders.createOrder }, #"{"shipping_address":{"longitude":2}}"#)?.field == "shipping_address.latitude")
        #expect(fx.counters == before)
        // London, Manchester and Edinburgh (no coordinates); rank would pick Edinburgh.
        let london = try fx.location(#"{"name":"London","rank":3,"address":{"city":"London","country":"GB","latitude":51.5074,"longitude":-0.1278}}"#)
        let manchester = try fx.location(#"{"name":"Manchester","rank":2,"address":{"country":"GB","latitude":53.4808,"longitude":-2.2426}}"#)
        let edinburgh = try fx.location(#"{"name":"Edinburgh","rank":1,"address":{"country":"GB"}}"#)
        for l in [london, manchester, edinburgh] { try fx.stock("MUG", at: l, 5) }
        _ = try fx.call({ $0.inventory.updateRoutingRules }, #"{"rules":[{"type":"closest"},{"type":"rank"}]}"#)
        let mug = #"[{"sku":"MUG","title":"Mug","quantity":1,"unit_price":5}]"#
        // Leeds is nearest Manchester; Brighton nearest London; no coordinates: all unknown, so rank decides.
        let leeds = try fx.call({ $0.orders.createOrder }, #"{"line_items":\#(mug),"shipping_address":{"country":"GB","latitude":53.8008,"longitude":-1.5491}}"#)
        #expect(try fx.fulfillmentOrders(of: leeds["id"]!.stringValue!).map { $0["location_id"]!.stringValue! } == [manchester])
        #expect(leeds["shipping_address"]?["latitude"] == .double(53.8008) && leeds["shipping_address"]?["longitude"] == .double(-1.5491))
        let brighton = try fx.call({ $0.orders.createOrder }, #"{"line_items":\#(mug),"shipping_address":{"country":"GB","latitude":50.8225,"longitude":-0.1372}}"#)
        #expect(try fx.fulfillmentOrders(of: brighton["id"]!.stringValue!).map { $0["location_id"]!.stringValue! } == [london])
        #expect(try placed(fx, mug).map(\.0) == [edinburgh])
        // The preview shows the distances: London to Manchester is about 262 km.
        let p = try fx.call({ $0.inventory.routePreview }, #"{"line_items":\#(mug),"shipping_address":{"country":"GB","latitude":51.5074,"longitude":-0.1278}}"#)
        let d = Dictionary(uniqueKeysWithValues: p["locations"]!.array.map { ($0["location_id"]!.stringValue!, $0["distance_m"]!) })
        #expect(d[london] == .int(0) && d[edinburgh] == .null)
        #expect((255_000...265_000).contains(d[manchester]?.intValue ?? 0))
        #expect(p["assignments"]!.array.map { $0["location_id"]!.stringValue! } == [london])
        #expect(try fx.integrityProblems() == [])
    }
}
