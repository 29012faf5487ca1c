import Foundation
import Testing
@testable import Orderbase

@Suite("Timeline: notes and messages")
struct TimelineTests {
    @Test("notes and messages: written with their author, edited and deleted with an audited history, listed by order and by mention")
    func notes() throws {
        let fx = try Fixture()
        let order = try fx.createOrder()["id"]!.stringValue!
        let note = try fx.call({ $0.timeline.createNote }, #"{"order_id":"\#(order)","body":"Customer asked for gift wrap","mentions":["sam","sam","kim"],"actor":{"type":"user","id":"ann"}}"#)
        let nid = note["id"]!.stringValue!
        #expect(note["kind"] == .string("note") && note["author"]?["id"] == .string("ann") && note["mentions"] == JSON.array([.string("sam"), .string("kim")]))
        #expect(note["version"] == .int(1) && note["direction"] == .null)
        fx.clock.advance(milliseconds: 1000)
        let msg = try fx.call({ $0.timeline.createNote }, #"{"order_id":"\#(order)","kind":"message","direction":"inbound","channel":"email","body":"Where is my order?"}"#)
        let edited = try fx.call({ $0.timeline.updateNote }, #"{"id":"\#(nid)","body":"Customer asked for gift wrap (paper)","expected_version":1,"actor":{"type":"user","id":"kim"}}"#)
        #expect(edited["version"] == .int(2) && edited["author"]?["id"] == .string("ann"))
        #expect(fx.error({ $0.timeline.updateNote }, #"{"id":"\#(nid)","body":"x","expected_version":1}"#)?.code == .versionConflict)
        #expect(try fx.call({ $0.timeline.updateNote }, #"{"id":"\#(nid)","body":"Customer asked for gift wrap (paper)"}"#)["version"] == .int(2))
        let listed = try fx.call({ $0.timeline.listNotes }, #"{"order_id":"\#(order)"}"#)["data"]!.array
        #expect(listed.map { $0["id"]!.stringValue! } == [msg["id"]!.stringValue!, nid])
        #expect(try fx.call({ $0.timeline.listNotes }, #"{"order_id":"\#(order)","kind":"message"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.timeline.listNotes }, #"{"mention":"kim"}"#)["data"]!.array.map { $0["id"]!.stringValue! } == [nid])
        #expect(try fx.call({ $0.timeline.listNotes }, #"{"order_id":"\#(order)","mention":"sam"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.timeline.listNotes }, "{}")["data"]!.array.count == 2)
        _ = try fx.call({ $0.timeline.updateNote }, #"{"id":"\#(nid)","mentions":[]}"#)
        #expect(try fx.call({ $0.timeline.listNotes }, #"{"mention":"kim"}"#)["data"]!.array.isEmpty)
        let deleted = try fx.call({ $0.timeline.deleteNote }, #"{"id":"\#(nid)"}"#)
        #expect(deleted["id"] == .string(nid))
        #expect(fx.error({ $0.timeline.getNote }, #"{"id":"\#(nid)"}"#)?.code == .notFound)
        // The history stays: created, edited (text before and after), edited (mentions), deleted.
        let audit = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"order_note","subject_id":"\#(nid)"}"#)["data"]!.array
        #expect(audit.map { $0["action"]!.stringValue! } == ["order_note.created", "order_note.updated", "order_note.updated", "order_note.deleted"])
        #expect(audit[1]["changes"]?.text.contains("Customer asked for gift wrap (paper)") == true && audit[1]["actor"]?["id"] == .string("kim"))
        #expect(audit[3]["order_id"] == .string(order))
        let events = try fx.events(#"{"types":["order_note.created"]}"#)
        #expect(events.count == 2 && events[0]["order_id"] == .string(order))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("refusals name the field and write nothing")
    func refusals() throws {
        let fx = try Fixture()
        let order = try fx.createOrder()["id"]!.stringValue!
        let before = fx.counters
        let cases: [(String, String)] = [
            (#"{"order_id":"\#(order)"}"#, "body"), (#"{"order_id":"\#(order)","body":""}"#, "body"),
            (#"{"order_id":"\#(order)","body":"\#(String(repeating: "x", count: 10_001))"}"#, "body"),
            (#"{"order_id":"\#(order)","body":"x","kind":"message"}"#, "direction"),
            (#"{"order_id":"\#(order)","body":"x","kind":"message","direction":"inbound"}"#, "channel"),
            (#"{"order_id":"\#(order)","body":"x","direction":"inbound"}"#, "direction"),
            (#"{"order_id":"\#(order)","body":"x","kind":"memo"}"#, "kind"),
            (#"{"order_id":"\#(order)","body":"x","mentions":[""]}"#, "mentions[0]"),
            (#"{"order_id":"\#(order)","body":"x","author":{"type":"user"}}"#, "author"),
            (#"{"body":"x"}"#, "order_id"),
        ]
        for (body, field) in cases { #expect(fx.error({ $0.timeline.createNote }, body)?.field == field, "\(body.prefix(80))") }
        #expect(fx.error({ $0.timeline.createNote }, #"{"order_id":"ord_nope","body":"x"}"#)?.code == .notFound)
        #expect(fx.error({ $0.timeline.updateNote }, #"{"id":"note_nope","body":"x"}"#)?.code == .notFound)
        #expect(fx.error({ $0.timeline.updateNote }, #"{"id":"note_nope","kind":"message"}"#)?.field == "kind")
        #expect(fx.counters == before)
    }

    @Test("orders.timeline interleaves audit entries, notes, messages and notifications by time, pages without gaps, and filters by type")
    func timeline() throws {
        var options = EngineOptions()
        options.background = false
        let fx = try Fixture(options: options)
        let channel = try fx.call({ $0.notifications.createNotificationChannel }, #"{"name":"host","type":"callback"}"#)["id"]!.stringValue!
        _ = try fx.call({ $0.notifications.createNotificationTemplate }, #"{"name":"confirmed","channel_id":"\#(channel)","event_types":["order.status_changed"],"text":"{{order.number}} confirmed","recipients":[{"type":"staff","address":"ops"}]}"#)
        let order = try fx.createOrder()["id"]!.stringValue!
        fx.clock.advance(milliseconds: 1000)
        let note = try fx.call({ $0.timeline.createNote }, #"{"order_id":"\#(order)","body":"Checked stock"}"#)["id"]!.stringValue!
        fx.clock.advance(milliseconds: 1000)
        _ = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(order)","to":"confirmed"}"#)
        _ = try fx.core.runConsumers()  // the notification is made (it waits: no host handler)
        fx.clock.advance(milliseconds: 1000)
        let msg = try fx.call({ $0.timeline.createNote }, #"{"order_id":"\#(order)","kind":"message","direction":"outbound","channel":"phone","body":"Told them it ships Monday"}"#)["id"]!.stringValue!
        let all = try fx.call({ $0.timeline.orderTimeline }, #"{"id":"\#(order)"}"#)["data"]!.array
        let types = all.map { $0["type"]!.stringValue! }
        #expect(types == ["audit", "audit", "note", "audit", "notification", "audit", "message"])
        let ats = all.map { Timestamp.parse($0["at"]!.stringValue!)! }
        #expect(ats == ats.sorted())
        #expect(all[2]["note"]?["id"] == .string(note) && all[6]["note"]?["id"] == .string(msg))
        #expect(all[4]["notification"]?["text"]?.stringValue?.contains("confirmed") == true)
        #expect(all[0]["audit"]?["action"] == .string("order.created") && all[1]["audit"]?["action"] == .string("order_note.created"))
        // Paging: two at a time covers the same entries in the same order.
        var paged: [String] = []
        var after: String?
        repeat {
            let cursor = after.map { #","starting_after":"\#($0)""# } ?? ""
            let page = try fx.call({ $0.timeline.orderTimeline }, #"{"id":"\#(order)","limit":2\#(cursor)}"#)
            paged += page["data"]!.array.map { $0["id"]!.stringValue! }
            after = page["has_more"] == .bool(true) ? paged.last : nil
        } while after != nil
        #expect(paged == all.map { $0["id"]!.stringValue! })
        #expect(try fx.call({ $0.timeline.orderTimeline }, #"{"id":"\#(order)","types":["note","message"]}"#)["data"]!.array.count == 2)
        #expect(fx.error({ $0.timeline.orderTimeline }, #"{"id":"\#(order)","types":["gossip"]}"#)?.field == "types[0]")
        #expect(fx.error({ $0.timeline.orderTimeline }, #"{"id":"\#(order)","starting_after":"nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.timeline.orderTimeline }, #"{"id":"ord_nope"}"#)?.code == .notFound)
    }
}
