import OrderbaseStore

/// Tags across the tenant's orders (docs/tags.md): the tags in use with their
/// counts, and renaming or deleting one on every order as a job.
extension TagService {
    // MARK: tags.list

    /// `{"prefix"?, "limit"?, "starting_after"?}` → `{data: [{name, count}], has_more}`,
    /// in the order of their keys (lowercase); `prefix` matches the start of a tag ignoring case.
    public func listTags(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let prefix = try f.string("prefix", maxLength: Tags.maxCharacters, allowEmpty: false).map(Tags.lookupKey)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: Tags.maxCharacters, allowEmpty: false).map(Tags.lookupKey)
        try f.finish()
        var page: [[UInt8]] = []
        var hasMore = false
        // A key without NUL is stored as its UTF-8 bytes then the terminator (KeyBuilder), and a tag has no
        // control characters: a key prefix is a byte prefix of the encoded key less its terminator.
        let prefixBytes = Array(Keyspace.tagKey(prefix ?? "").dropLast(2))
        var from = prefixBytes
        if let after, case let past = Keyspace.tagKey(after) + [0], from.lexicographicallyPrecedes(past) { from = past }
        try scan(from: from, to: [Keyspace.tag + 1]) { k, v throws(OrderbaseError) in
            if !k.starts(with: prefixBytes) { return false }
            if page.count == limit { hasMore = true; return false }
            page.append(try TagCount.decode(Array(v)).apiJSON)
            return true
        }
        return Self.listResponse(page, hasMore: hasMore)
    }

    // MARK: tags.rename, tags.delete

    /// `{"from", "to"}` → a queued `tags.rename` job: every order tagged `from`
    /// (ignoring case) gets `to` in its place; an order that also has `to` (in any
    /// spelling) keeps one, spelled `to`.
    public func renameTag(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let from = try Tags.normalize(try f.string("from", maxLength: Int.max, required: true)!, field: "from")
        let to = try Tags.normalize(try f.string("to", maxLength: Int.max, required: true)!, field: "to")
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let tag = try wc.load(TagCount.self, Tags.key(from), field: "from")
            if tag.name == to { throw OrderbaseError.invalid("the tag is already spelled \(to)", field: "to") }
            return try jobs.enqueue("tags.rename", params: ["from": .string(tag.name), "to": .string(to)],
                                                      total: tag.count, &wc).apiJSON
        }
    }

    /// `{"name"}` → a queued `tags.delete` job: the tag leaves every order that has it.
    public func deleteTag(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let name = try Tags.normalize(try f.string("name", maxLength: Int.max, required: true)!, field: "name")
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let tag = try wc.load(TagCount.self, Tags.key(name), field: "name")
            return try jobs.enqueue("tags.delete", params: ["name": .string(tag.name)], total: tag.count, &wc).apiJSON
        }
    }

    /// One step of a `tags.rename` or `tags.delete` job: up to `Job.stepSize` orders
    /// tagged with the job's tag, after its cursor, changed in the step's write.
    /// Answers whether the job is done.
    static func step(_ core: TenantCore, _ job: inout Job, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        let renaming = job.type == "tags.rename"
        guard case .object(let p) = job.params, let fromName = p[renaming ? "from" : "name"]?.stringValue else {
            throw OrderbaseError(.corruption, "job \(job.id) has no tag")
        }
        let fromKey = Tags.key(fromName)
        let to = renaming ? p["to"]?.stringValue : nil
        let toKey = to.map(Tags.key)
        let prefix = Keyspace.indexPrefix(.order, "tags", fromKey)
        var ids: [String] = []
        try core.scan(from: job.cursor.map { prefix + Keyspace.idComponent($0) + [0] } ?? prefix, to: prefixUpperBound(prefix)) { k, _ throws(OrderbaseError) in
            ids.append(try Keyspace.indexEntryID(Array(k)))
            return ids.count < Job.stepSize
        }
        let orders = core.orders
        let reason = "\(job.type) (\(job.id))"
        for id in ids {
            job.processed += 1
            job.cursor = id
            guard try wc.read(Keyspace.orderKey(id)) != nil else { continue }
            let old = try orders.loadForWrite(id, &wc, expected: nil)
            var new = old
            new.tags = []
            var have: Set<String> = []
            for t in old.tags {
                let k = Tags.key(t)
                let tag = k == fromKey || k == toKey ? to : t
                if let tag, have.insert(Tags.key(tag)).inserted { new.tags.append(tag) }
            }
            guard new.tags != old.tags else { continue }
            _ = try orders.commitChange(old: old, new: new, type: renaming ? "order.tags_renamed" : "order.tags_removed", reason: reason, &wc)
            job.changed += 1
        }
        let done = ids.count < Job.stepSize
        // The renamed tag is spelled `to` in `tags.list` too (a rename that only changes case keeps
        // the tag's key; one onto a tag in use keeps that tag's count).
        if done, let to, var tag = try wc.loadIfPresent(TagCount.self, Tags.key(to)), tag.name != to {
            let before = tag
            tag.name = to
            wc.save(before: before, after: tag)
        }
        return done
    }
}

extension TagCount {
    /// Keeps the counts of tags in use in an order change's batch: `old` and
    /// `new` are the order's tags before and after (empty for a new order).
    static func track(old: [String], new: [String], _ wc: inout WriteContext) throws(OrderbaseError) {
        if old == new { return }
        let before = Dictionary(old.map { (Tags.key($0), $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.map { (Tags.key($0), $0) }, uniquingKeysWith: { a, _ in a })
        for (key, name) in after where before[key] == nil {
            let current = try wc.loadIfPresent(TagCount.self, key)
            var next = current ?? TagCount(key: key, name: name, count: 0)
            next.count += 1
            wc.save(before: current, after: next)
        }
        for key in before.keys where after[key] == nil {
            guard let current = try wc.loadIfPresent(TagCount.self, key) else {
                throw OrderbaseError(.corruption, "an order had tag \(key) but no count of it is kept")
            }
            var next = current
            next.count -= 1
            wc.save(before: current, after: next.count > 0 ? next : nil)
        }
    }
}
