import OrderbaseStore

/// Bulk jobs (docs/jobs.md): a change to many records that one write should
/// not make (it would hold the tenant's write lock for as long as it takes).
/// A job is queued by the command that asks for it, in that command's batch,
/// and the scheduler runs it in steps: each step is one write of at most
/// `Job.stepSize` records, which also saves the job's progress and sets the
/// timer of the next step, so a crash loses nothing and repeats nothing.
/// Commands from callers interleave between steps. Every record a job changes
/// is audited with the job's requester as the actor and `type (job id)` as the
/// reason.
extension Job {
    static let types = ["tags.rename", "tags.delete", "custom_fields.validate", "custom_fields.delete", "orders.auto_archive", "webhooks.fail_pending"]
    static let statuses = ["queued", "running", "completed", "failed"]
    /// Records one step changes at most.
    static let stepSize = 200
    /// The scheduler's action that runs a job's next step.
    static let timerAction = "job.run"

    /// Runs one step of the job's type; answers whether the job is done.
    static func step(_ core: TenantCore, _ job: inout Job, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        switch job.type {
        case "tags.rename", "tags.delete": return try TagService.step(core, &job, &wc)
        case "custom_fields.validate", "custom_fields.delete": return try CustomFieldService.step(core, &job, &wc)
        case "orders.auto_archive": return try OrderService.autoArchiveStep(core, &job, &wc)
        case "webhooks.fail_pending":
            guard case .object(let p) = job.params, let endpoint = p["endpoint_id"]?.stringValue else {
                throw OrderbaseError(.corruption, "job \(job.id) names no endpoint")
            }
            return try !core.webhooks.failPendingDeliveries(of: endpoint, note: "endpoint deleted", &wc)
        default: throw OrderbaseError(.corruption, "job \(job.id) has unknown type \(job.type)")
        }
    }

    /// The next orders a step over every order looks at: at most `stepSize` after the cursor, in id order,
    /// each with its stored record (a step may pass over one by its bytes without decoding it).
    func nextOrders(_ core: TenantCore) throws(OrderbaseError) -> [(id: String, record: [UInt8])] {
        var out: [(id: String, record: [UInt8])] = []
        try core.scan(from: cursor.map { Keyspace.orderKey($0) + [0] } ?? [Keyspace.order], to: [Keyspace.order + 1]) { k, v throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            out.append((r.string() ?? "", Array(v)))
            return out.count < Job.stepSize
        }
        return out
    }

    static let runAction = TimerAction(name: timerAction) { core, timer, wc throws(OrderbaseError) in
        guard let before = try wc.loadIfPresent(Job.self, timer.target), before.status == "queued" || before.status == "running" else { return }
        var job = before
        // What the job changes is the requester's doing, as if they had made each change.
        wc.request.actor = job.requestedBy
        if job.startedAt == nil { job.startedAt = wc.now }
        job.status = "running"
        if try step(core, &job, &wc) {
            job.status = "completed"
            job.finishedAt = wc.now
        } else {
            wc.schedule(timerAction, target: job.id, at: wc.now)
        }
        job.updatedAt = wc.now
        wc.save(before: before, after: job)
    }
}

extension JobService {
    /// Queues a job in the command's batch (its first step runs on the scheduler's next pass).
    func enqueue(_ type: String, params: JSONObject, total: Int64, _ wc: inout WriteContext) throws(OrderbaseError) -> Job {
        var job = Job.blank
        job.id = ids.make("job_", at: wc.now)
        job.type = type
        job.params = .object(params)
        job.total = total
        job.requestedBy = wc.request.actor
        job.createdAt = wc.now
        job.updatedAt = wc.now
        wc.save(before: nil, after: job)
        wc.schedule(Job.timerAction, target: job.id, at: wc.now)
        return job
    }

    // MARK: jobs.get, jobs.list

    /// `{"id"}` → the job, or `not_found`.
    public func getJob(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(Job.self, id).apiJSON
    }

    /// `{"status"?, "type"?, "limit"?, "starting_after"?}` → jobs, newest first.
    public func listJobs(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let status = try f.oneOf("status", Job.statuses)
        let type = try f.oneOf("type", Job.types)
        let limit = Int(try f.int("limit", in: 1...250) ?? 20)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(Job.self, after: after, limit: limit, render: { $0.apiJSON }) { job in
            (status == nil || job.status == status) && (type == nil || job.type == type)
        }
    }
}
