/// What leaves the process: the domain says what to send and to whom; a
/// transport (`OrderbaseDelivery`'s libcurl one, or a test's recorder) sends
/// it. Nothing in this module touches the network (DESIGN §1).
public struct OutboundRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var connectTimeoutMilliseconds: Int64
    public var timeoutMilliseconds: Int64
    /// Decides, at connect time, whether a resolved address may be used.
    public var addressPolicy: AddressPolicy
    /// The certificate authorities to trust (a PEM file), or nil for the system's.
    public var caFile: String?

    public init(url: String, headers: [(String, String)], body: [UInt8], connectTimeoutMilliseconds: Int64,
                timeoutMilliseconds: Int64, addressPolicy: AddressPolicy, caFile: String? = nil) {
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.addressPolicy = addressPolicy
        self.caFile = caFile
    }
}

public struct OutboundResponse: Sendable {
    /// The HTTP status, or nil when no response came (refused, timed out…).
    public var status: Int?
    /// `Retry-After` in seconds, when the response had one.
    public var retryAfterSeconds: Int64?
    /// The start of the response body (at most 1 KiB), for the delivery log.
    public var bodyPrefix: String
    public var latencyMilliseconds: Int64
    /// Why nothing usable came back (a transport error), or nil.
    public var error: String?

    public init(status: Int?, retryAfterSeconds: Int64? = nil, bodyPrefix: String = "", latencyMilliseconds: Int64, error: String? = nil) {
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.bodyPrefix = bodyPrefix
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
    }
}

/// Sends one HTTP POST. Called from delivery threads; must be thread-safe and
/// must never follow redirects.
public protocol HTTPTransport: Sendable {
    func post(_ request: OutboundRequest) -> OutboundResponse
}

/// Which addresses outbound requests may connect to. Loopback, private,
/// link-local (cloud metadata at 169.254.169.254 among them), shared, unspecified,
/// multicast and reserved addresses are refused unless `allowed` names them
/// (an address or a CIDR block), checked on the address a connection is about
/// to use, after DNS: a name that resolves to 127.0.0.1, or a URL written
/// `http://2130706433/`, is refused like `http://127.0.0.1/`.
public struct AddressPolicy: Sendable, Equatable {
    public var allowed: [CIDR]
    public init(allowed: [CIDR] = []) { self.allowed = allowed }

    public func permits(_ address: String) -> Bool {
        guard let ip = IPAddress(address) else { return false }
        if allowed.contains(where: { $0.contains(ip) }) { return true }
        return ip.isPublic
    }

    /// Why an address is refused ("loopback", "private"…), or nil.
    public func refusal(_ address: String) -> String? {
        guard let ip = IPAddress(address) else { return "not an IP address" }
        return permits(address) ? nil : ip.category
    }
}

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d).
public struct IPAddress: Sendable, Equatable {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        if let v4 = Self.parseIPv4(text) { bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4; return }
        guard let v6 = Self.parseIPv6(text) else { return nil }
        bytes = v6
    }

    var isV4: Bool { bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF }

    private init(v4: [UInt8]) { bytes = Self.v4(v4[0], v4[1], v4[2], v4[3]) }

    /// The IPv4 addresses an IPv6 address carries, each with the form that
    /// carries it: IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
    /// `2002:AABB:CCDD::/48`, Teredo `2001:0::/32` (its server, and its client
    /// stored inverted). IPv4-mapped `::ffff:a.b.c.d` is read as IPv4 already.
    var embeddedV4: [(IPAddress, String)] {
        guard !isV4 else { return [] }
        let b = bytes
        if b[0..<12].allSatisfy({ $0 == 0 }) {
            // :: and ::1 are IPv6's own unspecified and loopback, not ::0.0.0.0 and ::0.0.0.1.
            if b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1 { return [] }
            return [(IPAddress(v4: Array(b[12..<16])), "IPv4-compatible")]
        }
        if inPrefix([0, 0x64, 0xFF, 0x9B] + Array(repeating: 0, count: 12), bits: 96) { return [(IPAddress(v4: Array(b[12..<16])), "NAT64")] }
        if b[0] == 0x20 && b[1] == 0x02 { return [(IPAddress(v4: Array(b[2..<6])), "6to4")] }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0 {
            return [(IPAddress(v4: Array(b[4..<8])), "Teredo server"), (IPAddress(v4: b[12..<16].map { $0 ^ 0xFF }), "Teredo")]
        }
        return []
    }

    static func parseIPv4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCIIDigit), let v = UInt8(p), p == "0" || p.first != "0" else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6(_ s: String) -> [UInt8]? {
        var text = Substring(s)
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }  // zone id
        var tail: [UInt8] = []
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseIPv4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = v4
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        // Split at "::" (at most once) without Foundation.
        var halves: [String] = []
        let chars = Array(text)
        var i = 0, start = 0
        while i < chars.count {
            if chars[i] == ":" && i + 1 < chars.count && chars[i + 1] == ":" {
                halves.append(String(chars[start..<i]))
                i += 2
                start = i
                if i < chars.count && chars[i] == ":" { return nil }
                continue
            }
            i += 1
        }
        halves.append(String(chars[start...]))
        guard halves.count <= 2 else { return nil }
        func groups(_ h: String) -> [UInt16]? {
            if h.isEmpty { return [] }
            var out: [UInt16] = []
            for g in h.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        let rest = halves.count == 2 ? groups(halves[1]) : []
        guard let rest else { return nil }
        let want = 8 - tail.count / 2
        var all: [UInt16]
        if halves.count == 2 {
            guard head.count + rest.count < want else { return nil }
            all = head + Array(repeating: 0, count: want - head.count - rest.count) + rest
        } else {
            guard head.count == want else { return nil }
            all = head
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } + tail
    }

    func inPrefix(_ prefix: [UInt8], bits: Int) -> Bool {
        for i in 0..<16 {
            let take = min(8, max(0, bits - i * 8))
            if take == 0 { return true }
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if bytes[i] & mask != prefix[i] & mask { return false }
        }
        return true
    }

    static func v4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> [UInt8] { [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, a, b, c, d] }

    /// Blocks that are not the public internet, with a name for each.
    static let special: [([UInt8], Int, String)] = [
        (v4(0, 0, 0, 0), 96 + 8, "unspecified"), (v4(10, 0, 0, 0), 96 + 8, "private"), (v4(100, 64, 0, 0), 96 + 10, "shared (CGNAT)"),
        (v4(127, 0, 0, 0), 96 + 8, "loopback"), (v4(169, 254, 0, 0), 96 + 16, "link-local (cloud metadata)"),
        (v4(172, 16, 0, 0), 96 + 12, "private"), (v4(192, 0, 0, 0), 96 + 24, "reserved"), (v4(192, 168, 0, 0), 96 + 16, "private"),
        (v4(198, 18, 0, 0), 96 + 15, "benchmarking"), (v4(224, 0, 0, 0), 96 + 4, "multicast"), (v4(240, 0, 0, 0), 96 + 4, "reserved"),
        (Array(repeating: 0, count: 15) + [1], 128, "loopback"), (Array(repeating: 0, count: 16), 128, "unspecified"),
        ([0xFC] + Array(repeating: 0, count: 15), 7, "private"), ([0xFE, 0x80] + Array(repeating: 0, count: 14), 10, "link-local"),
        ([0xFF] + Array(repeating: 0, count: 15), 8, "multicast"),
        ([0, 0x64, 0xFF, 0x9B, 0, 1] + Array(repeating: 0, count: 10), 48, "NAT64 (local use)"),
    ]

    /// The block an address is in ("loopback", "private"…), judged by the
    /// IPv4 address it embeds when it embeds one ("loopback (the IPv4 address in this 6to4 address)").
    public var category: String {
        if let name = Self.special.first(where: { inPrefix($0.0, bits: $0.1) })?.2 { return name }
        for (v4, form) in embeddedV4 where !v4.isPublic { return "\(v4.category) (the IPv4 address in this \(form) address)" }
        return "public"
    }

    public var isPublic: Bool {
        Self.special.allSatisfy { !inPrefix($0.0, bits: $0.1) } && embeddedV4.allSatisfy { $0.0.isPublic }
    }
}

/// An address block: `10.0.0.0/8`, `::1/128`, or one address.
public struct CIDR: Sendable, Equatable {
    public let base: IPAddress
    public let bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let ip = IPAddress(String(first)) else { return nil }
        let maxBits = ip.isV4 ? 32 : 128
        var b = maxBits
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...maxBits).contains(n), parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
            b = n
        }
        base = ip
        bits = ip.isV4 ? 96 + b : b
    }

    public func contains(_ ip: IPAddress) -> Bool { ip.inPrefix(base.bytes, bits: bits) }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
