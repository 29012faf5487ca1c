/// A webhook delivery (its fields: `WebhookDelivery+Fields.generated.swift`,
/// declared in Tools/codegen/record_fields.py).
extension WebhookDelivery {
    /// `webhook_delivery.failed` when it ends failed (docs/webhooks.md).
    func failureEvent(before: WebhookDelivery?) -> (type: String, data: [UInt8])? {
        FailureEvents.on("webhook_delivery.failed", status: status, before: before?.status, madeFor: eventType, data: apiJSON)
    }

    struct Attempt: Sendable {
        var at: Int64
        var statusCode: Int?
        var latencyMilliseconds: Int64
        var error: String?
        var response: String?

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("at"); w.timestamp(at)
            w.key("status_code"); if let c = statusCode { w.int(Int64(c)) } else { w.null() }
            w.key("latency_ms"); w.int(latencyMilliseconds)
            w.key("error"); w.optionalString(error)
            w.key("response"); w.optionalString(response)
            w.endObject()
        }

        static func read(_ g: inout Fields) throws(OrderbaseError) -> Attempt {
            Attempt(at: try g.timestamp("at") ?? 0, statusCode: try g.int("status_code", in: 0...999).map(Int.init),
                    latencyMilliseconds: try g.int("latency_ms", in: 0...Int64.max) ?? 0,
                    error: try g.string("error", maxLength: Int.max), response: try g.string("response", maxLength: Int.max))
        }
    }

    static let statuses = ["pending", "succeeded", "failed"]

    /// Its index entries: its endpoint's (`deliveries.list` by endpoint; since schema 3), due while it
    /// has a next attempt, and its place in its endpoint's per-order queue while pending.
    var indexKeys: [[UInt8]] {
        var keys: [[UInt8]] = [Keyspace.indexKey(.webhookDelivery, "endpoint_id", endpointID, id)]
        // An order's deliveries, for its timeline, and deliveries by status, for deliveries.list (schema 4).
        if let orderID { keys.append(Keyspace.indexKey(.webhookDelivery, "order_id", orderID, id)) }
        keys.append(Keyspace.indexKey(.webhookDelivery, "status", status, id))
        if let due = nextAttemptAt { keys.append(Keyspace.dueKey(due, id)) }
        if status == "pending" { keys.append(Keyspace.queueKey(endpointID, orderID ?? "", eventSequence, id)) }
        return keys
    }
}

/// The Standard Webhooks retry schedule: after the first attempt (at once),
/// retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after each
/// failure, each plus up to 10% jitter. Ten attempts in all.
enum RetrySchedule {
    static let delays: [Int64] = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400].map { $0 * 1000 }
    static var attempts: Int { delays.count + 1 }
    /// An endpoint whose attempts have failed this long with no success is disabled.
    static let disableAfter: Int64 = 5 * 86_400_000

    /// When to try again after the `failed`-th failed attempt (nil: give up).
    static func next(after failed: Int, now: Int64, retryAfterSeconds: Int64?) -> Int64? {
        guard failed >= 1, failed <= delays.count else { return nil }
        let base = delays[failed - 1]
        var at = now + base + Int64.random(in: 0...(base / 10))
        if let r = retryAfterSeconds { at = max(at, now + min(r, 86_400) * 1000) }
        return at
    }
}
