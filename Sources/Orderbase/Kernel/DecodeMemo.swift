import OrderbaseStore

/// Decoded records of one kind, each kept with the stored bytes it was decoded
/// from, for kinds the write path reads on every order (an inventory item and
/// its levels, read by each order that commits the SKU): a read whose bytes
/// equal the kept ones skips the decoding. It can never answer a stale record,
/// since a hit needs the bytes read now; `save` keeps what it writes, so the
/// next read of a level an order just committed is a hit.
/// Bounded: at `capacity` entries it starts again empty.
final class DecodeMemo<R: KeyedRecord>: @unchecked Sendable {
    private let lock = Mutex()
    private var entries: [String: (bytes: [UInt8], record: R)] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// `bytes` (the record stored under `id`) decoded, from the memo when it has those bytes.
    func decode(_ id: String, _ bytes: [UInt8]) throws(OrderbaseError) -> R {
        if let hit = lock.withLock({ entries[id] }), hit.bytes == bytes { return hit.record }
        let r = try R.decode(bytes)
        keep(id, bytes, r)
        return r
    }

    /// Keeps `record` as the decoding of `bytes` (its stored form).
    func keep(_ id: String, _ bytes: [UInt8], _ record: R) {
        lock.withLock {
            if entries.count >= capacity, entries[id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[id] = (bytes, record)
        }
    }
}
