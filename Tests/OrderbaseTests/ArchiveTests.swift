import Testing
@testable import Orderbase

@Suite("Archiving")
struct ArchiveTests {
    private func ids(_ page: JSON) -> [String] { page["data"]!.array.map { $0["id"]!.stringValue! } }

    @Test("an archived order leaves orders.list unless include_archived, stays readable and editable, and comes back when unarchived")
    func archive() throws {
        let fx = try Fixture()
        let a = try fx.createOrder()["id"]!.stringValue!
        let b = try fx.createOrder()["id"]!.stringValue!
        let c = try fx.createOrder(#""customer":{"id":"cus_1"}"#)["id"]!.stringValue!
        fx.clock.advance(milliseconds: 1000)
        let archived = try fx.call({ $0.orders.archiveOrder }, #"{"id":"\#(b)","expected_version":1,"actor":{"type":"user","id":"ann"}}"#)
        #expect(archived["archived_at"]?.stringValue != nil && archived["version"] == .int(2))
        let at = archived["archived_at"]
        #expect(ids(try fx.call({ $0.orders.listOrders }, "{}")) == [c, a])
        #expect(ids(try fx.call({ $0.orders.listOrders }, #"{"include_archived":true}"#)) == [c, b, a])
        #expect(ids(try fx.call({ $0.orders.listOrders }, #"{"sort":"updated_desc"}"#)) == [c, a])
        #expect(ids(try fx.call({ $0.orders.listOrders }, #"{"status":"pending","include_archived":false}"#)) == [c, a])
        #expect(ids(try fx.call({ $0.orders.listOrders }, #"{"status":"pending","include_archived":true,"limit":1}"#)) == [c])
        // Paging past archived orders: the cursor still works.
        let first = try fx.call({ $0.orders.listOrders }, #"{"limit":1}"#)
        #expect(ids(first) == [c] && first["has_more"] == .bool(true))
        #expect(ids(try fx.call({ $0.orders.listOrders }, #"{"limit":1,"starting_after":"\#(c)"}"#)) == [a])
        // Readable, editable; archiving again changes nothing.
        #expect(try fx.order(b)["archived_at"] == at)
        let edited = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(b)","note":"kept for the accounts"}"#)
        #expect(edited["archived_at"] == at && edited["version"] == .int(3))
        fx.clock.advance(milliseconds: 1000)
        let again = try fx.call({ $0.orders.archiveOrder }, #"{"id":"\#(b)"}"#)
        #expect(again["archived_at"] == at && again["version"] == .int(3))
        let back = try fx.call({ $0.orders.unarchiveOrder }, #"{"id":"\#(b)"}"#)
        #expect(back["archived_at"] == .null && back["version"] == .int(4))
        #expect(ids(try fx.call({ $0.orders.listOrders }, "{}")) == [c, b, a])
        #expect(try fx.call({ $0.orders.unarchiveOrder }, #"{"id":"\#(b)"}"#)["version"] == .int(4))
        // Events and audit, with the actor.
        let events = try fx.events(#"{"types":["order.archived","order.unarchived"]}"#)
        #expect(events.map { $0["type"]!.stringValue! } == ["order.archived", "order.unarchived"])
        #expect(events[0]["actor"]?["id"] == .string("ann") && events[0]["order"]?["archived_at"] == at)
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(b)"}"#)["data"]!.array
        #expect(audit.map { $0["action"]!.stringValue! } == ["order.created", "order.archived", "order.updated", "order.unarchived"])
        #expect(audit[1]["changes"]?.text.contains(#""field":"archived_at""#) == true)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("a closed order can be archived; bad requests change nothing")
    func refusals() throws {
        let fx = try Fixture()
        let a = try fx.createOrder()["id"]!.stringValue!
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(a)"}"#)
        #expect(try fx.call({ $0.orders.archiveOrder }, #"{"id":"\#(a)"}"#)["archived_at"]?.stringValue != nil)
        let b = try fx.createOrder()["id"]!.stringValue!
        let before = fx.counters
        #expect(fx.error({ $0.orders.archiveOrder }, #"{"id":"ord_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.orders.archiveOrder }, #"{"id":"\#(b)","expected_version":2}"#)?.code == .versionConflict)
        #expect(fx.error({ $0.orders.archiveOrder }, #"{"id":"\#(b)","archived_at":"2026-01-01T00:00:00Z"}"#)?.field == "archived_at")
        #expect(fx.error({ $0.orders.unarchiveOrder }, "{}")?.field == "id")
        #expect(fx.error({ $0.orders.listOrders }, #"{"include_archived":"yes"}"#)?.field == "include_archived")
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(b)","archived_at":null}"#)?.field == "archived_at")
        #expect(fx.counters == before)
        #expect(try fx.order(b)["archived_at"] == .null)
        // Orders stored by the previous release have no archived_at: they are not archived.
        var stored = try fx.order(b)
        if case .object(var o) = stored { o["archived_at"] = nil; stored = .object(o) }
        #expect(try Order.decode(stored.bytes).archivedAt == nil)
    }

    @Test("orders.list tells archived records without decoding them: archived_at is the last field, and nothing inside a record fools the check")
    func storedCheck() throws {
        let fx = try Fixture()
        #expect(Order.sample.render().spans.last?.field.description == "archived_at")
        let trap = try fx.createOrder(#""metadata":{"archived_at":"2026-01-01T00:00:00.000Z"},"note":"\"archived_at\":\"x\"}""#)["id"]!.stringValue!
        let plain = try fx.createOrder()["id"]!.stringValue!
        _ = try fx.call({ $0.orders.archiveOrder }, #"{"id":"\#(plain)"}"#)
        var records: [(bytes: [UInt8], archived: Bool)] = []
        for id in [trap, plain] {
            let bytes = try fx.core.orders.loadRecord(id, snapshot: nil)
            records.append((bytes, try Order.decode(bytes).archivedAt != nil))
            // As an earlier release stored it: no archived_at at all.
            if case .object(var o) = try JSON.parse(bytes) {
                o["archived_at"] = nil
                records.append((JSON.object(o).bytes, false))
            }
        }
        #expect(records.map(\.archived) == [false, false, true, false])
        for r in records { #expect(Order.storedIsArchived(r.bytes) == r.archived) }
        #expect(!Order.storedIsArchived([]) && !Order.storedIsArchived(Array("}".utf8)) && !Order.storedIsArchived(Array("\"}".utf8)))
        #expect(try fx.call({ $0.orders.listOrders }, "{}")["data"]!.array.map { $0["id"]!.stringValue! } == [trap])
    }

    @Test("auto-archive rules: the scheduler sweeps in steps and archives what a rule matches (age and condition), audited with the rule; daily after")
    func autoArchive() throws {
        var options = EngineOptions()
        options.background = false
        let fx = try Fixture(options: options)
        func drain() throws { for _ in 0..<1000 where try fx.core.runDueTimers() > 0 {} }
        var closed: [String] = [], open: [String] = []
        for n in 0..<230 {
            let id = try fx.createOrder(n % 2 == 0 ? #""channel":"phone""# : "")["id"]!.stringValue!
            if n % 3 == 0 { open.append(id) } else {
                _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)
                closed.append(id)
            }
        }
        let rules = try fx.call({ $0.orders.updateArchiveRules }, #"{"rules":[{"name":"old phone orders","after_days":30,"condition":"order.channel == \"phone\""}],"actor":{"type":"user","id":"ann"}}"#)
        #expect(rules["next_sweep_at"]?.stringValue != nil && rules["rules"]!.array[0]["age_from"] == .string("closed_at"))
        // Too young: the first sweep (now) archives nothing; its job looked at every order.
        try drain()
        var state = try fx.call({ $0.orders.getArchiveRules }, "{}")
        let firstJob = try fx.call({ $0.jobs.getJob }, #"{"id":"\#(state["last_sweep_job"]!.stringValue!)"}"#)
        #expect(firstJob["status"] == .string("completed") && firstJob["processed"] == .int(230) && firstJob["changed"] == .int(0))
        #expect(state["next_sweep_at"]?.stringValue != nil)
        // 31 days later the daily sweep archives the closed phone orders, and only those.
        fx.clock.advance(milliseconds: 31 * 86_400_000)
        try drain()
        state = try fx.call({ $0.orders.getArchiveRules }, "{}")
        let job = try fx.call({ $0.jobs.getJob }, #"{"id":"\#(state["last_sweep_job"]!.stringValue!)"}"#)
        let phoneClosed = closed.filter { try! fx.order($0)["channel"] == .string("phone") }
        #expect(job["changed"] == .int(Int64(phoneClosed.count)) && job["processed"] == .int(230))
        for id in phoneClosed { #expect(try fx.order(id)["archived_at"]?.stringValue != nil) }
        for id in open + closed.filter({ !phoneClosed.contains($0) }) { #expect(try fx.order(id)["archived_at"] == .null) }
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(phoneClosed[0])"}"#)["data"]!.array
        #expect(audit.last?["action"] == .string("order.archived") && audit.last?["reason"] == .string("auto-archive: old phone orders"))
        #expect(audit.last?["actor"]?["id"] == .string("scheduler"))
        // Unarchived by hand, it is archived again by the next sweep; [] stops the sweeps.
        _ = try fx.call({ $0.orders.unarchiveOrder }, #"{"id":"\#(phoneClosed[0])"}"#)
        fx.clock.advance(milliseconds: 86_400_000)
        try drain()
        #expect(try fx.order(phoneClosed[0])["archived_at"]?.stringValue != nil)
        #expect(try fx.call({ $0.orders.updateArchiveRules }, #"{"rules":[]}"#)["next_sweep_at"] == .null)
        #expect(try fx.core.timerSummary().pending == 0)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("auto-archive rules are checked when saved: names, ages, conditions (typed), at most 10; nothing changes on a refusal")
    func archiveRuleRefusals() throws {
        let fx = try Fixture()
        let before = fx.counters
        let cases: [(String, String)] = [
            (#"{}"#, "rules"), (#"{"rules":[{"after_days":1}]}"#, "rules[0].name"),
            (#"{"rules":[{"name":"a","after_days":4000}]}"#, "rules[0].after_days"),
            (#"{"rules":[{"name":"a","age_from":"shipped_at"}]}"#, "rules[0].age_from"),
            (#"{"rules":[{"name":"a","condition":"order.totl > 1"}]}"#, "rules[0].condition"),
            (#"{"rules":[{"name":"a","condition":"order.total >"}]}"#, "rules[0].condition"),
            (#"{"rules":[{"name":"a"},{"name":"a"}]}"#, "rules[1].name"),
            (#"{"rules":[{"name":"a","extra":1}]}"#, "rules[0].extra"),
        ]
        for (body, field) in cases { #expect(fx.error({ $0.orders.updateArchiveRules }, body)?.field == field, "\(body)") }
        let eleven = "[" + (0..<11).map { #"{"name":"r\#($0)"}"# }.joined(separator: ",") + "]"
        #expect(fx.error({ $0.orders.updateArchiveRules }, #"{"rules":\#(eleven)}"#)?.code == .limitExceeded)
        #expect(fx.counters == before)
        #expect(try fx.call({ $0.orders.getArchiveRules }, "{}")["rules"] == JSON.array([]))
    }
}
