import Foundation
import Testing
@testable import Orderbase

@Suite("Custom fields")
struct CustomFieldsTests {
    private static func quiet() throws -> Fixture {
        var o = EngineOptions()
        o.background = false  // checks and removals move only when the test runs the scheduler
        return try Fixture(options: o)
    }
    private func drain(_ fx: Fixture) throws {
        for _ in 0..<1000 where try fx.core.runDueTimers() > 0 {}
    }
    private func define(_ fx: Fixture, _ body: String) throws -> JSON { try fx.call({ $0.customFields.createDefinition }, body) }
    private let line = #"[{"title":"Mug","quantity":1,"unit_price":500}]"#

    @Test("definitions: every type, rules that fit the type, and refusals that name the field")
    func definitions() throws {
        let fx = try Fixture()
        for type in CustomFieldDefinition.types {
            let rules = type.hasSuffix("choice") ? #","validations":{"choices":["a","b"]}"# : ""
            let d = try define(fx, #"{"key":"f_\#(type.replacingOccurrences(of: ".", with: "_"))","name":"F","type":"\#(type)"\#(rules)}"#)
            #expect(d["validation_status"] == .string("all_valid") && d["owner"] == .string("order"))
        }
        let made = try define(fx, #"{"owner":"line_item","key":"engraving","name":"Engraving","type":"text","validations":{"max_length":20,"pattern":"[A-Za-z ]+"},"actor":{"type":"user","id":"ann"}}"#)
        #expect(made["id"] == .string("line_item.engraving"))
        #expect(try fx.call({ $0.customFields.getDefinition }, #"{"id":"line_item.engraving"}"#) == made)
        #expect(try fx.call({ $0.customFields.listDefinitions }, #"{"owner":"line_item"}"#)["data"]!.array.count == 1)
        let before = fx.counters
        let refusals: [(String, String)] = [
            (#"{"key":"Bad-Key","name":"x","type":"text"}"#, "key"),
            (#"{"key":"x1","name":"x","type":"colour"}"#, "type"),
            (#"{"key":"x1","name":"x","type":"integer","validations":{"pattern":"a"}}"#, "validations.pattern"),
            (#"{"key":"x1","name":"x","type":"text","validations":{"min":1}}"#, "validations.min"),
            (#"{"key":"x1","name":"x","type":"choice"}"#, "validations.choices"),
            (#"{"key":"x1","name":"x","type":"integer","validations":{"min":5,"max":1}}"#, "validations.min"),
            (#"{"key":"x1","name":"x","type":"date","validations":{"min":"2026-02-30"}}"#, "validations.min"),
            (#"{"key":"x1","name":"x","type":"text","validations":{"pattern":"(a"}}"#, "validations.pattern"),
            (#"{"key":"x1","name":"x","type":"text","validations":{"pattern":"(a)\\1"}}"#, "validations.pattern"),
            (#"{"key":"x1","name":"x","type":"text","validations":{"pattern":"a(?=b)"}}"#, "validations.pattern"),
            (#"{"key":"x1","name":"x","type":"text","validations":{"pattern":"a{1000}"}}"#, "validations.pattern"),
            (#"{"key":"x1","name":"x","type":"url","validations":{"allowed_domains":["exa mple.com"]}}"#, "validations.allowed_domains[0]"),
            (#"{"key":"x1","name":"x","type":"text","validations":{"colour":1}}"#, "validations.colour"),
            (#"{"key":"f_text","name":"again","type":"text"}"#, "key"),
            (#"{"key":"x1","name":"x","type":"text","owner":"shipment"}"#, "owner"),
        ]
        for (body, field) in refusals { #expect(fx.error({ $0.customFields.createDefinition }, body)?.field == field, "\(body)") }
        #expect(fx.error({ $0.customFields.createDefinition }, #"{"key":"f_text","name":"again","type":"text"}"#)?.code == .alreadyExists)
        #expect(fx.error({ $0.customFields.updateDefinition }, #"{"id":"order.f_text","type":"integer"}"#)?.field == "type")
        #expect(fx.error({ $0.customFields.getDefinition }, #"{"id":"order.nope"}"#)?.code == .notFound)
        #expect(fx.counters == before)
        let audit = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"custom_field","subject_id":"line_item.engraving"}"#)["data"]!.array
        #expect(audit.count == 1 && audit[0]["actor"]?["id"] == .string("ann"))
    }

    @Test("values are checked on every write: the error names the field and the rule, and the order is unchanged")
    func values() throws {
        let fx = try Fixture()
        _ = try define(fx, #"{"key":"gift_message","name":"Gift message","type":"text","validations":{"max_length":20}}"#)
        _ = try define(fx, #"{"key":"boxes","name":"Boxes","type":"integer","validations":{"min":1,"max":10,"required":true}}"#)
        _ = try define(fx, #"{"key":"deliver_on","name":"Deliver on","type":"date","validations":{"min":"2026-01-01"}}"#)
        _ = try define(fx, #"{"key":"call_at","name":"Call at","type":"datetime"}"#)
        _ = try define(fx, #"{"key":"phone","name":"Phone","type":"phone"}"#)
        _ = try define(fx, #"{"key":"site","name":"Site","type":"url","validations":{"allowed_domains":["example.com"]}}"#)
        _ = try define(fx, #"{"key":"wrap","name":"Wrap","type":"choice","validations":{"choices":["paper","cloth"]}}"#)
        _ = try define(fx, #"{"key":"budget","name":"Budget","type":"money","validations":{"max":{"amount":100000,"currency":"GBP"}}}"#)
        _ = try define(fx, #"{"key":"codes","name":"Codes","type":"list.text","validations":{"max_items":2,"pattern":"[A-Z]{3}"}}"#)
        _ = try define(fx, #"{"owner":"line_item","key":"engraving","name":"Engraving","type":"text","validations":{"required":true}}"#)
        let good = #""custom_fields":{"gift_message":"Happy birthday","boxes":2,"deliver_on":"2026-12-24","call_at":"2026-12-01T10:00:00+01:00","phone":"+44 (20) 7946-0000","site":"https://shop.example.com/x","wrap":"paper","budget":{"amount":5000,"currency":"GBP"},"codes":["ABC"]}"#
        let lines = #"[{"title":"Mug","quantity":1,"unit_price":500,"custom_fields":{"engraving":"Ann"}}]"#
        let o = try fx.createOrder(good, lines: lines)
        let cf = o["custom_fields"]!
        #expect(cf["call_at"] == .string("2026-12-01T09:00:00.000Z") && cf["phone"] == .string("+442079460000"))
        #expect(o["line_items"]!.array[0]["custom_fields"]?["engraving"] == .string("Ann"))
        let id = o["id"]!.stringValue!
        let before = fx.counters
        let bad: [(String, String, String)] = [
            (#""gift_message":"this message is far too long""#, "custom_fields.gift_message", "max_length"),
            (#""boxes":11"#, "custom_fields.boxes", "max"), (#""boxes":"2""#, "custom_fields.boxes", "type"),
            (#""boxes":null"#, "custom_fields.boxes", "required"),
            (#""deliver_on":"2025-12-31""#, "custom_fields.deliver_on", "min"), (#""deliver_on":"2026-02-29""#, "custom_fields.deliver_on", "type"),
            (#""call_at":"tomorrow""#, "custom_fields.call_at", "type"), (#""phone":"020 7946 0000""#, "custom_fields.phone", "type"),
            (#""site":"https://evil.test/""#, "custom_fields.site", "allowed_domains"), (#""site":"javascript:alert(1)""#, "custom_fields.site", "type"),
            (#""wrap":"foil""#, "custom_fields.wrap", "choices"),
            (#""budget":{"amount":200000,"currency":"GBP"}"#, "custom_fields.budget", "max"),
            (#""budget":{"amount":1,"currency":"XXQ"}"#, "custom_fields.budget", "type"),
            (#""codes":["ABC","DEF","GHI"]"#, "custom_fields.codes", "max_items"), (#""codes":["abc"]"#, "custom_fields.codes[0]", "pattern"),
            (#""gift_message":"two\nlines""#, "custom_fields.gift_message", "type"),
            (#""colour":"red""#, "custom_fields.colour", "defined"),
        ]
        for (patch, field, rule) in bad {
            let e = fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","custom_fields":{\#(patch)}}"#)
            #expect(e?.field == field && e?.details?["rule"] == .string(rule), "\(patch): \(String(describing: e))")
        }
        // A create without a required value, or a line without its required value.
        #expect(fx.error({ $0.orders.createOrder }, #"{"line_items":\#(lines)}"#)?.details?["rule"] == .string("required"))
        let noEngraving = fx.error({ $0.orders.createOrder }, #"{"line_items":\#(line),"custom_fields":{"boxes":1}}"#)
        #expect(noEngraving?.field == "line_items[0].custom_fields.engraving" && noEngraving?.details?["rule"] == .string("required"))
        #expect(fx.error({ $0.orders.createOrder }, #"{"line_items":\#(lines),"custom_fields":[1]}"#)?.field == "custom_fields")
        #expect(fx.counters == before)
        #expect(try fx.order(id)["custom_fields"] == cf)
        // A patch sets the keys given and removes those given as null.
        let patched = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","custom_fields":{"boxes":3,"gift_message":null}}"#)
        #expect(patched["custom_fields"]?["boxes"] == .int(3) && patched["custom_fields"]?["gift_message"] == nil && patched["custom_fields"]?["wrap"] == .string("paper"))
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(id)"}"#)["data"]!.array
        #expect(audit.last?["changes"]?.text.contains(#""field":"custom_fields""#) == true)
        // Expressions read them.
        let r = try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":"order.custom_fields.boxes > 2 and order.custom_fields.wrap == \"paper\"","order_id":"\#(id)"}"#)
        #expect(r["result"] == .bool(true))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("expressions see custom fields typed by their definitions: unknown keys and mistyped comparisons are refused when saved")
    func typedExpressions() throws {
        let fx = try Fixture()
        func valid(_ text: String) throws -> Bool {
            try fx.call({ $0.expressions.validateExpression }, try JSON.object(["expression": .string(text)]).text)["valid"] == .bool(true)
        }
        #expect(try valid("order.custom_fields.anything == 1"))  // no definitions: open
        _ = try define(fx, #"{"key":"boxes","name":"Boxes","type":"integer"}"#)
        _ = try define(fx, #"{"key":"call_at","name":"Call at","type":"datetime"}"#)
        _ = try define(fx, #"{"owner":"line_item","key":"engraving","name":"Engraving","type":"text"}"#)
        #expect(try valid("order.custom_fields.boxes > 2"))
        #expect(try valid(#"some(order.line_items, item.custom_fields.engraving == "Ann")"#))
        #expect(try !valid(#"order.custom_fields.boxes > "two""#))
        let unknown = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"order.custom_fields.boxs > 1"}"#)
        #expect(unknown["valid"] == .bool(false) && unknown["error"]?["message"]?.stringValue?.contains("did you mean order.custom_fields.boxes") == true)
        let wf = #"{"key":"cf_guard","name":"G","states":[{"key":"a","initial":true},{"key":"b","category":"done","final":true}],"transitions":[{"name":"go","from":"a","to":"b","guard":"order.custom_fields.colour == \"red\""}]}"#
        let refused = fx.error({ $0.workflows.createWorkflow }, wf)
        #expect(refused?.message.contains("custom_fields.colour") == true, "\(String(describing: refused))")
        let rules = #"{"rules":[{"type":"expression","expression":"order.custom_fields.nope == 1"}]}"#
        #expect(fx.error({ $0.inventory.updateRoutingRules }, rules)?.field == "rules[0].expression")
        // Notification templates: their parts and condition are checked against the typed fields too.
        let channel = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        let base = #""name":"t","channel_id":"\#(channel)","recipients":[{"type":"staff","address":"ops"}]"#
        let badText = fx.error({ $0.notifications.createNotificationTemplate }, #"{\#(base),"text":"{{order.custom_fields.boxs}} boxes"}"#)
        #expect(badText?.field == "text" && badText?.message.contains("boxs") == true, "\(String(describing: badText))")
        let badCondition = fx.error({ $0.notifications.createNotificationTemplate }, #"{\#(base),"text":"hi","condition":"order.custom_fields.boxes > \"two\""}"#)
        #expect(badCondition?.field == "condition")
        let ok = try fx.call({ $0.notifications.createNotificationTemplate }, #"{\#(base),"text":"{{order.custom_fields.boxes}} boxes","condition":"order.custom_fields.boxes > 2"}"#)
        #expect(fx.error({ $0.notifications.updateNotificationTemplate }, #"{"id":"\#(ok["id"]!.stringValue!)","subject":"{{order.custom_fields.nope}}"}"#)?.field == "subject")
    }

    @Test("orders.list filters by a custom field value, on orders and on line items")
    func filter() throws {
        let fx = try Fixture()
        _ = try define(fx, #"{"key":"gift","name":"Gift","type":"boolean"}"#)
        _ = try define(fx, #"{"key":"size","name":"Size","type":"integer"}"#)
        _ = try define(fx, #"{"owner":"line_item","key":"colour","name":"Colour","type":"choice","validations":{"choices":["red","blue"]}}"#)
        let a = try fx.createOrder(#""custom_fields":{"gift":true,"size":10}"#)["id"]!.stringValue!
        let b = try fx.createOrder(#""custom_fields":{"gift":false,"size":10}"#, lines: #"[{"title":"T","quantity":1,"unit_price":5,"custom_fields":{"colour":"red"}}]"#)["id"]!.stringValue!
        func ids(_ q: String) throws -> [String] { try fx.call({ $0.orders.listOrders }, #"{"custom_field":"\#(q)"}"#)["data"]!.array.map { $0["id"]!.stringValue! } }
        #expect(try ids("gift=true") == [a])
        #expect(try ids("size=10") == [b, a])
        #expect(try ids("line_items.colour=red") == [b])
        #expect(try ids("size=11") == [])
        _ = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(a)","custom_fields":{"size":11}}"#)
        #expect(try ids("size=11") == [a])
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("patterns run in linear time: hostile patterns against hostile text answer at once, and the syntax is what the docs say")
    func safeRegex() throws {
        let cases: [(String, String, Bool)] = [
            ("[A-Z]{3}-\\d{2,4}", "ABC-123", true), ("[A-Z]{3}-\\d{2,4}", "ABC-12345", false), ("a|b", "b", true), ("a|b", "ab", false),
            ("(?:ab)+c?", "ababc", true), ("[^0-9]*", "abc", true), ("[^0-9]*", "ab1", false), ("^x$", "x", true), (".*", "", true),
            ("\\w+@\\w+\\.com", "ann@example.com", true), ("colou?r", "color", true), ("[a\\-z]", "-", true), ("猫+", "猫猫", true),
            ("a{2,}", "a", false), ("a{2,}", "aaaa", true), ("\\.", "x", false),
        ]
        for (p, text, expected) in cases { #expect(try SafeRegex(p, field: "p").matches(text) == expected, "\(p) ~ \(text)") }
        let hostile = String(repeating: "a", count: 5000) + "!"
        for p in ["(a+)+$", "(a|a)*b", "(a*)*b", "(a|aa)+$", "(.*a){20}"] {
            #expect(try SafeRegex(p, field: "p").matches(hostile) == false)
        }
        for p in ["(a)\\1", "a(?=b)", "a(?!b)", "a*?", "a++", "*a", "a{3,1}", "[z-a]", "a{101}", "[abc", "(?<n>a)", "\\p{L}"] {
            #expect(throws: OrderbaseError.self, "\(p)") { try SafeRegex(p, field: "p") }
        }
    }

    @Test("new validations check stored orders in the background: in_progress, then some_invalid with the orders listed; all_valid when they pass")
    func backgroundCheck() throws {
        let fx = try Self.quiet()
        _ = try define(fx, #"{"key":"ref","name":"Ref","type":"text"}"#)
        var ids: [String] = []
        for n in 0..<250 {
            let ref = n % 50 == 0 ? "too long a reference" : "R\(n)"
            ids.append(try fx.createOrder(#""custom_fields":{"ref":"\#(ref)"}"#)["id"]!.stringValue!)
        }
        let updated = try fx.call({ $0.customFields.updateDefinition }, #"{"id":"order.ref","validations":{"max_length":10}}"#)
        #expect(updated["validation_status"] == .string("in_progress") && updated["validation_job"]?.stringValue != nil)
        // Stored values are not rewritten, and a write that does not touch the field still works.
        _ = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(ids[0])","note":"unrelated"}"#)
        try drain(fx)
        let checked = try fx.call({ $0.customFields.getDefinition }, #"{"id":"order.ref"}"#)
        #expect(checked["validation_status"] == .string("some_invalid") && checked["invalid_count"] == .int(5))
        let job = try fx.call({ $0.jobs.getJob }, #"{"id":"\#(updated["validation_job"]!.stringValue!)"}"#)
        #expect(job["status"] == .string("completed") && job["processed"] == .int(250))
        let invalid = try fx.call({ $0.customFields.invalidOrders }, #"{"id":"order.ref","limit":3}"#)
        #expect(invalid["data"]!.array.map { $0["order_id"]!.stringValue! } == [ids[0], ids[50], ids[100]] && invalid["has_more"] == .bool(true))
        #expect(invalid["data"]!.array[0]["rule"] == .string("max_length") && invalid["data"]!.array[0]["field"] == .string("custom_fields.ref"))
        #expect(try fx.call({ $0.customFields.invalidOrders }, #"{"id":"order.ref","starting_after":"\#(ids[100])"}"#)["data"]!.array.count == 2)
        // Fixing an order and checking again: one fewer.
        _ = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(ids[0])","custom_fields":{"ref":"R0"}}"#)
        #expect(try fx.call({ $0.customFields.checkDefinition }, #"{"id":"order.ref"}"#)["validation_status"] == .string("in_progress"))
        try drain(fx)
        #expect(try fx.call({ $0.customFields.getDefinition }, #"{"id":"order.ref"}"#)["invalid_count"] == .int(4))
        #expect(try fx.call({ $0.customFields.invalidOrders }, #"{"id":"order.ref","limit":1}"#)["data"]!.array[0]["order_id"] == .string(ids[50]))
        // Loosening the rule and checking again: all valid, the findings gone.
        _ = try fx.call({ $0.customFields.updateDefinition }, #"{"id":"order.ref","validations":{"max_length":30}}"#)
        try drain(fx)
        #expect(try fx.call({ $0.customFields.getDefinition }, #"{"id":"order.ref"}"#)["validation_status"] == .string("all_valid"))
        #expect(try fx.call({ $0.customFields.invalidOrders }, #"{"id":"order.ref"}"#)["data"]!.array.isEmpty)
        // A new required field: every stored order lacks it.
        let required = try define(fx, #"{"key":"po","name":"PO","type":"text","validations":{"required":true}}"#)
        #expect(required["validation_status"] == .string("in_progress"))
        try drain(fx)
        #expect(try fx.call({ $0.customFields.getDefinition }, #"{"id":"order.po"}"#)["invalid_count"] == .int(250))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("deleting a definition keeps its values by default (no longer settable) or removes them from every order with a job")
    func delete() throws {
        let fx = try Self.quiet()
        _ = try define(fx, #"{"key":"keepme","name":"K","type":"text"}"#)
        _ = try define(fx, #"{"owner":"line_item","key":"dropme","name":"D","type":"text"}"#)
        let lines = #"[{"title":"T","quantity":1,"unit_price":5,"custom_fields":{"dropme":"x"}}]"#
        let id = try fx.createOrder(#""custom_fields":{"keepme":"v"}"#, lines: lines)["id"]!.stringValue!
        let kept = try fx.call({ $0.customFields.deleteDefinition }, #"{"id":"order.keepme"}"#)
        #expect(kept["deleted"]?["id"] == .string("order.keepme"))
        try drain(fx)
        #expect(try fx.order(id)["custom_fields"]?["keepme"] == .string("v"))
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","custom_fields":{"keepme":"w"}}"#)?.details?["rule"] == .string("defined"))
        _ = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","custom_fields":{"keepme":null}}"#)  // removing an orphan value is allowed
        let removed = try fx.call({ $0.customFields.deleteDefinition }, #"{"id":"line_item.dropme","values":"remove"}"#)
        try drain(fx)
        #expect(try fx.call({ $0.jobs.getJob }, #"{"id":"\#(removed["job"]!["id"]!.stringValue!)"}"#)["changed"] == .int(1))
        #expect(try fx.order(id)["line_items"]!.array[0]["custom_fields"] == nil)
        #expect(try fx.events(#"{"types":["custom_field.deleted"]}"#).count == 2)
        #expect(fx.error({ $0.customFields.deleteDefinition }, #"{"id":"order.keepme"}"#)?.code == .notFound)
        #expect(try fx.integrityProblems().isEmpty)
    }
}
