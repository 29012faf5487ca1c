/// A notification: one message to one recipient (its fields:
/// `NotificationRecord+Fields.generated.swift`, declared in Tools/codegen/record_fields.py).
extension NotificationRecord {
    /// `notification.failed` when it ends failed (docs/notifications.md).
    func failureEvent(before: NotificationRecord?) -> (type: String, data: [UInt8])? {
        FailureEvents.on("notification.failed", status: status, before: before?.status, madeFor: eventType, data: apiJSON)
    }

    static let statuses = ["pending", "sent", "failed", "skipped"]

    /// Its index entries: due while it has a next attempt, and by order.
    var indexKeys: [[UInt8]] {
        var keys: [[UInt8]] = []
        if let due = nextAttemptAt { keys.append(Keyspace.notificationDueKey(due, id)) }
        if let orderID { keys.append(Keyspace.notificationOrderKey(orderID, id)) }
        return keys
    }
}
