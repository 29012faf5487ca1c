import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

/// A temporary engine root with one tenant, removed at the end.
final class Fixture: @unchecked Sendable {
    let dir: String
    let clock = ManualClock(1_795_000_000_000)  // 2026-11-19T...
    let engine: Engine
    let tenant: Tenant
    /// Not stored: a strong reference would keep the database open after close.
    var core: TenantCore { try! tenant.core() }

    init(options: EngineOptions = EngineOptions(), settings: String? = nil) throws {
        var template = Array((NSTemporaryDirectory() + "orderbase-test-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw OrderbaseError(.ioError, "mkdtemp") }
        dir = String(cString: p)
        engine = try Engine(root: dir, options: options, clock: clock)
        try engine.createTenant("shop", settings: try settings.map { try JSON.parse($0) })
        tenant = try engine.openTenant("shop")
    }

    deinit {
        engine.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Calls a tenant method by catalogue-style closure and parses the response.
    @discardableResult
    func call(_ method: (TenantCore) -> (JSON) throws(OrderbaseError) -> [UInt8], _ request: String) throws -> JSON {
        try JSON.parse(try method(core)(try JSON.parse(request)))
    }

    /// The error a call fails with (the test fails if it succeeds).
    func error(_ method: (TenantCore) -> (JSON) throws(OrderbaseError) -> [UInt8], _ request: String,
               sourceLocation: SourceLocation = #_sourceLocation) -> OrderbaseError? {
        do {
            let json = try JSON.parse(request)
            _ = try method(core)(json)
            Issue.record("expected an error for \(request)", sourceLocation: sourceLocation)
            return nil
        } catch let e as OrderbaseError {
            return e
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func createOrder(_ extra: String = "", lines: String = #"[{"sku":"A1","title":"Mug","quantity":2,"unit_price":500}]"#) throws -> JSON {
        let body = extra.isEmpty ? #"{"line_items":\#(lines)}"# : #"{"line_items":\#(lines),\#(extra)}"#
        return try call({ $0.orders.createOrder }, body)
    }

    var counters: Counters { core.currentCounters }

    func events(_ request: String = "{}") throws -> [JSON] {
        guard case .array(let a)? = try call({ $0.audit.listEvents }, request)["data"] else { return [] }
        return a
    }
}

extension JSON {
    var array: [JSON] {
        if case .array(let a) = self { return a }
        return []
    }
}
