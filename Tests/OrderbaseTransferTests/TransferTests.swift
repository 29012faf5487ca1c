import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseTransfer

final class TransferFixture: @unchecked Sendable {
    let dir: String
    let engine: Engine
    let tenant: Tenant
    var core: TenantCore { try! tenant.core() }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "orderbase-transfer-XXXXXX").utf8CString)
        dir = String(cString: mkdtemp(&template)!)
        engine = try Engine(root: dir + "/root")
        try engine.createTenant("shop", settings: try JSON.parse(#"{"default_currency":"GBP"}"#))
        tenant = try engine.openTenant("shop")
    }

    deinit {
        tenant.close()
        engine.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func file(_ name: String, _ text: String) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func importFile(_ path: String, onError: Importer.OnError = .stop, format: Importer.Format = .auto) throws -> Importer.Summary {
        try Importer(core: core, onError: onError, progress: Progress(mode: .none), invoiceWindow: 3).run(path: path, format: format)
    }

    func orders() throws -> [JSON] {
        var out: [JSON] = []
        try core.orders.forEachOrder { out.append(try JSON.parse($0)); return true }
        return out
    }
}

let retailHeader = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"

@Suite("Import and export")
struct TransferTests {
    @Test("pounds become pence rounded half away from zero; sub-penny prices are flagged")
    func pence() {
        #expect(OnlineRetail.pence("2.55")! == (255, true))
        #expect(OnlineRetail.pence("0.165")! == (17, false))
        #expect(OnlineRetail.pence("0.164")! == (16, false))
        #expect(OnlineRetail.pence("7")! == (700, true))
        #expect(OnlineRetail.pence("-11062.06")! == (-1106206, true))
        for bad in ["", "abc", "1.", ".5", "1.2.3", "1e3", "99999999999999"] { #expect(OnlineRetail.pence(bad) == nil, "\(bad)") }
    }

    @Test("UK local invoice times become UTC: GMT in winter, BST from the last Sunday of March to the last Sunday of October")
    func ukTime() {
        #expect(OnlineRetail.utc("2010-12-01 08:26:00") == "2010-12-01T08:26:00.000Z")
        #expect(OnlineRetail.utc("2011-06-15 12:00:00") == "2011-06-15T11:00:00.000Z")
        #expect(OnlineRetail.utc("2011-03-27 00:59:00") == "2011-03-27T00:59:00.000Z")   // before the change (01:00 GMT)
        #expect(OnlineRetail.utc("2011-03-27 02:30:00") == "2011-03-27T01:30:00.000Z")
        #expect(OnlineRetail.utc("2011-10-30 01:30:00") == "2011-10-30T00:30:00.000Z")   // still BST
        #expect(OnlineRetail.utc("2011-10-30 02:30:00") == "2011-10-30T02:30:00.000Z")
        #expect(OnlineRetail.utc("2011-13-01 00:00:00") == nil)
        #expect(OnlineRetail.utc("2011-01-01T00:00:00") == nil)
    }

    @Test("CSV fields follow RFC 4180 quoting")
    func csv() {
        func f(_ s: String) -> [String]? { csvFields(ArraySlice(Array(s.utf8))) }
        #expect(f(#"a,"b,c",d"#) == ["a", "b,c", "d"])
        #expect(f(#""RECORD FRAME 7"" SINGLE ",x"#) == [#"RECORD FRAME 7" SINGLE "#, "x"])
        #expect(f("a,,") == ["a", "", ""])
        #expect(f(#"a,"open"#) == nil)
        #expect(Exporter.csvCell("=HYPERLINK(1)") == "'=HYPERLINK(1)")
        #expect(Exporter.csvCell("-5") == "-5")
        #expect(Exporter.csvCell(#"a "b", c"#) == #""a ""b"", c""#)
    }

    @Test("the online-retail CSV becomes one order per invoice; credit notes and stock adjustments are counted apart; re-running skips everything")
    func retailImport() throws {
        let fx = try TransferFixture()
        let path = fx.file("retail.csv", retailHeader + """
            536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
            536366,22633,"HAND WARMER, UNION JACK ",6,2010-12-01 08:28:00,1.85,,Unspecified
            536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
            C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom
            536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom
            536415,22140,damaged,-20,2010-12-01 11:53:00,0,,United Kingdom
            547000,21000,TINY,3,2011-06-15 12:00:00,0.165,12345.0,EIRE
            """)
        let s = try fx.importFile(path)
        #expect(s.format == .csv && s.created == 4 && s.creditNotes == 1 && s.adjustments == 1 && s.failed.isEmpty)
        let orders = try fx.orders()
        #expect(orders.count == 4)
        let first = orders[0]
        #expect(first["source"]?["external_id"] == .string("536365"))
        #expect(first["customer"]?["id"] == .string("17850"))
        #expect(first["shipping_address"]?["country"] == .string("GB"))
        #expect(first["total"] == .int(6 * 255 + 6 * 339))  // the interleaved line joined its invoice
        #expect(orders[1]["customer"] == .null && orders[1]["shipping_address"] == .null)
        #expect(orders[1]["line_items"]?[0]?["title"] == .string("HAND WARMER, UNION JACK"))
        #expect(orders[2]["line_items"]?[0]?["title"] == .string("22139"))  // empty description: the stock code
        let tiny = orders[3]
        #expect(tiny["placed_at"] == .string("2011-06-15T11:00:00.000Z"))
        #expect(tiny["line_items"]?[0]?["unit_price"] == .int(17))
        #expect(tiny["line_items"]?[0]?["properties"]?["source_unit_price"] == .string("0.165"))
        #expect(tiny["metadata"]?["country"] == .string("EIRE") && tiny["shipping_address"]?["country"] == .string("IE"))

        let again = try fx.importFile(path)
        #expect(again.created == 0 && again.duplicates == 4 && again.failed.isEmpty)
        #expect(try fx.orders().count == 4)
    }

    @Test("a bad row stops the import by default, and is skipped and reported with --on-error skip")
    func errorPolicy() throws {
        let fx = try TransferFixture()
        let path = fx.file("bad.csv", retailHeader + """
            1,A,ONE,1,2010-12-01 08:26:00,1.00,,United Kingdom
            2,B,TWO,x,2010-12-01 08:27:00,1.00,,United Kingdom
            3,C,THREE,1,2010-12-01 08:28:00,abc,,United Kingdom
            4,D,FOUR,1,2010-12-01 08:29:00,1.00,,United Kingdom
            4,E,FOUR-NEG,-1,2010-12-01 08:29:00,1.00,,United Kingdom
            5,F,FIVE,1,2010-12-01 08:30:00,1.00,,United Kingdom
            """)
        // Stopping leaves invoices still open (within the window) unwritten: a
        // fixed file re-run picks them up.
        let stopped = try fx.importFile(path)
        #expect(stopped.stopped && stopped.created == 0 && stopped.failed.count == 1)
        #expect(stopped.failed[0].location == "line 3" && stopped.failed[0].reason.contains("Quantity"))
        let skipped = try fx.importFile(path, onError: .skip)
        #expect(!skipped.stopped && skipped.duplicates == 0 && skipped.created == 2 && skipped.failed.count == 3)
        #expect(skipped.failed.map(\.location) == ["line 3", "invoice 3 (line 4)", "invoice 4 (line 5)"])
        #expect(skipped.failed[2].reason.contains("not positive"))
        #expect(try fx.orders().count == 2)
    }

    @Test("JSON Lines: each line an orders.create request; bad lines are reported with their line number; resumable")
    func jsonLines() throws {
        let fx = try TransferFixture()
        let path = fx.file("orders.jsonl", """
            {"line_items":[{"title":"a","quantity":1,"unit_price":100}]}

            {"line_items":[{"title":"b","quantity":1,"unit_price":100}],"idempotency_key":"mine-1"}
            {"line_items":[{"title":"c","quantity":0,"unit_price":100}]}
            [1,2]
            {"line_items":
            {"line_items":[{"title":"a","quantity":1,"unit_price":100}]}
            """)
        let s = try fx.importFile(path, onError: .skip)
        #expect(s.format == .jsonl && s.created == 2 && s.duplicates == 1 && s.failed.count == 3)
        #expect(s.failed.map(\.location) == ["line 4", "line 5", "line 6"])
        #expect(s.failed[0].reason.contains("quantity"))
        let again = try fx.importFile(path, onError: .skip)
        #expect(again.created == 0 && again.duplicates == 3)
        #expect(throws: Importer.Failure.self) { try fx.importFile(fx.file("x.txt", "hello\n")) }
        #expect(throws: Importer.Failure.self) { try fx.importFile(fx.dir + "/missing.csv") }
        #expect(throws: Importer.Failure.self) { try fx.importFile(fx.file("y.csv", "a,b\n1,2\n")) }
    }

    @Test("export streams every order oldest first: JSON Lines byte-identical to the API, CSV a row per line item")
    func export() throws {
        let fx = try TransferFixture()
        for n in 1...3 {
            _ = try fx.core.orders.createOrder(try JSON.parse(#"{"line_items":[{"title":"t,\#(n)","quantity":\#(n),"unit_price":10},{"sku":"=X","title":"u","quantity":1,"unit_price":1}]}"#))
        }
        let jsonl = fx.dir + "/out.jsonl", csvPath = fx.dir + "/out.csv"
        for (path, format) in [(jsonl, Exporter.Format.jsonl), (csvPath, .csv)] {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let (orders, rows) = try Exporter.run(core: fx.core, format: format, fd: fd)
            close(fd)
            #expect(orders == 3 && rows == (format == .csv ? 6 : 3))
        }
        let lines = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n")
        let first = try JSON.parse(String(lines[0]))
        #expect(Array(lines[0].utf8) == (try fx.core.orders.getOrder(.object(["id": first["id"]!]))))
        let csvLines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n")
        #expect(csvLines.count == 7 && csvLines[0].hasPrefix("order_id,number,"))
        #expect(csvLines[1].contains("\"t,1\"") && csvLines[2].contains(",'=X,"))
    }
}

extension JSON {
    subscript(index: Int) -> JSON? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }
}

@Suite("Inventory import")
struct InventoryImportTests {
    @Test("a stock count CSV sets levels in batches, runs again without changes, and names the line of a bad row")
    func stockCount() throws {
        let fx = TransferFixture2()
        let core = fx.fx.core
        let a = try JSON.parse(try core.inventory.createLocation(try JSON.parse(#"{"name":"A"}"#)))["id"]!.stringValue!
        let b = try JSON.parse(try core.inventory.createLocation(try JSON.parse(#"{"name":"B"}"#)))["id"]!.stringValue!
        var csv = "quantity,sku,location_id,name\n"
        for n in 0..<12 { csv += "\(n + 1),\"SKU,\(n)\",\(n % 2 == 0 ? a : b),\n" }
        csv += "7,SKU 0,\(a),damaged\n"
        let path = fx.fx.file("count.csv", csv)
        let s = try InventoryImporter(core: core, batchSize: 5).run(path: path)
        #expect(s.rows == 13 && s.batches == 3 && s.changed == 13)
        let item = try JSON.parse(try core.inventory.getItem(try JSON.parse(#"{"sku":"SKU,11"}"#)))
        #expect(item["totals"]?["on_hand"] == .int(12))
        let again = try InventoryImporter(core: core, batchSize: 5).run(path: path)
        #expect(again.changed == 0 && again.batches == 3)  // every level is at its count already
        let movements = try JSON.parse(try core.inventory.listMovements(try JSON.parse(#"{"limit":1000}"#)))["data"]
        if case .array(let m)? = movements { #expect(m.count == 13) } else { Issue.record("no movements") }
        let bad = fx.fx.file("bad.csv", "sku,location_id,quantity\nX,\(a),1\nY,loc_nope,2\n")
        #expect(throws: Importer.Failure.self) { try InventoryImporter(core: core).run(path: bad) }
        do { _ = try InventoryImporter(core: core).run(path: bad) } catch let e as Importer.Failure {
            #expect(e.description.hasPrefix("line 3:") && e.description.contains("not_found"))
        }
        #expect(throws: Importer.Failure.self) { try InventoryImporter(core: core).run(path: fx.fx.file("h.csv", "sku,quantity\nX,1\n")) }
        #expect(throws: Importer.Failure.self) { try InventoryImporter(core: core).run(path: fx.fx.file("q.csv", "sku,location_id,quantity\nX,\(a),1.5\n")) }
    }
}

/// A TransferFixture (its tenant has GBP).
struct TransferFixture2 {
    let fx = try! TransferFixture()
}
