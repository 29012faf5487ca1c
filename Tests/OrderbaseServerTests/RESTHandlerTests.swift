import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseAPI
@testable import OrderbaseServer

/// An engine with tenants `acme` and `other`, keys of every kind, and a handler.
final class ServerFixture: @unchecked Sendable {
    let dir: String
    let engine: Engine
    let handler: RESTHandler
    var keys: [String: String] = [:]  // "acme:write", "other:admin", "operator" -> secret

    init(rateLimit: Int? = nil) throws {
        var template = Array((NSTemporaryDirectory() + "orderbase-rest-XXXXXX").utf8CString)
        dir = String(cString: mkdtemp(&template)!)
        engine = try Engine(root: dir)
        handler = RESTHandler(engine: engine, options: RESTOptions(rateLimit: rateLimit))
        for t in ["acme", "other"] {
            try engine.createTenant(t, settings: nil)
            for s in ["read", "write", "admin"] {
                let k = try JSON.parse(try engine.createAPIKey(try JSON.parse(#"{"tenant":"\#(t)","scope":"\#(s)"}"#)))
                keys["\(t):\(s)"] = k["secret"]!.stringValue!
            }
        }
        keys["operator"] = try JSON.parse(try engine.createAPIKey(try JSON.parse(#"{"scope":"admin"}"#)))["secret"]!.stringValue!
    }

    deinit {
        engine.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    struct Answer {
        let status: Int
        let headers: [(name: String, value: String)]
        let json: JSON
        func header(_ n: String) -> String? { headers.first { $0.name.lowercased() == n.lowercased() }?.value }
        var code: String? { json["error"]?["code"]?.stringValue }
    }

    func send(_ method: String, _ target: String, key: String? = nil, body: String? = nil,
              headers: [(String, String)] = []) -> Answer {
        let parts = target.split(separator: "?", maxSplits: 1)
        var h = headers.map { (name: $0.0.lowercased(), value: $0.1) }
        if let key { h.append(("authorization", "Bearer \(keys[key] ?? key)")) }
        let out = handler.handle(HTTPInput(method: method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : nil,
                                           headers: h, body: Array((body ?? "").utf8)))
        let json = out.contentType.hasPrefix("application/json") ? ((try? JSON.parse(out.body)) ?? .null) : .string(String(decoding: out.body, as: UTF8.self))
        return Answer(status: out.status, headers: out.headers, json: json)
    }

    func createOrder(_ key: String = "acme:write") -> JSON {
        send("POST", "/v1/orders", key: key, body: #"{"line_items":[{"title":"Mug","quantity":2,"unit_price":450}]}"#).json
    }
}

@Suite("REST handler")
struct RESTHandlerTests {
    @Test("every catalogue route resolves to its method, and unknown paths and methods answer 404 and 405")
    func routing() throws {
        let fx = try ServerFixture()
        for m in Catalogue.methods {
            for r in m.routes {
                let path = r.path.replacingOccurrences(of: "{id}", with: "x1").replacingOccurrences(of: "{number}", with: "n1")
                    .replacingOccurrences(of: "{key}", with: "k1")
                guard case .found(let e, _) = fx.handler.routes.match(method: r.httpMethod, path: path),
                      case .method(let found, _) = e.target else {
                    Issue.record("\(r.httpMethod) \(r.path) does not resolve"); continue
                }
                #expect(found.name == m.name)
            }
        }
        #expect(fx.send("GET", "/v1/nope", key: "acme:read").status == 404)
        let wrong = fx.send("PUT", "/v1/orders", key: "acme:read")
        #expect(wrong.status == 405 && wrong.header("Allow") == "GET, POST" && wrong.code == "method_not_allowed")
        #expect(fx.send("GET", "/v1/orders/", key: "acme:read").status == 404)
        // A literal route shadows a parameter at the same place, for every method.
        let shadowed = fx.send("GET", "/v1/workflows/validate", key: "acme:read")
        #expect(shadowed.status == 405 && shadowed.header("Allow") == "POST")
        #expect(fx.send("GET", "/v1/workflows/default", key: "acme:read").status == 200)
        #expect(fx.send("GET", "/v1/orders/%FF", key: "acme:read").status == 400)
    }

    @Test("missing, malformed, unknown, forged and revoked keys all answer 401 alike")
    func unauthorized() throws {
        let fx = try ServerFixture()
        let good = fx.keys["acme:read"]!
        let forged = String(good.dropLast(4)) + "AAAA"
        let otherTenant = good.replacingOccurrences(of: "obk.acme.", with: "obk.other.")
        let nowhere = good.replacingOccurrences(of: "obk.acme.", with: "obk.nosuch.")
        for key in [nil, "x", forged, otherTenant, nowhere, "obo.key_01M8BMJKB956TMT4K844AQFY21.abc", "../../etc/passwd"] {
            let a = fx.send("GET", "/v1/orders", key: key)
            #expect(a.status == 401 && a.code == "unauthorized" && a.header("WWW-Authenticate") != nil, "\(key ?? "none")")
        }
        #expect(fx.send("GET", "/v1/orders", headers: [("Authorization", "Basic abc")]).status == 401)
        #expect(fx.send("GET", "/v1/orders", key: "acme:read").status == 200)
        let listed = fx.send("GET", "/v1/api_keys", key: "acme:admin").json["data"]
        guard case .array(let all)? = listed else { Issue.record("no keys"); return }
        let readID = all.first { $0["scope"] == .string("read") }!["id"]!.stringValue!
        #expect(fx.send("POST", "/v1/api_keys/\(readID)/revoke", key: "acme:admin").status == 200)
        #expect(fx.send("GET", "/v1/orders", key: "acme:read").status == 401)
    }

    @Test("scopes: read cannot write, write cannot admin; operator keys manage tenants but read no orders")
    func scopes() throws {
        let fx = try ServerFixture()
        let denied = fx.send("POST", "/v1/orders", key: "acme:read", body: #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#)
        #expect(denied.status == 403 && denied.code == "forbidden")
        #expect(fx.createOrder("acme:write")["number"] == .string("#1001"))
        #expect(fx.createOrder("acme:admin")["number"] == .string("#1002"))
        #expect(fx.send("GET", "/v1/integrity", key: "acme:write").status == 403)
        #expect(fx.send("GET", "/v1/integrity", key: "acme:admin").json["ok"] == .bool(true))
        #expect(fx.send("GET", "/v1/orders", key: "operator").status == 403)
        #expect(fx.send("POST", "/v1/tenants", key: "acme:admin", body: #"{"id":"new"}"#).status == 403)
        #expect(fx.send("POST", "/v1/tenants", key: "operator", body: #"{"id":"new"}"#).status == 201)
        #expect(fx.send("GET", "/v1/tenants", key: "operator").json["data"].map { if case .array(let a) = $0 { a.count } else { 0 } } == 3)
        #expect(fx.send("GET", "/v1/methods", key: "acme:read").status == 200)
        #expect(fx.send("GET", "/v1/api_keys", key: "acme:write").status == 403)
    }

    @Test("another tenant's orders and the tenant itself are 404, exactly as if they did not exist")
    func isolation() throws {
        let fx = try ServerFixture()
        let id = fx.createOrder("other:write")["id"]!.stringValue!
        let foreign = fx.send("GET", "/v1/orders/\(id)", key: "acme:admin")
        let missing = fx.send("GET", "/v1/orders/ord_01M8BMJMCHDRWMBSBG5VFDKFWE", key: "acme:admin")
        #expect(foreign.status == 404 && missing.status == 404 && foreign.code == missing.code)
        #expect(fx.send("GET", "/v1/orders/\(id)", key: "other:read").status == 200)
        #expect(fx.send("GET", "/v1/tenants/other", key: "acme:admin").status == 404)
        #expect(fx.send("GET", "/v1/tenants/nosuch", key: "acme:admin").status == 404)
        #expect(fx.send("GET", "/v1/tenants/acme", key: "acme:admin").json["id"] == .string("acme"))
        #expect(fx.send("GET", "/v1/api_keys?tenant=other", key: "acme:admin").status == 404)
        #expect(fx.send("POST", "/v1/api_keys", key: "acme:admin", body: #"{"tenant":"other","scope":"admin"}"#).status == 404)
        let made = fx.send("POST", "/v1/api_keys", key: "acme:admin", body: #"{"scope":"read","name":"ci"}"#)
        #expect(made.status == 201 && made.json["tenant"] == .string("acme") && made.json["secret"]?.stringValue?.hasPrefix("obk.acme.") == true)
    }

    @Test("If-Match maps to expected_version (412 on mismatch); expected_version in the body answers 409; ETag carries the version")
    func versions() throws {
        let fx = try ServerFixture()
        let created = fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#)
        #expect(created.status == 201 && created.header("ETag") == "\"1\"")
        let id = created.json["id"]!.stringValue!
        #expect(created.header("Location") == "/v1/orders/\(id)")
        let stale = fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"note":"a"}"#, headers: [("If-Match", "\"7\"")])
        #expect(stale.status == 412 && stale.code == "version_conflict" && stale.json["error"]?["details"]?["actual"] == .int(1))
        let ok = fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"note":"a"}"#, headers: [("If-Match", "\"1\"")])
        #expect(ok.status == 200 && ok.header("ETag") == "\"2\"")
        #expect(fx.send("POST", "/v1/orders/\(id)/transition", key: "acme:write", body: #"{"to":"confirmed","expected_version":1}"#).status == 409)
        #expect(fx.send("POST", "/v1/orders/\(id)/transition", key: "acme:write", body: #"{"to":"confirmed"}"#, headers: [("If-Match", "*")]).status == 200)
        #expect(fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"note":"b"}"#, headers: [("If-Match", "W/\"3\"")]).status == 400)
        // If-Match and the body disagree: at most one is the order's version, so a precondition fails.
        let both = fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"note":"b","expected_version":2}"#, headers: [("If-Match", "\"3\"")])
        #expect(both.status == 412 && both.json["error"]?["details"]?["if_match"] == .int(3))
        #expect(fx.send("GET", "/v1/orders/\(id)", key: "acme:read", headers: [("If-Match", "\"3\"")]).status == 400)
        #expect(fx.send("GET", "/v1/orders/\(id)", key: "acme:read").header("ETag") == "\"3\"")
        #expect(fx.send("POST", "/v1/orders/\(id)/transition", key: "acme:write", body: #"{"to":"completed"}"#).status == 409)
        // A body expected_version of null is "not given": If-Match alone decides.
        #expect(fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"note":"c","expected_version":null}"#, headers: [("If-Match", "\"3\"")]).status == 200)
    }

    @Test("Idempotency-Key maps to idempotency_key: a repeat returns the first order; a different request under the key is 422")
    func idempotency() throws {
        let fx = try ServerFixture()
        let body = #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#
        let a = fx.send("POST", "/v1/orders", key: "acme:write", body: body, headers: [("Idempotency-Key", "k-1")])
        let b = fx.send("POST", "/v1/orders", key: "acme:write", body: body, headers: [("Idempotency-Key", "k-1")])
        #expect(a.status == 201 && b.status == 201 && a.json == b.json)
        let c = fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"line_items":[{"title":"y","quantity":1,"unit_price":1}]}"#,
                        headers: [("Idempotency-Key", "k-1")])
        #expect(c.status == 422 && c.code == "idempotency_mismatch")
        // Over REST the key is the header only: a body idempotency_key is refused, with or without the header.
        let inBody = fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"idempotency_key":"k-2","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#,
                             headers: [("Idempotency-Key", "k-2")])
        #expect(inBody.status == 422 && inBody.json["error"]?["field"] == .string("idempotency_key"))
        #expect(fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"idempotency_key":"k-2","line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#).status == 422)
        let id = a.json["id"]!.stringValue!
        #expect(fx.send("POST", "/v1/orders/\(id)/cancel", key: "acme:write", headers: [("Idempotency-Key", "k-4")]).status == 400)
        #expect(fx.send("GET", "/v1/orders", key: "acme:read").json["data"].map { if case .array(let x) = $0 { x.count } else { -1 } } == 1)
    }

    @Test("bodies: malformed JSON is 400 with line and column, a non-object is 400, invalid fields 422, path and body must agree")
    func bodies() throws {
        let fx = try ServerFixture()
        let bad = fx.send("POST", "/v1/orders", key: "acme:write", body: "{\n  \"line_items\": [,]\n}")
        #expect(bad.status == 400 && bad.json["error"]?["details"]?["line"] == .int(2) && bad.json["error"]?["details"]?["column"] == .int(18))
        #expect(fx.send("POST", "/v1/orders", key: "acme:write", body: "[1]").status == 400)
        #expect(fx.send("POST", "/v1/orders", key: "acme:write", body: "{\"line_items\":[]}").status == 422)
        let unknown = fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"total":5,"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#)
        #expect(unknown.status == 422 && unknown.json["error"]?["field"] == .string("total"))
        let invalidUTF8 = fx.handler.handle(HTTPInput(method: "POST", path: "/v1/orders", query: nil,
            headers: [("authorization", "Bearer \(fx.keys["acme:write"]!)")], body: Array(#"{"note":""#.utf8) + [0xFF] + Array(#""}"#.utf8)))
        #expect(invalidUTF8.status == 400)
        let id = fx.createOrder()["id"]!.stringValue!
        #expect(fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"id":"ord_other","note":"x"}"#).status == 400)
        #expect(fx.send("PATCH", "/v1/orders/\(id)", key: "acme:write", body: #"{"id":"\#(id)","note":"x"}"#).status == 200)
        #expect(fx.send("POST", "/v1/orders?x=1", key: "acme:write", body: #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#).status == 400)
        #expect(fx.send("GET", "/v1/orders", key: "acme:read", body: "{}").status == 400)
        #expect(fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#,
                        headers: [("Content-Type", "text/plain")]).status == 415)
    }

    @Test("query parameters are typed by the request schema; unknown, repeated or mistyped ones are 400; out of range 422")
    func queries() throws {
        let fx = try ServerFixture()
        for _ in 0..<3 { _ = fx.createOrder() }
        let page = fx.send("GET", "/v1/orders?limit=2&status=pending&sort=created_asc", key: "acme:read")
        #expect(page.status == 200 && page.json["has_more"] == .bool(true))
        guard case .array(let first)? = page.json["data"] else { Issue.record("no data"); return }
        let next = fx.send("GET", "/v1/orders?limit=2&sort=created_asc&starting_after=\(first[1]["id"]!.stringValue!)", key: "acme:read")
        #expect(next.json["has_more"] == .bool(false))
        #expect(fx.send("GET", "/v1/orders?limit=two", key: "acme:read").status == 400)
        #expect(fx.send("GET", "/v1/orders?limit=1&limit=2", key: "acme:read").status == 400)
        #expect(fx.send("GET", "/v1/orders?colour=red", key: "acme:read").status == 400)
        #expect(fx.send("GET", "/v1/orders?limit=0", key: "acme:read").status == 422)
        #expect(fx.send("GET", "/v1/orders?status=shipped", key: "acme:read").status == 200)
        #expect(fx.send("GET", "/v1/orders?status=Shipped", key: "acme:read").status == 422)
        #expect(fx.send("GET", "/v1/orders?created_after=2026-01-01T00%3A00%3A00Z", key: "acme:read").status == 200)
        let events = fx.send("GET", "/v1/events?types=order.created&types=order.updated&limit=1", key: "acme:read")
        #expect(events.status == 200 && events.json["last_sequence"] == .int(1))
        #expect(fx.send("GET", "/v1/api_keys?include_revoked=maybe", key: "acme:admin").status == 400)
        #expect(fx.send("GET", "/v1/orders/by-number/%231002", key: "acme:read").json["number"] == .string("#1002"))
    }

    @Test("X-Request-Id is echoed when sane, generated otherwise, and lands in the audit entry; the actor is the key")
    func requestIDs() throws {
        let fx = try ServerFixture()
        let a = fx.send("POST", "/v1/orders", key: "acme:write", body: #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}]}"#,
                        headers: [("X-Request-Id", "trace-42")])
        #expect(a.header("X-Request-Id") == "trace-42")
        let id = a.json["id"]!.stringValue!
        let audit = fx.send("GET", "/v1/orders/\(id)/audit", key: "acme:read").json["data"]
        guard case .array(let entries)? = audit else { Issue.record("no audit"); return }
        #expect(entries[0]["request_id"] == .string("trace-42"))
        #expect(entries[0]["actor"]?["type"] == .string("api"))
        #expect(entries[0]["actor"]?["id"]?.stringValue?.hasPrefix("key_") == true)
        #expect(fx.send("GET", "/healthz", headers: [("X-Request-Id", "bad id\u{1}")]).header("X-Request-Id")?.hasPrefix("req_") == true)
        #expect(fx.send("GET", "/v1/nope").header("X-Request-Id")?.hasPrefix("req_") == true)
    }

    @Test("a key over its rate limit gets 429 with Retry-After; other keys are unaffected")
    func rateLimit() throws {
        let fx = try ServerFixture(rateLimit: 3)
        let statuses = (0..<5).map { _ in fx.send("GET", "/v1/orders", key: "acme:read").status }
        #expect(statuses.prefix(3).allSatisfy { $0 == 200 } && statuses.last == 429)
        let limited = fx.send("GET", "/v1/orders", key: "acme:read")
        #expect(limited.code == "rate_limited" && Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
        #expect(fx.send("GET", "/v1/orders", key: "other:read").status == 200)
    }

    @Test("healthz, metrics and openapi.json need no key; metrics count requests per route template")
    func serverRoutes() throws {
        let fx = try ServerFixture()
        #expect(fx.send("GET", "/healthz").json["status"] == .string("ok"))
        #expect(fx.send("GET", "/v1/openapi.json").json["openapi"] == .string("3.1.0"))
        fx.handler.metrics.record(method: "GET", route: "/v1/orders/{id}", status: 200, seconds: 0.0003)
        let text = fx.send("GET", "/metrics").json.stringValue ?? ""
        #expect(text.contains(#"orderbase_http_requests_total{method="GET",route="/v1/orders/{id}",status="200"} 1"#))
        #expect(text.contains(#"orderbase_http_request_duration_seconds_bucket{method="GET",route="/v1/orders/{id}",le="0.0005"} 1"#))
        #expect(text.contains("orderbase_open_tenants "))
    }

    @Test("engine errors map to documented HTTP statuses")
    func statuses() {
        let table: [(ErrorCode, Int)] = [(.invalidArgument, 422), (.notFound, 404), (.alreadyExists, 409), (.versionConflict, 409),
                                         (.invalidTransition, 409), (.idempotencyMismatch, 422), (.busy, 503), (.ioError, 500),
                                         (.corruption, 500), (.limitExceeded, 422), (.internal, 500), (.invalidState, 409), (.onHold, 409),
                                         (.guardFailed, 409), (.notPermitted, 403)]
        for (code, status) in table { #expect(RESTHandler.status(for: OrderbaseError(code, "x")) == status, "\(code)") }
        // A full store is about state, not the request: 409.
        #expect(RESTHandler.status(for: OrderbaseError.quota("holds", limit: 20, "an order has at most 20 holds")) == 409)
        #expect(ErrorCode.allCases.count == table.count + 1)  // + misuse: 500, or 503 once the engine closes
    }
}
