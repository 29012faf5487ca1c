import COrderbaseShims
import OrderbaseStore

typealias NSLockLite = OrderbaseStore.Mutex

/// Prefixed, time-sortable ids: `ord_` + a 26-character ULID (48-bit millisecond
/// time + 80 random bits, Crockford base32). Within one millisecond the random
/// part is incremented, so ids from one generator are strictly increasing and
/// byte order is creation order.
public final class IDGenerator: @unchecked Sendable {
    private let lock = NSLockLite()
    private var lastMs: Int64 = -1
    private var lastRandom: (hi: UInt16, lo: UInt64) = (0, 0)
    /// Random bytes fetched 250 at a time: RAND_bytes per id was a measurable cost.
    private var pool = [UInt8](repeating: 0, count: 250)
    private var poolUsed = 250
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public init() {}

    public func make(_ prefix: String, at ms: Int64) -> String {
        let (hi, lo, t) = lock.withLock { () -> (UInt16, UInt64, Int64) in
            if ms <= lastMs {
                // Same (or earlier: clock stepped back) millisecond: keep order.
                let (l, o) = lastRandom.lo.addingReportingOverflow(1)
                lastRandom = (o ? lastRandom.hi &+ 1 : lastRandom.hi, l)
            } else {
                if poolUsed + 10 > pool.count {
                    _ = ob_random_bytes(&pool, pool.count)
                    poolUsed = 0
                }
                let r = pool[poolUsed..<(poolUsed + 10)].map { $0 }
                poolUsed += 10
                // Leave headroom in the top bit so increments never wrap in practice.
                let hi = (UInt16(r[0]) << 8 | UInt16(r[1])) & 0x7FFF
                var lo: UInt64 = 0
                for k in 2..<10 { lo = lo << 8 | UInt64(r[k]) }
                lastRandom = (hi, lo)
                lastMs = ms
            }
            return (lastRandom.hi, lastRandom.lo, lastMs)
        }
        return Self.encode(prefix, time: UInt64(max(0, t)), hi: hi, lo: lo)
    }

    /// `prefix`, then the 128 bits (48 time | 16 hi | 64 lo) as 26 base32 digits, most
    /// significant first; the first digit carries only the top 3 bits (130 - 128 = 2 spare).
    /// One string is made (an id is made for every record and event a command writes).
    static func encode(_ prefix: String = "", time: UInt64, hi: UInt16, lo: UInt64) -> String {
        let high: UInt64 = (time << 16) | UInt64(hi)
        var prefix = prefix
        return prefix.withUTF8 { p in
            String(unsafeUninitializedCapacity: p.count + 26) { out in
                for (k, b) in p.enumerated() { out[k] = b }
                for k in 0..<26 {
                    let shift = 125 - 5 * k  // position of this digit's lowest bit
                    let v: UInt64
                    if shift >= 64 {
                        v = high >> UInt64(shift - 64)
                    } else if shift > 59 {
                        v = (lo >> UInt64(shift)) | (high << UInt64(64 - shift))
                    } else {
                        v = lo >> UInt64(shift)
                    }
                    out[p.count + k] = alphabet[Int(v & 31)]
                }
                return p.count + 26
            }
        }
    }

    /// The smallest id a generator could make at `ms` (for created_at range scans).
    public static func lowerBound(_ prefix: String, ms: Int64) -> String {
        encode(prefix, time: UInt64(max(0, ms)), hi: 0, lo: 0)
    }
}

public enum Crypto {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { b in ob_sha256(b.baseAddress, b.count, &out) }
        return out
    }

    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { k in data.withUnsafeBytes { d in _ = ob_hmac_sha256(k.baseAddress, k.count, d.baseAddress, d.count, &out) } }
        return out
    }

    public static func randomBytes(_ n: Int) throws(OrderbaseError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        guard ob_random_bytes(&out, n) == 0 else { throw OrderbaseError(.internal, "no random bytes") }
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
