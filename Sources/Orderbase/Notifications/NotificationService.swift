import OrderbaseStore

/// `notification_channels.*`, `notification_templates.*` and
/// `notifications.*` (docs/notifications.md).
extension NotificationService {
    static let maxChannels = 100
    static let maxTemplates = 200


    // MARK: notification_channels

    /// `email` belongs to email channels and `sms` to SMS channels only (null is
    /// absent). On a create the request's own type decides (`invalid_argument`); on
    /// an update the stored channel's (`invalid_state`).
    private static func settingsOnlyFor(_ type: String, _ f: inout Fields, stored: Bool) throws(OrderbaseError) {
        for (key, owner) in [("email", "email"), ("sms", "sms")] where owner != type && (f.raw(key) ?? .null) != .null {
            throw OrderbaseError(stored ? .invalidState : .invalidArgument, "\(key) is only for channels of type \(owner); this one is \(type)", field: key)
        }
    }

    /// `{"name", "type", "enabled"?, "email"? | "sms"?}` → the channel (credentials hidden).
    public func createNotificationChannel(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var c = NotificationChannel.blank
        _ = try NotificationChannel.read(&f, onto: &c, isCreate: true)
        let type = c.type
        let config = outboundConfig
        try Self.settingsOnlyFor(type, &f, stored: false)
        c.email = try NotificationChannel.readEmail(&f, current: nil, allowPlaintext: config.allowHTTP)
        c.sms = try NotificationChannel.readSMS(&f, current: nil, allowHTTP: config.allowHTTP)
        if type == "email" && c.email == nil { throw OrderbaseError.invalid("an email channel needs email: {host, from, …}", field: "email") }
        if type == "sms" && c.sms == nil { throw OrderbaseError.invalid("an SMS channel needs sms: {url, …}", field: "sms") }
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard try count(Keyspace.notificationChannel, upTo: Self.maxChannels) < Self.maxChannels else {
                throw OrderbaseError.quota("notification_channels", limit: Self.maxChannels, "a tenant has at most \(Self.maxChannels) notification channels")
            }
            c.id = ids.make("nch_", at: wc.now)
            c.createdAt = wc.now
            c.updatedAt = wc.now
            wc.commit("notification_channel.created", before: nil, after: c)
            return c.apiJSON
        }
    }

    public func getNotificationChannel(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(NotificationChannel.self, id).apiJSON
    }

    public func listNotificationChannels(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try Fields.request(request).0.finish()
        var out: [[UInt8]] = []
        try scan(from: [Keyspace.notificationChannel], to: [Keyspace.notificationChannel + 1]) { _, v throws(OrderbaseError) in
            out.append(try NotificationChannel.decode(Array(v)).apiJSON)
            return true
        }
        return Self.listResponse(out, hasMore: false)
    }

    /// `{"id", "name"?, "enabled"?, "email"? | "sms"?}`: given fields change,
    /// the rest stay (a password or auth header is kept unless replaced or set to null).
    public func updateNotificationChannel(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var edits = NotificationChannel.blank
        let given = try NotificationChannel.read(&f, onto: &edits, isCreate: false)
        let config = outboundConfig
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(NotificationChannel.self, id)
            var c = before
            var g = f
            try Self.settingsOnlyFor(c.type, &g, stored: true)
            if c.type == "email" { c.email = try NotificationChannel.readEmail(&g, current: c.email, allowPlaintext: config.allowHTTP) }
            if c.type == "sms" { c.sms = try NotificationChannel.readSMS(&g, current: c.sms, allowHTTP: config.allowHTTP) }
            try g.finish()
            c.apply(edits, fields: given)
            c.updatedAt = wc.now
            wc.commit("notification_channel.updated", before: before, after: c)
            return c.apiJSON
        }
    }

    /// `{"id"}`: refused while a template sends through it (`details.templates`).
    public func deleteNotificationChannel(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let c = try wc.load(NotificationChannel.self, id)
            let users = try notificationTemplates().filter { $0.channelID == id }.map(\.id)
            guard users.isEmpty else {
                throw OrderbaseError(.invalidState, "notification channel \(id) is used by \(users.count) template(s); delete or move them first",
                                     field: "id", details: .object(["templates": .array(users.map(JSON.string))]))
            }
            wc.commit("notification_channel.deleted", before: c, after: nil)
            return JSON.object(["id": .string(id), "deleted": .bool(true)]).bytes
        }
    }

    // MARK: notification_templates

    /// `{"name", "channel_id", "event_types"?, "enabled"?, "subject"?, "text"?,
    /// "html"?, "body"?, "recipients", "condition"?}` → the template. Every
    /// part is checked now: an unknown variable, a bad condition, a part the
    /// channel does not take, a recipient address it cannot use.
    public func createNotificationTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var draft = NotificationTemplate.blank
        _ = try NotificationTemplate.read(&f, onto: &draft, isCreate: true)
        try f.finish()
        try draft.checkWorstCase(limits: limits, budgets: budgets)
        try draft.checkCustomFields(try customFields.registry.all(core))
        defer {
            outboundChanged(present: true)
            CommitSignal.interrupt()
        }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard try count(Keyspace.notificationTemplate, upTo: Self.maxTemplates) < Self.maxTemplates else {
                throw OrderbaseError.quota("notification_templates", limit: Self.maxTemplates, "a tenant has at most \(Self.maxTemplates) notification templates")
            }
            let channel = try wc.load(NotificationChannel.self, draft.channelID, field: "channel_id")
            try draft.checkParts(for: channel.type)
            draft.id = ids.make("ntt_", at: wc.now)
            draft.createdAt = wc.now
            draft.updatedAt = wc.now
            draft.fromSequence = wc.counters.eventSeq + 1  // it sends for events after its own creation
            wc.commit("notification_template.created", before: nil, after: draft)
            return draft.apiJSON
        }
    }

    public func getNotificationTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(NotificationTemplate.self, id).apiJSON
    }

    /// `{"event_type"?, "channel_id"?}` → the templates.
    public func listNotificationTemplates(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let type = try f.string("event_type", maxLength: 128, allowEmpty: false)
        let channel = try f.string("channel_id", maxLength: 64, allowEmpty: false)
        try f.finish()
        let list = try notificationTemplates().filter { t in
            (type.map { t.matches($0) } ?? true) && (channel.map { t.channelID == $0 } ?? true)
        }
        return Self.listResponse(list.map { $0.apiJSON }, hasMore: false)
    }

    /// `{"id", …any create field}`: given fields change; `null` clears a part or the condition.
    public func updateNotificationTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var edits = NotificationTemplate.blank
        let given = try NotificationTemplate.read(&f, onto: &edits, isCreate: false)
        try f.finish()
        // The parts and condition given (the others were checked when they were saved).
        try edits.checkCustomFields(try customFields.registry.all(core))
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(NotificationTemplate.self, id)
            var t = before
            t.apply(edits, fields: given)
            try t.checkWorstCase(limits: limits, budgets: budgets)
            let channel = try wc.load(NotificationChannel.self, t.channelID, field: "channel_id")
            try t.checkParts(for: channel.type)
            t.updatedAt = wc.now
            wc.commit("notification_template.updated", before: before, after: t)
            return t.apiJSON
        }
    }

    /// `{"id"}` → `{"id", "deleted": true}`. Its pending notifications end as
    /// failed in the same write (already sent ones stay in the log).
    public func deleteNotificationTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        defer { outboundChanged(present: nil) }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let template = try wc.load(NotificationTemplate.self, id)
            var pending: [NotificationRecord] = []
            try scan(from: [Keyspace.notificationDue], to: [Keyspace.notificationDue + 1]) { k, _ throws(OrderbaseError) in
                var r = KeyReader(Array(k))
                guard r.uint64() != nil, let nid = r.string() else { throw OrderbaseError(.corruption, "bad notification due key") }
                if let n = try wc.loadIfPresent(NotificationRecord.self, nid), n.templateID == id { pending.append(n) }
                return true
            }
            for before in pending {
                var n = before
                n.status = "failed"
                n.nextAttemptAt = nil
                n.note = "template deleted"
                n.updatedAt = wc.now
                wc.save(before: before, after: n)
            }
            wc.commit("notification_template.deleted", before: template, after: nil)
            return JSON.object(["id": .string(id), "deleted": .bool(true), "pending_failed": .int(Int64(pending.count))]).bytes
        }
    }

    /// `{"id" | "template", "order_id", "event_type"?}` → what the template
    /// would send for the order now: `{"condition", "notifications": [...]}`,
    /// each with its recipient, status (`pending` or `skipped`) and rendered
    /// parts. Writes nothing. `template` is a draft (the create fields), to
    /// preview before saving.
    public func renderNotificationTemplate(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, allowEmpty: false)
        var draft: NotificationTemplate?
        if var g = try f.object("template") {
            var d = NotificationTemplate.blank
            d.id = "ntt_draft"
            d.name = "draft"
            _ = try NotificationTemplate.read(&g, onto: &d, isCreate: false)
            try g.finish()
            draft = d
        }
        let orderID = try f.string("order_id", maxLength: 64, required: true)!
        let eventType = try f.string("event_type", maxLength: 128, allowEmpty: false) ?? "manual"
        try f.finish()
        guard (id == nil) != (draft == nil) else { throw OrderbaseError.invalid("give exactly one of id or template", field: id == nil ? "id" : "template") }
        if let draft, draft.channelID.isEmpty { throw OrderbaseError.invalid("template.channel_id is required", field: "template.channel_id") }
        let order = try JSON.parse(try orders.loadRecord(orderID, snapshot: nil))
        var t: NotificationTemplate
        if let id { t = try stored(NotificationTemplate.self, id) } else { t = draft! }
        let channel = try stored(NotificationChannel.self, t.channelID, field: id == nil ? "template.channel_id" : "id")
        try t.checkParts(for: channel.type)
        let now = clock.nowMilliseconds()
        let event = Self.manualEvent(type: eventType, ctx, at: now)
        var holds = true
        if let c = t.condition {
            let data = JSON.object(["order": order, "actor": event["actor"]!, "event": event])
            holds = try c.test(data, context: expressions.evaluationContext(currency: order["currency"]?.stringValue))
        }
        t.condition = nil  // answered above; the preview shows the messages either way
        var w = JSONWriter()
        w.beginObject()
        w.key("condition"); w.bool(holds)
        w.key("notifications"); w.beginArray()
        for r in makeNotifications(t, channel: channel, order: order, event: event, sequence: nil, to: nil, now: now) { r.write(&w) }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `event` for a preview or a manual send: its type, now, and who asked.
    static func manualEvent(type: String, _ ctx: RequestContext, at now: Int64) -> JSON {
        .object(["id": .null, "type": .string(type), "sequence": .null, "at": .string(Timestamp.format(now)),
                 "actor": .object(["type": .string(ctx.actor.type), "id": ctx.actor.id.map(JSON.string) ?? .null]), "reason": .null])
    }

    // MARK: notifications

    /// `{"template_id"?, "order_id"?, "status"?, "limit"?, "starting_after"?}` → the log, newest first.
    public func listNotifications(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let template = try f.string("template_id", maxLength: 64, allowEmpty: false)
        let order = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let status = try f.oneOf("status", NotificationRecord.statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        var page: [[UInt8]] = []
        var hasMore = false
        let snapshot = database.snapshot()
        func take(_ v: [UInt8]) throws(OrderbaseError) -> Bool {
            let n = try NotificationRecord.decode(v)
            if let template, n.templateID != template { return true }
            if let order, n.orderID != order { return true }
            if let status, n.status != status { return true }
            if page.count == limit { hasMore = true; return false }
            page.append(v)
            return true
        }
        if let order {
            // An order's notifications through its index (`n` keys), newest first.
            let prefix = Keyspace.notificationOrderPrefix(order)
            let end = after.map { Keyspace.notificationOrderKey(order, $0) } ?? prefixUpperBound(prefix)
            try scan(from: prefix, to: end, reverse: true, snapshot: snapshot) { k, _ throws(OrderbaseError) in
                var r = KeyReader(Array(k))
                _ = r.string()
                guard let id = r.string() else { throw OrderbaseError(.corruption, "bad notification order key") }
                guard let v = try store({ () throws(StoreError) in try database.get(Keyspace.notificationKey(id), snapshot: snapshot) }) else { return true }
                return try take(v)
            }
        } else {
            let end = after.map { Keyspace.notificationKey($0) } ?? [Keyspace.notification + 1]
            try scan(from: [Keyspace.notification], to: end, reverse: true, snapshot: snapshot) { _, v throws(OrderbaseError) in try take(Array(v)) }
        }
        return Self.listResponse(page, hasMore: hasMore)
    }

    public func getNotification(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(NotificationRecord.self, id).apiJSON
    }

    /// `{"template_id", "order_id", "to"?}` → `{"data": [notifications]}`:
    /// the template rendered against the order as it is now, queued at once,
    /// to its recipients or to the addresses in `to` (its condition is not
    /// consulted: a person asked).
    public func sendNotification(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let templateID = try f.string("template_id", maxLength: 64, required: true)!
        let orderID = try f.string("order_id", maxLength: 64, required: true)!
        var to: [String]?
        if let list = try f.array("to", maxCount: 20) {
            to = []
            for (n, v) in list.enumerated() {
                guard case .string(let s) = v, !s.isEmpty, !s.isLonger(than: 320) else {
                    throw OrderbaseError.invalid("to[\(n)] must be an address (1 to 320 characters)", field: "to[\(n)]")
                }
                to!.append(s)
            }
            if to!.isEmpty { throw OrderbaseError.invalid("to must name at least one address (or be left out)", field: "to") }
        }
        try f.finish()
        let order = try JSON.parse(try orders.loadRecord(orderID, snapshot: nil))
        let t = try stored(NotificationTemplate.self, templateID, field: "template_id")
        let channel = try stored(NotificationChannel.self, t.channelID, field: "template_id")
        if let to {
            for (n, a) in to.enumerated() {
                if let why = RecipientAddress.problem(a, channelType: channel.type) { throw OrderbaseError.invalid("to[\(n)]: \(why)", field: "to[\(n)]") }
            }
        }
        let now = clock.nowMilliseconds()
        let records = makeNotifications(t, channel: channel, order: order, event: Self.manualEvent(type: "manual", ctx, at: now),
                                        sequence: nil, to: to, now: now)
        defer { CommitSignal.interrupt() }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            // Rendered outside the lock; the template must still be there when they are stored.
            _ = try wc.load(NotificationTemplate.self, templateID, field: "template_id")
            for r in records { wc.save(before: nil, after: r) }
            return Self.listResponse(records.map(\.apiJSON), hasMore: false)
        }
    }

    /// `{"id"}` → a pending notification is moved to now; a failed one gets a
    /// new notification with the same content and recipient (a fresh
    /// schedule), which is the answer; the failed one keeps its log.
    public func retryNotification(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        defer { CommitSignal.interrupt() }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(NotificationRecord.self, id)
            var n = before
            guard n.status == "pending" || n.status == "failed" else {
                throw OrderbaseError(.invalidState, "notification \(id) is \(n.status); notifications.send sends the template again", field: "id")
            }
            guard n.recipient != nil, n.channelType != "unknown", n.note.map({ !$0.hasPrefix("condition:") }) ?? true else {
                throw OrderbaseError(.invalidState, "notification \(id) has nothing to send (\(n.note ?? "no recipient"))", field: "id")
            }
            guard try wc.read(Keyspace.templateKey(n.templateID)) != nil else {
                throw OrderbaseError(.invalidState, "notification \(id)'s template \(n.templateID) was deleted", field: "id")
            }
            let due = n.nextAttemptAt
            n.status = "pending"
            n.note = nil
            n.nextAttemptAt = wc.now
            n.updatedAt = wc.now
            if due != nil {  // pending: moved to now
                wc.save(before: before, after: n)
            } else {  // failed: a new notification of the same message
                n.id = ids.make("ntf_", at: wc.now)
                n.attempts = []
                n.createdAt = wc.now
                n.sentAt = nil
                wc.save(before: nil, after: n)
            }
            return n.apiJSON
        }
    }
}
