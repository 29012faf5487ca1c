import Foundation
import Testing
@testable import Orderbase

@Suite("Templates and drafts")
struct DraftsTests {
    private let lines = #"[{"sku":"A1","title":"Mug","quantity":2,"unit_price":500}]"#

    @Test("a template saves a partial order; create_from_template applies overrides field by field and runs a full create")
    func templates() throws {
        let fx = try Fixture()
        _ = try fx.call({ $0.customFields.createDefinition }, #"{"key":"gift","name":"Gift","type":"boolean"}"#)
        _ = try fx.call({ $0.customFields.createDefinition }, #"{"key":"ref","name":"Ref","type":"text"}"#)
        let t = try fx.call({ $0.drafts.createTemplate }, #"{"name":"Weekly café order","order":{"customer":{"id":"cus_9","email":"cafe@example.com"},"line_items":\#(lines),"tags":["wholesale"],"custom_fields":{"gift":false,"ref":"W"},"note":"leave at the back","channel":"phone"}}"#)
        let tid = t["id"]!.stringValue!
        let o = try fx.call({ $0.drafts.createFromTemplate }, #"{"template_id":"\#(tid)","overrides":{"note":"ring first","custom_fields":{"gift":true}},"idempotency_key":"wk-48","actor":{"type":"user","id":"ann"}}"#)
        #expect(o["number"] == .string("#1001") && o["channel"] == .string("phone") && o["note"] == .string("ring first"))
        #expect(o["custom_fields"] == JSON.object(["gift": .bool(true), "ref": .string("W")]) && o["tags"] == JSON.array([.string("wholesale")]))
        #expect(o["total"] == .int(1000) && o["customer"]?["id"] == .string("cus_9"))
        let again = try fx.call({ $0.drafts.createFromTemplate }, #"{"template_id":"\#(tid)","overrides":{"note":"ring first","custom_fields":{"gift":true}},"idempotency_key":"wk-48"}"#)
        #expect(again["id"] == o["id"])
        let created = try fx.events(#"{"types":["order.created"]}"#)
        #expect(created.count == 1 && created[0]["actor"]?["id"] == .string("ann"))
        // Refusals: bad fields in the template or the overrides name their place; nothing is written.
        let before = fx.counters
        #expect(fx.error({ $0.drafts.createTemplate }, #"{"name":"x","order":{"line_items":[{"title":"x","quantity":0,"unit_price":1}]}}"#)?.field == "order.line_items[0].quantity")
        #expect(fx.error({ $0.drafts.createTemplate }, #"{"name":"x","order":{"number":"N9"}}"#)?.field == "order.number")
        #expect(fx.error({ $0.drafts.createTemplate }, #"{"name":"x","order":{"custom_fields":{"nope":1}}}"#)?.field == "order.custom_fields.nope")
        #expect(fx.error({ $0.drafts.createFromTemplate }, #"{"template_id":"\#(tid)","overrides":{"currency":"XYZ"}}"#)?.field == "overrides.currency")
        #expect(fx.error({ $0.drafts.createFromTemplate }, #"{"template_id":"otpl_nope"}"#)?.code == .notFound)
        let empty = try fx.call({ $0.drafts.createTemplate }, #"{"name":"no lines","order":{"note":"n"}}"#)["id"]!.stringValue!
        let incomplete = fx.error({ $0.drafts.createFromTemplate }, #"{"template_id":"\#(empty)"}"#)
        #expect(incomplete?.code == .invalidState && incomplete?.field == "order.line_items" && incomplete?.details?["reason"] == .string("template_incomplete"))
        #expect(fx.error({ $0.drafts.createFromTemplate }, #"{"template_id":"\#(tid)","overrides":{"custom_fields":{"nope":1}}}"#)?.field == "overrides.custom_fields.nope")
        #expect(fx.counters.nextNumber == before.nextNumber)
        _ = try fx.call({ $0.drafts.updateTemplate }, #"{"id":"\#(tid)","name":"Weekly café order (winter)"}"#)
        #expect(try fx.call({ $0.drafts.listTemplates }, "{}")["data"]!.array.count == 2)
        _ = try fx.call({ $0.drafts.deleteTemplate }, #"{"id":"\#(empty)"}"#)
        #expect(try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order_template","subject_id":"\#(tid)"}"#)["data"]!.array.count == 2)
    }

    @Test("a draft has no number, commits no stock and raises no order event until placed; placing runs everything a create runs, once")
    func drafts() throws {
        let fx = try Fixture()
        let loc = try JSON.parse(try fx.core.inventory.createLocation(try JSON.parse(#"{"name":"Main"}"#)))["id"]!.stringValue!
        _ = try fx.core.inventory.adjust(try JSON.parse(#"{"sku":"A1","location_id":"\#(loc)","delta":5,"reason":"received"}"#))
        let d = try fx.call({ $0.drafts.createDraft }, #"{"order":{"customer":{"id":"cus_1"}}}"#)
        let id = d["id"]!.stringValue!
        #expect(d["status"] == .string("open") && d["preview"] == .null && d["version"] == .int(1))
        let d2 = try fx.call({ $0.drafts.updateDraft }, #"{"id":"\#(id)","order":{"line_items":\#(lines),"note":"draft note"},"expected_version":1}"#)
        #expect(d2["preview"]?["total"] == .int(1000) && d2["version"] == .int(2))
        let d3 = try fx.call({ $0.drafts.updateDraft }, #"{"id":"\#(id)","order":{"note":null}}"#)
        #expect(d3["order"]?["note"] == nil && d3["order"]?["customer"]?["id"] == .string("cus_1"))
        #expect(fx.error({ $0.drafts.updateDraft }, #"{"id":"\#(id)","order":{"note":"x"},"expected_version":1}"#)?.code == .versionConflict)
        #expect(fx.error({ $0.drafts.updateDraft }, #"{"id":"\#(id)","order":{"line_items":[{"title":"","quantity":1,"unit_price":1}]}}"#)?.field == "order.line_items[0].title")
        // Nothing of an order yet: no number used, no stock committed, no order events.
        #expect(fx.counters.nextNumber == 1001)
        #expect(try fx.events(#"{"types":["order.created"]}"#).isEmpty)
        let level = try JSON.parse(try fx.core.inventory.getItem(try JSON.parse(#"{"sku":"A1"}"#)))
        #expect(level["totals"]?["committed"] == .int(0))
        let placed = try fx.call({ $0.drafts.placeDraft }, #"{"id":"\#(id)","expected_version":3}"#)
        let order = placed["order"]!
        #expect(placed["draft"]?["status"] == .string("placed") && placed["draft"]?["order_id"] == order["id"])
        #expect(order["number"] == .string("#1001") && order["customer"]?["id"] == .string("cus_1"))
        let after = try JSON.parse(try fx.core.inventory.getItem(try JSON.parse(#"{"sku":"A1"}"#)))
        #expect(after["totals"]?["committed"] == .int(2))
        // Placing again answers the same order (the create's idempotency key is draft:<id>); a placed draft changes no more.
        #expect(try fx.call({ $0.drafts.placeDraft }, #"{"id":"\#(id)"}"#)["order"]?["id"] == order["id"])
        #expect(fx.error({ $0.drafts.updateDraft }, #"{"id":"\#(id)","order":{"note":"late"}}"#)?.code == .invalidState)
        #expect(fx.error({ $0.drafts.deleteDraft }, #"{"id":"\#(id)"}"#)?.code == .invalidState)
        #expect(try fx.events(#"{"types":["order.created"]}"#).count == 1)
        #expect(try fx.call({ $0.drafts.listDrafts }, #"{"status":"placed"}"#)["data"]!.array.count == 1)
        // A draft that cannot become an order (no lines) fails to place and stays open.
        let bare = try fx.call({ $0.drafts.createDraft }, "{}")["id"]!.stringValue!
        let cannot = fx.error({ $0.drafts.placeDraft }, #"{"id":"\#(bare)"}"#)
        #expect(cannot?.code == .invalidState && cannot?.field == "order.line_items" && cannot?.details?["reason"] == .string("draft_incomplete"))
        #expect(try fx.call({ $0.drafts.getDraft }, #"{"id":"\#(bare)"}"#)["status"] == .string("open"))
        _ = try fx.call({ $0.drafts.deleteDraft }, #"{"id":"\#(bare)"}"#)
        #expect(fx.error({ $0.drafts.getDraft }, #"{"id":"\#(bare)"}"#)?.code == .notFound)
        #expect(try fx.integrityProblems().isEmpty)
    }
}
