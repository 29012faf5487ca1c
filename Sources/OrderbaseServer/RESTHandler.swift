import Orderbase
import OrderbaseAPI

/// One HTTP request as the handler sees it: the body already read (and
/// bounded by `max_request_bytes` by the transport).
public struct HTTPInput: Sendable {
    public var method: String
    /// The raw (percent-encoded) path and query.
    public var path: String
    public var query: String?
    /// Header names lowercased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String?, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    func headerCount(_ name: String) -> Int { headers.filter { $0.name == name }.count }
}

public struct HTTPOutput: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The route template (`/v1/orders/{id}`) for logs and metrics, or `unmatched`.
    public var route: String
    public var contentType = "application/json"
    /// A file sent instead of `body` (an attachment's bytes): an open descriptor the transport closes, and its size.
    public var file: (fd: Int32, size: Int64)?
}

/// A failure to answer with the error object and an HTTP status.
struct HTTPFailure: Error {
    let status: Int
    let error: OrderbaseError
    /// The error object's `code` when it is not an engine code (`unauthorized`, …).
    var httpCode: String?
    var headers: [(name: String, value: String)] = []

    init(_ status: Int, _ error: OrderbaseError, httpCode: String? = nil, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.error = error
        self.httpCode = httpCode
        self.headers = headers
    }

    static func invalid(_ message: String, field: String? = nil) -> HTTPFailure {
        HTTPFailure(400, OrderbaseError.invalid(message, field: field))
    }

    var body: [UInt8] { error.json(code: httpCode) }
}

/// Options of the REST layer (the `orderbase serve` flags).
public struct RESTOptions: Sendable {
    /// Requests per second per API key (burst of the same size); nil: unlimited.
    public var rateLimit: Int?
    public init(rateLimit: Int? = nil) { self.rateLimit = rateLimit }
}

/// Turns HTTP requests into catalogue calls: routing, authentication, scopes,
/// header mapping (Idempotency-Key, If-Match, X-Request-Id), query typing from
/// the request schema, and error statuses. Transport-independent. Writes wait
/// for fsync and scans take long: `Routed.mayBlock` says which requests the
/// transport must run off its event loop.
public final class RESTHandler: Sendable {
    public let engine: Engine
    let routes = RouteTable()
    let limiter: RateLimiter?
    /// Every 401 reads the same, whatever the cause (docs/rest.md): a missing,
    /// malformed, unknown, revoked or wrong key is not told apart for a caller.
    static let unauthorizedMessage = "a valid API key is required: Authorization: Bearer <key>"
    public let metrics = Metrics()
    let openAPIBytes: [UInt8]

    public init(engine: Engine, options: RESTOptions = RESTOptions()) {
        self.engine = engine
        limiter = options.rateLimit.map { RateLimiter(perSecond: $0) }
        var w = JSONWriter(capacity: 64 << 10)
        w.value(OpenAPI.document(allowHTTP: engine.options.webhookAllowHTTP))
        openAPIBytes = w.bytes
    }

    public var maxRequestBytes: Int { engine.options.maxRequestBytes }

    /// A request's route, matched once: for `mayBlock`, `handle` and metrics.
    public struct Routed: Sendable {
        let match: RouteTable.Match
        /// The route template (`/v1/orders/{id}`), or `unmatched`.
        public var label: String {
            if case .found(let e, _) = match { return e.template }
            return "unmatched"
        }
        /// Whether answering may block its thread: writes wait for fsync, and
        /// whole-tenant scans take long. Other reads (and the server's own
        /// routes) are short and can run where they arrive.
        public var mayBlock: Bool {
            guard case .found(let e, _) = match else { return false }
            if case .download = e.target { return true }
            if case .upload = e.target { return true }
            guard case .method(let m, let r) = e.target else { return false }
            return r.httpMethod != "GET" || m.scansEverything
        }
    }

    public func route(method: String, path: String) -> Routed { Routed(match: routes.match(method: method, path: path)) }

    public func handle(_ input: HTTPInput) -> HTTPOutput { handle(input, route(method: input.method, path: input.path)) }

    public func handle(_ input: HTTPInput, _ routed: Routed) -> HTTPOutput {
        let requestID = Self.requestID(input.header("x-request-id"))
        var out: HTTPOutput
        do {
            out = try answer(input, routed.match, requestID: requestID)
        } catch let f as HTTPFailure {
            out = HTTPOutput(status: f.status, headers: f.headers, body: f.body, route: routed.label)
        } catch {
            let e = OrderbaseError(.internal, "\(error)")
            out = HTTPOutput(status: 500, headers: [], body: e.json, route: routed.label)
        }
        out.headers.append(("X-Request-Id", requestID))
        return out
    }

    /// An acceptable client request id (printable ASCII, ≤ 255 bytes) or a new one.
    static func requestID(_ given: String?) -> String {
        if let given, !given.isEmpty, given.utf8.count <= 255, given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return given }
        return requestIDs.make("req_", at: SystemClock().nowMilliseconds())
    }
    static let requestIDs = IDGenerator()

    private func answer(_ input: HTTPInput, _ match: RouteTable.Match, requestID: String) throws -> HTTPOutput {
        switch match {
        case .notFound:
            throw HTTPFailure(404, OrderbaseError(.notFound, "no route \(input.method) \(input.path)"))
        case .badPath(let why):
            throw HTTPFailure.invalid(why)
        case .methodNotAllowed(let allowed):
            throw HTTPFailure(405, OrderbaseError(.invalidArgument, "\(input.method) is not allowed here; use \(allowed.joined(separator: ", "))"),
                              httpCode: HTTPOnlyErrors.methodNotAllowed, headers: [("Allow", allowed.joined(separator: ", "))])
        case .found(let entry, let params):
            switch entry.target {
            case .healthz:
                return HTTPOutput(status: 200, headers: [], body: Array("{\"status\":\"ok\",\"version\":\"\(OrderbaseVersion.string)\"}".utf8), route: entry.template)
            case .openapi:
                return HTTPOutput(status: 200, headers: [], body: openAPIBytes, route: entry.template)
            case .metrics:
                var o = HTTPOutput(status: 200, headers: [], body: Array(metrics.render(openTenants: engine.openTenantCount, consumerLags: engine.consumerLags()).utf8), route: entry.template)
                o.contentType = "text/plain; version=0.0.4; charset=utf-8"
                return o
            case .method(let m, let r):
                return try call(m, r, params, input, requestID: requestID, template: entry.template)
            case .download:
                return try download(input, params, template: entry.template)
            case .upload:
                // The transport streams uploads (beginUpload); one that reaches here came whole (the REST fuzz harness).
                return try uploadWhole(input)
            }
        }
    }

    // MARK: a catalogue call

    private func call(_ m: Method, _ r: Route, _ params: [String: String], _ input: HTTPInput,
                      requestID: String, template: String) throws -> HTTPOutput {
        let key = try authenticate(input)
        if let limiter, let wait = limiter.take(key.id) {
            throw HTTPFailure(429, OrderbaseError(.limitExceeded, "rate limit of \(limiter.perSecond) requests per second exceeded"),
                              httpCode: HTTPOnlyErrors.rateLimited, headers: [("Retry-After", String(wait))])
        }
        var request = try buildRequest(m, r, params, input)
        let fromIfMatch = try applyHeaders(m, input, &request, requestID: requestID, key: key)
        let tenant = try authorize(m, key, &request)
        do {
            let bytes: [UInt8]
            if let tenant {
                let t = try engine.openTenant(tenant)
                defer { t.close() }
                bytes = try Catalogue.call(try t.core(), m.name, .object(request))
            } else {
                bytes = try Catalogue.call(engine, m.name, .object(request))
            }
            var headers: [(name: String, value: String)] = []
            if m.returnsOrder, let v = Self.orderVersion(bytes) { headers.append(("ETag", "\"\(v)\"")) }
            if m.successStatus == 201, m.returnsOrder, let id = Self.orderID(bytes) { headers.append(("Location", "/v1/orders/\(id)")) }
            return HTTPOutput(status: m.successStatus, headers: headers, body: bytes, route: template)
        } catch {
            var status = Self.status(for: error)
            if error.code == .versionConflict && fromIfMatch { status = 412 }
            var headers: [(name: String, value: String)] = []
            if status == 503 { headers.append(("Retry-After", "1")) }
            throw HTTPFailure(status, error, headers: headers)
        }
    }

    /// The HTTP status of an engine error (docs/rest.md, "Errors").
    static func status(for e: OrderbaseError) -> Int {
        switch e.code {
        case .limitExceeded: e.isQuota ? 409 : 422
        case .invalidArgument, .idempotencyMismatch: 422
        case .notFound: 404
        case .alreadyExists, .versionConflict, .invalidTransition, .invalidState, .onHold, .guardFailed: 409
        case .notPermitted: 403
        case .busy: 503
        case .misuse: e.message.contains("closed") ? 503 : 500
        case .ioError, .corruption, .internal: 500
        }
    }

    func authenticate(_ input: HTTPInput) throws -> APIKey {
        // One answer whatever the cause: a caller learns nothing from which check failed.
        let unauthorized = HTTPFailure(401, OrderbaseError(.invalidArgument, Self.unauthorizedMessage), httpCode: HTTPOnlyErrors.unauthorized,
                                       headers: [("WWW-Authenticate", "Bearer realm=\"orderbase\"")])
        guard input.headerCount("authorization") == 1, let h = input.header("authorization") else { throw unauthorized }
        let parts = h.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw unauthorized }
        guard let key = engine.authenticate(String(parts[1]).trimmingSpaces) else { throw unauthorized }
        return key
    }

    /// Checks the key may call `m`; returns the tenant to call a tenant-level method on.
    private func authorize(_ m: Method, _ key: APIKey, _ request: inout JSONObject) throws -> String? {
        func forbidden(_ why: String) -> HTTPFailure { HTTPFailure(403, OrderbaseError(.invalidArgument, why), httpCode: HTTPOnlyErrors.forbidden) }
        switch m.access {
        case .anyKey:
            return nil
        case .operatorOnly:
            if !key.isOperator { throw forbidden("\(m.name) needs an operator key (orderbase keys create --operator)") }
            return nil
        case .ownTenant(let field):
            guard let own = key.tenant else { return nil }
            if key.scope < .admin { throw forbidden("\(m.name) needs a key with scope admin; this key has \(key.scope.rawValue)") }
            switch request[field] {
            case nil, .null?:
                request[field] = .string(own)
            case .string(let s)? where s == own:
                break
            case .string(let s)?:
                // Another tenant: answer as if it did not exist.
                throw HTTPFailure(404, OrderbaseError(.notFound, "no tenant \(s)", field: field))
            default:
                break  // wrong type: the method reports it
            }
            return nil
        case .tenant:
            guard let tenant = key.tenant else {
                throw forbidden("\(m.name) is a tenant method; operator keys manage tenants and keys only")
            }
            if key.scope < m.scope {
                throw forbidden("\(m.name) needs a key with scope \(m.scope.rawValue); this key has \(key.scope.rawValue)")
            }
            return tenant
        }
    }

    /// The request object: the JSON body (POST, PATCH) or the typed query (GET,
    /// DELETE), with the path parameters set.
    private func buildRequest(_ m: Method, _ r: Route, _ params: [String: String], _ input: HTTPInput) throws -> JSONObject {
        var request: JSONObject
        if r.hasBody {
            if let q = input.query, !q.isEmpty { throw HTTPFailure.invalid("\(r.httpMethod) takes its fields in the JSON body, not the query string") }
            request = try parseBody(input)
        } else {
            if !input.body.isEmpty { throw HTTPFailure.invalid("\(r.httpMethod) takes no body; send fields as query parameters") }
            request = try QueryString.parse(input.query ?? "", fields: m.queryFields)
        }
        for (name, value) in params {
            if let given = request[name], given != .string(value) {
                throw HTTPFailure.invalid("\(name) is given by the path (\(value)) and differs in the body", field: name)
            }
            request[name] = .string(value)
        }
        return request
    }

    private func parseBody(_ input: HTTPInput) throws -> JSONObject {
        if input.body.isEmpty { return JSONObject() }
        if let ct = input.header("content-type"), !ct.lowercased().hasPrefix("application/json") {
            throw HTTPFailure(415, OrderbaseError.invalid("Content-Type must be application/json"))
        }
        let json: JSON
        do { json = try JSON.parse(input.body) } catch { throw HTTPFailure(400, error) }
        guard case .object(let o) = json else { throw HTTPFailure.invalid("the request body must be a JSON object, got \(json.typeName)") }
        return o
    }

    /// Maps Idempotency-Key, If-Match and X-Request-Id, and sets the default
    /// actor. Returns whether `expected_version` came from If-Match.
    private func applyHeaders(_ m: Method, _ input: HTTPInput, _ request: inout JSONObject, requestID: String, key: APIKey) throws -> Bool {
        // Over REST the key is the header only (the OpenAPI body leaves the field out),
        // so a request never carries two keys that could disagree.
        if m.takesIdempotencyKey, request[Catalogue.idempotencyKeyField] != nil {
            throw HTTPFailure(422, OrderbaseError.invalid("over REST the idempotency key is the Idempotency-Key header, not a body field",
                                                          field: Catalogue.idempotencyKeyField))
        }
        if let k = input.header("idempotency-key") {
            guard m.takesIdempotencyKey else {
                throw HTTPFailure.invalid("\(m.name) takes no Idempotency-Key", field: "Idempotency-Key")
            }
            guard !k.isEmpty, k.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
                throw HTTPFailure.invalid("Idempotency-Key must be 1 to 255 characters of printable ASCII", field: "Idempotency-Key")
            }
            request[Catalogue.idempotencyKeyField] = .string(k)
        }
        var fromIfMatch = false
        if let tag = input.header("if-match") {
            guard m.takesExpectedVersion else { throw HTTPFailure.invalid("\(m.name) takes no If-Match", field: "If-Match") }
            if tag.trimmingSpaces != "*" {
                guard let v = Self.parseETag(tag) else {
                    throw HTTPFailure.invalid("If-Match must be the order's ETag, like \"3\"", field: "If-Match")
                }
                if let given = request["expected_version"], given != .null, given != .int(v) {
                    // At most one of them is the order's version: a precondition fails either way.
                    throw HTTPFailure(412, OrderbaseError(.versionConflict, "If-Match and the body's expected_version differ; at most one of them is the order's version",
                                                          field: "expected_version", details: .object(["if_match": .int(v), "expected_version": given])))
                }
                request["expected_version"] = .int(v)
                fromIfMatch = true
            }
        }
        if request["request_id"] == nil { request["request_id"] = .string(requestID) }
        if request["actor"] == nil { request["actor"] = .object(["type": .string("api"), "id": .string(key.id)]) }
        return fromIfMatch
    }

    /// `"3"` (strong entity tag) or a bare `3`.
    static func parseETag(_ tag: String) -> Int64? {
        var t = Substring(tag.trimmingSpaces)
        if t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 { t = t.dropFirst().dropLast() }
        guard !t.isEmpty, t.utf8.count <= 19, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int64(t), v >= 1 else { return nil }
        return v
    }

    /// The top-level `version` of an order rendered by the engine: its third
    /// member, after two JSON strings (`id`, `number`), which cannot contain an
    /// unescaped quote, so the first `,"version":` is the top-level one.
    static func orderVersion(_ bytes: [UInt8]) -> Int64? { number(after: Array(",\"version\":".utf8), in: bytes) }

    static func orderID(_ bytes: [UInt8]) -> String? {
        let head = Array("{\"id\":\"".utf8)
        guard bytes.count > head.count, Array(bytes[0..<head.count]) == head,
              let end = bytes[head.count...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: bytes[head.count..<end], as: UTF8.self)
    }

    private static func number(after needle: [UInt8], in bytes: [UInt8]) -> Int64? {
        let limit = min(bytes.count, 512)
        guard limit > needle.count else { return nil }
        var i = 0
        while i + needle.count <= limit {
            if bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle {
                var v: Int64 = 0
                var k = i + needle.count
                var digits = 0
                while k < bytes.count, bytes[k] >= 0x30, bytes[k] <= 0x39, digits < 19 {
                    v = v * 10 + Int64(bytes[k] - 0x30); k += 1; digits += 1
                }
                return digits > 0 ? v : nil
            }
            i += 1
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
