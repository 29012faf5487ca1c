import Orderbase

/// Who may call a method over REST (API keys carry one scope; admin ⊃ write ⊃ read).
public typealias Scope = APIKey.Scope

/// One REST route of a method. Path parameters (`{id}`) are request fields.
public struct Route: Sendable {
    public let httpMethod: String
    public let path: String
    /// The `{name}` segments of the path, in order.
    public let parameters: [String]

    public init(_ httpMethod: String, _ path: String) {
        self.httpMethod = httpMethod
        self.path = path
        parameters = path.split(separator: "/").compactMap { s in
            s.hasPrefix("{") && s.hasSuffix("}") ? String(s.dropFirst().dropLast()) : nil
        }
    }

    /// POST and PATCH take a JSON body; GET and DELETE take query parameters.
    public var hasBody: Bool { httpMethod == "POST" || httpMethod == "PATCH" }
}

/// Which API keys may call a method over REST.
public enum Access: Sendable {
    /// Tenant-level: a key of the tenant with at least the method's scope.
    case tenant
    /// Engine-level, any valid key (methods.list).
    case anyKey
    /// Engine-level, operator keys only (creating, listing and deleting tenants).
    case operatorOnly
    /// Engine-level about one tenant, named by `field`: operator keys for any
    /// tenant; a tenant's own admin keys for itself only (`field` is filled in
    /// when absent; another tenant answers 404, so its existence does not leak).
    case ownTenant(field: String)
}

/// One method of the catalogue: the single source of truth for the C ABI
/// (`orderbase_call`), the REST routes, the OpenAPI document and the
/// bindings' wrappers.
public struct Method: Sendable {
    public enum Target: Sendable {
        case engine(@Sendable (Engine, JSON) throws(OrderbaseError) -> [UInt8])
        case tenant(@Sendable (TenantCore, JSON) throws(OrderbaseError) -> [UInt8])
    }

    public let name: String
    public let scope: Scope
    public let routes: [Route]
    public let summary: String
    /// The request object's own properties (`actor` and `request_id`, which
    /// every request may carry, are added by `requestSchema`).
    public let request: [Property]
    /// Rules across the request's fields (exactly one of two, fields by type)
    /// that the OpenAPI document states beside the properties.
    public let rules: [Rule]
    public let response: Schema
    /// 201 for methods that create a resource, else 200.
    public let successStatus: Int
    public let access: Access
    /// Walks a whole tenant (audit.verify, integrity.check): seconds on a big one.
    public let scansEverything: Bool
    public let target: Target
    /// Request fields some route of the method carries in its path.
    public let pathParameters: Set<String>
    /// The fields a GET or DELETE route takes as query parameters: the request's
    /// own fields but those in paths (`actor` and `request_id` come from the key
    /// and X-Request-Id).
    public let queryFields: [Property]

    init(_ name: String, _ scope: Scope, _ routes: [Route], _ summary: String, request: [Property] = [], rules: [Rule] = [],
         response: Schema, status: Int = 200, access: Access = .tenant, scansEverything: Bool = false, _ target: Target) {
        self.name = name
        self.scope = scope
        self.routes = routes
        self.summary = summary
        self.request = request
        self.rules = rules
        self.response = response
        self.successStatus = status
        self.access = access
        self.scansEverything = scansEverything
        self.target = target
        let inPaths = Set(routes.flatMap(\.parameters))
        pathParameters = inPaths
        queryFields = request.filter { !inPaths.contains($0.name) }
    }

    public var isEngineLevel: Bool {
        if case .engine = target { return true }
        return false
    }

    /// The primary route (methods.list shows it).
    public var route: Route { routes[0] }

    /// Takes `idempotency_key` (the REST `Idempotency-Key` header maps to it).
    public var takesIdempotencyKey: Bool { request.contains { $0.name == Catalogue.idempotencyKeyField } }
    /// Takes `expected_version` (the REST `If-Match` header maps to it).
    public var takesExpectedVersion: Bool { request.contains { $0.name == "expected_version" } }
    /// Answers an order (REST sets `ETag` to its version).
    public var returnsOrder: Bool {
        if case .ref("Order") = response { return true }
        return false
    }

    /// The whole request object, common fields included.
    public var requestSchema: Schema { .objectWithRules(request + Catalogue.commonFields, rules) }
}

public enum Catalogue {
    /// The request field REST takes only as the Idempotency-Key header.
    public static let idempotencyKeyField = "idempotency_key"
    /// Fields every request may carry (docs/methods.md, "Every request").
    static let commonFields: [Property] = [
        opt("actor", .ref("Actor"), "Who is acting; recorded in audit entries and events. Default {\"type\":\"api\"} (REST: the key's id)."),
        opt("request_id", .string(max: 255), "Recorded with the change (REST: X-Request-Id)."),
    ]

    static let expectedVersion = opt("expected_version", .int(1...Int64.max),
                                     "Fails with version_conflict unless the order is at this version (REST: If-Match).")
    static func expectedVersionOf(_ what: String) -> Property {
        opt("expected_version", .int(1...Int64.max), "Fails with version_conflict unless the \(what) is at this version (REST: If-Match).")
    }
    static let orderID = req("id", .string(max: 64), "The order's id (ord_…).")
    static let limit100 = opt("limit", .int(1...1000), "Page size (default 100).")

    /// Every method: each capability declares its own in `Methods/<Capability>.swift`; this assembles them.
    public static let methods: [Method] = engineMethods + orderMethods + auditMethods + expressionMethods + workflowMethods
        + webhookMethods + notificationMethods + inventoryMethods + tagMethods + customFieldMethods + timelineMethods + draftMethods + slaMethods + attachmentMethods + paymentMethods + returnMethods + orderEditMethods

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
            w.key("http_method"); w.string(m.route.httpMethod)
            w.key("path"); w.string(m.route.path)
            w.key("routes"); w.beginArray()
            for r in m.routes {
                w.beginObject(); w.key("http_method"); w.string(r.httpMethod); w.key("path"); w.string(r.path); w.endObject()
            }
            w.endArray()
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
        let core = try tenant.core()
        return try call(core, name, try parseRequest(request, limit: tenant.engine.options.maxRequestBytes))
    }

    /// Calls a tenant-level method with a parsed request.
    public static func call(_ core: TenantCore, _ name: String, _ request: JSON) throws(OrderbaseError) -> [UInt8] {
        guard let m = byName[name] else { throw OrderbaseError(.notFound, "no method \(name)", field: "method") }
        guard case .tenant(let body) = m.target else {
            throw OrderbaseError(.misuse, "\(name) is an engine-level method; call it with orderbase_engine_call", field: "method")
        }
        return try body(core, request)
    }

    /// Calls an engine-level method.
    public static func call(_ engine: Engine, _ name: String, _ request: UnsafeRawBufferPointer?) throws(OrderbaseError) -> [UInt8] {
        try call(engine, name, try parseRequest(request, limit: engine.options.maxRequestBytes))
    }

    /// Calls an engine-level method with a parsed request.
    public static func call(_ engine: Engine, _ name: String, _ request: JSON) throws(OrderbaseError) -> [UInt8] {
        guard let m = byName[name] else { throw OrderbaseError(.notFound, "no method \(name)", field: "method") }
        guard case .engine(let body) = m.target else {
            throw OrderbaseError(.misuse, "\(name) is a tenant-level method; call it with orderbase_call on a tenant", field: "method")
        }
        if engine.isClosed { throw OrderbaseError(.misuse, "engine is closed") }
        return try body(engine, request)
    }
}
