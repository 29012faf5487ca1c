/// Tags on one order (docs/tags.md): added and removed without replacing the
/// list, so two callers tagging the same order at once both get their tags.
extension OrderService {
    // MARK: orders.add_tags, orders.remove_tags

    /// `{"id", "tags": [..], "expected_version"?}` → the order with the tags it did
    /// not have yet (ignoring case) appended. Event `order.tags_added`; nothing new: no change.
    public func addTags(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try changeTags(request, adding: true)
    }

    /// `{"id", "tags": [..], "expected_version"?}` → the order without those tags
    /// (ignoring case; tags it does not have are ignored). Event `order.tags_removed`.
    public func removeTags(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try changeTags(request, adding: false)
    }

    private func changeTags(_ request: JSON, adding: Bool) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let tags = try Tags.read(&f, "tags", maxCount: Tags.maxPerCall, required: true)!
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        if tags.isEmpty { throw OrderbaseError.invalid("tags must name at least one tag", field: "tags") }
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let old = try loadForWrite(id, &wc, expected: expected)
            var new = old
            new.tags = adding ? Tags.merge(old.tags, adding: tags) : Tags.merge(old.tags, removing: Set(tags.map(Tags.key)))
            if new.tags.count > Tags.maxPerOrder {
                throw OrderbaseError(.limitExceeded, "order \(old.number) would have \(new.tags.count) tags; the limit is \(Tags.maxPerOrder)",
                                     field: "tags", details: .object(["limit": .int(Int64(Tags.maxPerOrder)), "count": .int(Int64(new.tags.count))]))
            }
            return try commitChange(old: old, new: new, type: adding ? "order.tags_added" : "order.tags_removed", reason: nil, &wc)
        }
    }
}
