import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseAPI

@Suite("Catalogue")
struct CatalogueTests {
    @Test("method names and REST routes are unique, and every method has a route and a scope")
    func unique() {
        let names = Catalogue.methods.map(\.name)
        #expect(Set(names).count == names.count)
        let routes = Catalogue.methods.flatMap { $0.routes.map { "\($0.httpMethod) \($0.path)" } }
        #expect(Set(routes).count == routes.count)
        for m in Catalogue.methods {
            #expect(!m.routes.isEmpty, "\(m.name) has no route")
            for r in m.routes {
                #expect(r.path.hasPrefix("/v1/"))
                #expect(["GET", "POST", "PATCH", "DELETE"].contains(r.httpMethod))
            }
            #expect(!m.summary.isEmpty)
        }
    }

    @Test("the issue's methods are all in the catalogue")
    func coverage() {
        for name in ["tenants.create", "tenants.list", "tenants.get", "tenants.delete", "orders.create", "orders.get",
                     "orders.list", "orders.update", "orders.transition", "orders.cancel", "orders.audit", "events.list",
                     "audit.verify", "integrity.check"] {
            #expect(Catalogue.method(name) != nil, "\(name)")
        }
    }

    @Test("dispatch: unknown methods, wrong level, oversized and non-object requests")
    func dispatch() throws {
        var template = Array((NSTemporaryDirectory() + "orderbase-api-XXXXXX").utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var opts = EngineOptions()
        opts.maxRequestBytes = 1024
        let engine = try Engine(root: dir, options: opts)
        defer { engine.close() }
        func code(_ body: () throws -> [UInt8]) -> ErrorCode? {
            do { _ = try body(); return nil } catch { return (error as? OrderbaseError)?.code }
        }
        func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
        func call(_ name: String, _ body: String) throws -> [UInt8] {
            try bytes(body).withUnsafeBytes { b in try Catalogue.call(engine, name, b) }
        }
        _ = try call("tenants.create", #"{"id":"shop"}"#)
        let t = try engine.openTenant("shop")
        func tcall(_ name: String, _ body: String) throws -> [UInt8] {
            try bytes(body).withUnsafeBytes { b in try Catalogue.call(t, name, b) }
        }
        #expect(code { try tcall("orders.nope", "{}") } == .notFound)
        #expect(code { try tcall("tenants.list", "{}") } == .misuse)
        #expect(code { try call("orders.list", "{}") } == .misuse)
        #expect(code { try tcall("orders.list", "[]") } == .invalidArgument)
        #expect(code { try tcall("orders.list", "{\"limit\":") } == .invalidArgument)
        #expect(code { try tcall("orders.list", "{" + String(repeating: " ", count: 2000) + "}") } == .limitExceeded)
        #expect(try JSON.parse(try tcall("orders.list", ""))["has_more"] == .bool(false))
        let methods = try JSON.parse(try call("methods.list", "{}"))["data"]
        if case .array(let a)? = methods { #expect(a.count == Catalogue.methods.count) } else { Issue.record("no data") }
        t.close()
        #expect(code { try tcall("orders.list", "{}") } == .misuse)
    }
}

@Suite("Common request fields")
struct CommonFieldTests {
    @Test("every method accepts actor and request_id, validates them, and still rejects unknown fields")
    func everyMethod() throws {
        let fx = try APIFixture()
        for m in Catalogue.methods {
            guard let body = fx.minimal(m.name, fresh: "fresh") else { Issue.record("no minimal request for \(m.name)"); continue }
            let sep = body.isEmpty ? "" : ","
            func code(_ json: String) -> ErrorCode? {
                do { _ = try fx.run(m, json); return nil } catch { return (error as? OrderbaseError)?.code }
            }
            #expect(code(#"{\#(body)\#(sep)"actor":{"type":"robot"}}"#) == .invalidArgument, "\(m.name) validates actor")
            #expect(code(#"{\#(body)\#(sep)"bogus":1}"#) == .invalidArgument, "\(m.name) rejects unknown fields")
            #expect(code(#"{\#(body)\#(sep)"actor":{"type":"user","id":"u1"},"request_id":"r-1"}"#) == nil, "\(m.name) accepts actor and request_id")
        }
    }
}
