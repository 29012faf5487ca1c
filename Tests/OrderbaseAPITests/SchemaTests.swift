import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseAPI

@Suite("Catalogue schemas and the OpenAPI document")
struct SchemaTests {
    @Test("each method's declared request fields are exactly the fields it reads")
    func requestFieldsMatchTheReaders() throws {
        let fx = try APIFixture()
        for m in Catalogue.methods {
            guard let body = fx.minimal(m.name, fresh: "probe") else { Issue.record("no minimal request for \(m.name)"); continue }
            var failure: (any Error)?
            let read = FieldProbe.collect {
                do { _ = try fx.run(m, "{\(body)}") } catch { failure = error }
            }
            #expect(failure == nil, "\(m.name): \(String(describing: failure))")
            let declared = Set((m.request + Catalogue.commonFields).map(\.name))
            #expect(read == declared, "\(m.name): reads \(read.subtracting(declared).sorted()) undeclared; declares \(declared.subtracting(read).sorted()) unread")
        }
    }

    @Test("each method's answer to a minimal request conforms to its response schema")
    func responsesConform() throws {
        let fx = try APIFixture()
        for m in Catalogue.methods {
            guard let body = fx.minimal(m.name, fresh: "conform") else { continue }
            let answer = try JSON.parse(try fx.run(m, "{\(body)}"))
            #expect(conformance(answer, m.response) == nil, "\(m.name): \(conformance(answer, m.response) ?? "")")
        }
        // A richer order than the minimal one: every optional part present.
        let rich = try fx.tenant.core().orders.createOrder(try JSON.parse("""
            {"currency":"GBP","channel":"phone","source":{"name":"pos","external_id":"A-1"},
             "customer":{"id":"c1","email":"a@b.c","name":"Ann","phone":"+44"},
             "billing_address":{"name":"Ann","line1":"1 High St","city":"London","postal_code":"N1","country":"GB"},
             "shipping_address":{"name":"Ann","country":"GB"},
             "line_items":[{"sku":"S","title":"T","variant_title":"V","quantity":2,"unit_price":500,"unit_cost":200,
                            "discounts":[{"code":"D","description":"d","amount":100}],
                            "tax_lines":[{"name":"VAT","rate":"0.2"}],"properties":{"gift":"yes"}}],
             "shipping_lines":[{"title":"Std","code":"STD","price":495,"tax_lines":[{"name":"VAT","rate":"0.20","amount":99}]}],
             "discounts":[{"code":"W","amount":50}],"note":"n","metadata":{"k":[1,{"x":null}]}}
            """))
        let richOrder = try JSON.parse(rich)
        #expect(conformance(richOrder, .ref("Order")) == nil, "\(conformance(richOrder, .ref("Order")) ?? "")")
        let events = try JSON.parse(try fx.tenant.core().audit.listEvents(.object([:])))
        #expect(conformance(events, Catalogue.method("events.list")!.response) == nil)
    }

    @Test("the conformance checker itself rejects what breaks a schema")
    func checkerRejects() {
        #expect(conformance(.object(["id": .int(1)]), .object([req("id", .string())])) != nil)
        #expect(conformance(.object([:]), .object([req("id", .string())])) != nil)
        #expect(conformance(.object(["id": .string("a"), "x": .null]), .object([req("id", .string())])) != nil)
        #expect(conformance(.string("later"), .oneOf(["now"])) != nil)
        #expect(conformance(.int(0), .int(1...5)) != nil)
        #expect(conformance(.null, .nullable(.string())) == nil)
    }

    @Test("every route of every method is in the OpenAPI document, with unique operation ids and resolvable references")
    func openAPI() throws {
        let doc = OpenAPI.document
        #expect(doc["openapi"] == .string("3.1.0"))
        guard case .object(let paths)? = doc["paths"] else { Issue.record("no paths"); return }
        var operationIDs: [String] = []
        for m in Catalogue.methods {
            #expect(!m.routes.isEmpty, "\(m.name) has no route")
            for r in m.routes {
                let op = paths[r.path]?[r.httpMethod.lowercased()]
                #expect(op != nil, "\(r.httpMethod) \(r.path) missing")
                if let id = op?["operationId"]?.stringValue { operationIDs.append(id) }
                for p in r.parameters { #expect(m.request.contains { $0.name == p }, "\(m.name): path parameter \(p) is not a request field") }
            }
        }
        #expect(Set(operationIDs).count == operationIDs.count)
        // Every $ref names a component.
        let text = doc.text
        var refs = Set<String>()
        var rest = Substring(text)
        while let r = rest.range(of: "\"#/components/") {
            let tail = rest[r.upperBound...]
            let end = tail.firstIndex(of: "\"")!
            refs.insert(String(tail[..<end]))
            rest = tail[end...]
        }
        for ref in refs {
            let parts = ref.split(separator: "/").map(String.init)
            #expect(doc["components"]?[parts[0]]?[parts[1]] != nil, "dangling $ref \(ref)")
        }
        #expect(refs.contains("schemas/Order") && refs.contains("responses/Error"))
    }

    @Test("engine-level methods say which keys reach them; tenant-level ones are tenant-scoped")
    func access() {
        for m in Catalogue.methods {
            switch m.access {
            case .tenant: #expect(!m.isEngineLevel, "\(m.name)")
            case .ownTenant(let field): #expect(m.isEngineLevel && m.request.contains { $0.name == field }, "\(m.name)")
            case .operatorOnly, .anyKey: #expect(m.isEngineLevel, "\(m.name)")
            }
        }
    }
}

@Suite("Patterns in the OpenAPI document say what the engine checks")
struct PatternTests {
    func matches(_ pattern: String, _ s: String) throws -> Bool {
        try Regex(pattern).wholeMatch(in: s) != nil
    }

    @Test("webhook and SMS URLs: the pattern and WebhookURL.check agree, with and without plain http")
    func urls() throws {
        let samples = ["https://hooks.example.com/x?y=1", "HTTPS://a.b:443/", "http://a.example/", "https://[::1]:8443/p", "https://[::1]x/",
                       "https://a:0/", "https://a:08/", "https://a:65535", "https://a:65536", "https://u@a/", "https://a/#f", "https://",
                       "https:///p", "https://a b/", "ftp://a/", "https://a:b:1/", "https://a.example?q", "https://[zz]/", "https://[]/",
                       "https://a~b!$&'()*+,;=%/", "https://é.example/", "https://a/\u{7F}", "https://a/%20\"x"]
        for allow in [false, true] {
            for s in samples {
                var ok = true
                do { try WebhookURL.check(s, allowHTTP: allow) } catch { ok = false }
                #expect(try matches(WebhookURL.pattern(allowHTTP: allow), s) == ok, "\(s) allowHTTP=\(allow): engine \(ok)")
            }
        }
    }

    @Test("hosts, email addresses and recipient fields: the patterns and the engine agree")
    func addresses() throws {
        for s in ["smtp.example.com", "127.0.0.1", "a", "-a.com", "a-.com", "a..b", "::1", "a_b.com", String(repeating: "a", count: 64) + ".com", "xn--p1ai"] {
            #expect(try matches(AddressPattern.host, s) == NotificationChannel.isHost(s), "\(s)")
        }
        for s in ["ops@acme.example", "a.b+c@x.io", ".a@x.io", "a.@x.io", "a..b@x.io", "a@1.2.3.4", "a@x.1io", "a@x", "a b@x.io", "a@@x.io",
                  "\"q\"@x.io", "a@x-.io", "{x}|~@y.org", "a@[::1]", "é@x.io"] {
            #expect(try matches(AddressPattern.email, s) == RecipientAddress.isEmail(s), "\(s)")
        }
        for s in ["order.customer.email", "order.metadata.gift_email", "order.metadata.a.b", "order.metadata", "order.metadata.", "order.total",
                  "order.customer", "order.line_items.0.title", "order.shipping_address.phone", "order.note", "customer.email", "order", "order.nope"] {
            #expect(try matches(RecipientField.pattern, s) == RecipientField.isText(s), "\(s)")
        }
    }

    @Test("time zones: the document lists exactly the names the engine takes")
    func timeZones() throws {
        #expect(TimeZoneRules.knownNames.contains("UTC") && TimeZoneRules.knownNames.contains("Europe/London"))
        for name in TimeZoneRules.knownNames.prefix(40) { #expect((try? TimeZoneRules.named(name)) != nil, "\(name)") }
        for name in ["Europe/Londn", "../etc/passwd", "/etc/passwd", "", "Europe/London/", "Europe//London", "zone.tab", "Europe"] {
            #expect((try? TimeZoneRules.named(name)) == nil, "\(name)")
        }
    }
}
