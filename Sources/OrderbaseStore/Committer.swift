/// Bytes as a dictionary key, hashed in one call (Array<UInt8>'s own
/// `hash(into:)` feeds the hasher one byte at a time).
public struct KeyBytes: Hashable, Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }
}

/// The set of puts and deletes one command writes, in order.
public struct Mutation: Sendable {
    /// `readable`: the write path may read this key back before it is durable,
    /// so the committer keeps it in its overlay. Keys nobody reads inside a
    /// command (indexes, events, audit entries) pass `false` and skip the
    /// overlay's hashing; the default is the safe one.
    public private(set) var ops: [(key: [UInt8], value: [UInt8]?, readable: Bool)] = []
    public private(set) var byteCount = 0
    public init() { ops.reserveCapacity(16) }
    public mutating func put(_ key: [UInt8], _ value: [UInt8], readable: Bool = true) {
        ops.append((key, value, readable))
        byteCount += key.count + value.count
    }
    public mutating func delete(_ key: [UInt8], readable: Bool = true) {
        ops.append((key, nil, readable))
        byteCount += key.count
    }
    public var isEmpty: Bool { ops.isEmpty }
}

/// Group commit with read-your-pending-writes.
///
/// The domain computes a command under its tenant write lock and `stage`s the
/// resulting mutation: it is queued in lock order and its keys become visible
/// to `read` (the write path's reads) at once, so the next command can build on
/// it before it is on disk. The caller then leaves the lock and calls
/// `waitDurable`: the first waiter becomes the leader, merges every queued
/// mutation into ONE LevelDB WriteBatch and writes it with one fsync, so
/// concurrent writers share a sync while sequence order is kept (LevelDB's own
/// group commit cannot help here: a writer holding the domain lock across a
/// synced write would serialize every fsync).
///
/// If a write fails, the committer enters a failed state: every pending and
/// later command fails with the error (as LevelDB does with a background
/// error), because staged commands may have built on the lost one. Reopen the
/// tenant to recover.
public final class Committer: @unchecked Sendable {
    public let database: Database
    public let sync: Bool
    private let lock = Mutex()
    private let cond = Condition()
    /// Staged mutations in ticket order, each already encoded as a LevelDB batch
    /// by its own thread, so the leader only concatenates (one memcpy each).
    private var queue: [(ticket: UInt64, mutation: Mutation, batch: WriteBatch)] = []
    private var overlay: [KeyBytes: (ticket: UInt64, value: [UInt8]?)] = [:]
    private var nextTicket: UInt64 = 1
    private var durable: UInt64 = 0
    private var leaderActive = false
    private var failure: StoreError?

    public init(database: Database, sync: Bool) {
        self.database = database
        self.sync = sync
    }

    /// Queues a mutation; returns its ticket for `waitDurable`.
    public func stage(_ mutation: Mutation) throws(StoreError) -> UInt64 {
        let batch = WriteBatch()
        for op in mutation.ops {
            if let v = op.value { batch.put(op.key, v) } else { batch.delete(op.key) }
        }
        return try lock.withLock { () throws(StoreError) -> UInt64 in
            if let failure { throw StoreError(.failedState, "tenant database failed earlier (\(failure.message)); reopen it") }
            let t = nextTicket
            nextTicket += 1
            for op in mutation.ops where op.readable { overlay[KeyBytes(op.key)] = (t, op.value) }
            queue.append((t, mutation, batch))
            return t
        }
    }

    /// The newest value of `key` including staged, not yet durable writes
    /// (for keys staged with `readable: true`).
    public func read(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        let pending = lock.withLock { overlay[KeyBytes(key)] }
        if let pending { return pending.value }
        return try database.get(key)
    }

    /// Returns once the mutation with `ticket` is written (and synced in sync mode).
    public func waitDurable(_ ticket: UInt64) throws(StoreError) {
        lock.lock()
        while true {
            if ticket <= durable {
                lock.unlock()
                return
            }
            if let failure {
                lock.unlock()
                throw failure
            }
            if leaderActive {
                cond.wait(lock)
                continue
            }
            leaderActive = true
            let group = queue
            queue.removeAll(keepingCapacity: true)
            lock.unlock()

            let batch: WriteBatch
            if group.count == 1 {
                batch = group[0].batch
            } else {
                batch = WriteBatch()
                for entry in group { batch.append(entry.batch) }
            }
            var writeError: StoreError?
            do { try database.write(batch, sync: sync) } catch { writeError = error }

            lock.lock()
            leaderActive = false
            if let writeError {
                failure = writeError
            } else if let last = group.last {
                durable = last.ticket
                for entry in group {
                    for op in entry.mutation.ops where op.readable {
                        let k = KeyBytes(op.key)
                        if let o = overlay[k], o.ticket <= durable { overlay[k] = nil }
                    }
                }
            }
            cond.broadcast()
        }
    }

    /// Stage and wait: the whole write path of one command after computing it.
    public func commit(_ mutation: Mutation) throws(StoreError) {
        try waitDurable(try stage(mutation))
    }
}
