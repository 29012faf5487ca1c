/// One event on its way to one endpoint, with every attempt.
struct WebhookDelivery: Sendable, KeyedRecord {
    static let kind = RecordKind.webhookDelivery
    static let noun = "delivery"
    static func key(_ id: String) -> [UInt8] { Keyspace.deliveryKey(id) }
    var subjectID: String { id }
    var storedJSON: [UInt8] { json }

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

    var id: String
    /// The `webhook-id` header: the event's id, the same on every attempt.
    var messageID: String
    var endpointID: String
    var eventSequence: UInt64
    var eventType: String
    var orderID: String?
    var status = "pending"
    var attempts: [Attempt] = []
    var nextAttemptAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    /// Its index entries: due while it has a next attempt, and its place in
    /// its endpoint's per-order queue while pending.
    var indexKeys: [[UInt8]] {
        var keys: [[UInt8]] = []
        if let due = nextAttemptAt { keys.append(Keyspace.dueKey(due, id)) }
        if status == "pending" { keys.append(Keyspace.queueKey(endpointID, orderID ?? "", eventSequence, id)) }
        return keys
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("message_id"); w.string(messageID)
        w.key("endpoint_id"); w.string(endpointID)
        w.key("event_sequence"); w.int(Int64(eventSequence))
        w.key("event_type"); w.string(eventType)
        w.key("order_id"); w.optionalString(orderID)
        w.key("status"); w.string(status)
        w.key("attempts"); w.beginArray()
        for a in attempts { a.write(&w) }
        w.endArray()
        w.key("next_attempt_at"); if let n = nextAttemptAt { w.timestamp(n) } else { w.null() }
        w.key("created_at"); w.timestamp(createdAt)
        w.key("updated_at"); w.timestamp(updatedAt)
        w.endObject()
    }

    var json: [UInt8] {
        var w = JSONWriter()
        write(&w)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> WebhookDelivery {
        do throws(OrderbaseError) {
            var f = try Fields(try JSON.parse(bytes))
            var d = WebhookDelivery(
                id: try f.string("id", required: true)!, messageID: try f.string("message_id", required: true)!,
                endpointID: try f.string("endpoint_id", required: true)!,
                eventSequence: UInt64(try f.int("event_sequence", in: 0...Int64.max, required: true)!),
                eventType: try f.string("event_type", maxLength: Int.max, required: true)!, orderID: try f.string("order_id"),
                createdAt: try f.timestamp("created_at") ?? 0, updatedAt: try f.timestamp("updated_at") ?? 0)
            d.status = try f.string("status", required: true)!
            d.attempts = try f.objects("attempts", maxCount: Int.max, Attempt.read) ?? []
            d.nextAttemptAt = try f.timestamp("next_attempt_at")
            return d
        } catch {
            throw OrderbaseError(.corruption, "stored webhook delivery does not decode: \(error.message)")
        }
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
