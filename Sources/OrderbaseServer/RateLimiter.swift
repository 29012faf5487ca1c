import Orderbase
import OrderbaseStore

/// A token bucket per API key: `perSecond` tokens a second, a burst of the
/// same size. Buckets of keys idle for a minute are dropped.
final class RateLimiter: @unchecked Sendable {
    let perSecond: Int
    private let lock = Mutex()
    private var buckets: [String: (tokens: Double, at: Int64)] = [:]
    private let clock: any EngineClock

    init(perSecond: Int, clock: any EngineClock = SystemClock()) {
        self.perSecond = max(1, perSecond)
        self.clock = clock
    }

    /// nil when the request may go ahead; else the seconds to wait (Retry-After).
    func take(_ key: String) -> Int? {
        let now = clock.nowMilliseconds()
        return lock.withLock { () -> Int? in
            if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.at < 60_000 } }
            var b = buckets[key] ?? (Double(perSecond), now)
            b.tokens = min(Double(perSecond), b.tokens + Double(now - b.at) * Double(perSecond) / 1000)
            b.at = now
            if b.tokens >= 1 {
                b.tokens -= 1
                buckets[key] = b
                return nil
            }
            buckets[key] = b
            let missing = (1 - b.tokens) / Double(perSecond)
            return max(1, Int(missing.rounded(.up)))
        }
    }
}
