import OrderbaseStore

// The event log as the kernel serves it: the commit signal that wakes consumers, durable cursors, reading events, event-type filters.

/// Wakes consumers once a batch is durable (DESIGN §3, step 5): one
/// process-wide generation counter and condition. A wake-up names no tenant;
/// a consumer that finds nothing new goes back to waiting. Commits signal only
/// while some consumer waits for commits (`listening`): an engine with no
/// subscriptions and no webhook endpoints costs a commit one uncontended lock.
enum CommitSignal {
    private static let lock = Mutex()
    private static let condition = Condition()
    nonisolated(unsafe) private static var generation: UInt64 = 0
    nonisolated(unsafe) private static var listeners = 0

    static func bump() {
        lock.lock()
        generation &+= 1
        let wake = listeners > 0
        lock.unlock()
        if wake { condition.broadcast() }
    }

    static var current: UInt64 { lock.withLock { generation } }

    /// Waits until the generation moves past `seen` (a commit, when
    /// `listening`, or an `interrupt`), or `milliseconds` pass.
    static func wait(after seen: UInt64, milliseconds: Int64, listening: Bool) {
        lock.lock()
        if generation == seen {
            if listening { listeners += 1 }
            condition.wait(lock, milliseconds: milliseconds)
            if listening { listeners -= 1 }
        }
        lock.unlock()
    }

    /// Wakes every waiting consumer without a commit: new work to look at
    /// (a subscription, a webhook endpoint) or an engine closing.
    static func interrupt() {
        lock.withLock { generation &+= 1 }
        condition.broadcast()
    }
}

/// A consumer's place in a tenant's event log, persisted in the tenant's
/// database (`M cursor:<name>`), so a restarted host resumes where it left off.
extension TenantCore {
    static func cursorKey(_ name: String) -> [UInt8] { Keyspace.metaKey("cursor:" + name) }

    /// The last sequence the consumer acknowledged (0: none).
    func cursor(_ name: String) throws(OrderbaseError) -> UInt64 {
        guard let v = try store({ () throws(StoreError) in try database.get(Self.cursorKey(name)) }) else { return 0 }
        guard let n = UInt64(String(decoding: v, as: UTF8.self)) else {
            throw OrderbaseError(.corruption, "consumer cursor \(name) does not decode")
        }
        return n
    }

    /// Records the consumer's acknowledged sequence (durably, in `sync` mode).
    func saveCursor(_ name: String, _ sequence: UInt64) throws(OrderbaseError) {
        try write(RequestContext()) { (wc: inout WriteContext) throws(OrderbaseError) in
            wc.setCursor(name, sequence)
        }
    }

    /// The newest event's sequence (0: none).
    func lastEventSequence() throws(OrderbaseError) -> UInt64 {
        var last: UInt64 = 0
        try scan(from: [Keyspace.event], to: [Keyspace.event + 1], reverse: true) { k, _ in
            var r = KeyReader(Array(k))
            last = r.uint64() ?? 0
            return false
        }
        return last
    }

    /// Up to `limit` events after `sequence`, oldest first: (sequence, type,
    /// the event's bytes, the event parsed once for every consumer's use).
    /// `upTo` stops at a sequence: a consumer that read its configuration
    /// (endpoints, templates) after reading the log's last sequence takes no
    /// event logged after that read, since a configuration made meanwhile
    /// would miss it (the next pass takes it, with the configuration it has then).
    func events(after sequence: UInt64, upTo bound: UInt64 = .max, limit: Int) throws(OrderbaseError) -> [(UInt64, String, [UInt8], JSON)] {
        var out: [(UInt64, String, [UInt8], JSON)] = []
        guard sequence < bound else { return out }
        let end = bound == .max ? [Keyspace.event + 1] : Keyspace.eventKey(bound + 1)
        try scan(from: Keyspace.eventKey(sequence + 1), to: end) { k, v throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            guard let seq = r.uint64() else { throw OrderbaseError(.corruption, "bad event key") }
            let bytes = Array(v)
            guard let event = try? JSON.parse(bytes), let type = event["type"]?.stringValue else {
                throw OrderbaseError(.corruption, "event \(seq) does not decode")
            }
            out.append((seq, type, bytes, event))
            return out.count < limit
        }
        return out
    }
}

/// Event type filters: exact types or wildcards (`order.*`, `*`).
enum EventTypes {
    static func read(_ value: JSON?, field: String) throws(OrderbaseError) -> [String]? {
        guard let value else { return nil }
        guard case .array(let a) = value, a.count <= 100 else {
            throw OrderbaseError.invalid("\(field) must be a list of at most 100 event types", field: field)
        }
        var out: [String] = []
        for (n, e) in a.enumerated() {
            guard case .string(let s) = e, !s.isEmpty, s.utf8.count <= 128,
                  s.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2A }) else {
                throw OrderbaseError.invalid("\(field)[\(n)] must be an event type like \"order.created\" or \"order.*\"", field: "\(field)[\(n)]")
            }
            out.append(s)
        }
        return out
    }
}
