import OrderbaseStore

/// SLA policies, business hours and the SLA entries orders carry (docs/sla.md).
///
/// An order gets one `SLAEntry` per active policy that applies to it (its
/// priority and channel) when it is created, or when its priority or channel
/// changes. The entry's clock starts at `placed_at`; its `due_at` and
/// `at_risk_at` are instants computed on the policy's clock (business hours
/// in the tenant's time zone, or calendar time). Every order change updates
/// the entries in the change's own batch (`SLATracker.track`, called from the
/// one order write path): reaching the target meets them, a hold pauses
/// them (policies with `pause_on_hold`), cancelling or closing the order stops
/// them. One scheduler timer per order (`sla.check`) is set for the next
/// instant an entry becomes at risk or breached; it raises `sla.at_risk` and
/// `sla.breached` as order changes, so webhooks and notifications see them.
extension SLAPolicy: AuditedRecord {
    static let fulfillmentTargets = ["shipped", "fulfilled"]
    static let clocks = ["business_hours", "calendar"]
    /// 100,000 minutes (69 days and some): the longest promise.
    static let maxMinutes: Int64 = 100_000
    /// A tenant has at most this many policies.
    static let maxPolicies = 100

    /// `target_states`: state keys, each once, at most 20.
    static func readStates(_ f: inout Fields) throws(OrderbaseError) -> [String]? {
        guard let list = try f.array("target_states", maxCount: 20) else { return nil }
        guard !list.isEmpty else {
            throw OrderbaseError.invalid("target_states must name at least one state (target_fulfillment targets a fulfillment milestone)", field: "target_states")
        }
        var out: [String] = []
        for (n, v) in list.enumerated() {
            guard case .string(let s) = v, Workflow.isKey(s) else {
                throw OrderbaseError.invalid("target_states[\(n)] must be a state key: \(Workflow.keyPattern)", field: "target_states[\(n)]")
            }
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// Whether it applies to an order of this priority and channel (active or not).
    func applies(to o: Order) -> Bool {
        (priorities.isEmpty || priorities.contains(o.priority)) && (channels.isEmpty || channels.contains(o.channel))
    }

    /// Whether the order is at the policy's target now.
    func reached(_ o: Order) -> Bool {
        if let t = targetFulfillment {
            return o.fulfillmentStatus == "fulfilled" || (t == "shipped" && o.fulfillmentStatus == "partially_fulfilled")
        }
        return targetStates.contains(o.status)
    }

    var withinMs: Int64 { withinMinutes * 60_000 }
    var atRiskMs: Int64 { atRiskMinutes * 60_000 }
}

extension BusinessHours: AuditedRecord {
    static let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// `holidays`: local dates, at most 1,000, sorted and unique.
    static func readHolidays(_ f: inout Fields) throws(OrderbaseError) -> [String]? {
        guard let list = try f.array("holidays", maxCount: 1000) else { return nil }
        var out: Set<String> = []
        for (n, v) in list.enumerated() {
            guard case .string(let s) = v, dayNumber(s) != nil else {
                throw OrderbaseError.invalid("holidays[\(n)] must be a date like \"2026-12-25\"", field: "holidays[\(n)]")
            }
            out.insert(s)
        }
        return out.sorted()
    }

    /// Days since 1970-01-01 of a valid `YYYY-MM-DD`, or nil.
    static func dayNumber(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return nil }
        func num(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for c in u[r] { guard c >= 0x30 && c <= 0x39 else { return nil }; v = v * 10 + Int64(c - 0x30) }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), d >= 1,
              d <= Timestamp.daysIn(month: m, year: y) else { return nil }
        return Timestamp.daysFromCivil(y, m, d)
    }

    /// The calendar SLA clocks on `business_hours` count (the tenant's zone when none is set).
    func calendar(tenantZone: String) throws(OrderbaseError) -> BusinessCalendar {
        let zone = try TimeZoneRules.named(timeZone ?? tenantZone, field: "time_zone")
        guard let hours else { return .always }
        var week = [[(Int64, Int64)]](repeating: [], count: 7)
        for i in hours { week[i.day].append((i.start, i.end)) }
        for d in 0..<7 { week[d].sort { $0.0 < $1.0 } }
        return BusinessCalendar(zone: zone, week: week, holidays: Set(holidays.compactMap(Self.dayNumber)))
    }
}

/// One opening interval of the week: `day` (0 = Monday), `start` and `end` in minutes after local midnight.
public struct OpenInterval: Equatable, Sendable {
    var day: Int
    var start: Int64
    var end: Int64

    static func minutes(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 5, u[2] == 0x3A, u.enumerated().allSatisfy({ $0.offset == 2 || ($0.element >= 0x30 && $0.element <= 0x39) }) else { return nil }
        let h = Int64(u[0] - 0x30) * 10 + Int64(u[1] - 0x30), m = Int64(u[3] - 0x30) * 10 + Int64(u[4] - 0x30)
        guard m < 60, h < 24 || (h == 24 && m == 0) else { return nil }
        return h * 60 + m
    }

    static func text(_ minutes: Int64) -> String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("day"); w.string(BusinessHours.days[day])
        w.key("start"); w.string(Self.text(start))
        w.key("end"); w.string(Self.text(end))
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> OpenInterval {
        let day = BusinessHours.days.firstIndex(of: try f.string("day") ?? "") ?? 0
        return OpenInterval(day: day, start: minutes(try f.string("start") ?? "") ?? 0, end: minutes(try f.string("end") ?? "") ?? 0)
    }

    /// `hours`: 1 to 70 intervals, `end` after `start`, none overlapping on a day.
    static func readList(_ f: inout Fields) throws(OrderbaseError) -> [OpenInterval]? {
        guard let list = try f.objects("hours", maxCount: 70, { (g: inout Fields) throws(OrderbaseError) -> OpenInterval in
            let day = try g.oneOf("day", BusinessHours.days, required: true)!
            var i = OpenInterval(day: BusinessHours.days.firstIndex(of: day)!, start: 0, end: 0)
            for key in ["start", "end"] {
                let s = try g.string(key, maxLength: 5, required: true)!
                guard let m = minutes(s) else {
                    throw OrderbaseError.invalid("\(g.fieldPath(key)) must be a local time HH:MM (00:00 to 24:00)", field: g.fieldPath(key))
                }
                if key == "start" { i.start = m } else { i.end = m }
            }
            guard i.end > i.start else { throw OrderbaseError.invalid("\(g.fieldPath("end")) must be after start", field: g.fieldPath("end")) }
            return i
        }) else { return nil }
        guard !list.isEmpty else {
            throw OrderbaseError.invalid("hours must hold at least one interval (null: open all the time)", field: "hours")
        }
        for (a, x) in list.enumerated() {
            for y in list[(a + 1)...] where x.day == y.day && x.start < y.end && y.start < x.end {
                throw OrderbaseError.invalid("hours[\(a)] overlaps another interval on \(BusinessHours.days[x.day])", field: "hours[\(a)]")
            }
        }
        return list.sorted { ($0.day, $0.start) < ($1.day, $1.start) }
    }
}

/// Time that counts on an SLA clock: every instant (`always`, the calendar
/// clock and business hours left open), or the weekly intervals of a time zone
/// minus holidays. Intervals are local times turned into instants day by day,
/// so a day on which the clocks change has its true length.
struct BusinessCalendar: Sendable {
    var zone: TimeZoneRules = .utc
    /// Per ISO weekday − 1 (0 = Monday): sorted (start, end) minutes after local midnight.
    var week: [[(Int64, Int64)]] = []
    var holidays: Set<Int64> = []
    var isAlways = false

    static let always = BusinessCalendar(isAlways: true)
    /// The farthest a walk goes (20 years of days): a target beyond is due then.
    static let maxDays: Int64 = 7305

    /// The instant of a local day's minute (in a gap of a clock change, the instant the offset before it gives).
    private func instant(day: Int64, minute: Int64) -> Int64 {
        let local = (day * 86_400 + minute * 60) * 1000
        let guess = local - Int64(zone.offsetSeconds(at: local)) * 1000
        return local - Int64(zone.offsetSeconds(at: guess)) * 1000
    }

    /// The open spans of the local day `day` as instants.
    private func spans(day: Int64) -> [(Int64, Int64)] {
        if holidays.contains(day) { return [] }
        let weekday = Int(((day % 7) + 7 + 3) % 7)  // 1970-01-01 was a Thursday: 0 = Monday
        return week[weekday].map { (instant(day: day, minute: $0.0), instant(day: day, minute: $0.1)) }
    }

    private func localDay(_ ms: Int64) -> Int64 {
        let s = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + Int64(zone.offsetSeconds(at: ms))
        return s >= 0 ? s / 86_400 : (s - 86_399) / 86_400
    }

    /// The instant at which `amount` milliseconds of open time have passed after `start`.
    func add(_ amount: Int64, to start: Int64) -> Int64 {
        if isAlways { return start + amount }
        var left = amount
        let first = localDay(start) - 1   // the day before: its spans may reach past midnight in local time after a change
        for day in first...(first + Self.maxDays) {
            for (a, b) in spans(day: day) where b > start {
                let from = max(a, start)
                if b - from >= left { return from + left }
                left -= b - from
            }
        }
        return start + Self.maxDays * 86_400_000
    }

    /// The open time, in milliseconds, between `from` and `to` (negative when `to` is earlier).
    func elapsed(from: Int64, to: Int64) -> Int64 {
        if isAlways { return to - from }
        if to < from { return -elapsed(from: to, to: from) }
        var total: Int64 = 0
        let first = localDay(from) - 1, last = min(localDay(to) + 1, first + Self.maxDays)
        guard first <= last else { return 0 }
        for day in first...last {
            for (a, b) in spans(day: day) {
                let lo = max(a, from), hi = min(b, to)
                if hi > lo { total += hi - lo }
            }
        }
        return total
    }
}

/// An order's entry for one SLA policy (the order's `sla`).
public struct SLAEntry: Equatable, Sendable {
    /// In order of how pressing they are: `sla_status` is the first any entry has.
    public static let statuses = ["breached", "at_risk", "pending", "met", "cancelled"]

    var policyID: String
    var policyName: String
    var status = "pending"
    var startedAt: Int64
    var dueAt: Int64
    var atRiskAt: Int64
    var metAt: Int64?
    var breachedAt: Int64?
    var pausedAt: Int64?
    /// Open time left, while paused.
    var remainingMs: Int64?

    static let sample = SLAEntry(policyID: "slap_0", policyName: "n", startedAt: 0, dueAt: 0, atRiskAt: 0, metAt: 0, breachedAt: 0, pausedAt: 0, remainingMs: 0)

    /// Still counting towards at-risk or breached.
    var running: Bool { status == "pending" || status == "at_risk" }

    /// When its timer is next due (nil: not running, or paused).
    var nextCheck: Int64? {
        guard running, pausedAt == nil else { return nil }
        return status == "pending" && atRiskAt < dueAt ? atRiskAt : dueAt
    }

    func write(_ w: inout JSONWriter, remaining: Int64? = nil) {
        w.beginObject()
        w.key("policy_id"); w.string(policyID)
        w.key("policy_name"); w.string(policyName)
        w.key("status"); w.string(status)
        w.key("started_at"); w.timestamp(startedAt)
        w.key("due_at"); w.timestamp(dueAt)
        w.key("at_risk_at"); w.timestamp(atRiskAt)
        w.key("met_at"); if let metAt { w.timestamp(metAt) } else { w.null() }
        w.key("breached_at"); if let breachedAt { w.timestamp(breachedAt) } else { w.null() }
        w.key("paused_at"); if let pausedAt { w.timestamp(pausedAt) } else { w.null() }
        w.key("remaining_ms"); if let r = remaining ?? remainingMs { w.int(r) } else { w.null() }
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> SLAEntry {
        var e = SLAEntry(policyID: try f.string("policy_id", maxLength: Int.max) ?? "", policyName: try f.string("policy_name", maxLength: Int.max) ?? "",
                         startedAt: try f.timestamp("started_at") ?? 0, dueAt: try f.timestamp("due_at") ?? 0, atRiskAt: try f.timestamp("at_risk_at") ?? 0)
        e.status = try f.string("status") ?? "pending"
        e.metAt = try f.timestamp("met_at")
        e.breachedAt = try f.timestamp("breached_at")
        e.pausedAt = try f.timestamp("paused_at")
        e.remainingMs = try f.int("remaining_ms", in: Int64.min...Int64.max)
        return e
    }
}

/// The tenant's SLA policies and business hours, read once and kept until one changes (in this process).
final class SLARegistry: Sendable {
    struct Loaded: Sendable {
        var policies: [SLAPolicy]
        var hours: BusinessHours?
    }
    private let kept = Reloadable<Loaded>()

    func all(_ core: TenantCore) throws(OrderbaseError) -> (policies: [SLAPolicy], hours: BusinessHours?) {
        let l = try kept.get { () throws(OrderbaseError) -> Loaded in
            var policies: [SLAPolicy] = []
            try core.scan(from: [Keyspace.slaPolicy], to: [Keyspace.slaPolicy + 1]) { _, v throws(OrderbaseError) in
                policies.append(try SLAPolicy.decode(Array(v)))
                return true
            }
            let hours = try store({ () throws(StoreError) in try core.database.get(Keyspace.businessHoursKey("")) }).map { (b) throws(OrderbaseError) in try BusinessHours.decode(b) }
            return Loaded(policies: policies, hours: hours)
        }
        return (l.policies, l.hours)
    }

    /// Drops the policies and hours when `wc`'s batch is staged and when it is durable.
    func invalidate(when wc: inout WriteContext) { kept.invalidate(when: &wc) }
}

/// Keeps an order's SLA entries in step with its changes (docs/sla.md).
enum SLATracker {
    static let timer = "sla.check"

    static func calendar(_ p: SLAPolicy, _ hours: BusinessHours?, _ core: TenantCore) throws(OrderbaseError) -> BusinessCalendar {
        guard p.clock == "business_hours", let hours else { return .always }
        return try hours.calendar(tenantZone: core.settings.timeZone)
    }

    /// Updates `new.sla` and `new.slaStatus` for a change from `old` (nil: a create), and moves the order's timer.
    static func track(old: Order?, new: inout Order, _ wc: inout WriteContext) throws(OrderbaseError) {
        let (policies, hours) = try wc.core.slaRegistry.all(wc.core)
        if policies.isEmpty && new.sla.isEmpty && old?.sla.isEmpty != false { return }
        let now = wc.now
        var entries = new.sla
        let open = new.cancelledAt == nil && new.closedAt == nil
        func policy(_ id: String) -> SLAPolicy? { policies.first { $0.id == id } }
        // Running entries whose policy went, or no longer applies (priority or channel changed), are dropped.
        entries.removeAll { e in e.running && !(policy(e.policyID)?.applies(to: new) ?? false) }
        // New orders, and re-prioritized ones, get the active policies that apply, from placement.
        if open && (old == nil || old!.priority != new.priority || old!.channel != new.channel) {
            for p in policies where p.active && p.applies(to: new) && !entries.contains(where: { $0.policyID == p.id }) {
                let cal = try calendar(p, hours, wc.core)
                let start = new.placedAt
                let due = cal.add(p.withinMs, to: start)
                let atRisk = p.atRiskMinutes > 0 ? cal.add(max(0, p.withinMs - p.atRiskMs), to: start) : due
                entries.append(SLAEntry(policyID: p.id, policyName: p.name, startedAt: start, dueAt: due, atRiskAt: atRisk))
            }
        }
        for i in entries.indices {
            guard let p = policy(entries[i].policyID) else { continue }
            var e = entries[i]
            if e.metAt == nil && (e.running || e.status == "breached") && p.reached(new) {
                e.metAt = now
                if e.running { e.status = "met" }
                e.pausedAt = nil
                e.remainingMs = nil
            } else if e.running && !open {
                e.status = "cancelled"
                e.pausedAt = nil
                e.remainingMs = nil
            } else if e.running && p.pauseOnHold {
                let held = !new.holds.isEmpty || new.status == "on_hold"
                let cal = try calendar(p, hours, wc.core)
                if held && e.pausedAt == nil {
                    e.remainingMs = max(0, cal.elapsed(from: now, to: e.dueAt))
                    e.pausedAt = now
                } else if !held, e.pausedAt != nil, let left = e.remainingMs {
                    e.dueAt = cal.add(left, to: now)
                    e.atRiskAt = p.atRiskMinutes > 0 ? cal.add(max(0, left - p.atRiskMs), to: now) : e.dueAt
                    e.pausedAt = nil
                    e.remainingMs = nil
                }
            }
            entries[i] = e
        }
        new.sla = entries
        new.slaStatus = SLAEntry.statuses.first { s in entries.contains { $0.status == s } }
        let before = old.flatMap { next($0.sla) }, after = next(entries)
        if before != after {
            if let before { wc.unschedule(timer, target: new.id, at: before) }
            if let after { wc.schedule(timer, target: new.id, at: after) }
        }
    }

    static func next(_ entries: [SLAEntry]) -> Int64? { entries.compactMap(\.nextCheck).min() }

    /// `sla.check`: entries whose at-risk or due instant has come raise `sla.at_risk`, then `sla.breached`,
    /// each one change of the order (the change that follows sets the next timer).
    static let checkAction = TimerAction(name: timer) { core, t, wc throws(OrderbaseError) in
        guard let bytes = try wc.read(Keyspace.orderKey(t.target)) else { return }
        var order = try Order.decode(bytes)
        for type in ["sla.at_risk", "sla.breached"] {
            var new = order
            var names: [String] = []
            for i in new.sla.indices where new.sla[i].running && new.sla[i].pausedAt == nil {
                if type == "sla.at_risk" && new.sla[i].status == "pending" && new.sla[i].atRiskAt < new.sla[i].dueAt && wc.now >= new.sla[i].atRiskAt {
                    new.sla[i].status = "at_risk"
                } else if type == "sla.breached" && wc.now >= new.sla[i].dueAt {
                    new.sla[i].status = "breached"
                    new.sla[i].breachedAt = wc.now
                } else { continue }
                names.append("\(new.sla[i].policyName) (\(new.sla[i].policyID))")
            }
            guard !names.isEmpty else { continue }
            _ = try core.orders.commitChange(old: order, new: &new, type: type, reason: "SLA policy " + names.joined(separator: ", "), &wc)
            order = new
        }
        // Nothing was due (a clock moved back, or a policy changed): the order's timer is set again where its entries say.
        if let due = next(order.sla), due > wc.now, try wc.read(ScheduledTimer(action: timer, target: order.id, due: due).key) == nil {
            wc.schedule(timer, target: order.id, at: due)
        }
    }
}

extension Fields {
    /// A list of values from `allowed`, each once, in the order of `allowed`.
    public mutating func oneOfList(_ key: String, _ allowed: [String]) throws(OrderbaseError) -> [String]? {
        guard let list = try array(key, maxCount: allowed.count) else { return nil }
        var seen: Set<String> = []
        for (n, v) in list.enumerated() {
            guard case .string(let s) = v, allowed.contains(s) else {
                throw OrderbaseError(.invalidArgument, "\(fieldPath(key))[\(n)] must be one of \(allowed.joined(separator: ", "))",
                                     field: "\(fieldPath(key))[\(n)]", details: .object(["allowed": .array(allowed.map { .string($0) })]))
            }
            seen.insert(s)
        }
        return allowed.filter(seen.contains)
    }
}
