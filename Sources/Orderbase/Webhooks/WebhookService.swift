import OrderbaseStore

/// `webhooks.*` and `deliveries.*` (docs/webhooks.md).
extension WebhookService {
    private func endpointJSON(_ e: WebhookEndpoint, secret: String? = nil) -> [UInt8] {
        secret.map { e.apiJSON(secret: $0) } ?? e.apiJSON
    }

    // MARK: webhooks.create

    /// `{"url", "event_types"?, "description"?, "enabled"?, "payload"?}` → the endpoint with its `secret` (shown once).
    public func createWebhook(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        var draft = WebhookEndpoint.blank
        _ = try WebhookEndpoint.read(&f, onto: &draft, isCreate: true)
        try WebhookURL.check(draft.url, allowHTTP: outboundConfig.allowHTTP)
        try f.finish()
        let secret = try WebhookEndpoint.newSecret()
        defer {
            // Once durable: delivery threads look at this tenant again and listen for its commits.
            outboundChanged(present: true)
            CommitSignal.interrupt()
        }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard try count(Keyspace.webhookEndpoint, upTo: 100) < 100 else { throw OrderbaseError.quota("webhook_endpoints", limit: 100, "a tenant has at most 100 webhook endpoints") }
            var e = draft
            e.id = ids.make("whe_", at: wc.now)
            e.secrets = [.init(value: secret, createdAt: wc.now)]
            e.createdAt = wc.now
            e.updatedAt = wc.now
            // Deliveries start after its own creation event (the event shows no from_sequence).
            e.fromSequence = wc.counters.eventSeq + 1
            wc.commit("webhook_endpoint.created", before: nil, after: e)
            return endpointJSON(e, secret: secret)
        }
    }

    // MARK: webhooks.get / list / update / delete

    public func getWebhook(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return endpointJSON(try stored(WebhookEndpoint.self, id))
    }

    public func listWebhooks(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try Fields.request(request).0.finish()
        return Self.listResponse(try endpoints().map { endpointJSON($0) }, hasMore: false)
    }

    /// `{"id", "url"?, "event_types"?, "description"?, "enabled"?, "payload"?}`. Enabling clears `disabled_reason`.
    public func updateWebhook(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        var edits = WebhookEndpoint.blank
        let given = try WebhookEndpoint.read(&f, onto: &edits, isCreate: false)
        if given.contains("url") { try WebhookURL.check(edits.url, allowHTTP: outboundConfig.allowHTTP) }
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(WebhookEndpoint.self, id)
            var e = before
            e.apply(edits, fields: given)
            if given.contains("enabled") {
                if e.enabled && !before.enabled { e.disabledReason = nil; e.failingSince = nil }
                if !e.enabled && e.disabledReason == nil { e.disabledReason = "disabled by \(ctx.actor.type)\(ctx.actor.id.map { " " + $0 } ?? "")" }
            }
            if e.storedJSON != before.storedJSON {
                e.updatedAt = wc.now
                wc.commit("webhook_endpoint.updated", before: before, after: e)
            }
            return endpointJSON(e)
        }
    }

    /// `{"id"}` → `{"id", "deleted": true}`. Its pending deliveries end as failed, in the same write.
    public func deleteWebhook(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        defer { outboundChanged(present: nil) }  // looked up again on the next pass
        return try core.passLock(Self.webhookCursor).withLock { () throws(OrderbaseError) -> [UInt8] in try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let e = try wc.load(WebhookEndpoint.self, id)
            // The first pending deliveries end now; the rest (an endpoint down for long has thousands) by a job, in steps.
            if try failPendingDeliveries(of: id, note: "endpoint deleted", &wc) {
                _ = try jobs.enqueue("webhooks.fail_pending", params: ["endpoint_id": .string(id)], total: 0, &wc)
            }
            wc.commit("webhook_endpoint.deleted", before: e, after: nil)
            return JSON.object(["id": .string(id), "deleted": .bool(true)]).bytes
        } }
    }

    // MARK: webhooks.rotate_secret

    /// `{"id", "grace_seconds"?}` → the endpoint with its new `secret`. The
    /// previous secrets keep signing, beside the new one, for `grace_seconds`
    /// (default 86400; 0 retires them at once).
    public func rotateWebhookSecret(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let grace = try f.int("grace_seconds", in: 0...604_800) ?? 86_400
        try f.finish()
        let secret = try WebhookEndpoint.newSecret()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(WebhookEndpoint.self, id)
            var e = before
            let retireAt = wc.now + grace * 1000
            e.secrets = e.secrets.filter { s in s.expiresAt.map { $0 > wc.now } ?? true }.map { s in
                var s = s
                s.expiresAt = min(s.expiresAt ?? retireAt, retireAt)
                return s
            }
            e.secrets.append(.init(value: secret, createdAt: wc.now))
            e.updatedAt = wc.now
            wc.commit("webhook_endpoint.secret_rotated", before: before, after: e)
            return endpointJSON(e, secret: secret)
        }
    }

    // MARK: webhooks.test

    /// `{"id"}` → sends a signed `webhook.test` message now and answers the
    /// attempt (`status_code`, `latency_ms`, `error`, `succeeded`). Records no delivery.
    public func testWebhook(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        let e = try stored(WebhookEndpoint.self, id)
        let config = outboundConfig
        guard let transport = config.transport else {
            throw OrderbaseError(.invalidState, "this engine has no transport to send webhooks with", field: "id")
        }
        let now = clock.nowMilliseconds()
        let messageID = ids.make("msg_", at: now)
        let body = JSON.object(["type": .string("webhook.test"), "timestamp": .string(Timestamp.format(now)),
                                "data": .object(["endpoint_id": .string(e.id)])]).bytes
        let d = WebhookDelivery(id: messageID, messageID: messageID, endpointID: e.id, eventSequence: 0, eventType: "webhook.test",
                                createdAt: now, updatedAt: now)
        let r = transport.post(webhookRequest(d, e, body: body, config: config, now: now))
        var w = JSONWriter()
        w.beginObject()
        w.key("message_id"); w.string(messageID)
        w.key("succeeded"); w.bool(r.status.map { (200..<300).contains($0) } ?? false)
        w.key("status_code"); if let s = r.status { w.int(Int64(s)) } else { w.null() }
        w.key("latency_ms"); w.int(r.latencyMilliseconds)
        w.key("error"); w.optionalString(r.error)
        w.key("response"); w.optionalString(r.bodyPrefix.isEmpty ? nil : r.bodyPrefix)
        w.endObject()
        return w.bytes
    }

    // MARK: webhooks.replay

    /// `{"id", "from_sequence", "to_sequence"?}` → queues the endpoint's
    /// matching events in [from, to] again (at most 1000 per call), with their
    /// original `webhook-id`s (an empty range, `to` before `from`, queues
    /// nothing). `{"queued", "last_sequence", "has_more"}`.
    public func replayWebhook(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let from = try f.int("from_sequence", in: 1...Int64.max, required: true)!
        let to = try f.int("to_sequence", in: 1...Int64.max)
        try f.finish()
        // A to_sequence before from_sequence is an empty range: nothing is queued.
        return try core.passLock(Self.webhookCursor).withLock { () throws(OrderbaseError) -> [UInt8] in
            let events = try events(after: UInt64(from - 1), limit: 1001).filter { to == nil || $0.0 <= UInt64(to!) }
            let batch = events.prefix(1000)
            var queued = 0
            try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) in
                let e = try wc.load(WebhookEndpoint.self, id)
                var heads = Set<String>()
                for (seq, type, _, event) in batch where e.matches(type) {
                    try enqueue(endpoint: e.id, sequence: seq, type: type, orderID: event["order_id"]?.stringValue,
                                messageID: event["id"]?.stringValue ?? "evt_\(seq)", heads: &heads, &wc)
                    queued += 1
                }
            }
            var w = JSONWriter()
            w.beginObject()
            w.key("queued"); w.int(Int64(queued))
            w.key("last_sequence"); if let l = batch.last?.0 { w.int(Int64(l)) } else { w.null() }
            w.key("has_more"); w.bool(events.count > 1000)
            w.endObject()
            return w.bytes
        }
    }

    // MARK: deliveries.list / get / retry

    /// `{"endpoint_id"?, "status"?, "limit"?, "starting_after"?}` → deliveries, newest first.
    public func listDeliveries(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let endpoint = try f.string("endpoint_id", maxLength: 64, allowEmpty: false)
        let status = try f.oneOf("status", WebhookDelivery.statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        // By the endpoint's index when one is named (a tenant holds a delivery per event per endpoint:
        // very many), the status checked on the way; else by the status's index when one is named.
        let index: (field: String, value: String)? = endpoint.map { ("endpoint_id", $0) } ?? status.map { ("status", $0) }
        return try newestFirst(WebhookDelivery.self, index: index, after: after, limit: limit,
                               keep: { d in (status == nil || d.status == status) && (endpoint == nil || d.endpointID == endpoint) })
    }

    public func getDelivery(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try stored(WebhookDelivery.self, id).apiJSON
    }

    /// `{"id"}` → a pending one is moved to now; a failed one gets a new
    /// delivery of the same message (same `webhook-id`, a fresh schedule, due at
    /// once or after the older deliveries of its order), which is the answer.
    public func retryDelivery(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try core.passLock(Self.webhookCursor).withLock { () throws(OrderbaseError) -> [UInt8] in
            try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
                let before = try wc.load(WebhookDelivery.self, id)
                var d = before
                switch d.status {
                case "pending":
                    guard d.nextAttemptAt != nil else { return d.apiJSON }  // waiting behind an older delivery of its order
                    d.nextAttemptAt = wc.now
                case "succeeded":
                    throw OrderbaseError(.invalidState, "delivery \(id) succeeded; webhooks.replay sends an event again", field: "id")
                default:
                    // A new delivery of the same message (same webhook-id, a fresh
                    // schedule); the failed one keeps its log.
                    var heads = Set<String>()
                    return try enqueue(endpoint: d.endpointID, sequence: d.eventSequence, type: d.eventType, orderID: d.orderID,
                                       messageID: d.messageID, heads: &heads, &wc).apiJSON
                }
                d.updatedAt = wc.now
                wc.save(before: before, after: d)
                return d.apiJSON
            }
        }
    }
}
