import Orderbase

/// Who may call a method over REST (API keys carry one scope; admin ⊃ write ⊃ read).
public enum Scope: String, Sendable { case read, write, admin }

/// One method of the catalogue: the single source of truth for the C ABI
/// (`orderbase_call`), the REST route table, the OpenAPI document and the
/// bindings' wrappers.
public struct Method: Sendable {
    public enum Target: Sendable {
        case engine(@Sendable (Engine, JSON) throws(OrderbaseError) -> [UInt8])
        case tenant(@Sendable (TenantCore, JSON) throws(OrderbaseError) -> [UInt8])
    }

    public let name: String
    public let scope: Scope
    public let httpMethod: String
    public let path: String
    public let summary: String
    public let target: Target

    public var isEngineLevel: Bool {
        if case .engine = target { return true }
        return false
    }
}

public enum Catalogue {
    public static let methods: [Method] = [
        Method(name: "methods.list", scope: .read, httpMethod: "GET", path: "/v1/methods",
               summary: "List every method of the catalogue with its scope and REST route.",
               target: .engine { _, req throws(OrderbaseError) in try listMethods(req) }),
        Method(name: "tenants.create", scope: .admin, httpMethod: "POST", path: "/v1/tenants",
               summary: "Create a tenant: {id, settings?}.", target: .engine { e, r throws(OrderbaseError) in try e.createTenant(r) }),
        Method(name: "tenants.list", scope: .admin, httpMethod: "GET", path: "/v1/tenants",
               summary: "List tenant ids (limit, starting_after).", target: .engine { e, r throws(OrderbaseError) in try e.listTenants(r) }),
        Method(name: "tenants.get", scope: .admin, httpMethod: "GET", path: "/v1/tenants/{id}",
               summary: "A tenant and its settings.", target: .engine { e, r throws(OrderbaseError) in try e.getTenant(r) }),
        Method(name: "tenants.delete", scope: .admin, httpMethod: "DELETE", path: "/v1/tenants/{id}",
               summary: "Delete a tenant and all its data (busy while open).", target: .engine { e, r throws(OrderbaseError) in try e.deleteTenant(r) }),
        Method(name: "orders.create", scope: .write, httpMethod: "POST", path: "/v1/orders",
               summary: "Create an order; totals are computed. Optional idempotency_key.",
               target: .tenant { t, r throws(OrderbaseError) in try t.createOrder(r) }),
        Method(name: "orders.get", scope: .read, httpMethod: "GET", path: "/v1/orders/{id}",
               summary: "An order by id or number.", target: .tenant { t, r throws(OrderbaseError) in try t.getOrder(r) }),
        Method(name: "orders.list", scope: .read, httpMethod: "GET", path: "/v1/orders",
               summary: "Orders, filtered and cursor-paginated.", target: .tenant { t, r throws(OrderbaseError) in try t.listOrders(r) }),
        Method(name: "orders.update", scope: .write, httpMethod: "PATCH", path: "/v1/orders/{id}",
               summary: "Edit customer, addresses, note, metadata, lines (optional expected_version).",
               target: .tenant { t, r throws(OrderbaseError) in try t.updateOrder(r) }),
        Method(name: "orders.transition", scope: .write, httpMethod: "POST", path: "/v1/orders/{id}/transition",
               summary: "Move an order to another status (to, reason, expected_version).",
               target: .tenant { t, r throws(OrderbaseError) in try t.transitionOrder(r) }),
        Method(name: "orders.cancel", scope: .write, httpMethod: "POST", path: "/v1/orders/{id}/cancel",
               summary: "Cancel an open order (reason, expected_version).", target: .tenant { t, r throws(OrderbaseError) in try t.cancelOrder(r) }),
        Method(name: "orders.audit", scope: .read, httpMethod: "GET", path: "/v1/orders/{id}/audit",
               summary: "The order's audit entries, oldest first.", target: .tenant { t, r throws(OrderbaseError) in try t.orderAudit(r) }),
        Method(name: "audit.verify", scope: .read, httpMethod: "GET", path: "/v1/audit/verify",
               summary: "Walk the tenant's audit hash chain and report the first broken link.",
               target: .tenant { t, r throws(OrderbaseError) in try t.verifyAudit(r) }),
        Method(name: "integrity.check", scope: .admin, httpMethod: "GET", path: "/v1/integrity",
               summary: "Check records, indexes, numbers, event log and audit chain agree (max_problems).",
               target: .tenant { t, r throws(OrderbaseError) in try t.checkIntegrity(r) }),
        Method(name: "events.list", scope: .read, httpMethod: "GET", path: "/v1/events",
               summary: "The tenant's event log by sequence (after_sequence, limit, types).",
               target: .tenant { t, r throws(OrderbaseError) in try t.listEvents(r) }),
    ]

    private static let byName: [String: Method] = Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0) })

    public static func method(_ name: String) -> Method? { byName[name] }

    static func listMethods(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try Fields.request(request).0.finish()
        var w = JSONWriter()
        w.beginObject()
        w.key("data"); w.beginArray()
        for m in methods {
            w.beginObject()
            w.key("name"); w.string(m.name)
            w.key("level"); w.string(m.isEngineLevel ? "engine" : "tenant")
            w.key("scope"); w.string(m.scope.rawValue)
            w.key("http_method"); w.string(m.httpMethod)
            w.key("path"); w.string(m.path)
            w.key("summary"); w.string(m.summary)
            w.endObject()
        }
        w.endArray()
        w.key("has_more"); w.bool(false)
        w.endObject()
        return w.bytes
    }

    /// Parses a request body: absent means `{}`; over the engine's limit is `limit_exceeded`.
    public static func parseRequest(_ bytes: UnsafeRawBufferPointer?, limit: Int) throws(OrderbaseError) -> JSON {
        guard let bytes, bytes.count > 0 else { return .object([:]) }
        if bytes.count > limit {
            throw OrderbaseError(.limitExceeded, "request is \(bytes.count) bytes; max_request_bytes is \(limit)")
        }
        let json = try JSON.parse(bytes)
        guard case .object = json else { throw OrderbaseError.invalid("the request must be a JSON object, got \(json.typeName)") }
        return json
    }

    /// Calls a tenant-level method.
    public static func call(_ tenant: Tenant, _ name: String, _ request: UnsafeRawBufferPointer?) throws(OrderbaseError) -> [UInt8] {
        guard let m = byName[name] else { throw OrderbaseError(.notFound, "no method \(name)", field: "method") }
        guard case .tenant(let body) = m.target else {
            throw OrderbaseError(.misuse, "\(name) is an engine-level method; call it with orderbase_engine_call", field: "method")
        }
        let core = try tenant.core()
        return try body(core, try parseRequest(request, limit: tenant.engine.options.maxRequestBytes))
    }

    /// Calls an engine-level method.
    public static func call(_ engine: Engine, _ name: String, _ request: UnsafeRawBufferPointer?) throws(OrderbaseError) -> [UInt8] {
        guard let m = byName[name] else { throw OrderbaseError(.notFound, "no method \(name)", field: "method") }
        guard case .engine(let body) = m.target else {
            throw OrderbaseError(.misuse, "\(name) is a tenant-level method; call it with orderbase_call on a tenant", field: "method")
        }
        if engine.isClosed { throw OrderbaseError(.misuse, "engine is closed") }
        return try body(engine, try parseRequest(request, limit: engine.options.maxRequestBytes))
    }
}
