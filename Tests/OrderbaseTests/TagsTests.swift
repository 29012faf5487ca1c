import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

@Suite("Tags")
struct TagsTests {
    private func names(_ page: JSON) -> [String] { page["data"]!.array.map { $0["name"]!.stringValue! } }
    private func counts(_ fx: Fixture, _ request: String = "{}") throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for t in try fx.call({ $0.tags.listTags }, request)["data"]!.array { out[t["name"]!.stringValue!] = t["count"]!.intValue! }
        return out
    }
    private func tags(_ order: JSON) -> [String] { order["tags"]!.array.map { $0.stringValue! } }
    private static func quiet() throws -> Fixture {
        var o = EngineOptions()
        o.background = false  // jobs move only when the test runs the scheduler
        return try Fixture(options: o)
    }
    /// Runs the scheduler until nothing is due; answers how many timers ran.
    private func drain(_ fx: Fixture) throws -> Int {
        var total = 0
        for _ in 0..<1000 {
            let n = try fx.core.runDueTimers()
            if n == 0 { break }
            total += n
        }
        return total
    }

    @Test("tags are trimmed, NFC-normalized and unique ignoring case (first spelling kept); short CJK tags and emoji are kept")
    func normalization() throws {
        let fx = try Fixture()
        let o = try fx.createOrder(#""tags":["  VIP ","vip","Cafe\u0301","Café","猫","タグ","🎁 gift","Straße"]"#)
        #expect(tags(o) == ["VIP", "Café", "猫", "タグ", "🎁 gift", "Straße"])
        #expect(tags(o)[1].utf8.count == 5)  // é as one code point (NFC)
        #expect(try counts(fx) == ["VIP": 1, "Café": 1, "猫": 1, "タグ": 1, "🎁 gift": 1, "Straße": 1])
        // orders.list finds it by any spelling of any of its tags.
        for q in ["vip", "  Vip", "CAFE\u{301}", "café", "猫", "🎁 GIFT", "STRASSE".lowercased().replacingOccurrences(of: "ss", with: "ß")] {
            let found = try fx.call({ $0.orders.listOrders }, try JSON.object(["tag": .string(q)]).text)["data"]!.array
            #expect(found.count == 1, "tag filter \(q)")
        }
        #expect(try fx.call({ $0.orders.listOrders }, #"{"tag":"vi"}"#)["data"]!.array.isEmpty)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("a tag that breaks a rule is refused with the rule and the tag's place named, and nothing changes")
    func refusals() throws {
        // 100 code points is the limit, as JSON Schema counts: 100 four-byte emoji fit.
        let emoji = String(repeating: "😀", count: 100)
        #expect(try Tags.normalize(emoji, field: "t") == emoji)
        let fx = try Fixture()
        let id = try fx.createOrder(#""tags":["keep"]"#)["id"]!.stringValue!
        let before = fx.counters
        let long = String(repeating: "x", count: 101), wide = String(repeating: "e\u{301}", count: 51)  // 51 characters, 102 code points
        let cases: [(String, String, String)] = [
            (#"["ok","a,b"]"#, "tags[1]", "comma"), (#"["\u0007bell"]"#, "tags[0]", "control"), (#"["   "]"#, "tags[0]", "empty"),
            (#"["\#(long)"]"#, "tags[0]", "100 characters"), (#"["\#(wide)"]"#, "tags[0]", "100 characters"), (#"[7]"#, "tags[0]", "string"),
            (#""vip""#, "tags", "array"), (#"["line\nbreak"]"#, "tags[0]", "control"),
        ]
        for (value, field, words) in cases {
            for request in [#"{"id":"\#(id)","tags":\#(value)}"#] {
                let e = fx.error({ $0.orders.addTags }, request)
                #expect(e?.field == field && e?.message.contains(words) == true, "\(value): \(String(describing: e))")
                #expect(fx.error({ $0.orders.updateOrder }, request)?.field == field)
            }
            #expect(fx.error({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}],"tags":\#(value)}"#)?.field == field)
        }
        let many = "[" + (0..<251).map { "\"t\($0)\"" }.joined(separator: ",") + "]"
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(id)","tags":\#(many)}"#)?.code == .limitExceeded)
        #expect(fx.error({ $0.orders.addTags }, #"{"id":"\#(id)","tags":[]}"#)?.field == "tags")
        #expect(fx.error({ $0.orders.addTags }, #"{"id":"\#(id)"}"#)?.field == "tags")
        #expect(fx.error({ $0.orders.addTags }, #"{"id":"\#(id)","tags":["a"],"extra":1}"#)?.field == "extra")
        #expect(fx.error({ $0.orders.addTags }, #"{"id":"ord_nope","tags":["a"]}"#)?.code == .notFound)
        #expect(fx.error({ $0.orders.addTags }, #"{"id":"\#(id)","tags":["a"],"expected_version":9}"#)?.code == .versionConflict)
        #expect(fx.counters == before)
        #expect(tags(try fx.order(id)) == ["keep"])
        // 250 fit; one more through add_tags is limit_exceeded, naming the limit.
        let full = "[" + (0..<249).map { "\"t\($0)\"" }.joined(separator: ",") + "]"
        #expect(tags(try fx.call({ $0.orders.addTags }, #"{"id":"\#(id)","tags":\#(full)}"#)).count == 250)
        let over = fx.error({ $0.orders.addTags }, #"{"id":"\#(id)","tags":["one-more"]}"#)
        #expect(over?.code == .limitExceeded && over?.details?["limit"] == .int(250))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("add_tags and remove_tags change only the tags named, ignoring case; no change writes nothing; events and audit say what changed")
    func addRemove() throws {
        let fx = try Fixture()
        let id = try fx.createOrder(#""tags":["Wholesale"]"#)["id"]!.stringValue!
        let added = try fx.call({ $0.orders.addTags }, #"{"id":"\#(id)","tags":["VIP","wholesale","rush"],"expected_version":1,"actor":{"type":"user","id":"ann"}}"#)
        #expect(tags(added) == ["Wholesale", "VIP", "rush"] && added["version"] == .int(2))
        #expect(try fx.call({ $0.orders.addTags }, #"{"id":"\#(id)","tags":["vip"]}"#)["version"] == .int(2))  // nothing new
        let removed = try fx.call({ $0.orders.removeTags }, #"{"id":"\#(id)","tags":["WHOLESALE","never-had"]}"#)
        #expect(tags(removed) == ["VIP", "rush"] && removed["version"] == .int(3))
        #expect(try fx.call({ $0.orders.removeTags }, #"{"id":"\#(id)","tags":["gone"]}"#)["version"] == .int(3))
        let events = try fx.events(#"{"types":["order.tags_added","order.tags_removed"]}"#)
        #expect(events.map { $0["type"]!.stringValue! } == ["order.tags_added", "order.tags_removed"])
        #expect(events[0]["actor"]?["id"] == .string("ann"))
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(id)"}"#)["data"]!.array
        #expect(audit.map { $0["action"]!.stringValue! } == ["order.created", "order.tags_added", "order.tags_removed"])
        #expect(audit[1]["changes"]?.text.contains(#""field":"tags""#) == true)
        // Closed orders can still be tagged (as note and metadata can change).
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)
        #expect(tags(try fx.call({ $0.orders.addTags }, #"{"id":"\#(id)","tags":["refund-check"]}"#)) == ["VIP", "rush", "refund-check"])
        // orders.update replaces the list; null clears it.
        #expect(tags(try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","tags":["a","B"]}"#)) == ["a", "B"])
        #expect(try counts(fx) == ["a": 1, "B": 1])
        #expect(tags(try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","tags":null}"#)) == [])
        #expect(try counts(fx) == [:])
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("eight threads tagging one order at once: every tag lands, none is lost")
    func concurrentTagging() throws {
        let fx = try Fixture()
        let id = try fx.createOrder()["id"]!.stringValue!
        let core = fx.core
        final class Failures: @unchecked Sendable { let lock = Mutex(); var list: [String] = [] }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for n in 0..<25 {
                do {
                    _ = try core.orders.addTags(try JSON.parse(#"{"id":"\#(id)","tags":["t\#(t)-\#(n)","shared"]}"#))
                    if n % 5 == 4 { _ = try core.orders.removeTags(try JSON.parse(#"{"id":"\#(id)","tags":["t\#(t)-\#(n - 1)"]}"#)) }
                } catch { failures.lock.withLock { failures.list.append("\(error)") } }
            }
        }
        #expect(failures.list == [])
        let final = Set(tags(try fx.order(id)))
        var expected: Set<String> = ["shared"]
        for t in 0..<8 { for n in 0..<25 where n % 5 != 3 { expected.insert("t\(t)-\(n)") } }
        #expect(final == expected)
        #expect(try fx.order(id)["version"] == .int(1 + 8 * (25 + 5)))
        let listed = try counts(fx, #"{"limit":250}"#)
        #expect(listed.count == expected.count && listed.values.allSatisfy { $0 == 1 })
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("orders.list filters by tag (with other filters, archived left out); tags.list counts, pages and filters by prefix")
    func listing() throws {
        let fx = try Fixture()
        var ids: [String] = []
        for n in 0..<6 {
            let t = n % 2 == 0 ? #"["even","All"]"# : #"["odd","all"]"#
            ids.append(try fx.createOrder(#""tags":\#(t),"customer":{"id":"cus_\#(n % 3)"}"#)["id"]!.stringValue!)
        }
        _ = try fx.call({ $0.orders.archiveOrder }, #"{"id":"\#(ids[4])"}"#)
        let even = try fx.call({ $0.orders.listOrders }, #"{"tag":"EVEN"}"#)["data"]!.array.map { $0["id"]!.stringValue! }
        #expect(even == [ids[2], ids[0]])
        #expect(try fx.call({ $0.orders.listOrders }, #"{"tag":"even","include_archived":true}"#)["data"]!.array.count == 3)
        #expect(try fx.call({ $0.orders.listOrders }, #"{"tag":"all","customer_id":"cus_0"}"#)["data"]!.array.map { $0["id"]!.stringValue! } == [ids[3], ids[0]])
        #expect(try fx.call({ $0.orders.listOrders }, #"{"tag":"odd","status":"pending","sort":"updated_asc"}"#)["data"]!.array.count == 3)
        #expect(try counts(fx) == ["All": 6, "even": 3, "odd": 3])
        let page = try fx.call({ $0.tags.listTags }, #"{"limit":2}"#)
        #expect(names(page) == ["All", "even"] && page["has_more"] == .bool(true))
        #expect(names(try fx.call({ $0.tags.listTags }, #"{"limit":2,"starting_after":"EVEN"}"#)) == ["odd"])
        #expect(names(try fx.call({ $0.tags.listTags }, #"{"prefix":"E"}"#)) == ["even"])
        #expect(names(try fx.call({ $0.tags.listTags }, #"{"prefix":"a","starting_after":"all"}"#)) == [])
        #expect(fx.error({ $0.tags.listTags }, #"{"limit":0}"#)?.field == "limit")
        #expect(fx.error({ $0.orders.listOrders }, #"{"tag":""}"#)?.field == "tag")
        // Counts follow every change: removal, cancellation keeps tags, a count reaching 0 leaves the list.
        for id in ids where id != ids[1] { _ = try fx.call({ $0.orders.removeTags }, #"{"id":"\#(id)","tags":["odd","even"]}"#) }
        #expect(try counts(fx) == ["All": 6, "odd": 1])
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("tags.rename is a job: every order tagged gets the new tag in steps of 200, audited for the requester; onto an existing tag it merges")
    func rename() throws {
        let fx = try Self.quiet()
        var ids: [String] = []
        for n in 0..<450 { ids.append(try fx.createOrder(n == 7 ? #""tags":["first","Old","new"]"# : #""tags":["first","old"]"#)["id"]!.stringValue!) }
        let other = try fx.createOrder(#""tags":["unrelated"]"#)["id"]!.stringValue!
        let job = try fx.call({ $0.tags.renameTag }, #"{"from":"OLD","to":"New","actor":{"type":"user","id":"ann"}}"#)
        let jobID = job["id"]!.stringValue!
        #expect(job["status"] == .string("queued") && job["type"] == .string("tags.rename") && job["total"] == .int(450))
        #expect(job["params"] == JSON.object(["from": .string("old"), "to": .string("New")]) && job["requested_by"]?["id"] == .string("ann"))
        // One step per run: 200, 200, 50.
        #expect(try fx.core.runDueTimers() == 1)
        let running = try fx.call({ $0.jobs.getJob }, #"{"id":"\#(jobID)"}"#)
        #expect(running["status"] == .string("running") && running["processed"] == .int(200) && running["started_at"] != .null)
        #expect(try drain(fx) == 2)
        let done = try fx.call({ $0.jobs.getJob }, #"{"id":"\#(jobID)"}"#)
        #expect(done["status"] == .string("completed") && done["processed"] == .int(450) && done["changed"] == .int(450) && done["finished_at"] != .null)
        #expect(tags(try fx.order(ids[0])) == ["first", "New"])
        #expect(tags(try fx.order(ids[7])) == ["first", "New"])  // had both: keeps one, in place of the old, spelled as asked
        #expect(tags(try fx.order(other)) == ["unrelated"])
        #expect(try fx.order(other)["version"] == .int(1))
        #expect(try counts(fx) == ["first": 450, "New": 450, "unrelated": 1])
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(ids[3])"}"#)["data"]!.array
        #expect(audit.last?["action"] == .string("order.tags_renamed") && audit.last?["actor"]?["id"] == .string("ann"))
        #expect(audit.last?["reason"] == .string("tags.rename (\(jobID))"))
        #expect(try fx.integrityProblems().isEmpty)
        // A case-only rename keeps the key and respells it everywhere, tags.list included.
        _ = try fx.call({ $0.tags.renameTag }, #"{"from":"first","to":"FIRST"}"#)
        _ = try drain(fx)
        #expect(try counts(fx) == ["FIRST": 450, "New": 450, "unrelated": 1])
        #expect(tags(try fx.order(ids[0])) == ["FIRST", "New"])
        let jobs = try fx.call({ $0.jobs.listJobs }, #"{"status":"completed"}"#)["data"]!.array
        #expect(jobs.count == 2 && jobs[1]["id"] == .string(jobID))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("tags.delete takes a tag off every order as a job; refusals name the field and queue nothing")
    func delete() throws {
        let fx = try Self.quiet()
        for n in 0..<5 { _ = try fx.createOrder(#""tags":["bye","stay\#(n)"]"#) }
        let before = fx.counters
        #expect(fx.error({ $0.tags.deleteTag }, #"{"name":"never"}"#)?.code == .notFound)
        #expect(fx.error({ $0.tags.deleteTag }, #"{"name":"a,b"}"#)?.field == "name")
        #expect(fx.error({ $0.tags.renameTag }, #"{"from":"bye","to":"bye"}"#)?.field == "to")
        #expect(fx.error({ $0.tags.renameTag }, #"{"from":"bye","to":" "}"#)?.field == "to")
        #expect(fx.error({ $0.tags.renameTag }, #"{"from":"bye"}"#)?.field == "to")
        #expect(fx.error({ $0.jobs.getJob }, #"{"id":"job_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.jobs.listJobs }, #"{"status":"done"}"#)?.field == "status")
        #expect(fx.counters == before)
        #expect(try fx.call({ $0.jobs.listJobs }, "{}")["data"]!.array.isEmpty)
        let job = try fx.call({ $0.tags.deleteTag }, #"{"name":"BYE"}"#)
        #expect(try drain(fx) == 1)
        let done = try fx.call({ $0.jobs.getJob }, #"{"id":"\#(job["id"]!.stringValue!)"}"#)
        #expect(done["status"] == .string("completed") && done["changed"] == .int(5))
        #expect(try counts(fx)["bye"] == nil)
        #expect(try counts(fx).count == 5)
        #expect(try fx.events(#"{"types":["order.tags_removed"]}"#).count == 5)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("integrity.check notices a tag count that does not match the orders")
    func integrity() throws {
        let fx = try Fixture()
        _ = try fx.createOrder(#""tags":["x"]"#)
        try fx.core.write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
            var t = try wc.load(TagCount.self, "x")
            let before = t
            t.count = 5
            wc.save(before: before, after: t)
        }
        #expect(try fx.integrityProblems().contains { $0.contains("tag x counts 5 orders but 1 have it") })
    }
}
