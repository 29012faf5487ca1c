/// `orders.hold` and `orders.release_hold`: holds stop an order's status
/// from changing (a suspected fraud, an address to check, stock to arrive)
/// until each is released. Several can stand at once.
extension OrderService {
    /// Refuses a status change while holds stand, listing them.
    static func checkNoHolds(_ order: Order, to target: String) throws(OrderbaseError) {
        guard !order.holds.isEmpty else { return }
        let reasons = order.holds.map(\.reason)
        throw OrderbaseError(.onHold, "order \(order.number) is on hold (\(reasons.joined(separator: ", "))); release the holds before it goes to \(target)",
                             field: "id", details: .object(["holds": .array(order.holds.map(\.json)), "to": .string(target)]))
    }

    // MARK: orders.hold

    /// `{"id", "reason", "note"?, "expected_version"?}` → the order with the new hold. Event `order.held`.
    public func holdOrder(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let reason = try f.oneOf("reason", Hold.reasons, required: true)!
        let note = try f.string("note", maxLength: 1000)
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let old = try loadForWrite(id, &wc, expected: expected)
            if old.isFinal {
                throw OrderbaseError(.invalidState, "order \(old.number) is \(old.status); a closed order cannot be held", field: "id")
            }
            guard old.holds.count < 20 else { throw OrderbaseError.quota("holds", limit: 20, "an order has at most 20 holds", field: "id") }
            var new = old
            new.holds.append(Hold(id: ids.make("hold_", at: wc.now), reason: reason, note: note, placedAt: wc.now, placedBy: ctx.actor))
            return try commitChange(old: old, new: new, type: "order.held", reason: note ?? reason, &wc)
        }
    }

    // MARK: orders.release_hold

    /// `{"id", "hold_id", "note"?, "expected_version"?}` → the order without that hold. Event `order.hold_released`.
    public func releaseHold(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let holdID = try f.string("hold_id", maxLength: 64, required: true)!
        let note = try f.string("note", maxLength: 1000)
        let expected = try f.int("expected_version", in: 1...Int64.max)
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let old = try loadForWrite(id, &wc, expected: expected)
            guard let n = old.holds.firstIndex(where: { $0.id == holdID }) else {
                throw OrderbaseError(.notFound, "order \(old.number) has no hold \(holdID)", field: "hold_id")
            }
            var new = old
            let released = new.holds.remove(at: n)
            return try commitChange(old: old, new: new, type: "order.hold_released", reason: note ?? released.reason, &wc)
        }
    }
}
