import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

/// Tenants written by release 0.1.0 (schema 1: `Tests/Fixtures/tenant-v1`,
/// made by `Tests/Fixtures/make_tenant_v1.py`) open, migrate and check.
@Suite("Schema migration")
struct MigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/tenant-v1").standardized.path

    /// An engine root holding a copy of the fixture as tenant `v1shop`.
    final class Copy {
        let root: String
        var db: String { root + "/tenants/v1shop/db" }
        init() throws {
            root = NSTemporaryDirectory() + "orderbase-mig-" + UUID().uuidString
            let fm = FileManager.default
            try fm.createDirectory(atPath: root + "/tenants/v1shop/files", withIntermediateDirectories: true)
            try fm.copyItem(atPath: MigrationTests.fixture + "/db", toPath: db)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func schema() throws -> String {
            let d = try Database(path: db, createIfMissing: false)
            return String(decoding: try d.get(Keyspace.metaKey(Keyspace.metaSchema)) ?? [], as: UTF8.self)
        }
        /// How many webhook deliveries are of an order (each has an `order_id` index entry since schema 4).
        func deliveriesOfOrders() throws -> Int {
            let d = try Database(path: db, createIfMissing: false)
            var n = 0
            try d.scan(from: [Keyspace.webhookDelivery], to: [Keyspace.webhookDelivery + 1]) { _, v in
                if (try? WebhookDelivery.decode(Array(v)))?.orderID != nil { n += 1 }
                return true
            }
            return n
        }
        func keys(_ prefix: UInt8) throws -> [[UInt8]] {
            let d = try Database(path: db, createIfMissing: false)
            var out: [[UInt8]] = []
            try d.scan(from: [prefix], to: [prefix + 1]) { k, _ in out.append(Array(k)); return true }
            return out
        }
    }

    /// Opens the copy's tenant for `body`, then closes it (no reference outlives the call).
    func withTenant(_ copy: Copy, _ body: (TenantCore) throws -> Void) throws {
        let engine = try Engine(root: copy.root, options: { var o = EngineOptions(); o.background = false; return o }())
        defer { engine.close() }
        try body(try engine.openTenant("v1shop").core())
    }

    /// Calls a method bound to its tenant (`t.listAudit`) with a JSON request.
    func call(_ m: (JSON) throws(OrderbaseError) -> [UInt8], _ body: String) throws -> JSON {
        try JSON.parse(try m(try JSON.parse(body)))
    }

    @Test("a tenant written by release 0.1.0 opens, migrates to schema 2, passes integrity.check and works as before")
    func fromRelease010() throws {
        let copy = try Copy()
        #expect(try copy.schema() == "1")
        let oldIndex = try copy.keys(Keyspace.index)
        #expect(!oldIndex.isEmpty)
        try withTenant(copy) { t in
        let check = try call({ (r) throws(OrderbaseError) in try t.audit.checkIntegrity(r) }, "{}")
        #expect(check["ok"] == .bool(true), "\(check)")
        #expect(check["orders"] == .int(4))
        #expect(try call({ (r) throws(OrderbaseError) in try t.audit.verifyAudit(r) }, "{}")["ok"] == .bool(true))
        // Indexes answer through the new keys: status (a custom workflow's state too), customer, channel.
        #expect(try call({ (r) throws(OrderbaseError) in try t.orders.listOrders(r) }, #"{"status":"cancelled"}"#)["data"]!.array.count == 1)
        #expect(try call({ (r) throws(OrderbaseError) in try t.orders.listOrders(r) }, #"{"status":"printing"}"#)["data"]!.array.count == 1)
        #expect(try call({ (r) throws(OrderbaseError) in try t.orders.listOrders(r) }, #"{"customer_id":"cus_1"}"#)["data"]!.array.count == 2)
        #expect(try call({ (r) throws(OrderbaseError) in try t.orders.listOrders(r) }, #"{"channel":"phone"}"#)["data"]!.array.count == 1)
        // Old audit entries are listed by order and in the chain, without a subject.
        let first = try call({ (r) throws(OrderbaseError) in try t.orders.listOrders(r) }, #"{"sort":"created_asc","limit":1}"#)["data"]!.array[0]
        let trail = try call({ (r) throws(OrderbaseError) in try t.audit.orderAudit(r) }, #"{"id":"\#(first["id"]!.stringValue!)"}"#)["data"]!.array
        #expect(trail.map { $0["action"]! } == [.string("order.created"), .string("order.status_changed")] && trail[0]["subject"] == nil)
        // New changes write the new form beside the old.
        let updated = try call({ (r) throws(OrderbaseError) in try t.orders.updateOrder(r) }, #"{"id":"\#(first["id"]!.stringValue!)","note":"after the upgrade"}"#)
        #expect(updated["version"] == .int(3))
        let request = try JSON.parse(#"{"subject_type":"order","subject_id":"\#(first["id"]!.stringValue!)"}"#)
        let trail2 = try JSON.parse(try t.audit.listAudit(request))["data"]!.array
        #expect(trail2.count == 3 && trail2[2]["subject"]?["type"] == .string("order"))
        #expect(try call({ (r) throws(OrderbaseError) in try t.audit.checkIntegrity(r) }, "{}")["ok"] == .bool(true))
        }
        #expect(try copy.schema() == "5")
        // Schema 3: each of the 4 orders gained its priority entry (it reads as normal), each delivery its endpoint entry;
        // schema 4: each delivery of an order its order entry; schema 5: each order its sale line's entry.
        let deliveries = try copy.keys(Keyspace.webhookDelivery).count
        let ofOrders = try copy.deliveriesOfOrders()
        #expect(ofOrders > 0)
        #expect(try copy.keys(Keyspace.index).count == oldIndex.count + 4 + 2 * deliveries + ofOrders + 4)
        #expect(try copy.keys(Keyspace.index).allSatisfy { var r = KeyReader($0); return ["order", "webhook_delivery", "sales_line"].contains(r.string() ?? "") })
        // Schema 5: each order's sale, dated when it was placed, with the order's figures.
        let sales = try copy.keys(Keyspace.salesLine)
        #expect(sales.count == 4)
    }

    @Test("orders stored by release 0.1.0 decode and render back byte for byte but for fields added since (the generated codec matches the hand-written one)")
    func codecRoundTrip() throws {
        let copy = try Copy()
        let d = try Database(path: copy.db, createIfMissing: false)
        var stored: [[UInt8]] = []
        try d.scan(from: [Keyspace.order], to: [Keyspace.order + 1]) { _, v in stored.append(Array(v)); return true }
        #expect(stored.count == 4)
        // Fields added since 0.1.0 render as null (tags as []) where the old record has none.
        let added = [Array(#""po_number":null,"#.utf8), Array(#""tags":[],"#.utf8), Array(#""priority":"normal","#.utf8), Array(#""custom_fields":{},"#.utf8),
                     Array(#""sla":[],"sla_status":null,"#.utf8), Array(#","archived_at":null"#.utf8),
                     Array(#""related_orders":[],"#.utf8)]
        for bytes in stored {
            var rendered = try Order.decode(bytes).render().bytes
            for field in added { if let r = rendered.firstRange(of: field) { rendered.removeSubrange(r) } }
            // refunded_shipping … margin_percent (0.4.0): zeros and figures computed from the order.
            if let start = rendered.firstRange(of: Array(#""refunded_shipping":"#.utf8)), let end = rendered.firstRange(of: Array(#""note":"#.utf8)) {
                rendered.removeSubrange(start.lowerBound..<end.lowerBound)
            }
            // payments (0.4.0): its sums, with outstanding = the order's total.
            if let start = rendered.firstRange(of: Array(#""payments":{"#.utf8)), let end = rendered[start.upperBound...].firstRange(of: Array("},".utf8)) {
                rendered.removeSubrange(start.lowerBound..<end.upperBound)
            }
            #expect(rendered == bytes, "\(String(decoding: rendered, as: UTF8.self))")
        }
    }

    @Test("a migration stopped between batches is finished by the next open, and nothing is lost or doubled")
    func interrupted() throws {
        let copy = try Copy()
        let before = (try copy.keys(Keyspace.index).count, try copy.keys(Keyspace.subjectAudit).count)
        do {
            let d = try Database(path: copy.db, createIfMissing: false)
            let done = try Migration.kindInIndexKeys(d, chunk: 3, maxBatches: 2)  // then "crash"
            #expect(done == 6)
        }
        #expect(try copy.schema() == "1", "the marker moves only at the end")
        try withTenant(copy) { t in
            let ok = try call({ (r) throws(OrderbaseError) in try t.audit.checkIntegrity(r) }, "{}")["ok"]
            #expect(ok == .bool(true))
        }
        let deliveries = try copy.keys(Keyspace.webhookDelivery).count
        #expect((try copy.keys(Keyspace.index).count, try copy.keys(Keyspace.subjectAudit).count) == (before.0 + 4 + 2 * deliveries + (try copy.deliveriesOfOrders()) + 4, before.1))
        #expect(try copy.schema() == "5")
    }

    @Test("a schema this release does not know is refused as corruption, and left as it is")
    func unknownSchema() throws {
        let copy = try Copy()
        do {
            let d = try Database(path: copy.db, createIfMissing: false)
            let b = WriteBatch()
            b.put(Keyspace.metaKey(Keyspace.metaSchema), Array("6".utf8))
            try d.write(b, sync: true)
        }
        let engine = try Engine(root: copy.root, options: { var o = EngineOptions(); o.background = false; return o }())
        defer { engine.close() }
        do {
            _ = try engine.openTenant("v1shop")
            Issue.record("a schema 6 tenant opened")
        } catch let e as OrderbaseError {
            #expect(e.code == .corruption && e.message.contains("unsupported schema version 6"))
            #expect(e.details == .object(["reason": .string("unsupported_schema"), "schema_version": .string("6")]))
        }
        #expect(try copy.schema() == "6")
    }

    @Test("schema 2 → 3 (orders gain their priority index entry) stopped between batches is finished by the next open; priority filters old orders")
    func priorityIndex() throws {
        let copy = try Copy()
        do {
            let d = try Database(path: copy.db, createIfMissing: false)
            _ = try Migration.kindInIndexKeys(d, chunk: 10_000)
            try Migration.setSchema(d, 2)
            #expect(try Migration.rebuildIndexes(d, chunk: 1, maxBatches: 2) == 2)  // then "crash"
        }
        #expect(try copy.schema() == "2", "the marker moves only at the end")
        try withTenant(copy) { t in
            let integrity = try call({ (r) throws(OrderbaseError) in try t.audit.checkIntegrity(r) }, "{}")
            #expect(integrity["ok"] == .bool(true), "\(integrity)")
            let normal = try call({ (r) throws(OrderbaseError) in try t.orders.listOrders(r) }, #"{"priority":"normal"}"#)
            #expect(normal["data"]!.array.count == 4)
            // Records are answered as stored: one written before priority has none until it next changes (it reads as normal).
            #expect(normal["data"]!.array.allSatisfy { ($0["priority"] ?? .string("normal")) == .string("normal") })
        }
        #expect(try copy.schema() == "5")
    }

    @Test("schema 3 → 4 (webhook deliveries gain their order_id and status entries): a tenant as release 0.3.0 left it opens; the order's timeline and deliveries.list by status read them")
    func deliveryOrderIndex() throws {
        let copy = try Copy()
        // Migrate to the current schema, then take the order_id entries away and mark it 3: the state of a 0.3.0 tenant.
        try withTenant(copy) { _ in }
        let ofOrders = try copy.deliveriesOfOrders()
        let deliveriesCount = try copy.keys(Keyspace.webhookDelivery).count
        do {
            let d = try Database(path: copy.db, createIfMissing: false)
            let b = WriteBatch()
            var removed = 0
            try d.scan(from: [Keyspace.index], to: [Keyspace.index + 1]) { k, _ in
                var r = KeyReader(Array(k))
                if r.string() == "webhook_delivery", ["order_id", "status"].contains(r.string() ?? "") { b.delete(Array(k)); removed += 1 }
                return true
            }
            #expect(removed == ofOrders + deliveriesCount && ofOrders > 0)
            try d.write(b, sync: true)
            try Migration.setSchema(d, 3)
        }
        try withTenant(copy) { t in
            let integrity = try JSON.parse(try t.audit.checkIntegrity(try JSON.parse("{}")))
            #expect(integrity["ok"] == .bool(true), "\(integrity)")
            let listed = try t.orders.listOrders(try JSON.parse(#"{"sort":"created_asc"}"#))
            let orders = try JSON.parse(listed)["data"]!.array
            var shown = 0
            for o in orders {
                let timeline = try JSON.parse(try t.timeline.orderTimeline(try JSON.parse(#"{"id":"\#(o["id"]!.stringValue!)","types":["webhook_delivery"]}"#)))
                shown += timeline["data"]!.array.count
            }
            #expect(shown == ofOrders)
            // Deliveries by status read the new status entries.
            var byStatus = 0
            for status in WebhookDelivery.statuses {
                byStatus += try JSON.parse(try t.webhooks.listDeliveries(try JSON.parse(#"{"status":"\#(status)","limit":250}"#)))["data"]!.array.count
            }
            #expect(byStatus == deliveriesCount)
        }
        #expect(try copy.schema() == "5")
    }
}
