/// A JSON value. Integers that fit in Int64 stay exact (`.int`); other numbers
/// are `.double`. Objects are unordered; `JSONWriter.value` writes keys sorted,
/// which makes the output canonical (used for idempotency fingerprints).
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Parses UTF-8 JSON text strictly (RFC 8259): no trailing commas, comments,
    /// duplicate keys, lone surrogates or invalid UTF-8. Errors carry line and column.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(OrderbaseError) -> JSON {
        try bytes.withUnsafeBufferPointer { (buf) throws(OrderbaseError) -> JSON in
            var p = JSONParser(buf, maxDepth: maxDepth)
            return try p.parseDocument()
        }
    }

    /// Parses straight from a caller's buffer (no copy).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(OrderbaseError) -> JSON {
        var p = JSONParser(bytes.assumingMemoryBound(to: UInt8.self), maxDepth: maxDepth)
        return try p.parseDocument()
    }

    public static func parse(_ text: String) throws(OrderbaseError) -> JSON {
        try parse(Array(text.utf8))
    }

    /// Canonical serialization (sorted keys, no whitespace).
    public var bytes: [UInt8] {
        var w = JSONWriter()
        w.value(self)
        return w.bytes
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A JSON object's members in document order. Lookups are linear: request and
/// record objects are small, and filling a hashed dictionary (hash, insert,
/// rehash on growth) was the largest cost of parsing a request. Equality
/// ignores member order, as JSON's does.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(key: String, value: JSON)]

    public init() { members = [] }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        members = []
        for (k, v) in elements { self[k] = v }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSON? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Appends without a duplicate check (the parser checks).
    mutating func append(_ key: String, _ value: JSON) { members.append((key, value)) }
    mutating func reserve(_ n: Int) { members.reserveCapacity(n) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { members.makeIterator() }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for m in a.members where b[m.key] != m.value { return false }
        return true
    }
}

struct JSONParser {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private let maxDepth: Int
    private var depth = 0

    init(_ b: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.b = b
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(OrderbaseError) -> JSON {
        skipSpace()
        let v = try parseValue()
        skipSpace()
        if i != b.count { throw fail("unexpected data after the JSON value") }
        return v
    }

    private func fail(_ what: String) -> OrderbaseError {
        var line = 1, col = 1
        var k = 0
        while k < min(i, b.count) {
            if b[k] == 0x0A { line += 1; col = 1 } else if b[k] & 0xC0 != 0x80 { col += 1 }
            k += 1
        }
        return OrderbaseError(
            .invalidArgument, "malformed JSON at line \(line), column \(col): \(what)",
            details: .object(["offset": .int(Int64(i)), "line": .int(Int64(line)), "column": .int(Int64(col))]))
    }

    private mutating func skipSpace() {
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    private mutating func parseValue() throws(OrderbaseError) -> JSON {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: String) throws(OrderbaseError) {
        let w = Array(word.utf8)
        let n = w.count
        guard i + n <= b.count else { throw fail("unexpected end of input") }
        for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func enter() throws(OrderbaseError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
    }

    private mutating func parseObject() throws(OrderbaseError) -> JSON {
        try enter()
        i += 1
        var out = JSONObject()
        out.reserve(8)
        // Duplicate keys: a linear check while small, a hash set once wide,
        // so a hostile object with many keys stays linear-time.
        var wide: Set<String>? = nil
        skipSpace()
        if i < b.count && b[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return .object(out)
        }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyStart = i
            let key = try parseString()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            let v = try parseValue()
            let duplicate: Bool
            if wide != nil {
                duplicate = !wide!.insert(key).inserted  // in place: no copy of the set
            } else {
                duplicate = out.members.contains { $0.key == key }
                if out.count >= 16 { wide = Set(out.keys + [key]) }
            }
            if duplicate {
                i = keyStart
                throw fail("duplicate key \"\(key)\"")
            }
            out.append(key, v)
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; break }
            throw fail("expected ',' or '}'")
        }
        depth -= 1
        return .object(out)
    }

    private mutating func parseArray() throws(OrderbaseError) -> JSON {
        try enter()
        i += 1
        var out: [JSON] = []
        skipSpace()
        if i < b.count && b[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return .array(out)
        }
        while true {
            skipSpace()
            out.append(try parseValue())
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; break }
            throw fail("expected ',' or ']'")
        }
        depth -= 1
        return .array(out)
    }

    private mutating func hex4() throws(OrderbaseError) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func parseString() throws(OrderbaseError) -> String {
        i += 1
        let start = i
        var ascii = true
        // Fast path: no escapes.
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else {
                    i = start
                    throw fail("invalid UTF-8 in string")
                }
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        // Slow path with escapes.
        var out = [UInt8](UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < b.count else { break }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func parseNumber() throws(OrderbaseError) -> JSON {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { throw fail("invalid number") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
        }
        var isInt = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            isInt = false
            i += 1
            guard i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { throw fail("invalid number") }
            while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            isInt = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { throw fail("invalid number") }
            while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
        }
        if isInt {
            var neg = false
            var k = start
            if b[k] == UInt8(ascii: "-") { neg = true; k += 1 }
            var v: Int64 = 0
            while k < i {
                let d = Int64(b[k] - UInt8(ascii: "0"))
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = neg ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 {
                    i = start
                    throw fail("integer out of range (must fit in a signed 64-bit integer)")
                }
                v = s
                k += 1
            }
            return .int(v)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            i = start
            throw fail("number out of range")
        }
        // Canonical: a whole number the writer prints as an integer is read as one (`1.0`, `1e3`
        // and `-0.0` are 1, 1000 and 0), so printing and parsing give back the same value.
        if d == d.rounded(), abs(d) < 1e15 { return .int(Int64(d)) }
        return .double(d)
    }
}

extension JSON {
    /// The members of the one object `bytes` holds, each with the range of its
    /// value's text, without parsing the values (`AuditForm` reads a stored
    /// form field by field). It assumes JSON as `JSONWriter` writes it and only
    /// delimits values; nil when `bytes` is not one object or a key holds an
    /// escape: read those with `parse`.
    static func members(_ bytes: [UInt8]) -> [(key: String, value: Range<Int>)]? {
        bytes.withUnsafeBufferPointer { b -> [(key: String, value: Range<Int>)]? in
            let n = b.count
            var i = 0
            func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
            func space() { while i < n, isSpace(b[i]) { i += 1 } }
            // Moves past the string that starts at i; false if it does not end.
            func string() -> Bool {
                i += 1
                while i < n {
                    if b[i] == 0x22 { i += 1; return true }
                    i += b[i] == 0x5C ? 2 : 1
                }
                return false
            }
            // Moves past the value that starts at i (to the `,` or `}` after it).
            func value() -> Bool {
                var depth = 0
                while i < n {
                    switch b[i] {
                    case 0x22:
                        guard string() else { return false }
                        if depth == 0 { return true }
                        continue
                    case 0x7B, 0x5B: depth += 1
                    case 0x7D, 0x5D:
                        if depth == 0 { return true }
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    case 0x2C: if depth == 0 { return true }
                    default: break
                    }
                    i += 1
                }
                return false
            }
            var out: [(key: String, value: Range<Int>)] = []
            space()
            guard i < n, b[i] == 0x7B else { return nil }
            i += 1
            space()
            if i < n, b[i] == 0x7D { i += 1; space(); return i == n ? out : nil }
            while true {
                space()
                guard i < n, b[i] == 0x22 else { return nil }
                let keyStart = i + 1
                guard string() else { return nil }
                let key = UnsafeBufferPointer(rebasing: b[keyStart..<(i - 1)])
                if key.contains(0x5C) { return nil }
                space()
                guard i < n, b[i] == 0x3A else { return nil }
                i += 1
                space()
                let start = i
                guard value() else { return nil }
                var end = i
                while end > start, isSpace(b[end - 1]) { end -= 1 }
                guard end > start else { return nil }
                out.append((String(decoding: key, as: UTF8.self), start..<end))
                space()
                guard i < n else { return nil }
                if b[i] == 0x2C { i += 1; continue }
                guard b[i] == 0x7D else { return nil }
                i += 1
                space()
                return i == n ? out : nil
            }
        }
    }
}

/// Writes JSON text straight into a byte buffer (no intermediate values).
public struct JSONWriter {
    public var bytes: [UInt8]
    /// One entry per open container: whether the next element needs a comma.
    private var needsComma: [Bool] = []
    /// A key was just written: the next value belongs to it (no comma).
    private var afterKey = false

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) private mutating func valueStart() {
        if afterKey {
            afterKey = false
        } else if let last = needsComma.last {
            if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
        }
    }

    public mutating func beginObject() { valueStart(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { valueStart(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// A runtime object key (escaped); the next value call writes its value.
    public mutating func dynamicKey(_ k: String) {
        valueStart()
        writeString(k)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A literal key: no escaping needed, appended as-is (the hot path of rendering).
    @inline(__always)
    public mutating func key(_ k: StaticString) {
        valueStart()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// An RFC 3339 timestamp string written straight into the buffer.
    public mutating func timestamp(_ ms: Int64) {
        valueStart()
        bytes.append(UInt8(ascii: "\""))
        Timestamp.write(ms, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func string(_ s: String) { valueStart(); writeString(s) }
    /// A literal string value known to need no escaping.
    public mutating func literal(_ s: StaticString) {
        valueStart()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
    }
    public mutating func int(_ v: Int64) { valueStart(); writeInt(v) }
    public mutating func bool(_ v: Bool) { valueStart(); bytes.append(contentsOf: v ? Array("true".utf8) : Array("false".utf8)) }
    public mutating func null() { valueStart(); bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }
    public mutating func double(_ d: Double) {
        valueStart()
        if d == d.rounded(), abs(d) < 1e15 { writeInt(Int64(d)) } else { bytes.append(contentsOf: Array("\(d)".utf8)) }
    }
    /// Pre-serialized JSON (trusted: produced by this writer).
    public mutating func raw(_ json: [UInt8]) { valueStart(); bytes.append(contentsOf: json) }
    public mutating func raw(_ json: UnsafeRawBufferPointer) { valueStart(); bytes.append(contentsOf: json) }
    public mutating func raw(_ json: ArraySlice<UInt8>) { valueStart(); bytes.append(contentsOf: json) }

    public mutating func optionalString(_ s: String?) { if let s { string(s) } else { null() } }

    public mutating func value(_ v: JSON) {
        switch v {
        case .null: null()
        case .bool(let x): bool(x)
        case .int(let x): int(x)
        case .double(let x): double(x)
        case .string(let x): string(x)
        case .array(let a):
            beginArray()
            for e in a { value(e) }
            endArray()
        case .object(let o):
            beginObject()
            for m in o.members.sorted(by: { $0.key < $1.key }) {
                dynamicKey(m.key)
                value(m.value)
            }
            endObject()
        }
    }

    private mutating func writeInt(_ v: Int64) {
        if v == 0 { bytes.append(UInt8(ascii: "0")); return }
        var m = v.magnitude
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { t in
            while m > 0 {
                t[n] = UInt8(m % 10) + UInt8(ascii: "0")
                m /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                bytes.append(t[n])
            }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            // Fast path: most strings need no escaping at all.
            if !u.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                bytes.append(contentsOf: u)
                return
            }
            var runStart = 0
            for k in 0..<u.count {
                let c = u[k]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                if runStart < k { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<k])) }
                runStart = k + 1
                switch c {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              Self.hex[Int(c >> 4)], Self.hex[Int(c & 0xF)]])
                }
            }
            if runStart < u.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
