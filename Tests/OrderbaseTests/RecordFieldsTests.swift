import Testing
@testable import Orderbase
@testable import OrderbaseAPI

/// The configuration kinds read, write and describe their fields from one
/// declaration each (Tools/codegen/record_fields.py).
@Suite("Record fields declared once")
struct RecordFieldsTests {
    @Test("a create takes its declared fields, an update only the editable ones; null clears what can be cleared and is \"not given\" elsewhere")
    func strictReads() throws {
        let fx = try Fixture()
        let e = try fx.call({ $0.webhooks.createWebhook }, #"{"url":"https://hooks.example.com/a","description":"d","payload":"changes"}"#)
        let id = e["id"]!.stringValue!
        #expect(e["event_types"] == .array([.string("*")]))
        #expect(e["payload"] == .string("changes"))
        #expect(fx.error({ $0.webhooks.createWebhook }, #"{"description":"no url"}"#)?.message == "url is required")
        #expect(try fx.call({ $0.webhooks.updateWebhook }, #"{"id":"\#(id)","url":null}"#)["url"] == .string("https://hooks.example.com/a"))
        #expect(fx.error({ $0.webhooks.updateWebhook }, #"{"id":"\#(id)","secrets":[]}"#)?.field == "secrets")
        #expect(fx.error({ $0.webhooks.updateWebhook }, #"{"id":"\#(id)","payload":"most"}"#)?.field == "payload")
        // null clears an optional field; absent fields stay.
        let cleared = try fx.call({ $0.webhooks.updateWebhook }, #"{"id":"\#(id)","description":null}"#)
        #expect(cleared["description"] == .null)
        #expect(cleared["payload"] == .string("changes"))

        let c = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)
        let cid = c["id"]!.stringValue!
        // The type is fixed once made: an update does not take it.
        #expect(fx.error({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(cid)","type":"sms"}"#)?.field == "type")
        #expect(fx.error({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(cid)","email":{"host":"x"}}"#)?.field == "email")
        #expect(fx.error({ $0.notifications.createNotificationChannel }, #"{"name":"x"}"#)?.message == "type is required")
        let renamed = try fx.call({ $0.notifications.updateNotificationChannel }, #"{"id":"\#(cid)","name":"renamed","enabled":false}"#)
        #expect(renamed["name"] == .string("renamed") && renamed["enabled"] == .bool(false) && renamed["type"] == .string("callback"))

        let t = try fx.call({ $0.notifications.createNotificationTemplate },
                            #"{"name":"t","channel_id":"\#(cid)","text":"Hi {{customer.name}}","recipients":[{"type":"customer"}]}"#)
        let tid = t["id"]!.stringValue!
        #expect(fx.error({ $0.notifications.createNotificationTemplate }, #"{"name":"t","channel_id":"\#(cid)","text":"x"}"#)?.message
                == "recipients is required")
        #expect(try fx.call({ $0.notifications.updateNotificationTemplate }, #"{"id":"\#(tid)","recipients":null}"#)["recipients"]?.array.count == 1)
        let edited = try fx.call({ $0.notifications.updateNotificationTemplate },
                                 #"{"id":"\#(tid)","body":"B {{order.number}}","text":null,"condition":"order.total > 0"}"#)
        #expect(edited["text"] == .null && edited["body"] == .string("B {{order.number}}"))
        #expect(edited["condition_text"] == .string("order.total > 0"))
        #expect(edited["name"] == .string("t"))
    }

    @Test("the catalogue's schemas are the declared ones: every create field is in the create request, every editable one in the update")
    func schemasFollowTheDeclaration() throws {
        func names(_ props: [Property]) -> [String] { props.map(\.name) }
        let methods = Dictionary(uniqueKeysWithValues: Catalogue.methods.map { ($0.name, $0) })
        #expect(names(methods["webhooks.create"]!.request) == WebhookEndpoint.creatableFields)
        #expect(names(methods["webhooks.update"]!.request) == ["id"] + WebhookEndpoint.editableFields)
        #expect(names(methods["notification_channels.create"]!.request) == NotificationChannel.creatableFields)
        #expect(names(methods["notification_channels.update"]!.request) == ["id"] + NotificationChannel.editableFields)
        #expect(names(methods["notification_templates.create"]!.request) == NotificationTemplate.creatableFields)
        #expect(names(methods["notification_templates.update"]!.request) == ["id"] + NotificationTemplate.editableFields)
        // Every member an answer has is in its response schema, and no stored-only one is.
        let fx = try Fixture()
        let c = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)
        guard case .object(let o) = c else { Issue.record("not an object"); return }
        #expect(o.map(\.key) == names(Schemas.notificationChannel))
        #expect(!names(Schemas.webhookEndpoint).contains("from_sequence") && !names(Schemas.notificationTemplate).contains("from_sequence"))
    }

    @Test("lengths count characters as JSON Schema does (code points), not UTF-8 bytes, in the engine and in the schema")
    func lengthsAreCharacters() throws {
        let fx = try Fixture()
        // 64 × "é" is 128 bytes; 64 × "😀" is 256 bytes: both are 64 characters, as maxLength counts them.
        for c in ["é", "😀", "a"] {
            let po = String(repeating: c, count: 64)
            let order = try fx.createOrder(#""po_number":"\#(po)""#)
            #expect(order["po_number"] == .string(po))
            let e = fx.error({ $0.orders.createOrder }, #"{"line_items":[{"title":"t","quantity":1,"unit_price":1}],"po_number":"\#(po + c)"}"#)
            #expect(e?.message == "po_number is longer than 64 characters")
        }
        // A role of 64 multibyte characters is a role; the schema says maxLength 64 for both.
        let roles = String(repeating: "ü", count: 64)
        let r = try fx.call({ $0.expressions.evaluateExpression },
                            #"{"expression":"1","data":{},"actor":{"type":"user","id":"u","roles":["\#(roles)"]}}"#)
        #expect(r["result"] == .int(1))
        guard case .object(let po)? = OpenAPI.document["components"]?["schemas"]?["Order"]?["properties"]?["po_number"] else {
            Issue.record("no po_number schema"); return
        }
        #expect(po["x-max-bytes"] == nil)
        #expect(String(describing: po).contains("64"))
    }
}
