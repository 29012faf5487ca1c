#if canImport(Glibc)
import Glibc
#endif

/// A small pthread mutex. (Synchronization.Mutex is noncopyable and awkward to
/// store in classes shared across modules; this one is a plain final class.)
public final class Mutex: @unchecked Sendable {
    @usableFromInline let m: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        pthread_mutex_init(m, nil)
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }

    @inlinable
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }

    public func lock() { pthread_mutex_lock(m) }
    public func unlock() { pthread_mutex_unlock(m) }
    var raw: UnsafeMutablePointer<pthread_mutex_t> { m }
}

/// A condition variable bound to a `Mutex`.
public final class Condition: @unchecked Sendable {
    private let c: UnsafeMutablePointer<pthread_cond_t>
    public init() {
        c = .allocate(capacity: 1)
        c.initialize(to: pthread_cond_t())
        pthread_cond_init(c, nil)
    }
    deinit {
        pthread_cond_destroy(c)
        c.deallocate()
    }
    public func wait(_ mutex: Mutex) { pthread_cond_wait(c, mutex.raw) }
    /// Waits at most `milliseconds` (wall clock, as pthread_cond_timedwait counts).
    public func wait(_ mutex: Mutex, milliseconds: Int64) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let ns = Int64(now.tv_nsec) + (milliseconds % 1000) * 1_000_000
        var until = timespec(tv_sec: now.tv_sec + Int(milliseconds / 1000) + Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        pthread_cond_timedwait(c, mutex.raw, &until)
    }
    public func broadcast() { pthread_cond_broadcast(c) }
}

/// A joinable thread running one closure (engine-owned background work).
public final class BackgroundThread: @unchecked Sendable {
    private var thread = pthread_t()
    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    public init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { raw in
            let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            b.body()
            return nil
        }, box)
    }

    /// Waits for the thread to end and frees it. Called on the thread itself
    /// (an owner whose last reference went away on it, as an engine dropped
    /// while its delivery thread held it), it cannot wait for itself: it
    /// detaches instead, so the thread is freed when it returns. Call once.
    public func join() {
        if isCurrent { pthread_detach(thread) } else { pthread_join(thread, nil) }
    }

    /// Whether the caller is this thread.
    public var isCurrent: Bool { pthread_equal(pthread_self(), thread) != 0 }
}
