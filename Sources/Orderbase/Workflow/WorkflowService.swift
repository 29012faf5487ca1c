/// `workflows.*`: defining, versioning, archiving and migrating workflows.
extension WorkflowService {
    /// Reads a definition from a request and refuses it with every problem
    /// listed (`details.errors`) unless it validates.
    private func readDefinition(_ f: inout Fields) throws(OrderbaseError) -> Workflow {
        let w = try Workflow.read(&f, stored: false)
        let problems = w.validate(shape: try core.guardShape())
        if let first = problems.first {
            throw OrderbaseError(.invalidArgument, problems.count == 1 ? first.message : "\(first.message) (and \(problems.count - 1) more problems)",
                                 field: first.field, details: .object(["errors": .array(problems.map(\.json))]))
        }
        return w
    }

    private static func response(_ w: Workflow) -> [UInt8] { w.json }

    /// Stages a new version and its head, audited against the version before
    /// it (nil: created); the registry learns them once staged.
    private func stage(_ w: Workflow, previous: Workflow?, _ wc: inout WriteContext) {
        wc.put(Keyspace.workflowKey(w.key, w.version), w.json)
        let head = WorkflowRegistry.Head(version: w.version, archived: w.archived)
        wc.putUnread(Keyspace.workflowHeadKey(w.key), JSON.object(["version": .int(w.version), "archived": .bool(w.archived)]).bytes)
        let registry = workflowRegistry
        wc.onStaged.append { registry.setHead(w.key, head, compiled: w) }
        wc.recordChange(previous == nil ? "workflow.created" : "workflow.updated", before: previous, after: w)
    }

    // MARK: workflows.create

    /// A definition (`key`, `name`, `states`, `transitions`, `applies_to`…) → the workflow at version 1.
    public func createWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var w = try readDefinition(&f)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            if try workflowRegistry.head(core, w.key) != nil {
                throw OrderbaseError(.alreadyExists, "workflow \(w.key) exists; workflows.update makes a new version", field: "key")
            }
            w.version = 1
            w.createdAt = wc.now
            w.createdBy = ctx.actor
            stage(w, previous: nil, &wc)
            return Self.response(w)
        }
    }

    // MARK: workflows.update

    /// `{"key", "expected_version"?, …the whole definition}` → a new version.
    /// Orders keep the version they started on; `workflows.migrate` moves them.
    public func updateWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let expected = try f.int("expected_version", in: 1...Int64.max)
        var w = try readDefinition(&f)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard let head = try workflowRegistry.head(core, w.key) else {
                throw OrderbaseError(.notFound, "no workflow \(w.key)", field: "key")
            }
            if head.archived { throw OrderbaseError(.invalidState, "workflow \(w.key) is archived", field: "key") }
            if let expected, expected != head.version {
                throw OrderbaseError.staleVersion("workflow \(w.key)", actual: head.version, expected: expected)
            }
            let previous = try workflowRegistry.latest(core, w.key)
            w.version = head.version + 1
            w.createdAt = wc.now
            w.createdBy = ctx.actor
            stage(w, previous: previous, &wc)
            return Self.response(w)
        }
    }

    // MARK: workflows.archive

    /// `{"key"}` → the workflow, archived: no new order is assigned to it;
    /// orders on it keep following it. The default workflow cannot be archived.
    public func archiveWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let key = try f.string("key", maxLength: 64, required: true)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            if key == Workflow.defaultKey {
                throw OrderbaseError(.invalidState, "the default workflow cannot be archived; update it instead", field: "key")
            }
            let before = try workflowRegistry.latest(core, key)
            if before.archived { return Self.response(before) }
            var w = before
            w.archived = true
            wc.recordChange("workflow.archived", before: before, after: w)
            wc.putUnread(Keyspace.workflowHeadKey(key), JSON.object(["version": .int(w.version), "archived": .bool(true)]).bytes)
            let registry = workflowRegistry, version = w.version
            wc.onStaged.append { registry.setHead(key, .init(version: version, archived: true), compiled: nil) }
            return Self.response(w)
        }
    }

    // MARK: workflows.get / workflows.list

    /// `{"key", "version"?}` → that version (default: the latest).
    public func getWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let key = try f.string("key", maxLength: 64, required: true)!
        let version = try f.int("version", in: 1...Int64.max)
        try f.finish()
        guard let head = try workflowRegistry.head(core, key) else { throw OrderbaseError(.notFound, "no workflow \(key)", field: "key") }
        guard let version else { return Self.response(try workflowRegistry.latest(core, key)) }
        guard version <= head.version else {
            throw OrderbaseError(.notFound, "workflow \(key) has versions 1 to \(head.version)", field: "version")
        }
        var w = try workflowRegistry.version(core, key, version)
        w.archived = head.archived
        return Self.response(w)
    }

    /// `{"include_archived"?}` → the latest version of every workflow, by key (the default included).
    public func listWorkflows(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let archived = try f.bool("include_archived") ?? false
        try f.finish()
        var keys = Set(try workflowRegistry.heads(core).keys)
        keys.insert(Workflow.defaultKey)
        var out: [[UInt8]] = []
        for key in keys.sorted() {
            let w = try workflowRegistry.latest(core, key)
            if w.archived && !archived { continue }
            out.append(w.json)
        }
        return Self.listResponse(out, hasMore: false)
    }

    // MARK: workflows.validate

    /// A definition → `{"valid": true, "errors": []}` or `{"valid": false, "errors": [{"field", "message"}]}`. Saves nothing.
    public func validateWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        // A malformed request (types, unknown fields) is refused like anywhere
        // else; what makes a well-formed definition unusable is the answer.
        let problems = try Workflow.read(&f, stored: false).validate(shape: try core.guardShape())
        try f.finish()
        var w = JSONWriter()
        w.beginObject()
        w.key("valid"); w.bool(problems.isEmpty)
        w.key("errors"); w.beginArray(); for p in problems { w.value(p.json) }; w.endArray()
        w.endObject()
        return w.bytes
    }

    // MARK: workflows.migrate

    /// `{"key", "from_version"?, "to_version"?, "mapping"?, "limit"?, "starting_after"?, "dry_run"?}`:
    /// moves orders pinned to older versions of a workflow (or exactly
    /// `from_version`) to `to_version` (default: the latest), mapping each
    /// status through `mapping` (a state keeps its key when not mapped; every
    /// state of a source version must land on a state of the target). Orders
    /// waiting for approval are skipped and listed. Each move is an order change
    /// (`order.workflow_migrated`) with its audit entry. Works through orders in
    /// id order, `limit` per call; `next_starting_after` continues.
    public func migrateWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let key = try f.string("key", maxLength: 64, required: true)!
        let fromVersion = try f.int("from_version", in: 1...Int64.max)
        let toVersionAsked = try f.int("to_version", in: 1...Int64.max)
        var mapping: [String: String] = [:]
        if let m = f.raw("mapping") {
            guard case .object(let o) = m, o.count <= 100 else {
                throw OrderbaseError.invalid("mapping must be an object of at most 100 entries from old state to new state", field: "mapping")
            }
            for (k, v) in o {
                guard case .string(let s) = v else { throw OrderbaseError.invalid("mapping.\(k) must be a state key", field: "mapping.\(k)") }
                mapping[k] = s
            }
        }
        let limit = Int(try f.int("limit", in: 1...1000) ?? 500)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        let dryRun = try f.bool("dry_run") ?? false
        try f.finish()

        guard let head = try workflowRegistry.head(core, key) else { throw OrderbaseError(.notFound, "no workflow \(key)", field: "key") }
        let toVersion = toVersionAsked ?? head.version
        guard toVersion <= head.version else {
            throw OrderbaseError(.notFound, "workflow \(key) has versions 1 to \(head.version)", field: "to_version")
        }
        if let fromVersion {
            guard fromVersion <= head.version else { throw OrderbaseError(.notFound, "workflow \(key) has versions 1 to \(head.version)", field: "from_version") }
            // from_version == to_version: its orders are on the target already; nothing moves.
        }
        let target = try workflowRegistry.version(core, key, toVersion)
        let sources = fromVersion.map { [$0] } ?? Array(1..<toVersion)
        // Every state of every source version must land somewhere, checked before anything moves.
        var unmapped: [String] = []
        for v in sources {
            for s in try workflowRegistry.version(core, key, v).states where target.state(mapping[s.key] ?? s.key) == nil {
                unmapped.append("\(s.key) (version \(v))")
            }
        }
        // Both refusals are about the versions as stored, not the request's shape: invalid_state.
        for (from, to) in mapping.sorted(by: { $0.key < $1.key }) where target.state(to) == nil {
            throw OrderbaseError(.invalidState, "mapping.\(from): \(to) is not a state of \(key) version \(toVersion)", field: "mapping.\(from)")
        }
        if !unmapped.isEmpty {
            throw OrderbaseError(.invalidState, "these states have no state of the same key in version \(toVersion) and no mapping: \(unmapped.joined(separator: ", "))",
                                 field: "mapping", details: .object(["unmapped": .array(unmapped.map { .string($0) })]))
        }

        // Candidates, in id order from the cursor.
        var ids: [String] = []
        var hasMore = false
        let start = after.map { Keyspace.orderKey($0) + [0] } ?? [Keyspace.order]
        try scan(from: start, to: [Keyspace.order + 1], snapshot: database.snapshot(fillCache: false)) { _, v throws(OrderbaseError) in
            let o = try Order.decode(Array(v))
            guard o.workflowKey == key, o.workflowVersion != toVersion, sources.contains(o.workflowVersion) else { return true }
            if ids.count == limit { hasMore = true; return false }
            ids.append(o.id)
            return true
        }

        var migrated: [String] = []
        var skipped: [(String, String)] = []
        let reason = "workflows.migrate \(key) to version \(toVersion)"
        func move(_ wc: inout WriteContext?) throws(OrderbaseError) {
            for id in ids {
                let old: Order
                if wc != nil { old = try orders.loadForWrite(id, &wc!, expected: nil) } else { old = try Order.decode(try orders.loadRecord(id, snapshot: nil)) }
                // Re-checked under the lock: another writer may have moved it.
                guard old.workflowKey == key, old.workflowVersion != toVersion, sources.contains(old.workflowVersion) else { continue }
                if let p = old.pendingApproval, !p.isExpired(at: wc?.now ?? clock.nowMilliseconds()) {
                    skipped.append((id, "waiting for approval \(p.id)"))
                    continue
                }
                migrated.append(id)
                guard wc != nil else { continue }
                var new = old
                new.workflowKey = key
                new.workflowVersion = toVersion
                new.status = mapping[old.status] ?? old.status
                new.pendingApproval = nil
                let state = target.state(new.status)!
                if state.final { new.closedAt = new.closedAt ?? wc!.now } else { new.closedAt = nil; new.cancelledAt = nil }
                do {
                    _ = try orders.commitChange(old: old, new: new, type: "order.workflow_migrated", reason: reason, &wc!)
                } catch {
                    // Whatever fails the page (one write), e.g. a reopened order short of stock to commit, names the order.
                    var details: JSONObject = [:]
                    if case .object(let o)? = error.details { details = o }
                    details["order_id"] = .string(id)
                    throw OrderbaseError(error.code, "order \(id): \(error.message)", field: error.field, details: .object(details))
                }
            }
        }
        if dryRun {
            var none: WriteContext? = nil
            try move(&none)
        } else {
            try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) in
                var c: WriteContext? = wc
                try move(&c)
                wc = c!
            }
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("key"); w.string(key)
        w.key("to_version"); w.int(toVersion)
        w.key("dry_run"); w.bool(dryRun)
        w.key("migrated"); w.int(Int64(migrated.count))
        w.key("order_ids"); w.beginArray(); for id in migrated { w.string(id) }; w.endArray()
        w.key("skipped"); w.beginArray()
        for (id, why) in skipped { w.beginObject(); w.key("id"); w.string(id); w.key("reason"); w.string(why); w.endObject() }
        w.endArray()
        w.key("has_more"); w.bool(hasMore)
        w.key("next_starting_after"); if hasMore, let last = ids.last { w.string(last) } else { w.null() }
        w.endObject()
        return w.bytes
    }
}

extension WorkflowProblem {
    var json: JSON { .object(["field": .string(field), "message": .string(message)]) }
}

extension WorkflowService {
    // MARK: workflows.simulate

    /// `{"order_id", "to", "reason"?}` → what `orders.transition` would do
    /// for this actor now: `transition` (with the order after it),
    /// `approval_required` (with the tiers), or `refused` (with the error).
    /// Writes nothing.
    public func simulateWorkflow(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("order_id", maxLength: 64, required: true)!
        let to = try f.string("to", maxLength: 64, required: true, allowEmpty: false)!
        let reason = try f.string("reason", maxLength: 500)
        try f.finish()
        let order = try Order.decode(try orders.loadRecord(id, snapshot: nil))
        let wf = try orders.workflow(of: order)
        let now = clock.nowMilliseconds()
        var w = JSONWriter()
        w.beginObject()
        w.key("order_id"); w.string(order.id)
        w.key("from"); w.string(order.status)
        w.key("to"); w.string(to)
        w.key("workflow"); Workflow.writeReference(key: wf.key, version: wf.version, &w)
        do {
            switch try orders.decide(order, wf, to: to, reason: reason, actor: ctx.actor, now: now) {
            case .apply(let t):
                w.key("outcome"); w.string("transition")
                w.key("transition"); w.string(t.name)
                var (after, type) = OrderService.applied(order, wf, t, reason: reason, now: now)
                after.version = order.version + 1
                after.updatedAt = max(now, order.updatedAt)
                w.key("event"); w.string(type)
                w.key("order"); w.raw(after.render().bytes)
            case .approval(let t, let tiers, let rule):
                w.key("outcome"); w.string("approval_required")
                w.key("transition"); w.string(t.name)
                w.key("approval"); w.beginObject()
                w.key("tiers"); w.beginArray()
                for tier in tiers {
                    w.beginObject()
                    w.key("name"); w.optionalString(tier.name)
                    w.key("approvers"); w.int(tier.approvers)
                    w.key("roles"); w.beginArray(); for r in tier.roles { w.string(r) }; w.endArray()
                    w.endObject()
                }
                w.endArray()
                w.key("allow_requester"); w.bool(rule.allowRequester)
                w.key("expires_after_seconds"); if let e = rule.expiresAfterSeconds { w.int(e) } else { w.null() }
                w.endObject()
            }
        } catch {
            w.key("outcome"); w.string("refused")
            w.key("error"); error.write(&w)
        }
        w.endObject()
        return w.bytes
    }
}
