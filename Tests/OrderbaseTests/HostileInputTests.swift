import Foundation
import Testing
@testable import Orderbase

/// Findings from outside (issue 13) that took a host process down or let a
/// request through: each is refused now, with `limit_exceeded` naming the budget.
@Suite("Hostile caller logic")
struct HostileInputTests {
    /// 31 items: enough for `cat(accumulator, accumulator)` to make 2^32 bytes without a byte budget.
    static let doubling = #"{"reduce":[{"var":"l"},{"cat":[{"var":"accumulator"},{"var":"accumulator"}]},"xx"]}"#
    static let list31 = "[" + (0..<31).map(String.init).joined(separator: ",") + "]"

    @Test("an operator given an empty argument list is validated and evaluated, not a trap (it crashed the host)")
    func emptyArguments() throws {
        let fx = try Fixture()
        for op in ["!", "!!", "-", "+", "*", "/", "%", "==", "<", "if", "?:", "cat", "max", "var", "in", "substr", "merge", "log"] {
            // validate answers with a verdict (an operator that needs arguments is "not valid", with the reason);
            // evaluate answers or refuses with invalid_argument. Neither may trap.
            let v = try fx.call({ $0.expressions.validateExpression }, #"{"expression":{"\#(op)":[]}}"#)
            // (`text` is null where the text form has no spelling for it, `{"+": []}`.)
            #expect(v["valid"] == .bool(true) ? v["text"] != nil && v["json"] != nil : v["error"]?["code"] == .string("invalid_argument"), "\(op): \(v)")
            do {
                let r = try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":{"\#(op)":[]},"data":{}}"#)
                #expect(r["result"] != nil && v["valid"] == .bool(true), "\(op) evaluated though validate refused it")
            } catch let e as OrderbaseError {
                #expect(e.code == .invalidArgument && v["valid"] == .bool(false), "\(op): \(e)")
            }
        }
        let v = try fx.call({ $0.expressions.validateExpression }, #"{"expression":{"!":[]}}"#)
        #expect(v["valid"] == .bool(true) && v["text"] == .string("not null"))
        #expect(try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":{"!":[]},"data":{}}"#)["result"] == .bool(true))
    }

    @Test("a value that doubles in a reduce stops at the byte budget with limit_exceeded, wherever the expression runs")
    func exponentialMemory() throws {
        let fx = try Fixture(options: { var o = EngineOptions(); o.background = false; return o }())
        let e = fx.error({ $0.expressions.evaluateExpression }, #"{"expression":\#(Self.doubling),"data":{"l":\#(Self.list31)}}"#)
        #expect(e?.code == .limitExceeded && e?.details?["budget"] == .string("expression_bytes"))
        // As a notification condition on order.created: the notification is logged as failed, and the pass goes on.
        let c = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        let lines = "[" + (0..<31).map { #"{"title":"t\#($0)","quantity":1,"unit_price":1}"# }.joined(separator: ",") + "]"
        let condition = #"{"reduce":[{"var":"order.line_items"},{"cat":[{"var":"accumulator"},{"var":"accumulator"}]},"xx"]}"#
        try fx.call({ $0.notifications.createNotificationTemplate }, #"""
            {"name":"bomb","channel_id":"\#(c)","event_types":["order.created"],"text":"x","recipients":[{"type":"staff","address":"ops"}],
             "condition":\#(condition)}
            """#)
        let order = try fx.createOrder(lines: lines)["id"]!.stringValue!
        _ = try fx.engine.pump(maxMilliseconds: 1000)  // the fan-out evaluates the condition once and moves on
        let logged = try fx.call({ $0.notifications.listNotifications }, #"{"order_id":"\#(order)"}"#)["data"]!.array
        #expect(logged.count == 1 && logged.first?["status"] == .string("failed"))
        #expect(logged.first?["note"]?.stringValue?.contains("bytes of values") == true)
        // An event says so, naming the notification.
        func failures() throws -> [JSON] {
            try fx.call({ $0.audit.listEvents }, #"{"types":["notification.failed"],"limit":100}"#)["data"]!.array
        }
        let failed = try failures()
        #expect(failed.count == 1 && failed.first?["subject"]?["type"] == .string("notification")
                && failed.first?["subject"]?["id"] == logged.first?["id"] && failed.first?["data"]?["status"] == .string("failed"))
        // A template on notification.failed that fails too raises no further event: a failure cannot feed itself.
        try fx.call({ $0.notifications.createNotificationTemplate }, #"""
            {"name":"echo","channel_id":"\#(c)","event_types":["notification.failed","order.updated"],"text":"x","recipients":[{"type":"staff","address":"ops"}],
             "condition":{"/":[1,0]}}
            """#)
        _ = try fx.createOrder(lines: lines)  // the bomb fails again: one more event, which the echo fails on
        for _ in 0..<3 { _ = try fx.engine.pump(maxMilliseconds: 1000) }
        let after = try failures()
        let echoes = try fx.call({ $0.notifications.listNotifications }, #"{"limit":100}"#)["data"]!.array.filter { $0["event_type"] == .string("notification.failed") }
        #expect(after.count == 2, "\(after.count) failure events")
        #expect(echoes.count == 1 && echoes.first?["status"] == .string("failed") && echoes.first?["note"]?.stringValue?.contains("NaN") == true)
    }

    @Test("nested sections over the lines stop at the template's output budget; the draft preview answers instead of growing; saving refuses the worst case")
    func exponentialTemplate() throws {
        let fx = try Fixture()
        let c = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        let lines = "[" + (0..<10).map { #"{"title":"line \#($0) of ten","quantity":1,"unit_price":1}"# }.joined(separator: ",") + "]"
        let order = try fx.createOrder(lines: lines)["id"]!.stringValue!
        let depth = 8
        let text = String(repeating: "{{#order.line_items}}", count: depth) + "{{title}}" + String(repeating: "{{/order.line_items}}", count: depth)
        let preview = try fx.call({ $0.notifications.renderNotificationTemplate }, #"""
            {"template":{"name":"t","channel_id":"\#(c)","text":"\#(text)","recipients":[{"type":"staff","address":"ops"}]},"order_id":"\#(order)"}
            """#)
        let n = preview["notifications"]!.array[0]
        #expect(n["status"] == .string("failed") && n["text"] == .null)
        // 10^8 titles would be about a gigabyte: the output budget stops it long before the step budget.
        #expect(n["note"] == .string("render: the template renders to more than \(Budgets().templateOutputBytes) bytes"))
        // Saved, the same template is refused at once: its worst case for an order at the
        // engine's limits (500 lines) is 500^8 passes, whatever orders exist.
        func save(_ text: String) -> OrderbaseError? {
            fx.error({ $0.notifications.createNotificationTemplate }, #"""
                {"name":"t","channel_id":"\#(c)","event_types":["order.created"],"text":"\#(text)","recipients":[{"type":"staff","address":"ops"}]}
                """#)
        }
        let saved = save(text)
        #expect(saved?.code == .limitExceeded && saved?.field == "text" && saved?.details?["budget"] == .string("template_steps"), "\(String(describing: saved))")
        // Two nested sections over the lines fit (250,000 passes); three do not.
        let two = "{{#order.line_items}}{{#order.line_items}}{{title}}{{/order.line_items}}{{/order.line_items}}"
        let fits = try fx.call({ $0.notifications.createNotificationTemplate }, #"""
            {"name":"two","channel_id":"\#(c)","event_types":["order.created"],"text":"\#(two)","recipients":[{"type":"staff","address":"ops"}]}
            """#)
        #expect(fits["id"] != nil)
        #expect(save("{{#order.line_items}}" + two + "{{/order.line_items}}")?.details?["budget"] == .string("template_steps"))
        // Literal text counts too: 3 KiB written per pair of lines is 750 MB.
        let wide = "{{#order.line_items}}{{#order.line_items}}" + String(repeating: "x", count: 3000) + "{{/order.line_items}}{{/order.line_items}}"
        #expect(save(wide)?.details?["budget"] == .string("template_output_bytes"))
        // An update is checked the same way, and changes nothing when refused.
        let id = try fx.call({ $0.notifications.createNotificationTemplate }, #"""
            {"name":"ok","channel_id":"\#(c)","event_types":["order.created"],"text":"{{#order.line_items}}{{title}}{{/order.line_items}}","recipients":[{"type":"staff","address":"ops"}]}
            """#)["id"]!.stringValue!
        let upd = fx.error({ $0.notifications.updateNotificationTemplate }, #"{"id":"\#(id)","text":"\#(text)"}"#)
        #expect(upd?.details?["budget"] == .string("template_steps"))
        #expect(try fx.call({ $0.notifications.getNotificationTemplate }, #"{"id":"\#(id)"}"#)["text"] == .string("{{#order.line_items}}{{title}}{{/order.line_items}}"))
    }

    @Test("the budgets are engine options: smaller ones stop smaller work, each refusal names its budget and limit; out of range is refused")
    func budgetsAreOptions() throws {
        let options = try EngineOptions.parse(try JSON.parse(#"""
            {"expression_max_steps":1000,"expression_max_bytes":2048,"template_max_steps":1000,"template_max_output_bytes":1024}
            """#))
        #expect(options.budgets.expressionSteps == 1000 && options.budgets.expressionBytes == 2048)
        #expect(options.budgets.templateSteps == 1000 && options.budgets.templateOutputBytes == 1024)
        let fx = try Fixture(options: options)
        // 2,000 steps pass the default budget but not 1,000.
        let sum = #"{"reduce":[{"var":"l"},{"+":[{"var":"accumulator"},{"var":"current"}]},0]}"#
        let l400 = "[" + (0..<400).map(String.init).joined(separator: ",") + "]"
        let steps = fx.error({ $0.expressions.evaluateExpression }, #"{"expression":\#(sum),"data":{"l":\#(l400)}}"#)
        #expect(steps?.code == .limitExceeded && steps?.details?["budget"] == .string("expression_steps") && steps?.details?["limit"] == .int(1000))
        let defaults = try Fixture()
        #expect(try defaults.call({ $0.expressions.evaluateExpression }, #"{"expression":\#(sum),"data":{"l":\#(l400)}}"#)["result"] == .int(79800))
        // 4,096 bytes of cat: over 2 KiB.
        let big = String(repeating: "x", count: 4096)
        let bytes = fx.error({ $0.expressions.evaluateExpression }, #"{"expression":{"cat":[{"var":"s"},"!"]},"data":{"s":"\#(big)"}}"#)
        #expect(bytes?.details?["budget"] == .string("expression_bytes") && bytes?.details?["limit"] == .int(2048))
        // A template: 50 lines of a 30-byte title is over 1 KiB.
        let c = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        let lines = "[" + (0..<50).map { #"{"title":"line \#($0) of fifty, long title","quantity":1,"unit_price":1}"# }.joined(separator: ",") + "]"
        let order = try fx.createOrder(lines: lines)["id"]!.stringValue!
        let preview = try fx.call({ $0.notifications.renderNotificationTemplate }, #"""
            {"template":{"name":"t","channel_id":"\#(c)","text":"{{#order.line_items}}{{title}}{{/order.line_items}}","recipients":[{"type":"staff","address":"ops"}]},
             "order_id":"\#(order)"}
            """#)
        #expect(preview["notifications"]!.array[0]["note"] == .string("render: the template renders to more than 1024 bytes"))
        for bad in [#"{"expression_max_steps":999}"#, #"{"template_max_output_bytes":0}"#, #"{"expression_max_bytes":"big"}"#] {
            let json = try JSON.parse(bad)
            let e = #expect(throws: OrderbaseError.self, "\(bad)") { try EngineOptions.parse(json) }
            #expect(e?.code == .invalidArgument && e?.field?.hasPrefix("options.") == true, "\(bad): \(String(describing: e))")
        }
    }

    @Test("every IPv6 form that embeds an IPv4 address is judged by that address")
    func embeddedIPv4() {
        let policy = AddressPolicy()
        let refused: [(String, String)] = [
            ("::127.0.0.1", "loopback"),                        // IPv4-compatible
            ("::7f00:1", "loopback"),
            ("2002:a9fe:a9fe::", "link-local (cloud metadata)"),  // 6to4 of 169.254.169.254
            ("2002:7f00:1::1", "loopback"),
            ("64:ff9b::127.0.0.1", "loopback"),                 // NAT64
            ("64:ff9b::a00:1", "private"),
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  // Teredo, client 127.0.0.1 (stored inverted)
            ("2001:0:a00:1::1", "private"),                     // Teredo server 10.0.0.1
            ("::ffff:169.254.169.254", "link-local (cloud metadata)"),  // mapped, as before
        ]
        for (address, category) in refused {
            #expect(!policy.permits(address), "\(address)")
            #expect(policy.refusal(address)?.hasPrefix(category) == true, "\(address): \(policy.refusal(address) ?? "permitted")")
        }
        for address in ["64:ff9b::8.8.8.8", "2002:808:808::1", "::8.8.8.8", "2001:0:808:808::f7f7:f7f7"] {
            #expect(policy.permits(address), "\(address): \(policy.refusal(address) ?? "")")
        }
        #expect(!policy.permits("64:ff9b:1::808:808"), "local-use NAT64 is refused as a block")
        #expect(policy.permits("::1") == false && policy.refusal("::1") == "loopback" && policy.refusal("::") == "unspecified")
    }
}
