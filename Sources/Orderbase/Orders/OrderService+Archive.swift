/// Archiving (docs/methods.md, "orders.archive"): an archived order leaves the
/// default `orders.list` but stays readable (`orders.get`, `include_archived`),
/// editable and exportable; nothing else about it changes.
extension OrderService {
    // MARK: orders.archive, orders.unarchive

    /// `{"id", "expected_version"?}` → the order with `archived_at` set. Event `order.archived`.
    /// Archiving an archived order changes nothing and answers it as it is.
    public func archiveOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try setArchived(request, true)
    }

    /// `{"id", "expected_version"?}` → the order with `archived_at` null. Event `order.unarchived`.
    /// Unarchiving an order that is not archived changes nothing.
    public func unarchiveOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try setArchived(request, false)
    }

    private func setArchived(_ request: JSON, _ archived: Bool) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let old = try loadForWrite(id, &wc, expected: expected)
            var new = old
            if archived { new.archivedAt = old.archivedAt ?? wc.now } else { new.archivedAt = nil }
            return try commitChange(old: old, new: new, type: archived ? "order.archived" : "order.unarchived", reason: nil, &wc)
        }
    }
}

extension Order {
    /// Whether a stored order record is archived, without decoding it (for
    /// `orders.list`, which otherwise copies records as they are stored).
    /// `archived_at` is the last field an order renders (Tools/codegen/order_fields.py;
    /// a test holds it there), so an archived record ends with
    /// `"archived_at":"<timestamp>"}`; one that is not ends with `"archived_at":null}`,
    /// and one stored by an earlier release ends with another field.
    static func storedIsArchived(_ record: [UInt8]) -> Bool {
        let quote = UInt8(ascii: "\"")
        var end = record.count - 1
        guard end >= 1, record[end] == UInt8(ascii: "}"), record[end - 1] == quote else { return false }
        end -= 1  // the closing quote of the last value
        var open = end - 1
        while open >= 0 && record[open] != quote { open -= 1 }  // a timestamp holds no quotes
        let key = Self.archivedAtKey
        guard open >= key.count - 1 else { return false }
        return record[(open + 1 - key.count)...open].elementsEqual(key)
    }

    private static let archivedAtKey = Array(#""archived_at":""#.utf8)
}
