import OrderbaseStore

/// How events leave a tenant: the engine's transports, callback and options.
struct OutboundConfig: Sendable {
    /// Webhooks and SMS gateways.
    var transport: (any HTTPTransport)?
    /// Email.
    var mail: (any MailTransport)?
    /// The callback channel.
    var notificationHandler: NotificationHandler?
    /// The host's payment handler (`payments.capture`, `refund`, `void`).
    var paymentHandler: PaymentHandler?
    var allowHTTP = false
    var policy = AddressPolicy()
    var connectTimeoutMilliseconds: Int64 = 5000
    var timeoutMilliseconds: Int64 = 15_000
    /// The engine option `tls_ca_file` (nil: the system's trust store).
    var caFile: String?
}

/// The webhook consumer of a tenant's event log, in two steps per pass:
///
/// 1. **Fan-out**: events after the `webhooks` cursor become one delivery per
///    matching enabled endpoint, written in one batch with the cursor, so an
///    event is fanned out exactly once, crash or not.
/// 2. **Attempts**: due deliveries are sent (outside the write lock), and each
///    outcome is written: success, a retry at its scheduled time, or failure.
///    A crash between sending and writing sends again, with the same
///    `webhook-id`: at least once, never lost.
///
/// Per endpoint, one order's deliveries go in sequence order: only the oldest
/// pending one (the head of its `p` queue) is due at a time.
extension WebhookService {
    static let webhookCursor = "webhooks"

    func endpoints() throws(OrderbaseError) -> [WebhookEndpoint] {
        var out: [WebhookEndpoint] = []
        try scan(from: [Keyspace.webhookEndpoint], to: [Keyspace.webhookEndpoint + 1]) { _, v throws(OrderbaseError) in
            out.append(try WebhookEndpoint.decode(Array(v)))
            return true
        }
        return out
    }

    /// The fan-out step (under the consumer's pass lock, which webhooks.delete,
    /// replay and deliveries.retry also take: they change endpoints and queues).
    /// Each consumer has its own per-tenant pass lock, so a notification
    /// callback may call webhook methods (and the reverse cannot happen).
    func webhookFanOutPass() throws(OrderbaseError) -> Int {
        // The log's end first, then the endpoints (under the lock: webhooks.delete changes them under it):
        // an endpoint made after that read is not in the list, and neither are the events after it.
        let bound = try lastEventSequence()
        let endpoints = try endpoints()
        guard !endpoints.isEmpty else { return 0 }
        try fanOut(endpoints, upTo: bound)
        return 0
    }

    /// The attempt step (under the consumer's send lock, not the pass lock, so
    /// a slow endpoint never holds up the methods above): sends what is due and
    /// writes each outcome, unless the delivery moved meanwhile (`record`).
    /// Returns attempts made.
    func webhookSendPass(config: OutboundConfig, limit: Int = 50) throws(OrderbaseError) -> Int {
        guard let transport = config.transport else { return 0 }
        var n = 0
        for id in try dueDeliveries(limit: limit) where try attempt(id, config: config, transport: transport) { n += 1 }
        return n
    }

    /// Makes deliveries for new events, advancing the cursor in the same batch.
    private func fanOut(_ endpoints: [WebhookEndpoint], upTo bound: UInt64) throws(OrderbaseError) {
        let floor = endpoints.map(\.fromSequence).min() ?? 0
        var cursor = max(try self.cursor(Self.webhookCursor), floor)
        while true {
            let events = try events(after: cursor, upTo: bound, limit: 200)
            guard let last = events.last?.0 else { return }
            try write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
                var heads = Set<String>()  // (endpoint, order) queues given a head in this batch
                for (seq, type, _, event) in events {
                    let orderID = event["order_id"]?.stringValue
                    let eventID = event["id"]?.stringValue ?? "evt_\(seq)"
                    // A delivery's failure is news for the other endpoints, not for the one that failed it.
                    let failedEndpoint = type == "webhook_delivery.failed" ? event["data"]?["endpoint_id"]?.stringValue : nil
                    for e in endpoints where e.enabled && seq > e.fromSequence && e.matches(type) && e.id != failedEndpoint {
                        try enqueue(endpoint: e.id, sequence: seq, type: type, orderID: orderID, messageID: eventID, heads: &heads, &wc)
                    }
                }
                wc.setCursor(Self.webhookCursor, last)
            }
            cursor = last
        }
    }

    /// Writes a pending delivery; it is due now when nothing older waits in its queue.
    @discardableResult
    func enqueue(endpoint: String, sequence: UInt64, type: String, orderID: String?, messageID: String,
                 heads: inout Set<String>, _ wc: inout WriteContext) throws(OrderbaseError) -> WebhookDelivery {
        let queue = orderID ?? ""
        let d = WebhookDelivery(id: ids.make("dlv_", at: wc.now), messageID: messageID, endpointID: endpoint, eventSequence: sequence,
                                eventType: type, orderID: orderID, nextAttemptAt: wc.now, createdAt: wc.now, updatedAt: wc.now)
        let pair = endpoint + "\u{0}" + queue
        var waiting = heads.contains(pair)
        if !waiting {
            try scan(from: Keyspace.queuePrefix(endpoint, queue), to: prefixUpperBound(Keyspace.queuePrefix(endpoint, queue))) { _, _ in
                waiting = true
                return false
            }
        }
        var stored = d
        if waiting { stored.nextAttemptAt = nil }  // its turn comes when the one before it ends (`advanceQueue`)
        heads.insert(pair)
        wc.save(before: nil, after: stored)
        return stored
    }

    /// Ids of deliveries due now, oldest due first.
    private func dueDeliveries(limit: Int) throws(OrderbaseError) -> [String] {
        let now = clock.nowMilliseconds()
        var out: [String] = []
        try scan(from: [Keyspace.webhookDue], to: Keyspace.dueKey(now + 1, "")) { k, _ throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            _ = r.uint64()
            guard let id = r.string() else { throw OrderbaseError(.corruption, "bad webhook due key") }
            out.append(id)
            return out.count < limit
        }
        return out
    }

    /// The body of a delivery: Standard Webhooks' {"type", "timestamp", "data"}.
    func webhookPayload(_ d: WebhookDelivery, _ endpoint: WebhookEndpoint) throws(OrderbaseError) -> [UInt8] {
        guard let bytes = try store({ () throws(StoreError) in try database.get(Keyspace.eventKey(d.eventSequence)) }) else {
            throw OrderbaseError(.corruption, "delivery \(d.id) names missing event \(d.eventSequence)")
        }
        guard case .object(let event) = try JSON.parse(bytes) else { throw OrderbaseError(.corruption, "event \(d.eventSequence) is not an object") }
        var data: JSONObject = ["sequence": .int(Int64(d.eventSequence)), "event_id": event["id"] ?? .null]
        for k in ["subject", "order_id", "actor", "reason", "cause"] { if let v = event[k] { data[k] = v } }
        if endpoint.payload == "changes" {
            data["changes"] = event["changes"] ?? .array([])
            if d.eventType == "order.created" { data["order"] = event["order"] ?? .null }
        } else {
            if let o = event["order"] { data["order"] = o }
            if let c = event["changes"] { data["changes"] = c }
        }
        if let extra = event["data"] { data["data"] = extra }
        let payload: JSONObject = ["type": .string(d.eventType), "timestamp": event["at"] ?? .null, "data": .object(data)]
        return JSON.object(payload).bytes
    }

    /// The request for one attempt, signed with every active secret.
    func webhookRequest(_ d: WebhookDelivery, _ endpoint: WebhookEndpoint, body: [UInt8], config: OutboundConfig, now: Int64) -> OutboundRequest {
        let timestamp = now / 1000
        let signature = WebhookSignature.header(id: d.messageID, timestamp: timestamp, body: body, secrets: endpoint.signingSecrets(at: now))
        return OutboundRequest(url: endpoint.url, headers: [
            ("Content-Type", "application/json"), ("webhook-id", d.messageID), ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signature),
        ], body: body, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds, timeoutMilliseconds: config.timeoutMilliseconds,
           addressPolicy: config.policy, caFile: config.caFile)
    }

    /// Sends one due delivery and records the outcome. False when it was not
    /// sent (no longer due, or its endpoint is disabled or gone).
    private func attempt(_ id: String, config: OutboundConfig, transport: any HTTPTransport) throws(OrderbaseError) -> Bool {
        guard let bytes = try store({ () throws(StoreError) in try database.get(Keyspace.deliveryKey(id)) }) else { return false }
        let d = try WebhookDelivery.decode(bytes)
        guard d.status == "pending", let due = d.nextAttemptAt else { return false }
        let endpointBytes = try store { () throws(StoreError) in try database.get(Keyspace.endpointKey(d.endpointID)) }
        guard let endpointBytes else {
            try write(RequestContext.system) { (wc: inout WriteContext) throws(OrderbaseError) in
                try failPendingDeliveries(of: d.endpointID, note: "endpoint deleted", &wc)
            }
            return false
        }
        let endpoint = try WebhookEndpoint.decode(endpointBytes)
        guard endpoint.enabled else { return false }  // waits until the endpoint is enabled again
        let now = clock.nowMilliseconds()
        let body = try webhookPayload(d, endpoint)
        let response = transport.post(webhookRequest(d, endpoint, body: body, config: config, now: now))
        let outcome = WebhookDelivery.Attempt(at: now, statusCode: response.status, latencyMilliseconds: response.latencyMilliseconds,
                                              error: response.error ?? response.status.flatMap { (200..<300).contains($0) ? nil : "HTTP \($0)" },
                                              response: response.bodyPrefix.isEmpty ? nil : response.bodyPrefix)
        try record(d, due: due, outcome: outcome, retryAfter: response.retryAfterSeconds)
        return true
    }

    /// Writes an attempt's outcome: success, the next retry, or failure, and
    /// what it means for the endpoint (410, five days of failures).
    private func record(_ d: WebhookDelivery, due: Int64, outcome: WebhookDelivery.Attempt, retryAfter: Int64?) throws(OrderbaseError) {
        let code = outcome.statusCode ?? 0
        let succeeded = (200..<300).contains(code)
        try write(RequestContext.system) { (wc: inout WriteContext) throws(OrderbaseError) in
            guard let current = try wc.loadIfPresent(WebhookDelivery.self, d.id),
                  current.status == "pending", current.nextAttemptAt == due else { return }  // someone else moved it
            var next = current
            next.attempts.append(outcome)
            next.updatedAt = wc.now
            let endpoint = try wc.loadIfPresent(WebhookEndpoint.self, d.endpointID)
            var retryAt: Int64?
            if !succeeded && code != 410 {
                retryAt = RetrySchedule.next(after: next.attempts.count, now: wc.now, retryAfterSeconds: retryAfter)
            }
            if let retryAt {
                next.nextAttemptAt = retryAt
            } else {
                next.status = succeeded ? "succeeded" : "failed"
                next.nextAttemptAt = nil
                try advanceQueue(after: next, &wc)
            }
            wc.save(before: current, after: next)
            if let before = endpoint {
                var e = before
                var disabledBecause: String?
                if succeeded {
                    e.failingSince = nil
                } else {
                    e.failingSince = e.failingSince ?? wc.now
                    if code == 410 {
                        disabledBecause = "the endpoint answered 410 Gone"
                    } else if wc.now - e.failingSince! >= RetrySchedule.disableAfter {
                        disabledBecause = "every attempt failed for 5 days"
                    }
                }
                var disabled: [UInt8]?
                if let reason = disabledBecause, e.enabled {
                    e.enabled = false
                    e.disabledReason = reason
                    // The event keeps the shape hosts know: {endpoint_id, url, reason} as data.
                    var w = JSONWriter()
                    w.beginObject()
                    w.key("endpoint_id"); w.string(e.id)
                    w.key("url"); w.string(e.url)
                    w.key("reason"); w.string(reason)
                    w.endObject()
                    disabled = w.bytes
                }
                if e.storedJSON != before.storedJSON {
                    // failing_since alone is bookkeeping: written, not audited.
                    e.updatedAt = wc.now
                    wc.commit(disabled == nil ? "webhook_endpoint.updated" : "webhook.endpoint_disabled", before: before, after: e,
                              reason: disabled == nil ? nil : disabledBecause, data: disabled)
                }
            }
        }
    }

    /// Ends pending deliveries of an endpoint as failed, at most `limit` (one write must stay
    /// short: an endpoint that was down for long has thousands), with `note` as a last attempt
    /// (the endpoint is deleted, or was deleted before this version cleaned up): their `p` and
    /// `Q` keys go in the same write. Answers whether some may be left.
    @discardableResult
    func failPendingDeliveries(of endpoint: String, note: String, limit: Int = Job.stepSize, _ wc: inout WriteContext) throws(OrderbaseError) -> Bool {
        var prefix = KeyBuilder(Keyspace.webhookQueue)
        prefix.string(endpoint)
        var pending: [([UInt8], String)] = []
        try scan(from: prefix.bytes, to: prefixUpperBound(prefix.bytes)) { k, _ throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            _ = r.string(); _ = r.string(); _ = r.uint64()
            guard let id = r.string() else { throw OrderbaseError(.corruption, "bad webhook queue key") }
            pending.append((Array(k), id))
            return pending.count < limit
        }
        for (key, id) in pending {
            guard let before = try wc.loadIfPresent(WebhookDelivery.self, id) else { wc.deleteUnread(key); continue }  // a stray queue entry
            var d = before
            d.status = "failed"
            d.nextAttemptAt = nil
            d.updatedAt = wc.now
            d.attempts.append(.init(at: wc.now, statusCode: nil, latencyMilliseconds: 0, error: note, response: nil))
            wc.save(before: before, after: d)
        }
        return pending.count == limit
    }

    /// Makes the delivery after a finished one in its queue due now (the
    /// finished one leaves the queue when it is saved, no longer pending).
    func advanceQueue(after d: WebhookDelivery, _ wc: inout WriteContext) throws(OrderbaseError) {
        let queue = d.orderID ?? ""
        let prefix = Keyspace.queuePrefix(d.endpointID, queue)
        var nextID: String?
        try scan(from: prefix, to: prefixUpperBound(prefix)) { k, _ throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            _ = r.string(); _ = r.string(); _ = r.uint64()
            guard let id = r.string() else { throw OrderbaseError(.corruption, "bad webhook queue key") }
            if id == d.id { return true }
            nextID = id
            return false
        }
        guard let nextID, let before = try wc.loadIfPresent(WebhookDelivery.self, nextID) else { return }
        guard before.status == "pending", before.nextAttemptAt == nil else { return }
        var n = before
        n.nextAttemptAt = wc.now
        wc.save(before: before, after: n)
    }
}

extension RequestContext {
    /// The engine itself (delivery bookkeeping).
    static var system: RequestContext {
        var c = RequestContext()
        c.actor = Actor(type: "system", id: "delivery")
        return c
    }
}

extension EventConsumer {
    /// Webhooks: endpoints' deliveries (docs/webhooks.md).
    static let webhooks = EventConsumer(
        name: WebhookService.webhookCursor,
        hasWork: { (core) throws(OrderbaseError) in try core.count(Keyspace.webhookEndpoint, upTo: 1) > 0 },
        pass: { (core, _) throws(OrderbaseError) in try core.webhooks.webhookFanOutPass() },
        send: { (core, config) throws(OrderbaseError) in try core.webhooks.webhookSendPass(config: config) })
}
