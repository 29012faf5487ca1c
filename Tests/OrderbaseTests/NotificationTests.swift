import Foundation
import Testing
@testable import Orderbase

@Suite("Mustache")
struct MustacheTests {
    func render(_ t: String, _ data: String, _ escape: MustacheTemplate.Escape = .html) throws -> String {
        try MustacheTemplate(t, field: "t").render(try JSON.parse(data), escape: escape)
    }

    @Test("variables, escaping, dotted names, sections, inverted sections, the implicit iterator")
    func rendering() throws {
        #expect(try render("Hi {{name}}!", #"{"name":"Ana"}"#) == "Hi Ana!")
        #expect(try render("{{x}} {{{x}}} {{& x}}", #"{"x":"<b>&\"'"}"#) == "&lt;b&gt;&amp;&quot;&#39; <b>&\"' <b>&\"'")
        #expect(try render("{{a.b.c}}|{{a.z}}|{{missing}}", #"{"a":{"b":{"c":7}}}"#) == "7||")
        #expect(try render("{{#items}}[{{sku}} x{{qty}} {{order}}]{{/items}}", ##"{"order":"#1","items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}"##)
                == "[A x1 #1][B x2 #1]")
        #expect(try render("{{#list}}{{.}},{{/list}}", #"{"list":[1,"two",true]}"#) == "1,two,true,")
        #expect(try render("{{#note}}Note: {{note}}{{/note}}{{^note}}no note{{/note}}", #"{"note":""}"#) == "no note")
        #expect(try render("{{#n}}zero is true{{/n}}", #"{"n":0}"#) == "zero is true")
        #expect(try render("{{! a comment }}x", "{}") == "x")
        // Standalone tag lines leave no blank lines.
        #expect(try render("Items:\n{{#items}}\n- {{.}}\n{{/items}}\nEnd\n", #"{"items":["a","b"]}"#) == "Items:\n- a\n- b\nEnd\n")
        #expect(try render("  {{#a}}  \nx\n  {{/a}}\n", #"{"a":true}"#) == "x\n")
        // Escapes for where the text lands.
        #expect(try render("To={{to}}&Body={{body}}", #"{"to":"+44 7700","body":"Café & co"}"#, .formURL) == "To=%2B44+7700&Body=Caf%C3%A9+%26+co")
        #expect(try render(#"{"b":"{{b}}"}"#, #"{"b":"say \"hi\"\n"}"#, .jsonString) == #"{"b":"say \"hi\"\n"}"#)
    }

    @Test("what cannot be parsed is an error with its line and column")
    func parseErrors() {
        func message(_ t: String) -> String? {
            do { _ = try MustacheTemplate(t, field: "text"); return nil } catch { return error.message }
        }
        #expect(message("a\n  {{#x}}y") == "text: line 2, column 3: {{#x}} is never closed")
        #expect(message("{{#x}}{{/y}}")?.contains("{{/y}} closes {{#x}}") == true)
        #expect(message("{{/y}}")?.contains("closes no section") == true)
        #expect(message("{{> partial}}")?.contains("partials") == true)
        #expect(message("{{=<% %>=}}")?.contains("delimiter") == true)
        #expect(message("{{ }}")?.contains("empty tag") == true)
        #expect(message("{{a b}}")?.contains("not a variable name") == true)
        #expect(message("{{a")?.contains("unclosed tag") == true)
    }

    @Test("check: every name resolves in the data's shape, inside sections too")
    func checking() throws {
        let shape = NotificationData.shape
        #expect(try MustacheTemplate("{{order.number}} {{#order.line_items}}{{title}} {{unit_price_formatted}} {{order.currency}}{{/order.line_items}} {{shop.name}} {{customer.email}} {{event.type}} {{recipient.address}} {{order.metadata.anything}}", field: "text").check(shape, field: "text").count == 10)
        do {
            _ = try MustacheTemplate("Total:\n {{order.totl}}", field: "subject").check(shape, field: "subject")
            Issue.record("no error")
        } catch {
            #expect(error.message == "subject: line 2, column 2: unknown variable order.totl (did you mean order.total?)")
            #expect(error.field == "subject")
        }
        do {
            _ = try MustacheTemplate("{{#order.line_items}}{{titel}}{{/order.line_items}}", field: "text").check(shape, field: "text")
            Issue.record("no error")
        } catch {
            #expect(error.message.contains("unknown variable titel (did you mean title?)"))
        }
    }

    @Test("MIME: multipart/alternative, RFC 2047 subject, base64 UTF-8 parts, a date")
    func mime() {
        let m = String(decoding: MIMEMessage.build(from: "shop@example.com", fromName: "Café Shop", to: "ana@example.com", replyTo: nil,
                                                   subject: "Votre commande №1001 est expédiée", text: "Bonjour Zoë", html: "<p>Bonjour Zoë</p>",
                                                   messageID: "ntf_1", date: 1_795_000_000_000), as: UTF8.self)
        #expect(m.contains("From: =?UTF-8?B?"))
        #expect(m.contains("Subject: =?UTF-8?B?"))
        #expect(m.contains("Date: Wed, 18 Nov 2026 11:06:40 +0000"))
        #expect(m.contains("Content-Type: multipart/alternative; boundary=\"=_orderbase_ntf_1\""))
        #expect(m.contains("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Base64.encode(Array("Bonjour Zoë".utf8))))
        #expect(m.contains("--=_orderbase_ntf_1--\r\n"))
        #expect(!m.contains("\n\n") && !m.split(separator: "\r\n").contains { $0.contains("\n") })
        #expect(MIMEMessage.encodedHeader("plain subject") == "plain subject")
        #expect(NotificationData.decimal(123_450, exponent: 2) == "1234.50" && NotificationData.decimal(-5, exponent: 2) == "-0.05"
                && NotificationData.decimal(100, exponent: 0) == "100")
    }
}

@Suite("Notifications")
struct NotificationTests {
    let order = #"{"customer":{"email":"ana@example.com","name":"Zoë Ana","phone":"+447700900123"},"metadata":{"gift_email":"gift@example.com"},"line_items":[{"title":"Mug","quantity":2,"unit_price":6000}]}"#

    func emailChannel(_ f: WebhookFixture) throws -> String {
        try f.call({ $0.notifications.createNotificationChannel },
                   #"{"name":"mail","type":"email","email":{"host":"127.0.0.1","port":2525,"security":"none","from":"shop@example.com","from_name":"Shop"}}"#)["id"]!.stringValue!
    }

    @Test("templates are checked when saved: variables, parts per channel, recipients, conditions")
    func saveTimeChecks() throws {
        let f = try WebhookFixture()
        let mail = try emailChannel(f)
        let e = f.error({ $0.notifications.createNotificationTemplate },
                        #"{"name":"t","channel_id":"\#(mail)","subject":"Order {{order.numbr}}","text":"x","recipients":[{"type":"customer"}]}"#)
        #expect(e?.code == .invalidArgument && e?.field == "subject" && e?.message.contains("did you mean order.number?") == true)
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(mail)","text":"x","recipients":[{"type":"customer"}]}"#)?.field == "subject")
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(mail)","subject":"s","text":"x","recipients":[{"type":"staff","address":"not an address"}]}"#)?.field == "recipients")
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(mail)","subject":"s","text":"x","recipients":[{"type":"field","field":"order.total"}]}"#)?.message.contains("must name a text field") == true)
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(mail)","subject":"s","text":"x","recipients":[{"type":"customer","address":"a@b.example"}]}"#)?.message.contains("only for recipients of type staff") == true)
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(mail)","subject":"s","text":"x","recipients":[{"type":"customer"}],"condition":"order.totl > 1"}"#)?.field == "condition")
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"nch_nope","subject":"s","text":"x","recipients":[{"type":"customer"}]}"#)?.code == .notFound)
        #expect(f.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(mail)","subject":"s","text":"x","recipients":[{"type":"customer"}],"colour":1}"#)?.field == "colour")
        #expect(f.error({ $0.notifications.createNotificationChannel }, #"{"name":"m","type":"sms","email":{"host":"h","from":"a@b.c"}}"#)?.field == "email")
        #expect(f.error({ $0.notifications.createNotificationChannel }, #"{"name":"m","type":"email","email":{"host":"h","from":"a@b.c","password":"p","security":"starttls"},"x":1}"#)?.field == "x")
        #expect(try f.call({ $0.notifications.listNotificationTemplates }, "{}")["data"]!.array.isEmpty)
        // Credentials are kept, never shown.
        let c = try f.call({ $0.notifications.createNotificationChannel }, #"{"name":"m","type":"email","email":{"host":"smtp.example.com","from":"a@example.com","username":"u","password":"secret"}}"#)
        #expect(c["email"]!["password_set"] == .bool(true) && c["email"]!["port"] == .int(587) && !c.text.contains("secret"))
        let updated = try f.call({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(c["id"]!.stringValue!)","email":{"from_name":"Shop"}}"#)
        #expect(updated["email"]!["password_set"] == .bool(true) && updated["email"]!["from_name"] == .string("Shop"))
        // A username needs a password: the request's fault on a create, the stored channel's on an update.
        #expect(f.error({ $0.notifications.createNotificationChannel }, #"{"name":"q","type":"email","email":{"host":"smtp.example.com","from":"a@example.com","username":"u"}}"#)?.code == .invalidArgument)
        let plain = try f.call({ $0.notifications.createNotificationChannel }, #"{"name":"p","type":"email","email":{"host":"smtp.example.com","from":"a@example.com"}}"#)
        #expect(f.error({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(plain["id"]!.stringValue!)","email":{"username":"u"}}"#)?.code == .invalidState)
        // Settings of another type: the request's fault on a create (above), the stored type's on an update.
        #expect(f.error({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(plain["id"]!.stringValue!)","sms":{"url":"https://sms.example.com/"}}"#)?.code == .invalidState)
    }

    @Test("an event becomes rendered emails to the customer, staff and a custom-field address; the condition filters; the log tells")
    func emailEndToEnd() throws {
        let f = try WebhookFixture()
        let mail = try emailChannel(f)
        let t = try f.call({ $0.notifications.createNotificationTemplate }, #"""
            {"name":"Big order","channel_id":"\#(mail)","event_types":["order.created"],
             "subject":"Order {{order.number}} for {{customer.name}}",
             "text":"Hello {{customer.name}},\n{{#order.line_items}}\n- {{quantity}} x {{title}} at {{unit_price_formatted}} {{order.currency}}\n{{/order.line_items}}\nTotal {{order.total_formatted}}",
             "html":"<p>Hello {{customer.name}}</p><p>{{order.note}}</p>",
             "recipients":[{"type":"customer"},{"type":"staff","address":"ops@example.com"},{"type":"field","field":"order.metadata.gift_email"}],
             "condition":"order.total > 10000"}
            """#)
        let big = try f.call({ $0.orders.createOrder }, order)["id"]!.stringValue!
        _ = try f.call({ $0.orders.createOrder }, #"{"customer":{"email":"small@example.com"},"line_items":[{"title":"Pen","quantity":1,"unit_price":100}]}"#)
        _ = try f.call({ $0.orders.createOrder }, #"{"note":"<script>","line_items":[{"title":"Sofa","quantity":1,"unit_price":90000}]}"#)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        let sent = f.mail.mails
        #expect(sent.count == 4)
        #expect(Set(sent.flatMap(\.recipients)) == ["ana@example.com", "ops@example.com", "gift@example.com"])
        let first = String(decoding: sent[0].message, as: UTF8.self)
        #expect(first.contains("multipart/alternative") && sent[0].from == "shop@example.com" && sent[0].url == "smtp://127.0.0.1:2525")
        let log = try f.call({ $0.notifications.listNotifications }, #"{"template_id":"\#(t["id"]!.stringValue!)"}"#)["data"]!.array
        #expect(log.count == 6)  // 3 for the big order, 2 sent + 1 skipped (no customer) for the sofa
        let mine = log.filter { $0["order_id"]?.stringValue == big && $0["recipient"]!["type"] == .string("customer") }.first!
        #expect(mine["status"] == .string("sent") && mine["subject"] == .string("Order #1001 for Zoë Ana"))
        #expect(mine["text"] == .string("Hello Zoë Ana,\n- 2 x Mug at 60.00 GBP\nTotal 120.00"))
        #expect(log.contains { $0["status"] == .string("skipped") && $0["note"] == .string("the order's customer has no email address") })
        #expect(log.contains { $0["html"]?.stringValue?.contains("&lt;script&gt;") == true })
        // An order's notifications, through its index, paged newest first.
        let first2 = try f.call({ $0.notifications.listNotifications }, #"{"order_id":"\#(big)","limit":2}"#)
        #expect(first2["data"]!.array.count == 2 && first2["has_more"] == .bool(true))
        let rest = try f.call({ $0.notifications.listNotifications }, #"{"order_id":"\#(big)","starting_after":"\#(first2["data"]!.array[1]["id"]!.stringValue!)"}"#)
        #expect(rest["data"]!.array.count == 1 && rest["has_more"] == .bool(false))
        let paged: [JSON] = first2["data"]!.array + rest["data"]!.array
        let expected: [JSON] = log.filter { $0["order_id"]?.stringValue == big }
        #expect(paged.map { $0["id"]!.stringValue! }.sorted() == expected.map { $0["id"]!.stringValue! }.sorted())
        #expect(try f.call({ $0.notifications.listNotifications }, #"{"order_id":"\#(big)","status":"skipped"}"#)["data"]!.array.isEmpty)
        // A preview writes nothing.
        let preview = try f.call({ $0.notifications.renderNotificationTemplate }, #"{"id":"\#(t["id"]!.stringValue!)","order_id":"\#(big)"}"#)
        #expect(preview["condition"] == .bool(true) && preview["notifications"]!.array.count == 3)
        #expect(try f.call({ $0.notifications.listNotifications }, "{}")["data"]!.array.count == 6)
        // The channel is in use.
        #expect(f.error({ $0.notifications.deleteNotificationChannel }, #"{"id":"\#(mail)"}"#)?.code == .invalidState)
    }

    @Test("SMS through the gateway: JSON body, auth header, a 500 retried on schedule, a 400 is final")
    func sms() throws {
        let f = try WebhookFixture()
        let c = try f.call({ $0.notifications.createNotificationChannel }, #"""
            {"name":"sms","type":"sms","sms":{"url":"http://127.0.0.1:9/sms","auth_header":"Bearer k","content_type":"json","from":"Shop",
             "body":"{\"to\":\"{{to}}\",\"text\":\"{{body}}\",\"ref\":\"{{notification_id}}\"}"}}
            """#)
        #expect(c["sms"]!["auth_header_set"] == .bool(true))
        let t = try f.call({ $0.notifications.createNotificationTemplate }, #"{"name":"shipped","channel_id":"\#(c["id"]!.stringValue!)","event_types":["order.*"],"body":"Order {{order.number}}: \"on its way\"","recipients":[{"type":"customer"}],"condition":"event.type == \"order.created\""}"#)
        f.transport.answer(OutboundResponse(status: 500, latencyMilliseconds: 1), OutboundResponse(status: 202, latencyMilliseconds: 1))
        _ = try f.call({ $0.orders.createOrder }, order)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        #expect(f.transport.requests.count == 1)
        let r = f.transport.requests[0]
        #expect(r.header("authorization") == "Bearer k" && r.header("content-type") == "application/json")
        let body = try JSON.parse(r.body)
        #expect(body["to"] == .string("+447700900123") && body["text"] == .string("Order #1001: \"on its way\""))
        var n = try f.call({ $0.notifications.listNotifications }, "{}")["data"]!.array[0]
        #expect(n["status"] == .string("pending") && n["attempts"]!.array.count == 1 && n["next_attempt_at"] != .null)
        f.clock.advance(milliseconds: 6000)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        n = try f.call({ $0.notifications.getNotification }, #"{"id":"\#(n["id"]!.stringValue!)"}"#)
        #expect(n["status"] == .string("sent") && n["attempts"]!.array.count == 2)
        // A manual send to a given number; the gateway refuses it for good.
        f.transport.answer(OutboundResponse(status: 400, latencyMilliseconds: 1))
        let orderID = n["order_id"]!.stringValue!
        let manual = try f.call({ $0.notifications.sendNotification }, #"{"template_id":"\#(t["id"]!.stringValue!)","order_id":"\#(orderID)","to":["+15555550100"]}"#)["data"]!.array
        #expect(manual.count == 1 && manual[0]["recipient"]!["type"] == .string("manual"))
        #expect(f.error({ $0.notifications.sendNotification }, #"{"template_id":"\#(t["id"]!.stringValue!)","order_id":"\#(orderID)","to":["ana@example.com"]}"#)?.field == "to[0]")
        _ = try f.engine.pump(maxMilliseconds: 1000)
        let failed = try f.call({ $0.notifications.getNotification }, #"{"id":"\#(manual[0]["id"]!.stringValue!)"}"#)
        #expect(failed["status"] == .string("failed") && failed["attempts"]!.array.count == 1)
        // Retried: a new notification, the failed one keeps its log.
        f.transport.answer(OutboundResponse(status: 200, latencyMilliseconds: 1))
        let again = try f.call({ $0.notifications.retryNotification }, #"{"id":"\#(manual[0]["id"]!.stringValue!)"}"#)
        #expect(again["id"] != manual[0]["id"])
        _ = try f.engine.pump(maxMilliseconds: 1000)
        #expect(try f.call({ $0.notifications.getNotification }, #"{"id":"\#(again["id"]!.stringValue!)"}"#)["status"] == .string("sent"))
        // The update event (order.updated) is filtered out by the condition: one SMS per order.created only.
        _ = try f.call({ $0.orders.updateOrder }, #"{"id":"\#(orderID)","note":"n"}"#)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        #expect(try f.call({ $0.notifications.listNotifications }, "{}")["data"]!.array.count == 3)
    }

    @Test("the callback channel: the host's handler, a non-zero answer retried; without a handler it waits")
    func callback() throws {
        let f = try WebhookFixture()
        let c = try f.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        _ = try f.call({ $0.notifications.createNotificationTemplate }, #"{"name":"cb","channel_id":"\#(c)","event_types":["order.created"],"text":"{{order.number}} {{shop.default_currency}}","recipients":[{"type":"staff","address":"ops-channel"}]}"#)
        _ = try f.call({ $0.orders.createOrder }, order)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        var n = try f.call({ $0.notifications.listNotifications }, "{}")["data"]!.array[0]
        #expect(n["status"] == .string("pending") && n["note"]?.stringValue?.contains("no notification callback") == true)
        let calls = Locked<[JSON]>([])
        f.engine.setNotificationHandler { tenant, bytes in
            let j = try! JSON.parse(bytes)
            return calls.withLock { c in
                c.append(j)
                return c.count == 1 ? 1 : 0
            }
        }
        f.clock.advance(milliseconds: 61_000)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        f.clock.advance(milliseconds: 6000)
        _ = try f.engine.pump(maxMilliseconds: 1000)
        #expect(calls.withLock { $0.count } == 2)
        let got = calls.withLock { $0[1] }
        #expect(got["tenant"] == .string("shop") && got["text"] == .string("#1001 GBP") && got["recipient"]!["address"] == .string("ops-channel"))
        n = try f.call({ $0.notifications.getNotification }, #"{"id":"\#(n["id"]!.stringValue!)"}"#)
        #expect(n["status"] == .string("sent") && n["attempts"]!.array.count == 2)
    }
}

/// A value behind a lock, for closures the engine calls on its threads.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&value) } }
}
