import OrderbaseStore

/// The tenant's durable timers (DESIGN §8): `S due_ms id` → the timer, where
/// the id is `<action>:<target>`, so the code that set a timer can move or
/// remove it without looking it up. Due timers run on the engine's delivery
/// thread (at least once a second) or in `orderbase_engine_pump`, by the
/// engine's clock, each in a write of its own that also deletes it: a timer
/// runs once, crash or not, and survives restarts (a tenant nobody holds open
/// runs its due timers when it is next opened).
///
/// A timer whose action fails is kept and retried with backoff (1 minute,
/// doubling, at most a day), its `attempts` and `last_error` recorded, so one
/// bad timer never blocks the others or takes the host down.
struct ScheduledTimer: Sendable, Equatable {
    var action: String
    var target: String
    var due: Int64
    var attempts: Int64 = 0
    var lastError: String?

    var id: String { action + ":" + target }
    var key: [UInt8] { Keyspace.timerKey(due, id) }

    var json: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("action"); w.string(action)
        w.key("target"); w.string(target)
        w.key("due_at"); w.timestamp(due)
        w.key("attempts"); w.int(attempts)
        w.key("last_error"); w.optionalString(lastError)
        w.endObject()
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> ScheduledTimer {
        do throws(OrderbaseError) {
            var f = try Fields(try JSON.parse(bytes))
            var t = ScheduledTimer(action: try f.string("action", required: true)!, target: try f.string("target", maxLength: Int.max, required: true)!,
                          due: try f.timestamp("due_at") ?? 0)
            t.attempts = try f.int("attempts", in: 0...Int64.max) ?? 0
            t.lastError = try f.string("last_error", maxLength: Int.max)
            return t
        } catch {
            throw OrderbaseError(.corruption, "stored timer does not decode: \(error.message)")
        }
    }
}

/// What a timer does when it is due: runs inside the write that deletes it.
struct TimerAction: Sendable {
    let name: String
    let run: @Sendable (TenantCore, ScheduledTimer, inout WriteContext) throws(OrderbaseError) -> Void

    /// Every action a timer may name.
    static let registry: [TimerAction] = [.approvalExpiry, InventoryService.openAction, Job.runAction, OrderService.sweepAction, SLATracker.checkAction, AttachmentService.collectAction]
    static func named(_ name: String) -> TimerAction? { registry.first { $0.name == name } }
}

extension WriteContext {
    /// Sets a timer (replacing one with the same action and target at that
    /// time). Timer keys are readable: two passes sharing a tenant must see
    /// each other's staged deletions.
    mutating func schedule(_ action: String, target: String, at due: Int64) {
        let t = ScheduledTimer(action: action, target: target, due: due)
        put(t.key, t.json)
        let core = self.core
        onStaged.append { core.timerStaged(due: due) }
    }

    /// Removes the timer set for `action` on `target` at `due`, if any.
    mutating func unschedule(_ action: String, target: String, at due: Int64) {
        delete(ScheduledTimer(action: action, target: target, due: due).key)
    }
}

extension TenantCore {
    static let timerRetryBase: Int64 = 60_000
    static let timerRetryMax: Int64 = 86_400_000

    /// Runs every timer due by the engine's clock (at most `limit`); returns how many ran.
    func runDueTimers(limit: Int = 100) throws(OrderbaseError) -> Int {
        let now = clock.nowMilliseconds()
        let hint = nextTimerDue
        if let next = hint.due, next > now { return 0 }
        var due: [ScheduledTimer] = []
        var first: Int64?
        try scan(from: [Keyspace.timer], to: [Keyspace.timer + 1]) { k, v throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            let at = Int64(r.uint64() ?? 0)
            if first == nil { first = at }
            guard at <= now else { return false }
            due.append(try ScheduledTimer.decode(Array(v)))
            return due.count < limit
        }
        // Nothing due: remember when the first one is (none: Int64.max); after running some, look again next pass.
        timersSeen(nextDue: due.isEmpty ? (first ?? .max) : nil, asOf: hint.epoch)
        var ran = 0
        for t in due {
            do {
                try write(RequestContext.scheduler) { (wc: inout WriteContext) throws(OrderbaseError) in
                    // Another engine sharing the tenant may have run it already.
                    guard try wc.read(t.key) != nil else { return }
                    wc.delete(t.key)
                    guard let action = TimerAction.named(t.action) else {
                        throw OrderbaseError(.corruption, "timer \(t.id) names no known action")
                    }
                    try action.run(self, t, &wc)
                }
                ran += 1
            } catch {
                try write(RequestContext.scheduler) { (wc: inout WriteContext) throws(OrderbaseError) in
                    guard try wc.read(t.key) != nil else { return }
                    wc.delete(t.key)
                    var next = t
                    next.attempts += 1
                    next.lastError = "\(error.code.name): \(error.message)"
                    let wait = min(Self.timerRetryMax, Self.timerRetryBase << min(next.attempts - 1, 20))
                    next.due = max(wc.now, t.due) + wait
                    wc.put(next.key, next.json)
                    wc.onStaged.append { [due = next.due] in self.timerStaged(due: due) }
                }
            }
        }
        return ran
    }

    /// Pending timers and the earliest due time (for `consumers.list`).
    func timerSummary() throws(OrderbaseError) -> (pending: Int, nextDue: Int64?) {
        var n = 0
        var first: Int64?
        try scan(from: [Keyspace.timer], to: [Keyspace.timer + 1]) { k, _ throws(OrderbaseError) in
            if first == nil { var r = KeyReader(Array(k)); first = r.uint64().map { Int64($0) } }
            n += 1
            return true
        }
        return (n, first)
    }
}

extension RequestContext {
    /// The engine's scheduler: the actor of what timers do.
    static var scheduler: RequestContext {
        var c = RequestContext()
        c.actor = Actor(type: "system", id: "scheduler")
        return c
    }
}
