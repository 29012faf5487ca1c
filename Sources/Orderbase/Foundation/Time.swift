#if canImport(Glibc)
import Glibc
#endif

/// The engine's source of time, injectable so tests run time-based behaviour
/// deterministically. Milliseconds since the Unix epoch, UTC.
public protocol EngineClock: Sendable {
    func nowMilliseconds() -> Int64
}

public struct SystemClock: EngineClock {
    public init() {}
    public func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to.
public final class ManualClock: EngineClock, @unchecked Sendable {
    private let lock = NSLockLite()
    private var now: Int64
    public init(_ start: Int64) { now = start }
    public func nowMilliseconds() -> Int64 { lock.withLock { now } }
    public func advance(milliseconds: Int64) { lock.withLock { now += milliseconds } }
    public func set(_ ms: Int64) { lock.withLock { now = ms } }
}

/// RFC 3339 UTC timestamps with milliseconds: `2026-11-25T10:00:00.000Z`.
public enum Timestamp {
    public static func format(_ ms: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        write(ms, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` without building intermediate strings.
    static func write(_ ms: Int64, into out: inout [UInt8]) {
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = ms - secs * 1000
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = secs - days * 86400
        let (y, m, d) = civil(fromDays: days)
        @inline(__always) func two(_ v: Int64) {
            out.append(UInt8(truncatingIfNeeded: v / 10) &+ 0x30)
            out.append(UInt8(truncatingIfNeeded: v % 10) &+ 0x30)
        }
        func digits(_ v: Int64, _ n: Int) {
            let v = max(0, v)
            if n == 2 { two(v % 100); return }
            if n == 3 { out.append(UInt8(truncatingIfNeeded: v / 100 % 10) &+ 0x30); two(v % 100); return }
            two(v / 100 % 100); two(v % 100)  // n == 4
        }
        digits(y, 4); out.append(0x2D); digits(m, 2); out.append(0x2D); digits(d, 2); out.append(0x54)
        digits(rem / 3600, 2); out.append(0x3A); digits(rem % 3600 / 60, 2); out.append(0x3A); digits(rem % 60, 2)
        out.append(0x2E); digits(milli, 3); out.append(0x5A)
    }

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; returns epoch ms.
    public static func parse(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= u.count else { return nil }
            var v: Int64 = 0
            for k in from..<(from + len) {
                guard u[k] >= 0x30 && u[k] <= 0x39 else { return nil }
                v = v * 10 + Int64(u[k] - 0x30)
            }
            return v
        }
        guard let y = num(0, 4), u[4] == 0x2D, let mo = num(5, 2), u[7] == 0x2D, let d = num(8, 2),
              u[10] == 0x54 || u[10] == 0x74, let h = num(11, 2), u[13] == 0x3A, let mi = num(14, 2),
              u[16] == 0x3A, let se = num(17, 2) else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, se < 60 else { return nil }
        var k = 19
        var ms: Int64 = 0
        if k < u.count && u[k] == 0x2E {
            k += 1
            var digits = 0
            while k < u.count && u[k] >= 0x30 && u[k] <= 0x39 {
                if digits < 3 { ms = ms * 10 + Int64(u[k] - 0x30) }
                digits += 1
                k += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { ms *= 10 }
        }
        guard k < u.count else { return nil }
        var offset: Int64 = 0
        if u[k] == 0x5A || u[k] == 0x7A {
            k += 1
        } else if u[k] == 0x2B || u[k] == 0x2D {
            guard let oh = num(k + 1, 2), k + 3 < u.count, u[k + 3] == 0x3A, let om = num(k + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (u[k] == 0x2B ? 1 : -1)
            k += 6
        } else {
            return nil
        }
        guard k == u.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        return ((days * 86400 + h * 3600 + mi * 60 + se) - offset) * 1000 + ms
    }

    static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil-from-days algorithms.
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
