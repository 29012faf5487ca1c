import OrderbaseStore

/// A consumer of a tenant's event log (DESIGN §8): a durable cursor
/// (`M cursor:<name>`), a cheap check for work, and a pass. The engine's
/// delivery thread and `orderbase_engine_pump` run every registered consumer
/// for every tenant the engine holds open; a capability that reacts to events
/// adds one here instead of a thread or a pass of its own.
struct EventConsumer: Sendable {
    /// Its cursor's name, and its name in `consumers.list` and `/metrics`.
    let name: String
    /// Whether the tenant has anything for it (read-only and cheap: it runs
    /// after every commit while the engine listens).
    let hasWork: @Sendable (TenantCore) throws(OrderbaseError) -> Bool
    /// One pass: handle new events and what is due; returns the work done
    /// (attempts made). Passes of one consumer on one tenant never overlap.
    let pass: @Sendable (TenantCore, OutboundConfig) throws(OrderbaseError) -> Int
    /// Sending, when the consumer keeps it apart from its pass: it runs after the
    /// pass under a lock of its own (`sendLock`), so methods that take the pass
    /// lock (webhooks.delete, replay, retry) never wait on the network.
    var send: (@Sendable (TenantCore, OutboundConfig) throws(OrderbaseError) -> Int)? = nil

    /// Every consumer, in the order a pass runs them.
    static let registry: [EventConsumer] = [.webhooks, .notifications]
}

extension TenantCore {
    /// One pass of every registered consumer that has work; returns the work done.
    /// A tenant known to have none (cached, see `outboundSeen`) costs one lock.
    func runConsumers() throws(OrderbaseError) -> Int {
        let seen = outboundSeen
        if seen.present == false { return 0 }
        let config = outboundConfig
        var done = 0, any = false
        var firstError: OrderbaseError?
        for c in EventConsumer.registry {
            do {
                guard try c.hasWork(self) else { continue }
                any = true
                done += try passLock(c.name).withLock { () throws(OrderbaseError) -> Int in try c.pass(self, config) }
                if let send = c.send {
                    done += try sendLock(c.name).withLock { () throws(OrderbaseError) -> Int in try send(self, config) }
                }
            } catch {
                // One consumer's trouble must not stop the others.
                any = true
                firstError = firstError ?? error
            }
        }
        if !any { noOutbound(asOf: seen.epoch) }
        if done == 0, let firstError { throw firstError }
        return done
    }
}

extension TenantCore {
    /// A consumer's position: its cursor and how many events it is behind.
    struct ConsumerPosition {
        let name: String
        /// `engine` (a registered consumer) or `subscription` (a host's).
        let kind: String
        /// Whether it has anything to consume here (registered consumers:
        /// endpoints or templates exist; subscriptions: always).
        let active: Bool
        let cursor: UInt64
        let lag: UInt64
    }

    /// Every registered consumer and every host subscription cursor of the tenant.
    func consumerPositions() throws(OrderbaseError) -> (positions: [ConsumerPosition], last: UInt64) {
        let last = try lastEventSequence()
        var out: [ConsumerPosition] = []
        for c in EventConsumer.registry {
            let cursor = try self.cursor(c.name)
            out.append(ConsumerPosition(name: c.name, kind: "engine", active: try c.hasWork(self), cursor: cursor,
                                        lag: last > cursor ? last - cursor : 0))
        }
        // Host subscriptions' cursors: `M cursor:subscription:<name>`.
        let prefix = [Keyspace.meta] + Array("cursor:subscription:".utf8)
        var subs: [(String, UInt64)] = []
        try scan(from: prefix, to: prefixUpperBound(prefix)) { k, v throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            guard let full = r.string(), let n = UInt64(String(decoding: Array(v), as: UTF8.self)) else {
                throw OrderbaseError(.corruption, "a subscription cursor does not decode")
            }
            subs.append((String(full.dropFirst("cursor:".count)), n))
            return true
        }
        for (name, cursor) in subs {
            out.append(ConsumerPosition(name: name, kind: "subscription", active: true, cursor: cursor, lag: last > cursor ? last - cursor : 0))
        }
        return (out, last)
    }
}
