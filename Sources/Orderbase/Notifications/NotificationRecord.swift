/// One message to one recipient: the notification log's entry (who, what,
/// when, status), rendered when the event was fanned out (or at
/// `notifications.send`), so it shows exactly what was sent.
struct NotificationRecord: Sendable, KeyedRecord {
    static let statuses = ["pending", "sent", "failed", "skipped"]
    static let kind = RecordKind.notification
    static let noun = "notification"
    static func key(_ id: String) -> [UInt8] { Keyspace.notificationKey(id) }
    var subjectID: String { id }
    var storedJSON: [UInt8] { json }

    var id: String
    var templateID: String
    var channelID: String
    var channelType: String
    /// nil for a manual send.
    var eventSequence: UInt64?
    var eventType: String
    var orderID: String?
    var recipientType: String
    var recipient: String?
    var subject: String?
    var text: String?
    var html: String?
    var body: String?
    var status = "pending"
    /// Why it was skipped or failed without an attempt (no address, a render error…).
    var note: String?
    var attempts: [WebhookDelivery.Attempt] = []
    var nextAttemptAt: Int64?
    var sentAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    /// Its index entries: due while it has a next attempt, and by order.
    var indexKeys: [[UInt8]] {
        var keys: [[UInt8]] = []
        if let due = nextAttemptAt { keys.append(Keyspace.notificationDueKey(due, id)) }
        if let orderID { keys.append(Keyspace.notificationOrderKey(orderID, id)) }
        return keys
    }

    func write(_ w: inout JSONWriter, tenant: String? = nil) {
        w.beginObject()
        w.key("id"); w.string(id)
        if let tenant { w.key("tenant"); w.string(tenant) }
        w.key("template_id"); w.string(templateID)
        w.key("channel_id"); w.string(channelID)
        w.key("channel_type"); w.string(channelType)
        w.key("event_sequence"); if let s = eventSequence { w.int(Int64(s)) } else { w.null() }
        w.key("event_type"); w.string(eventType)
        w.key("order_id"); w.optionalString(orderID)
        w.key("recipient"); w.beginObject()
        w.key("type"); w.string(recipientType)
        w.key("address"); w.optionalString(recipient)
        w.endObject()
        w.key("subject"); w.optionalString(subject)
        w.key("text"); w.optionalString(text)
        w.key("html"); w.optionalString(html)
        w.key("body"); w.optionalString(body)
        w.key("status"); w.string(status)
        w.key("note"); w.optionalString(note)
        w.key("attempts"); w.beginArray()
        for a in attempts { a.write(&w) }
        w.endArray()
        w.key("next_attempt_at"); if let n = nextAttemptAt { w.timestamp(n) } else { w.null() }
        w.key("sent_at"); if let s = sentAt { w.timestamp(s) } else { w.null() }
        w.key("created_at"); w.timestamp(createdAt)
        w.key("updated_at"); w.timestamp(updatedAt)
        w.endObject()
    }

    var json: [UInt8] {
        var w = JSONWriter()
        write(&w)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> NotificationRecord {
        do throws(OrderbaseError) {
            var f = try Fields(try JSON.parse(bytes))
            let big = Int.max
            var r = NotificationRecord(
                id: try f.string("id", required: true)!, templateID: try f.string("template_id", required: true)!,
                channelID: try f.string("channel_id", required: true)!, channelType: try f.string("channel_type", required: true)!,
                eventSequence: try f.int("event_sequence", in: 0...Int64.max).map(UInt64.init),
                eventType: try f.string("event_type", maxLength: big, required: true)!, orderID: try f.string("order_id"),
                recipientType: "", createdAt: try f.timestamp("created_at") ?? 0, updatedAt: try f.timestamp("updated_at") ?? 0)
            if var g = try f.object("recipient") {
                r.recipientType = try g.string("type", required: true)!
                r.recipient = try g.string("address", maxLength: big)
            }
            r.subject = try f.string("subject", maxLength: big)
            r.text = try f.string("text", maxLength: big)
            r.html = try f.string("html", maxLength: big)
            r.body = try f.string("body", maxLength: big)
            r.status = try f.string("status", required: true)!
            r.note = try f.string("note", maxLength: big)
            r.attempts = try f.objects("attempts", maxCount: big, WebhookDelivery.Attempt.read) ?? []
            r.nextAttemptAt = try f.timestamp("next_attempt_at")
            r.sentAt = try f.timestamp("sent_at")
            return r
        } catch {
            throw OrderbaseError(.corruption, "stored notification does not decode: \(error.message)")
        }
    }
}
