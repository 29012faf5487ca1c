import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// A time zone's UTC offsets over time, read from the system's IANA database
/// (`/usr/share/zoneinfo`, Debian's `tzdata`): the TZif transition table,
/// then the POSIX rule in its footer for times after the table ends.
/// Expressions use it for calendar parts (`weekday`, `hour`…) in the tenant's
/// `time_zone`. Foundation is not linked into the library (`ldd` shows none), so
/// this is the one reader of zone files.
public struct TimeZoneRules: Sendable, Equatable {
    public let name: String
    private var transitions: [Int64] = []    // seconds since the epoch, ascending
    private var transitionTypes: [UInt8] = []
    private var offsets: [Int32] = []        // seconds east of UTC, per local time type
    private var footer: PosixRule?

    public static let utc = TimeZoneRules(name: "UTC", footer: PosixRule(standard: 0, daylight: nil))

    private init(name: String, footer: PosixRule?) {
        self.name = name
        self.footer = footer
        offsets = [footer?.standard ?? 0]
    }

    /// Where zone files live (`TZDIR` overrides, as for the C library).
    static var directory: String {
        if let d = getenv("TZDIR") { return String(cString: d) }
        return "/usr/share/zoneinfo"
    }

    private static let cache = Mutex()
    nonisolated(unsafe) private static var loaded: [String: TimeZoneRules] = ["UTC": .utc]

    /// The zone named `name` (`Europe/London`, `America/New_York`, `UTC`): one of
    /// `knownNames`, so no path is ever built from a caller's text; an unknown zone is
    /// `invalid_argument`.
    public static func named(_ name: String, field: String = "time_zone") throws(OrderbaseError) -> TimeZoneRules {
        if let z = cache.withLock({ loaded[name] }) { return z }
        guard known.contains(name), let bytes = readFile(directory + "/" + name), let z = parse(name: name, bytes) else {
            throw OrderbaseError.invalid("\(field) must be an IANA time zone name like \"Europe/London\"; \"\(name)\" is not one", field: field)
        }
        cache.withLock { loaded[name] = z }
        return z
    }

    /// Every name `named` accepts, sorted: UTC and the TZif files under `directory`
    /// (its `posix/` and `right/` copies included, as earlier releases took them),
    /// names of at most 64 characters of letters, digits and `_-+` between slashes.
    /// Listed once per process.
    public static let knownNames: [String] = {
        var out: Set<String> = ["UTC"]
        func part(_ p: String) -> Bool {
            !p.isEmpty && p.first != "." && p.utf8.allSatisfy { c in
                (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D || c == 0x2B
            }
        }
        func walk(_ relative: String, depth: Int) {
            guard depth < 4, let d = opendir(relative.isEmpty ? directory : directory + "/" + relative) else { return }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    raw.baseAddress.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
                }
                guard part(name) else { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard path.utf8.count <= 64, stat(directory + "/" + path, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR { walk(path, depth: depth + 1) }
                else if (st.st_mode & S_IFMT) == S_IFREG, isTZif(directory + "/" + path) { out.insert(path) }
            }
        }
        walk("", depth: 0)
        return out.sorted()
    }()
    private static let known = Set(knownNames)

    private static func isTZif(_ path: String) -> Bool {
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var magic = [UInt8](repeating: 0, count: 4)
        return magic.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4, f) } == 4 && magic == Array("TZif".utf8)
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= 1 << 20 else { return nil }
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = out.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        return n == out.count ? out : nil
    }

    /// Parses a TZif file (version 2 or later: the 64-bit block and the footer).
    static func parse(name: String, _ b: [UInt8]) -> TimeZoneRules? {
        func be(_ at: Int, _ n: Int) -> Int64? {
            guard at >= 0, at + n <= b.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<n { v = v << 8 | UInt64(b[at + i]) }
            return n == 4 ? Int64(Int32(bitPattern: UInt32(v))) : Int64(bitPattern: v)
        }
        func header(_ at: Int) -> (isut: Int, isstd: Int, leap: Int, time: Int, type: Int, char: Int)? {
            guard at + 44 <= b.count, b[at] == 0x54, b[at + 1] == 0x5A, b[at + 2] == 0x69, b[at + 3] == 0x66 else { return nil }
            var c: [Int] = []
            for i in 0..<6 { guard let v = be(at + 20 + 4 * i, 4), v >= 0, v < 100_000 else { return nil }; c.append(Int(v)) }
            return (c[0], c[1], c[2], c[3], c[4], c[5])
        }
        guard let h1 = header(0), b[4] >= 0x32 else { return nil }  // version '2' or later
        let v1Size = h1.time * 5 + h1.type * 6 + h1.char + h1.leap * 8 + h1.isstd + h1.isut
        let at2 = 44 + v1Size
        guard let h = header(at2), h.type > 0 else { return nil }
        var p = at2 + 44
        var z = TimeZoneRules(name: name, footer: nil)
        z.transitions = []
        for _ in 0..<h.time { guard let t = be(p, 8) else { return nil }; z.transitions.append(t); p += 8 }
        guard p + h.time <= b.count else { return nil }
        z.transitionTypes = Array(b[p..<(p + h.time)])
        p += h.time
        z.offsets = []
        for _ in 0..<h.type { guard let off = be(p, 4), p + 6 <= b.count else { return nil }; z.offsets.append(Int32(off)); p += 6 }
        guard z.transitionTypes.allSatisfy({ Int($0) < h.type }) else { return nil }
        p += h.char + h.leap * 12 + h.isstd + h.isut
        if p < b.count, b[p] == 0x0A, let end = b[(p + 1)...].firstIndex(of: 0x0A), end > p + 1 {
            z.footer = PosixRule.parse(String(decoding: b[(p + 1)..<end], as: UTF8.self))
        }
        return z
    }

    /// Seconds east of UTC in force at `ms` (epoch milliseconds).
    public func offsetSeconds(at ms: Int64) -> Int32 {
        let t = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        if let last = transitions.last, t >= last, let footer { return footer.offset(at: t) }
        if transitions.isEmpty { return footer?.offset(at: t) ?? offsets[0] }
        if t < transitions[0] { return offsets[0] }
        var lo = 0, hi = transitions.count - 1  // the last transition at or before t
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if transitions[mid] <= t { lo = mid } else { hi = mid - 1 }
        }
        return offsets[Int(transitionTypes[lo])]
    }

    /// The local calendar at `ms`: year, month (1-12), day (1-31), hour, minute,
    /// ISO weekday (1 = Monday … 7 = Sunday).
    public func local(_ ms: Int64) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, weekday: Int64) {
        let s = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + Int64(offsetSeconds(at: ms))
        let days = s >= 0 ? s / 86_400 : (s - 86_399) / 86_400
        let secs = s - days * 86_400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        let wd = ((days % 7) + 7 + 3) % 7 + 1  // 1970-01-01 was a Thursday (4)
        return (y, m, d, secs / 3600, secs % 3600 / 60, wd)
    }
}

/// The POSIX TZ rule of a TZif footer (`GMT0BST,M3.5.0/1,M10.5.0`), for
/// instants after the file's last transition.
struct PosixRule: Sendable, Equatable {
    var standard: Int32            // seconds east of UTC
    var daylight: Int32?
    var start = Rule(), end = Rule()

    struct Rule: Sendable, Equatable {
        enum Kind: Sendable, Equatable { case monthWeekDay(Int64, Int64, Int64), julianNoLeap(Int64), zeroBased(Int64) }
        var kind = Kind.zeroBased(0)
        var time: Int64 = 7200   // local seconds after midnight

        /// Seconds since the epoch, in local time of the offset in force before it, of this rule in `year`.
        func localSeconds(year: Int64) -> Int64 {
            let day: Int64
            switch kind {
            case .monthWeekDay(let m, let w, let d):
                let first = Timestamp.daysFromCivil(year, m, 1)
                let firstWeekday = ((first % 7) + 7 + 4) % 7  // 0 = Sunday
                var date = 1 + (d - firstWeekday + 7) % 7 + (w - 1) * 7
                let len = Timestamp.daysIn(month: m, year: year)
                while date > len { date -= 7 }
                day = first + date - 1
            case .julianNoLeap(let n):
                let leap = Timestamp.daysIn(month: 2, year: year) == 29
                day = Timestamp.daysFromCivil(year, 1, 1) + n - 1 + (leap && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                day = Timestamp.daysFromCivil(year, 1, 1) + n
            }
            return day * 86_400 + time
        }
    }

    func offset(at t: Int64) -> Int32 {
        guard let daylight else { return standard }
        let year = Timestamp.civil(fromDays: (t + Int64(standard)) >= 0 ? (t + Int64(standard)) / 86_400 : (t + Int64(standard) - 86_399) / 86_400).0
        let s = start.localSeconds(year: year) - Int64(standard)  // starts in standard time
        let e = end.localSeconds(year: year) - Int64(daylight)    // ends in daylight time
        let inDaylight = s < e ? (t >= s && t < e) : !(t >= e && t < s)
        return inDaylight ? daylight : standard
    }

    static func parse(_ text: String) -> PosixRule? {
        var b = Array(text.utf8)[...]
        func name() -> Bool {
            if b.first == UInt8(ascii: "<") {
                guard let close = b.firstIndex(of: UInt8(ascii: ">")) else { return false }
                b = b[(close + 1)...]
                return true
            }
            let n = b.prefix { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }.count
            b = b.dropFirst(n)
            return n >= 3
        }
        func number() -> Int64? {
            let digits = b.prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard !digits.isEmpty, digits.count <= 3 else { return nil }
            b = b.dropFirst(digits.count)
            return digits.reduce(0) { $0 * 10 + Int64($1 - 0x30) }
        }
        // [+-]hh[:mm[:ss]] in seconds.
        func clock() -> Int64? {
            var sign: Int64 = 1
            if b.first == UInt8(ascii: "-") { sign = -1; b = b.dropFirst() } else if b.first == UInt8(ascii: "+") { b = b.dropFirst() }
            guard let h = number() else { return nil }
            var v = h * 3600
            for unit: Int64 in [60, 1] where b.first == UInt8(ascii: ":") {
                b = b.dropFirst()
                guard let n = number() else { return nil }
                v += n * unit
            }
            return sign * v
        }
        func rule() -> Rule? {
            var r = Rule()
            if b.first == UInt8(ascii: "M") {
                b = b.dropFirst()
                guard let m = number(), b.popFirst() == UInt8(ascii: "."), let w = number(), b.popFirst() == UInt8(ascii: "."),
                      let d = number(), (1...12).contains(m), (1...5).contains(w), (0...6).contains(d) else { return nil }
                r.kind = .monthWeekDay(m, w, d)
            } else if b.first == UInt8(ascii: "J") {
                b = b.dropFirst()
                guard let n = number(), (1...365).contains(n) else { return nil }
                r.kind = .julianNoLeap(n)
            } else {
                guard let n = number(), (0...365).contains(n) else { return nil }
                r.kind = .zeroBased(n)
            }
            if b.first == UInt8(ascii: "/") {
                b = b.dropFirst()
                guard let t = clock() else { return nil }
                r.time = t
            }
            return r
        }
        guard name(), let std = clock() else { return nil }
        var p = PosixRule(standard: Int32(-std), daylight: nil)
        if b.isEmpty { return p }
        guard name() else { return nil }
        var dst = std - 3600
        if let first = b.first, first != UInt8(ascii: ",") {
            guard let d = clock() else { return nil }
            dst = d
        }
        p.daylight = Int32(-dst)
        guard b.popFirst() == UInt8(ascii: ","), let s = rule(), b.popFirst() == UInt8(ascii: ","), let e = rule(), b.isEmpty else { return nil }
        p.start = s
        p.end = e
        return p
    }
}
