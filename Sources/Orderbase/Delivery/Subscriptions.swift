import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// A host subscription: the tenant's events, in order, handed to a callback
/// in the host's process — at least once, from a durable cursor named by the
/// host, so a restarted host resumes where it left off. A callback that
/// answers non-zero is asked again later (with backoff) from the same event.
public final class Subscription: @unchecked Sendable {
    public typealias Callback = @Sendable (_ event: [UInt8]) -> Int32

    public let tenantID: String
    public let name: String
    public let types: [String]?
    let core: TenantCore
    let key: FileID
    let callback: Callback
    let release: @Sendable () -> Void
    /// Serializes passes and unsubscribe: held while the callback runs.
    let running = Mutex()
    // Guarded by `running`.
    var cursor: UInt64
    var failures = 0
    var retryAt: Int64 = 0
    var active = true

    init(tenantID: String, name: String, types: [String]?, core: TenantCore, key: FileID, cursor: UInt64,
         callback: @escaping Callback, release: @escaping @Sendable () -> Void) {
        self.tenantID = tenantID
        self.name = name
        self.types = types
        self.core = core
        self.key = key
        self.cursor = cursor
        self.callback = callback
        self.release = release
    }

    var cursorName: String { Self.cursorName(name) }
    static func cursorName(_ name: String) -> String { "subscription:" + name }

    /// Backoff after the n-th refusal in a row: 1 s, 2 s, 4 s … at most 60 s.
    static func backoff(_ failures: Int) -> Int64 { min(60_000, 1000 << min(failures - 1, 6)) }

    /// One pass: the events after the cursor, up to `limit`. Returns how many
    /// the callback accepted. Runs with `running` held.
    func pass(now: Int64, limit: Int) throws(OrderbaseError) -> Int {
        guard active, now >= retryAt else { return 0 }
        var delivered = 0
        var position = cursor
        defer {
            if position != cursor {
                // The cursor moves only past events the callback accepted (or
                // that its filter skips): a crash before this write repeats them.
                if (try? core.saveCursor(cursorName, position)) != nil { cursor = position }
            }
        }
        for (seq, type, bytes, _) in try core.events(after: cursor, limit: limit) {
            guard active else { break }
            if let types, !TenantCore.typeMatches(type, types) { position = seq; continue }
            Subscription.current.value = self
            let rc = callback(bytes)
            Subscription.current.value = nil
            if rc != 0 {
                failures += 1
                retryAt = now + Self.backoff(failures)
                break
            }
            failures = 0
            position = seq
            delivered += 1
        }
        return delivered
    }

    /// The subscription whose callback this thread is running (unsubscribing
    /// from inside one's own callback must not wait for itself).
    static let current = ThreadLocal<Subscription>()
}

/// A per-thread reference (not retained: the owner outlives the slot's use).
final class ThreadLocal<T: AnyObject>: @unchecked Sendable {
    private var key = pthread_key_t()
    init() { pthread_key_create(&key, nil) }
    var value: T? {
        get { pthread_getspecific(key).map { Unmanaged<T>.fromOpaque($0).takeUnretainedValue() } }
        set { pthread_setspecific(key, newValue.map { Unmanaged.passUnretained($0).toOpaque() }) }
    }
}

extension Engine {
    static func isSubscriptionName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let f = b.first, (f >= 0x61 && f <= 0x7A) || (f >= 0x30 && f <= 0x39), b.count <= 64 else { return false }
        return b.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }
    }

    /// Subscribes `callback` to the tenant's events (those matching `types`,
    /// all when nil) from the durable cursor `name`. The subscription keeps the
    /// tenant open until `unsubscribe`. Callbacks run on the engine's delivery
    /// thread, or on the thread calling `pump` when the engine was opened with
    /// `"background": false`; `release` runs once no callback can run any more.
    public func subscribe(_ tenant: Tenant, name: String, types: [String]?, callback: @escaping Subscription.Callback,
                          release: @escaping @Sendable () -> Void) throws(OrderbaseError) -> Subscription {
        guard Self.isSubscriptionName(name) else {
            throw OrderbaseError.invalid("name must be 1 to 64 lowercase letters, digits, '_', '-' or '.', starting with a letter or digit", field: "name")
        }
        let types = try EventTypes.read(types.map { .array($0.map { .string($0) }) }, field: "event_types")
        guard let tenantID = tenant.id else { throw OrderbaseError(.misuse, "tenant handle is closed") }
        let (key, core) = try core(tenantID, forHandle: true)
        do throws(OrderbaseError) {
            let cursor = try core.cursor(Subscription.cursorName(name))
            let s = Subscription(tenantID: tenantID, name: name, types: types, core: core, key: key, cursor: cursor,
                                 callback: callback, release: release)
            try delivery.add(s)
            CommitSignal.interrupt()
            return s
        } catch {
            TenantRegistry.shared.release(key)
            throw error
        }
    }

    /// Stops a subscription: no callback runs after this returns (from inside
    /// the subscription's own callback, none after that callback returns), and
    /// `release` has run. Idempotent.
    public func unsubscribe(_ s: Subscription) {
        guard delivery.remove(s) else { return }
        if Subscription.current.value === s {
            s.active = false  // our own callback: the pass stops after it
        } else {
            s.running.withLock { s.active = false }
        }
        TenantRegistry.shared.release(s.key)
        s.release()
    }

    /// Runs delivery work (subscriptions, webhook attempts) until none is left
    /// or `maxMilliseconds` pass; returns how many events were delivered and
    /// attempts made. Only for engines opened with `"background": false` (else
    /// the engine's own thread does this).
    public func pump(maxMilliseconds: Int64) throws(OrderbaseError) -> Int {
        if isClosed { throw OrderbaseError(.misuse, "engine is closed") }
        if options.background {
            throw OrderbaseError(.misuse, "this engine delivers on its own thread; pump is for engines opened with \"background\": false")
        }
        return try delivery.run(maxMilliseconds: maxMilliseconds)
    }
}

/// The engine's delivery work: its subscriptions, passed over in turn, on
/// the engine's thread or through `pump`.
final class DeliveryLoop: @unchecked Sendable {
    private let clock: any EngineClock
    private let lock = Mutex()
    private var subscriptions: [ObjectIdentifier: Subscription] = [:]
    private var names: Set<String> = []
    private var thread: BackgroundThread?
    private var stopping = false
    /// Webhook and notification work, set by the engine before its thread
    /// starts, and whether any tenant it has open may have some to deliver.
    var outbound: (@Sendable () throws(OrderbaseError) -> Int)?
    var outboundWanted: (@Sendable () -> Bool)?
    static let batch = 100

    init(clock: any EngineClock) { self.clock = clock }

    func add(_ s: Subscription) throws(OrderbaseError) {
        try lock.withLock { () throws(OrderbaseError) in
            if stopping { throw OrderbaseError(.misuse, "engine is closed") }
            let id = s.tenantID + "/" + s.name
            if names.contains(id) {
                throw OrderbaseError(.alreadyExists, "tenant \(s.tenantID) already has an active subscription named \(s.name) in this engine", field: "name")
            }
            names.insert(id)
            subscriptions[ObjectIdentifier(s)] = s
        }
    }

    /// Forgets a subscription; false when it was not there.
    func remove(_ s: Subscription) -> Bool {
        lock.withLock {
            guard subscriptions.removeValue(forKey: ObjectIdentifier(s)) != nil else { return false }
            names.remove(s.tenantID + "/" + s.name)
            return true
        }
    }

    var all: [Subscription] { lock.withLock { Array(subscriptions.values) } }

    /// One pass over every subscription; returns the events delivered.
    func passOnce() throws(OrderbaseError) -> Int {
        var delivered = 0
        var firstError: OrderbaseError?
        for s in all {
            let now = clock.nowMilliseconds()
            do {
                delivered += try s.running.withLock { () throws(OrderbaseError) -> Int in try s.pass(now: now, limit: Self.batch) }
            } catch {
                // One tenant's trouble (a database error) must not stop the others.
                firstError = firstError ?? error
            }
        }
        if let outbound {
            do { delivered += try outbound() } catch { firstError = firstError ?? error }
        }
        if delivered == 0, let firstError { throw firstError }
        return delivered
    }

    func run(maxMilliseconds: Int64) throws(OrderbaseError) -> Int {
        let start = SystemClock().nowMilliseconds()
        var total = 0
        repeat {
            let n = try passOnce()
            total += n
            if n == 0 { break }
        } while SystemClock().nowMilliseconds() - start < maxMilliseconds
        return total
    }

    /// Starts the engine's delivery thread: a pass after every commit wake-up,
    /// and at least once a second (for retries whose time has come).
    func start() {
        thread = BackgroundThread { [self] in
            while true {
                let seen = CommitSignal.current
                if lock.withLock({ stopping }) { return }
                let n = (try? passOnce()) ?? 0
                if n == 0 {
                    // Woken by commits only when something consumes them.
                    let listening = !lock.withLock { subscriptions.isEmpty } || (outboundWanted?() ?? false)
                    CommitSignal.wait(after: seen, milliseconds: 1000, listening: listening)
                }
            }
        }
    }

    /// Stops the thread (after its current pass) and returns the subscriptions left.
    func stop() -> [Subscription] {
        let t = lock.withLock { () -> BackgroundThread? in
            stopping = true
            defer { thread = nil }  // joined once, however often stop is called
            return thread
        }
        CommitSignal.interrupt()
        t?.join()  // on the delivery thread itself (the engine's last reference went there) it detaches
        return all
    }
}
