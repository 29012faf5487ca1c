/// Order-preserving key encoding.
///
/// - Unsigned integers are 8 bytes big-endian, so byte order is numeric order.
/// - Strings are UTF-8 with 0x00 escaped as 0x00 0xFF and terminated by 0x00 0x01,
///   so a string sorts before any longer string it prefixes and a component can
///   never run into the next (the FoundationDB tuple-layer trick).
public struct KeyBuilder: Sendable {
    public private(set) var bytes: [UInt8]

    public init(_ prefix: UInt8, capacity: Int = 48) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(prefix)
    }

    @discardableResult
    public mutating func string(_ s: String) -> KeyBuilder {
        var s = s
        s.withUTF8 { u in
            if !u.contains(0) {
                bytes.append(contentsOf: u)  // the common case: nothing to escape
            } else {
                for b in u {
                    bytes.append(b)
                    if b == 0 { bytes.append(0xFF) }
                }
            }
        }
        bytes.append(0)
        bytes.append(1)
        return self
    }

    @discardableResult
    public mutating func uint64(_ v: UInt64) -> KeyBuilder {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
        return self
    }

    /// Raw bytes, for a prefix that ends inside a component (range bounds).
    @discardableResult
    public mutating func raw(_ b: [UInt8]) -> KeyBuilder {
        bytes.append(contentsOf: b)
        return self
    }
}

/// Reads components back out of a key built by `KeyBuilder`.
public struct KeyReader {
    private let bytes: [UInt8]
    private var pos: Int

    public init(_ bytes: [UInt8], skippingPrefix: Int = 1) {
        self.bytes = bytes
        self.pos = skippingPrefix
    }

    public mutating func string() -> String? {
        var out: [UInt8] = []
        while pos + 1 < bytes.count {
            let b = bytes[pos]
            if b == 0 {
                let n = bytes[pos + 1]
                pos += 2
                if n == 1 { return String(decoding: out, as: UTF8.self) }
                if n == 0xFF { out.append(0); continue }
                return nil
            }
            out.append(b)
            pos += 1
        }
        return nil
    }

    public mutating func uint64() -> UInt64? {
        guard pos + 8 <= bytes.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v = (v << 8) | UInt64(bytes[pos + i]) }
        pos += 8
        return v
    }
}

/// The smallest key greater than every key starting with `prefix`
/// (nil when the prefix is all 0xFF: scan to the end).
public func prefixUpperBound(_ prefix: [UInt8]) -> [UInt8]? {
    var p = prefix
    while let last = p.last {
        if last < 0xFF {
            p[p.count - 1] = last + 1
            return p
        }
        p.removeLast()
    }
    return nil
}
