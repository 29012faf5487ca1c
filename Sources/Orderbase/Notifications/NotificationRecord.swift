/// A notification: one message to one recipient (its fields:
/// `NotificationRecord+Fields.generated.swift`, declared in Tools/codegen/record_fields.py).
extension NotificationRecord: KeyedRecord {
    static let statuses = ["pending", "sent", "failed", "skipped"]
    static let kind = RecordKind.notification
    static let noun = "notification"
    static func key(_ id: String) -> [UInt8] { Keyspace.notificationKey(id) }
    var subjectID: String { id }
    var storedJSON: [UInt8] { json }

    /// Its index entries: due while it has a next attempt, and by order.
    var indexKeys: [[UInt8]] {
        var keys: [[UInt8]] = []
        if let due = nextAttemptAt { keys.append(Keyspace.notificationDueKey(due, id)) }
        if let orderID { keys.append(Keyspace.notificationOrderKey(orderID, id)) }
        return keys
    }

    var json: [UInt8] {
        var w = JSONWriter()
        write(&w)
        return w.bytes
    }
}
