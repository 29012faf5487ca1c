import OrderbaseStore

/// One auto-archive rule (docs/methods.md, "Auto-archive rules").
struct ArchiveRule: Sendable, Equatable {
    var name: String
    var ageFrom = "closed_at"
    var afterDays: Int64 = 0
    var condition: Expression?

    static let ageFields = ["closed_at", "updated_at", "placed_at", "created_at"]

    static func == (a: ArchiveRule, b: ArchiveRule) -> Bool {
        a.name == b.name && a.ageFrom == b.ageFrom && a.afterDays == b.afterDays && a.condition?.json == b.condition?.json
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.string(name)
        w.key("age_from"); w.string(ageFrom)
        w.key("after_days"); w.int(afterDays)
        Workflow.writeExpression(condition, "condition", &w)
        w.endObject()
    }

    static func decode(_ f: inout Fields) throws(OrderbaseError) -> ArchiveRule {
        var r = ArchiveRule(name: try f.string("name", maxLength: Int.max) ?? "")
        r.ageFrom = try f.string("age_from", maxLength: Int.max) ?? "closed_at"
        r.afterDays = try f.int("after_days", in: 0...Int64.max) ?? 0
        _ = f.raw("condition_text")
        if let raw = f.raw("condition"), raw != .null { r.condition = try Expression(raw) }
        return r
    }

    /// `rules`: at most 10, names unique; conditions compiled (checked against the tenant's shape by the service).
    static func readList(_ f: inout Fields) throws(OrderbaseError) -> [ArchiveRule]? {
        guard let list = try f.objects("rules", maxCount: 10, { (g: inout Fields) throws(OrderbaseError) -> ArchiveRule in
            var r = ArchiveRule(name: try g.string("name", maxLength: 100, required: true, allowEmpty: false)!)
            r.ageFrom = try g.oneOf("age_from", ageFields) ?? "closed_at"
            r.afterDays = try g.int("after_days", in: 0...3650) ?? 0
            if let raw = g.raw("condition"), raw != .null {
                do throws(OrderbaseError) { r.condition = try ExpressionService.compile(raw, check: false).0 } catch {
                    throw OrderbaseError(error.code, "\(g.fieldPath("condition")): \(error.message)", field: g.fieldPath("condition"), details: error.details)
                }
            }
            return r
        }) else { return nil }
        var names: Set<String> = []
        for (i, r) in list.enumerated() where !names.insert(r.name).inserted {
            throw OrderbaseError.invalid("rules[\(i)].name \(r.name) is used twice", field: "rules[\(i)].name")
        }
        return list
    }

    /// Whether the rule archives `order` now.
    func matches(_ order: Order, now: Int64, _ data: () throws(OrderbaseError) -> JSON, _ context: EvaluationContext) -> Bool {
        let at: Int64? = switch ageFrom {
        case "updated_at": order.updatedAt
        case "placed_at": order.placedAt
        case "created_at": order.createdAt
        default: order.closedAt
        }
        guard let at, now - at >= afterDays * 86_400_000 else { return false }
        guard let condition else { return true }
        guard let d = try? data(), let v = try? condition.evaluate(d, context: context) else { return false }
        return JS.truthy(v)
    }
}

extension OrderService {
    static let sweepTimer = "archive.sweep"
    static let sweepEvery: Int64 = 86_400_000

    // MARK: archive_rules.get, archive_rules.update

    public func getArchiveRules(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        try f.finish()
        let b = try store({ () throws(StoreError) in try database.get(Keyspace.archiveRulesKey("")) })
        return try b.map { (b) throws(OrderbaseError) in try ArchiveRules.decode(b) }?.apiJSON ?? ArchiveRules.blank.apiJSON
    }

    /// `{"rules"}` → the rules. Event `archive_rules.updated`. Non-empty rules sweep at once, then daily.
    public func updateArchiveRules(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var edits = ArchiveRules.blank
        let given = try ArchiveRules.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        guard given.contains("rules") else { throw OrderbaseError.invalid("rules is required ([] stops auto-archiving)", field: "rules") }
        let shape = try core.guardShape()
        for (i, r) in edits.rules.enumerated() {
            guard let c = r.condition else { continue }
            do { _ = try shape.check(c) } catch {
                throw OrderbaseError(error.code, "rules[\(i)].condition: \(error.message)", field: "rules[\(i)].condition", details: error.details)
            }
        }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.loadIfPresent(ArchiveRules.self, "archive")
            var after = before ?? ArchiveRules.blank
            after.apply(edits, fields: given)
            if let due = before?.nextSweepAt { wc.unschedule(Self.sweepTimer, target: "rules", at: due) }
            after.nextSweepAt = after.rules.isEmpty ? nil : wc.now
            if let due = after.nextSweepAt { wc.schedule(Self.sweepTimer, target: "rules", at: due) }
            after.updatedAt = wc.now
            wc.commit("archive_rules.updated", before: before ?? ArchiveRules.blank, after: after)
            return after.apiJSON
        }
    }

    /// The daily sweep's timer: queues an `orders.auto_archive` job (the job sets the next timer when it ends).
    static let sweepAction = TimerAction(name: sweepTimer) { core, timer, wc throws(OrderbaseError) in
        guard var rules = try wc.loadIfPresent(ArchiveRules.self, "archive"), !rules.rules.isEmpty else { return }
        let before = rules
        let total = Int64(try core.count(Keyspace.order, upTo: Int.max))
        let job = try core.jobs.enqueue("orders.auto_archive", params: [:], total: total, &wc)
        rules.lastSweepJob = job.id
        rules.nextSweepAt = nil
        wc.save(before: before, after: rules)
    }

    /// One step of `orders.auto_archive`: up to `Job.stepSize` orders after the cursor, each that a rule matches archived.
    static func autoArchiveStep(_ core: TenantCore, _ job: inout Job, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        // A newer sweep (the rules changed) supersedes this one.
        guard var rules = try wc.loadIfPresent(ArchiveRules.self, "archive"), !rules.rules.isEmpty, rules.lastSweepJob == job.id else { return true }
        let next = try job.nextOrders(core)
        let orders = core.orders
        for (id, record) in next {
            job.processed += 1
            job.cursor = id
            // Archived orders are passed over without decoding (the last field: Order.storedIsArchived).
            if Order.storedIsArchived(record) { continue }
            let old = try orders.loadForWrite(id, &wc, expected: nil)
            guard old.archivedAt == nil else { continue }
            let context = try core.expressions.evaluationContext(currency: old.currency)
            let data = { () throws(OrderbaseError) -> JSON in try OrderService.guardData(old, actor: RequestContext.scheduler.actor) }
            guard let rule = rules.rules.first(where: { $0.matches(old, now: wc.now, data, context) }) else { continue }
            var new = old
            new.archivedAt = wc.now
            _ = try orders.commitChange(old: old, new: new, type: "order.archived", reason: "auto-archive: \(rule.name)", &wc)
            job.changed += 1
        }
        let done = next.count < Job.stepSize
        if done {
            let before = rules
            rules.nextSweepAt = wc.now + sweepEvery
            wc.schedule(sweepTimer, target: "rules", at: rules.nextSweepAt!)
            wc.save(before: before, after: rules)
        }
        return done
    }
}
