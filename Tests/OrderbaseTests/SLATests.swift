import Foundation
import Testing
@testable import Orderbase

/// SLA policies, business hours, entries on orders, the scheduler's events and the summary (docs/sla.md).
@Suite struct SLATests {
    static let monday = Timestamp.parse("2026-11-23T08:00:00Z")!  // a Monday, 08:00 in London (GMT)
    static let minute: Int64 = 60_000

    func fixture() throws -> Fixture {
        var options = EngineOptions()
        options.background = false
        let fx = try Fixture(options: options)
        fx.clock.set(Self.monday)
        return fx
    }

    func drain(_ fx: Fixture) throws { for _ in 0..<100 where try fx.core.runDueTimers() > 0 {} }

    func ts(_ s: String) -> Int64 { Timestamp.parse(s)! }

    func entry(_ order: JSON, _ n: Int = 0) -> JSON { order["sla"]!.array[n] }

    @Test("business hours: adding and measuring open time across nights, weekends, holidays and a clock change")
    func calendarMath() throws {
        var hours = BusinessHours.blank
        hours.timeZone = "Europe/London"
        hours.hours = (0..<5).map { OpenInterval(day: $0, start: 9 * 60, end: 17 * 60) }
        hours.holidays = ["2026-12-25"]
        let cal = try hours.calendar(tenantZone: "UTC")
        let hour: Int64 = 3_600_000
        // Friday 16:00 + 8 open hours = Monday 16:00 (the weekend does not count).
        #expect(cal.add(8 * hour, to: ts("2026-11-27T16:00:00Z")) == ts("2026-11-30T16:00:00Z"))
        // Before opening, the clock starts at 09:00.
        #expect(cal.add(hour, to: ts("2026-11-23T03:00:00Z")) == ts("2026-11-23T10:00:00Z"))
        // Christmas Day (a Friday) is a holiday: Thursday 16:00 + 2 h = Monday 10:00.
        #expect(cal.add(2 * hour, to: ts("2026-12-24T16:00:00Z")) == ts("2026-12-28T10:00:00Z"))
        // Summer time (BST, UTC+1) from 2027-03-28: Monday 29 March opens at 08:00 UTC.
        #expect(cal.add(hour, to: ts("2027-03-29T00:00:00Z")) == ts("2027-03-29T09:00:00Z"))
        #expect(cal.add(8 * hour, to: ts("2027-03-26T16:00:00Z")) == ts("2027-03-29T15:00:00Z"))
        // Elapsed is the inverse, and negative backwards.
        #expect(cal.elapsed(from: ts("2026-11-27T16:00:00Z"), to: ts("2026-11-30T16:00:00Z")) == 8 * hour)
        #expect(cal.elapsed(from: ts("2026-11-30T16:00:00Z"), to: ts("2026-11-27T16:00:00Z")) == -8 * hour)
        #expect(cal.elapsed(from: ts("2026-11-28T10:00:00Z"), to: ts("2026-11-29T10:00:00Z")) == 0)
        // Open all the time: calendar arithmetic.
        #expect(BusinessCalendar.always.add(hour, to: 5) == hour + 5)
        #expect(try BusinessHours.blank.calendar(tenantZone: "UTC").isAlways)
        // A promise longer than 20 years of days of open time is due 20 years on.
        var once = BusinessHours.blank
        once.hours = [OpenInterval(day: 0, start: 0, end: 1)]
        let rare = try once.calendar(tenantZone: "UTC")
        #expect(rare.add(100_000 * Self.minute, to: 0) == BusinessCalendar.maxDays * 86_400_000)
    }

    @Test("a calendar policy: at risk, then breached, on time; events, audit, the sla_status filter, met late, the summary")
    func atRiskAndBreached() throws {
        let fx = try fixture()
        let policy = try fx.call({ $0.sla.createPolicy }, #"{"name":"Urgent confirmed in 1 hour","priorities":["urgent"],"target_states":["confirmed"],"within_minutes":60,"at_risk_minutes":15,"clock":"calendar"}"#)
        let pid = policy["id"]!.stringValue!
        #expect(policy["active"] == .bool(true) && policy["pause_on_hold"] == .bool(false))
        let urgent = try fx.createOrder(#""priority":"urgent""#)
        let normal = try fx.createOrder()
        #expect(normal["sla"]!.array.isEmpty && normal["sla_status"] == .null)
        let id = urgent["id"]!.stringValue!
        let e = entry(urgent)
        #expect(e["policy_id"] == .string(pid) && e["status"] == .string("pending") && urgent["sla_status"] == .string("pending"))
        #expect(e["due_at"] == .string(Timestamp.format(Self.monday + 60 * Self.minute)))
        #expect(e["at_risk_at"] == .string(Timestamp.format(Self.monday + 45 * Self.minute)))
        // 44 minutes: nothing yet.
        fx.clock.advance(milliseconds: 44 * Self.minute)
        try drain(fx)
        #expect(try fx.order(id)["sla_status"] == .string("pending"))
        let remaining = try fx.call({ $0.sla.orderSLA }, #"{"id":"\#(id)"}"#)
        #expect(remaining["entries"]!.array[0]["remaining_ms"] == .int(16 * Self.minute))
        // 45 minutes: at risk, one event, audited as the scheduler's.
        fx.clock.advance(milliseconds: Self.minute)
        try drain(fx)
        var order = try fx.order(id)
        #expect(order["sla_status"] == .string("at_risk") && entry(order)["status"] == .string("at_risk") && order["version"] == .int(2))
        var types = try fx.events().map { $0["type"]!.stringValue! }
        #expect(types.filter { $0.hasPrefix("sla.") } == ["sla.at_risk"])
        #expect(try fx.call({ $0.orders.listOrders }, #"{"sla_status":"at_risk"}"#)["data"]!.array.map { $0["id"]!.stringValue! } == [id])
        // 60 minutes: breached.
        fx.clock.advance(milliseconds: 15 * Self.minute)
        try drain(fx)
        order = try fx.order(id)
        #expect(order["sla_status"] == .string("breached") && entry(order)["breached_at"] == .string(Timestamp.format(Self.monday + 60 * Self.minute)))
        let breached = try fx.events().last { $0["type"] == .string("sla.breached") }!
        #expect(breached["order"]?["sla_status"] == .string("breached") && breached["actor"]?["id"] == .string("scheduler"))
        #expect(breached["reason"] == .string("SLA policy Urgent confirmed in 1 hour (\(pid))"))
        #expect(try fx.call({ $0.orders.listOrders }, #"{"sla_status":"at_risk"}"#)["data"]!.array.isEmpty)
        #expect(try fx.call({ $0.orders.listOrders }, #"{"sla_status":"breached"}"#)["data"]!.array.count == 1)
        #expect(try fx.core.timerSummary().pending == 0)
        // Confirmed late: met_at set, still breached.
        _ = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(id)","to":"confirmed"}"#)
        order = try fx.order(id)
        #expect(entry(order)["status"] == .string("breached") && entry(order)["met_at"]?.stringValue != nil)
        types = try fx.events().map { $0["type"]!.stringValue! }
        #expect(types.filter { $0 == "sla.breached" }.count == 1)
        // A second urgent order confirmed in time is met; the summary counts both.
        let fast = try fx.createOrder(#""priority":"urgent""#)["id"]!.stringValue!
        fx.clock.advance(milliseconds: 10 * Self.minute)
        let met = try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(fast)","to":"confirmed"}"#)
        #expect(met["sla_status"] == .string("met") && entry(met)["met_at"] == .string(Timestamp.format(fx.clock.nowMilliseconds())))
        #expect(try fx.core.timerSummary().pending == 0)
        let summary = try fx.call({ $0.sla.summary }, #"{"from":"2026-11-23T00:00:00Z","to":"2026-11-24T00:00:00Z"}"#)
        let row = summary["policies"]!.array[0]
        #expect(row["policy_id"] == .string(pid) && row["met"] == .int(1) && row["breached"] == .int(1) && row["met_late"] == .int(1) && row["pending"] == .int(0))
        let none = try fx.call({ $0.sla.summary }, #"{"from":"2026-11-24T00:00:00Z","to":"2026-11-25T00:00:00Z","policy_id":"\#(pid)"}"#)
        #expect(none["policies"]!.array[0]["met"] == .int(0))
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("business hours count, holds pause a pause_on_hold policy, cancelling stops it, re-prioritizing changes the policies")
    func businessHoursAndPauses() throws {
        let fx = try fixture()
        _ = try fx.call({ $0.sla.updateBusinessHours }, #"{"time_zone":"Europe/London","hours":[{"day":"monday","start":"09:00","end":"17:00"},{"day":"tuesday","start":"09:00","end":"17:00"},{"day":"wednesday","start":"09:00","end":"17:00"},{"day":"thursday","start":"09:00","end":"17:00"},{"day":"friday","start":"09:00","end":"17:00"}]}"#)
        let ship = try fx.call({ $0.sla.createPolicy }, #"{"name":"Shipped in 1 business day","target_fulfillment":"shipped","within_minutes":480,"pause_on_hold":true}"#)
        #expect(ship["at_risk_minutes"] == .int(96) && ship["clock"] == .string("business_hours"))
        let urgent = try fx.call({ $0.sla.createPolicy }, #"{"name":"Urgent","priorities":["urgent"],"target_states":["processing"],"within_minutes":120}"#)
        // Placed Monday 08:00 (before opening): due Monday 17:00.
        let id = try fx.createOrder()["id"]!.stringValue!
        var order = try fx.order(id)
        #expect(order["sla"]!.array.count == 1 && entry(order)["due_at"] == .string("2026-11-23T17:00:00.000Z"))
        #expect(entry(order)["at_risk_at"] == .string("2026-11-23T15:24:00.000Z"))
        // Held at 10:00: paused with 7 hours left; past the old due time nothing happens; released at 18:00
        // (closed), the 7 hours count from Tuesday 09:00: due Tuesday 16:00.
        fx.clock.set(ts("2026-11-23T10:00:00Z"))
        let held = try fx.call({ $0.orders.holdOrder }, #"{"id":"\#(id)","reason":"other"}"#)
        #expect(entry(held)["paused_at"] == .string("2026-11-23T10:00:00.000Z") && entry(held)["remaining_ms"] == .int(7 * 60 * Self.minute))
        #expect(try fx.core.timerSummary().pending == 0)
        fx.clock.set(ts("2026-11-23T18:00:00Z"))
        try drain(fx)
        #expect(try fx.order(id)["sla_status"] == .string("pending"))
        let holdID = held["holds"]!.array[0]["id"]!.stringValue!
        let released = try fx.call({ $0.orders.releaseHold }, #"{"id":"\#(id)","hold_id":"\#(holdID)"}"#)
        #expect(entry(released)["paused_at"] == .null && entry(released)["remaining_ms"] == .null)
        #expect(entry(released)["due_at"] == .string("2026-11-24T16:00:00.000Z"))
        // Re-prioritized to urgent: the urgent policy starts from placement (already past due: breached at once).
        order = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","priority":"urgent"}"#)
        #expect(order["sla"]!.array.map { $0["policy_id"]!.stringValue! } == [ship["id"]!.stringValue!, urgent["id"]!.stringValue!])
        #expect(entry(order, 1)["due_at"] == .string("2026-11-23T11:00:00.000Z"))
        try drain(fx)
        order = try fx.order(id)
        #expect(order["sla_status"] == .string("breached") && entry(order, 0)["status"] == .string("pending"))
        // Back to normal: the running urgent entry would be dropped, but it is finished (breached), so it stays.
        order = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(id)","priority":"normal"}"#)
        #expect(order["sla"]!.array.count == 2)
        // Cancelled: the running entry is cancelled and its timer goes.
        order = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(id)"}"#)
        #expect(entry(order, 0)["status"] == .string("cancelled") && order["sla_status"] == .string("breached"))
        #expect(try fx.core.timerSummary().pending == 0)
        // A policy that no longer applies drops running entries at the next change; a deleted one too.
        let other = try fx.createOrder(#""priority":"urgent""#)["id"]!.stringValue!
        #expect(try fx.order(other)["sla"]!.array.count == 2)
        _ = try fx.call({ $0.sla.deletePolicy }, #"{"id":"\#(urgent["id"]!.stringValue!)"}"#)
        order = try fx.call({ $0.orders.addTags }, #"{"id":"\#(other)","tags":["x"]}"#)
        #expect(order["sla"]!.array.map { $0["policy_id"]!.stringValue! } == [ship["id"]!.stringValue!])
        _ = try fx.call({ $0.sla.updatePolicy }, #"{"id":"\#(ship["id"]!.stringValue!)","channels":["phone"]}"#)
        order = try fx.call({ $0.orders.addTags }, #"{"id":"\#(other)","tags":["y"]}"#)
        #expect(order["sla"]!.array.isEmpty && order["sla_status"] == .null)
        #expect(try fx.core.timerSummary().pending == 0)
        #expect(try fx.integrityProblems().isEmpty)
    }

    @Test("a fulfillment target is met when the order ships; an order created in its target state meets it at once")
    func fulfillmentTarget() throws {
        let fx = try fixture()
        _ = try fx.call({ $0.sla.createPolicy }, #"{"name":"Shipped","target_fulfillment":"shipped","within_minutes":60,"clock":"calendar"}"#)
        _ = try fx.call({ $0.sla.createPolicy }, #"{"name":"Fulfilled","target_fulfillment":"fulfilled","within_minutes":60,"clock":"calendar"}"#)
        _ = try fx.call({ $0.sla.createPolicy }, #"{"name":"Pending","target_states":["pending"],"within_minutes":60,"clock":"calendar"}"#)
        let a = try fx.location(#"{"name":"A"}"#)
        try fx.stock("MUG", at: a, 10)
        let created = try fx.call({ $0.orders.createOrder }, #"{"line_items":[{"sku":"MUG","title":"Mug","quantity":3,"unit_price":500}]}"#)
        let id = created["id"]!.stringValue!, line = created["line_items"]!.array[0]["id"]!.stringValue!
        var order = try fx.order(id)
        #expect(order["sla"]!.array.map { $0["status"]!.stringValue! } == ["pending", "pending", "met"])
        let fo = try fx.fulfillmentOrders(of: id)[0]["id"]!.stringValue!
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)","lines":[{"line_item_id":"\#(line)","quantity":1}]}"#)
        order = try fx.order(id)
        #expect(order["sla"]!.array.map { $0["status"]!.stringValue! } == ["met", "pending", "met"])
        _ = try fx.call({ $0.inventory.createShipment }, #"{"fulfillment_order_id":"\#(fo)"}"#)
        order = try fx.order(id)
        #expect(order["sla"]!.array.map { $0["status"]!.stringValue! } == ["met", "met", "met"] && order["sla_status"] == .string("met"))
        #expect(try fx.core.timerSummary().pending == 0)
    }

    @Test("SLA policies and business hours refuse bad input, naming the field, and change nothing")
    func refusals() throws {
        let fx = try fixture()
        let before = fx.counters
        let bad: [(String, String)] = [
            (#"{"name":"x","within_minutes":60}"#, "target_states"),
            (#"{"name":"x","target_states":[],"within_minutes":60}"#, "target_states"),
            (#"{"name":"x","target_states":["confirmed"],"target_fulfillment":"shipped","within_minutes":60}"#, "target_fulfillment"),
            (#"{"name":"x","target_states":["confirmed"]}"#, "within_minutes"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":0}"#, "within_minutes"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":100001}"#, "within_minutes"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":60,"at_risk_minutes":60}"#, "at_risk_minutes"),
            (#"{"name":"x","target_states":["Confirmed!"],"within_minutes":60}"#, "target_states[0]"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":60,"priorities":["asap"]}"#, "priorities[0]"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":60,"channels":"online"}"#, "channels"),
            (#"{"name":"x","target_fulfillment":"delivered","within_minutes":60}"#, "target_fulfillment"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":60,"clock":"lunar"}"#, "clock"),
            (#"{"name":"","target_states":["confirmed"],"within_minutes":60}"#, "name"),
            (#"{"name":"x","target_states":["confirmed"],"within_minutes":60,"colour":"red"}"#, "colour"),
        ]
        for (request, field) in bad {
            #expect(fx.error({ $0.sla.createPolicy }, request)?.field == field, "\(request)")
        }
        let hours: [(String, String)] = [
            (#"{"hours":[]}"#, "hours"),
            (#"{"hours":[{"day":"monday","start":"17:00","end":"09:00"}]}"#, "hours[0].end"),
            (#"{"hours":[{"day":"monday","start":"09:00","end":"24:01"}]}"#, "hours[0].end"),
            (#"{"hours":[{"day":"monday","start":"9:00","end":"17:00"}]}"#, "hours[0].start"),
            (#"{"hours":[{"day":"funday","start":"09:00","end":"17:00"}]}"#, "hours[0].day"),
            (#"{"hours":[{"day":"monday","start":"09:00","end":"13:00"},{"day":"monday","start":"12:00","end":"17:00"}]}"#, "hours[0]"),
            (#"{"holidays":["2026-02-30"]}"#, "holidays[0]"),
            (#"{"time_zone":"Mars/Olympus"}"#, "time_zone"),
            (#"{"time_zone":"../../etc/passwd"}"#, "time_zone"),
        ]
        for (request, field) in hours {
            #expect(fx.error({ $0.sla.updateBusinessHours }, request)?.field == field, "\(request)")
        }
        #expect(fx.counters == before)
        // Updating one target clears the other; a bad update changes nothing.
        let p = try fx.call({ $0.sla.createPolicy }, #"{"name":"x","target_states":["confirmed"],"within_minutes":60}"#)
        let pid = p["id"]!.stringValue!
        #expect(p["at_risk_minutes"] == .int(12))
        let moved = try fx.call({ $0.sla.updatePolicy }, #"{"id":"\#(pid)","target_fulfillment":"fulfilled"}"#)
        #expect(moved["target_states"]!.array.isEmpty && moved["target_fulfillment"] == .string("fulfilled"))
        #expect(fx.error({ $0.sla.updatePolicy }, #"{"id":"\#(pid)","within_minutes":12}"#)?.field == "at_risk_minutes")
        #expect(try fx.call({ $0.sla.getPolicy }, #"{"id":"\#(pid)"}"#)["within_minutes"] == .int(60))
        #expect(fx.error({ $0.sla.getPolicy }, #"{"id":"slap_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.sla.summary }, #"{"from":"2026-01-01T00:00:00Z","to":"2027-06-01T00:00:00Z"}"#)?.field == "to")
        #expect(fx.error({ $0.sla.summary }, #"{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}"#)?.field == "to")
        #expect(fx.error({ $0.sla.summary }, #"{"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z","policy_id":"slap_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.orders.listOrders }, #"{"sla_status":"late"}"#)?.field == "sla_status")
        // Audited: created, updated; listed newest first; inactive filtered.
        _ = try fx.call({ $0.sla.updatePolicy }, #"{"id":"\#(pid)","active":false}"#)
        #expect(try fx.call({ $0.sla.listPolicies }, #"{"active":true}"#)["data"]!.array.isEmpty)
        let audit = try fx.call({ $0.audit.listAudit }, #"{"subject_type":"sla_policy"}"#)["data"]!.array.map { $0["action"]!.stringValue! }
        #expect(Set(audit) == ["sla_policy.created", "sla_policy.updated"])
    }
}
