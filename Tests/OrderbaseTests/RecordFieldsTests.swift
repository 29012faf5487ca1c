import Testing
@testable import Orderbase

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

    @Test("lengths count characters as JSON Schema does (code points), not UTF-8 bytes")
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
        // A role of 64 multibyte characters is a role.
        let roles = String(repeating: "ü", count: 64)
        let r = try fx.call({ $0.expressions.evaluateExpression },
                            #"{"expression":"1","data":{},"actor":{"type":"user","id":"u","roles":["\#(roles)"]}}"#)
        #expect(r["result"] == .int(1))
    }
}
