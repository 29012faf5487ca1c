import OrderbaseStore

/// `transfers.*` (docs/inventory.md, "Transfers"): stock sent from one
/// location to another leaves the source's `on_hand` (it must be available
/// there) and arrives as the destination's `incoming`; receiving moves it to
/// `on_hand` there, which may release backorders waiting at the destination.
extension InventoryService {
    /// `{"from_location_id", "to_location_id", "lines": [{"sku", "quantity"}], "reference"?, "idempotency_key"?}`.
    public func createTransfer(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let from = try f.string("from_location_id", maxLength: 64, required: true, allowEmpty: false)!
        let to = try f.string("to_location_id", maxLength: 64, required: true, allowEmpty: false)!
        // A SKU given twice counts once, its quantities added.
        var lines: [Transfer.Line] = []
        for l in try readTransferLines(&f, required: true)! {
            if let k = lines.firstIndex(where: { $0.sku == l.sku }) { lines[k].quantity += l.quantity } else { lines.append(l) }
        }
        let reference = try f.string("reference", maxLength: 255, allowEmpty: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        return try idempotent("transfers.create", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            guard from != to else {
                throw OrderbaseError(.invalidState, "a transfer goes from one location to another, not to \(to) itself", field: "to_location_id",
                                     details: .object(["reason": .string("same_location")]))
            }
            var t = Transfer.blank
            t.id = core.ids.make("trf_", at: wc.now)
            var batch = StockBatch(reason: "transfer", reference: "transfer:" + t.id, actor: ctx.actor)
            for (n, l) in lines.enumerated() {
                var source = try batch.level(l.sku, at: from, field: "from_location_id", &wc, createItem: true)
                guard source.available >= l.quantity else {
                    throw OrderbaseError(.invalidState, "\(l.sku) at \(from) has \(source.available) available, fewer than \(l.quantity)",
                                         field: "lines[\(n)].quantity",
                                         details: .object(["reason": .string("insufficient_quantity"), "name": .string("available"), "actual": .int(source.available)]))
                }
                try batch.move(&source, "on_hand", by: -l.quantity, field: "lines[\(n)].quantity", &wc)
                var target = try batch.level(l.sku, at: to, field: "to_location_id", &wc, createItem: true)
                try batch.move(&target, "incoming", by: l.quantity, field: "lines[\(n)].quantity", &wc)
            }
            t.fromLocationID = from
            t.toLocationID = to
            t.lines = lines
            t.reference = reference
            t.createdAt = wc.now
            t.updatedAt = wc.now
            batch.finish(&wc)
            wc.commit("transfer.created", before: nil, after: t)
            return t.apiJSON
        }
    }

    /// `{"id", "lines"?: [{"sku", "quantity"}], "idempotency_key"?}`: what arrived
    /// (default: everything still on its way) moves from `incoming` to `on_hand`
    /// at the destination.
    public func receiveTransfer(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        let lines = try readTransferLines(&f, required: false)
        let idem = try f.string("idempotency_key", maxLength: 255, allowEmpty: false)
        try f.finish()
        return try idempotent("transfers.receive", request, key: idem, ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let before = try wc.load(Transfer.self, id)
            guard before.status != "received" else {
                throw OrderbaseError(.invalidState, "transfer \(id) is received in full", field: "id", details: .object(["reason": .string("nothing_left")]))
            }
            var after = before
            var batch = StockBatch(reason: "transfer", reference: "transfer:" + id, actor: ctx.actor)
            let wanted = lines ?? before.lines.filter { $0.received < $0.quantity }.map { Transfer.Line(sku: $0.sku, quantity: $0.quantity - $0.received) }
            for (n, w) in wanted.enumerated() {
                guard let k = after.lines.firstIndex(where: { $0.sku == w.sku }) else {
                    throw OrderbaseError(.notFound, "transfer \(id) carries no \(w.sku)", field: "lines[\(n)].sku")
                }
                let left = after.lines[k].quantity - after.lines[k].received
                guard w.quantity <= left else {
                    throw OrderbaseError(.invalidState, "transfer \(id) has \(left) of \(w.sku) left to receive, fewer than \(w.quantity)",
                                         field: "lines[\(n)].quantity", details: .object(["reason": .string("insufficient_quantity"), "actual": .int(left)]))
                }
                after.lines[k].received += w.quantity
                var level = try batch.level(w.sku, at: before.toLocationID, field: "id", &wc, createItem: true)
                try batch.move(&level, "incoming", by: -w.quantity, field: "lines[\(n)].quantity", &wc)
                try batch.move(&level, "on_hand", by: w.quantity, field: "lines[\(n)].quantity", &wc)
            }
            after.status = after.lines.allSatisfy { $0.received == $0.quantity } ? "received" : "partially_received"
            after.updatedAt = wc.now
            try releaseBackorders(&batch, &wc)
            batch.finish(&wc)
            wc.commit("transfer.received", before: before, after: after)
            return after.apiJSON
        }
    }

    public func getTransfer(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(Transfer.self, request) }

    /// `{"status"?, "limit"?, "starting_after"?}`: newest first.
    public func listTransfers(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let status = try f.oneOf("status", Transfer.statuses)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        return try newestFirst(Transfer.self, after: after, limit: limit, keep: { t in status == nil || t.status == status })
    }

    /// `lines`: 1 to 500 of `{"sku", "quantity"}`.
    private func readTransferLines(_ f: inout Fields, required: Bool) throws(OrderbaseError) -> [Transfer.Line]? {
        let lines: [Transfer.Line]? = try f.objects("lines", maxCount: 500, required: required) { (g: inout Fields) throws(OrderbaseError) -> Transfer.Line in
            let line = Transfer.Line(sku: try Self.readSKU(&g), quantity: try g.int("quantity", in: 1...InventoryLevel.maxQuantity, required: true)!)
            try g.finish()
            return line
        }
        if let lines, lines.isEmpty { throw OrderbaseError.invalid("lines must name at least one SKU", field: "lines") }
        return lines
    }
}
