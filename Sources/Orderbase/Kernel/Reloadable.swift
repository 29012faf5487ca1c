import OrderbaseStore

/// A value loaded from the tenant's database and kept in memory until a write
/// changes what it was loaded from (custom field definitions, SLA policies).
///
/// Scans read what is durable, and a batch is staged before it is: a load that
/// ran between a change's staging and its durability could cache the value
/// without the change. So a change invalidates twice — when staged and when
/// durable (`invalidate(when:)`) — and a load only keeps its result if no
/// invalidation came while it ran (a generation count).
final class Reloadable<T: Sendable>: @unchecked Sendable {
    private let lock = Mutex()
    private var value: T?
    private var generation: UInt64 = 0

    /// The kept value, or `load`'s (kept unless an invalidation came meanwhile).
    func get(_ load: () throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
        let (kept, seen) = lock.withLock { (value, generation) }
        if let kept { return kept }
        let v = try load()
        lock.withLock { if generation == seen { value = v } }
        return v
    }

    func invalidate() { lock.withLock { value = nil; generation &+= 1 } }

    /// Drops the value when `wc`'s batch is staged and again when it is durable.
    func invalidate(when wc: inout WriteContext) {
        wc.onStaged.append { [self] in invalidate() }
        wc.onDurable.append { [self] in invalidate() }
    }
}
