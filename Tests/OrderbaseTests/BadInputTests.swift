import Foundation
import Testing
@testable import Orderbase

@Suite("Bad input changes nothing")
struct BadInputTests {
    static let createCases: [(String, ErrorCode, String?)] = [
        (#"{"line_items":"x"}"#, .invalidArgument, "line_items"),
        (#"{}"#, .invalidArgument, "line_items"),
        (#"{"line_items":[]}"#, .invalidArgument, "line_items"),
        (#"{"line_items":[{"quantity":1,"unit_price":1}]}"#, .invalidArgument, "line_items[0].title"),
        (#"{"line_items":[{"title":"","quantity":1,"unit_price":1}]}"#, .invalidArgument, "line_items[0].title"),
        (#"{"line_items":[{"title":"x","quantity":1.5,"unit_price":1}]}"#, .invalidArgument, "line_items[0].quantity"),
        (#"{"line_items":[{"title":"x","quantity":1,"unit_price":"1"}]}"#, .invalidArgument, "line_items[0].unit_price"),
        (#"{"line_items":[{"title":"x","quantity":1,"unit_price":1,"colour":"red"}]}"#, .invalidArgument, "line_items[0].colour"),
        (#"{"line_items":[{"title":"x","quantity":1,"unit_price":1,"tax_lines":[{"name":"VAT","rate":0.2}]}]}"#, .invalidArgument, "line_items[0].tax_lines[0].rate"),
        (#"{"line_items":[{"title":"x","quantity":1,"unit_price":1,"tax_lines":[{"name":"VAT","rate":"1.5"}]}]}"#, .invalidArgument, "line_items[0].tax_lines[0].rate"),
        (#"{"line_items":[{"title":"x","quantity":1,"unit_price":1,"properties":{"a":1}}]}"#, .invalidArgument, "line_items[0].properties.a"),
        (#"{"channel":"carrier_pigeon","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "channel"),
        (#"{"customer":{"email":"not-an-email"},"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "customer.email"),
        (#"{"shipping_address":{"country":"United Kingdom"},"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "shipping_address.country"),
        (#"{"metadata":[1],"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "metadata"),
        (#"{"source":{"external_id":"A"},"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "source.name"),
        (#"{"actor":{"type":"robot"},"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "actor.type"),
        (#"{"placed_at":"2026-13-01T00:00:00Z","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "placed_at"),
        (#"{"status":"completed","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "status"),
        (#"{"line_items":[{"id":"li_mine","title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "line_items[0].id"),
        (#"{"idempotency_key":"","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#, .invalidArgument, "idempotency_key"),
    ]

    @Test("orders.create refuses bad input with a code and a field path, and writes nothing", arguments: createCases)
    func create(request: String, code: ErrorCode, field: String?) throws {
        let f = try Fixture()
        let before = f.counters
        let e = f.error({ $0.orders.createOrder }, request)
        #expect(e?.code == code)
        #expect(e?.field == field)
        #expect(f.counters == before)
        #expect(try f.call({ $0.orders.listOrders }, "{}")["data"]?.array.isEmpty == true)
    }

    @Test("limits: line items, metadata size and string lengths are limit_exceeded or invalid_argument")
    func limits() throws {
        var opts = EngineOptions()
        opts.limits.maxLineItems = 2
        opts.limits.maxMetadataBytes = 64
        let f = try Fixture(options: opts)
        let line = #"{"title":"x","quantity":1,"unit_price":1}"#
        #expect(f.error({ $0.orders.createOrder }, #"{"line_items":[\#(line),\#(line),\#(line)]}"#)?.code == .limitExceeded)
        let big = String(repeating: "m", count: 100)
        #expect(f.error({ $0.orders.createOrder }, #"{"metadata":{"k":"\#(big)"},"line_items":[\#(line)]}"#)?.code == .limitExceeded)
        let long = String(repeating: "n", count: 5001)
        #expect(f.error({ $0.orders.createOrder }, #"{"note":"\#(long)","line_items":[\#(line)]}"#)?.field == "note")
        #expect(f.counters.eventSeq == 0)
    }

    @Test("update and transition refuse bad input and leave the order untouched")
    func updates() throws {
        let f = try Fixture()
        let id = try f.createOrder()["id"]!.stringValue!
        let before = f.counters
        let original = try f.core.orders.loadRecord(id, snapshot: nil)
        for (req, code) in [
            (#"{"id":"\#(id)","note":5}"#, ErrorCode.invalidArgument),
            (#"{"id":"\#(id)","status":"completed"}"#, .invalidArgument),
            (#"{"id":"\#(id)","expected_version":0}"#, .invalidArgument),
            (#"{"id":"\#(id)","expected_version":2,"note":"x"}"#, .versionConflict),
            (#"{"id":"ord_missing","note":"x"}"#, .notFound),
            (#"{"note":"x"}"#, .invalidArgument),
            // An order keeps its lines: null would have emptied the list (schemathesis, seed 777).
            (#"{"id":"\#(id)","line_items":null,"po_number":"x"}"#, .invalidArgument),
            (#"{"id":"\#(id)","line_items":[]}"#, .invalidArgument),
        ] {
            #expect(f.error({ $0.orders.updateOrder }, req)?.code == code, "\(req)")
        }
        #expect(f.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)"}"#)?.field == "to")
        #expect(f.error({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"confirmed","why":"x"}"#)?.field == "why")
        #expect(f.counters == before)
        #expect(try f.core.orders.loadRecord(id, snapshot: nil) == original)
    }

    @Test("a fulfilled order's lines and a closed order's structure cannot change; note and metadata can")
    func invalidState() throws {
        let f = try Fixture()
        let id = try f.createOrder(#""fulfillment_status":"fulfilled""#)["id"]!.stringValue!
        #expect(f.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#)?.code == .invalidState)
        try f.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)
        #expect(f.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","customer":{"id":"c9"}}"#)?.code == .invalidState)
        #expect(try f.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","note":"refund sent","metadata":{"ticket":"T-1"}}"#)["version"] == .int(3))
    }
}

@Suite("Engine and tenants")
struct EngineTests {
    @Test("hostile tenant ids are refused before any path is built", arguments: [
        "", "../x", "x/../../etc", "A", "x y", ".hidden", "-x", "_x", String(repeating: "a", count: 64), "x\u{0}y", "é",
    ])
    func hostileIDs(id: String) throws {
        let f = try Fixture()
        #expect(throws: OrderbaseError.self) { try f.engine.createTenant(id, settings: nil) }
        #expect(throws: OrderbaseError.self) { _ = try f.engine.openTenant(id) }
    }

    @Test("valid tenant ids at the edges are accepted")
    func edgeIDs() throws {
        let f = try Fixture()
        for id in ["a", "0", String(repeating: "z", count: 63), "a-b_c"] {
            try f.engine.createTenant(id, settings: nil)
            try f.engine.openTenant(id).close()
        }
    }

    @Test("two engines on one root, through different spellings, share one tenant core")
    func registry() throws {
        let f = try Fixture()
        let e2 = try Engine(root: f.dir + "//./", clock: f.clock)
        defer { e2.close() }
        let t2 = try e2.openTenant("shop")
        #expect(try t2.core() === f.core)
        _ = try f.createOrder()
        #expect(try JSON.parse(try t2.core().orders.listOrders(.object([:])))["data"]?.array.count == 1)
    }

    @Test("the idle-tenant LRU closes databases beyond max_open_tenants but never under an open handle")
    func lru() throws {
        var opts = EngineOptions()
        opts.maxOpenTenants = 2
        let f = try Fixture(options: opts)
        for n in 0..<5 { try f.engine.createTenant("t\(n)", settings: nil) }
        let held = try f.engine.openTenant("t0")
        for n in 1..<5 { _ = try JSON.parse(try f.engine.getTenant(.object(["id": .string("t\(n)")]))) }
        // t0 was evicted from the LRU, but its handle keeps working.
        _ = try held.core().orders.createOrder(try JSON.parse(#"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#))
        #expect(try JSON.parse(try held.core().orders.listOrders(.object([:])))["data"]?.array.count == 1)
        held.close()
        #expect(throws: OrderbaseError.self) { _ = try held.core() }
    }

    @Test("tenants.delete refuses an open tenant and removes a closed one")
    func delete() throws {
        let f = try Fixture()
        try f.engine.createTenant("gone", settings: #"{"name":"Gone"}"#.data(using: .utf8).map { try JSON.parse(Array($0)) })
        let h = try f.engine.openTenant("gone")
        #expect { _ = try f.engine.deleteTenant(.object(["id": .string("gone")])) } throws: { ($0 as? OrderbaseError)?.code == .busy }
        h.close()
        _ = try f.engine.deleteTenant(.object(["id": .string("gone")]))
        #expect { _ = try f.engine.openTenant("gone") } throws: { ($0 as? OrderbaseError)?.code == .notFound }
        #expect(try JSON.parse(try f.engine.listTenants(.object([:])))["data"]?.array.map { $0["id"]! } == [.string("shop")])
    }

    @Test("engine options: defaults, ranges and unknown keys")
    func options() throws {
        let d = try EngineOptions.parse(nil)
        #expect(d.durability == .sync && d.maxOpenTenants == 64 && d.maxRequestBytes == 1 << 20 && d.limits.maxLineItems == 500)
        #expect(throws: OrderbaseError.self) { _ = try EngineOptions.parse(try JSON.parse(#"{"durability":"maybe"}"#)) }
        #expect(throws: OrderbaseError.self) { _ = try EngineOptions.parse(try JSON.parse(#"{"max_line_items":0}"#)) }
        #expect(throws: OrderbaseError.self) { _ = try EngineOptions.parse(try JSON.parse(#"{"speed":"max"}"#)) }
        #expect(try EngineOptions.parse(try JSON.parse(#"{"durability":"relaxed"}"#)).durability == .relaxed)
    }

    @Test("a closed engine answers misuse")
    func closedEngine() throws {
        let f = try Fixture()
        f.engine.close()
        f.engine.close()
        #expect { _ = try f.engine.openTenant("shop") } throws: { ($0 as? OrderbaseError)?.code == .misuse }
        #expect { _ = try f.tenant.core() } throws: { ($0 as? OrderbaseError)?.code == .misuse }
    }
}
