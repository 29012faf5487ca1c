/// `consumers.list`: the kernel's consumers and timers, as the audit capability shows them.
extension AuditService {
    // MARK: consumers.list

    /// `{}` → every consumer of the event log with its cursor and lag, and the scheduler's timers.
    public func listConsumers(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try Fields.request(request).0.finish()
        let (positions, last) = try core.consumerPositions()
        let timers = try core.timerSummary()
        var w = JSONWriter()
        w.beginObject()
        w.key("data"); w.beginArray()
        for p in positions {
            w.beginObject()
            w.key("name"); w.string(p.name)
            w.key("kind"); w.string(p.kind)
            w.key("active"); w.bool(p.active)
            w.key("cursor"); w.int(Int64(p.cursor))
            w.key("lag"); w.int(Int64(p.lag))
            w.endObject()
        }
        w.endArray()
        w.key("has_more"); w.bool(false)
        w.key("last_sequence"); w.int(Int64(last))
        w.key("timers"); w.beginObject()
        w.key("pending"); w.int(Int64(timers.pending))
        w.key("next_due_at"); if let d = timers.nextDue { w.timestamp(d) } else { w.null() }
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
