/// The conversions and comparisons JSON-Logic takes from JavaScript, as the
/// JSON Logic community's specification defines them on the JSON data model:
/// truthiness, `ToNumber`, `ToString`, loose (`==`) and strict (`===`)
/// equality, relational comparison, and the arithmetic coercion that makes a
/// list, an object or a non-numeric string a `NaN` error rather than a value.
/// Numbers are IEEE doubles, as in JavaScript; the infinities become `null` in
/// a result (as `JSON.stringify` writes them).
enum JS {
    /// Truthiness: `false`, `null`, `0`, `""`, `[]` and `{}` are falsy;
    /// everything else (`"0"`, `[0]`, `{"a": 0}`) is truthy.
    static func truthy(_ v: JSON) -> Bool {
        switch v {
        case .null: false
        case .bool(let b): b
        case .int(let n): n != 0
        case .double(let d): d != 0 && !d.isNaN
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        }
    }

    /// A value as an arithmetic operand: `ToNumber` for scalars (`null` 0,
    /// `true` 1, `"2"` 2, `""` 0); a list, an object, or a string that is not
    /// a number is the `NaN` error.
    static func operand(_ v: JSON) throws(OrderbaseError) -> Double {
        switch v {
        case .array, .object: throw LogicError.nan
        default:
            let d = toNumber(v)
            if d.isNaN { throw LogicError.nan }
            return d
        }
    }

    /// One comparison of a chain (`==`, `<`, …): strict ones compare type and
    /// value; two strings (or `null`) compare as strings; anything else
    /// compares as numbers, where an operand that is not one is the `NaN`
    /// error (so `1 < "A"` and `[1] == 1` are errors, `null == 0` is true).
    static func compare(_ op: Op, _ a: JSON, _ b: JSON) throws(OrderbaseError) -> Bool {
        switch op {
        case .strictEq: return strictEquals(a, b)
        case .strictNe: return !strictEquals(a, b)
        default: break
        }
        func textual(_ v: JSON) -> Bool { if case .string = v { true } else { v == .null } }
        if textual(a), textual(b) {
            switch op {
            case .eq: return looseEquals(a, b)
            case .ne: return !looseEquals(a, b)
            case .lt: return less(a, b, orEqual: false)
            case .le: return less(a, b, orEqual: true)
            case .gt: return less(b, a, orEqual: false)
            default: return less(b, a, orEqual: true)
            }
        }
        let x = try operand(a)
        let y: Double
        if a == .null, case .array = b { y = .nan } else if a == .null, case .object = b { y = .nan } else { y = try operand(b) }
        switch op {
        case .eq: return x == y
        case .ne: return x != y
        case .lt: return x < y
        case .le: return x <= y
        case .gt: return x > y
        default: return x >= y
        }
    }

    static func number(_ d: Double) -> JSON {
        if d == d.rounded(.towardZero), abs(d) <= 9_007_199_254_740_992, !(d == 0 && d.sign == .minus) { return .int(Int64(d)) }
        return .double(d)
    }

    /// `ToPrimitive` for arrays (joined by commas) and objects; others unchanged.
    static func primitive(_ v: JSON) -> JSON {
        switch v {
        case .array: .string(string(v))
        case .object: .string("[object Object]")
        default: v
        }
    }

    /// `ToNumber`.
    static func toNumber(_ v: JSON) -> Double {
        switch v {
        case .null: return 0
        case .bool(let b): return b ? 1 : 0
        case .int(let n): return Double(n)
        case .double(let d): return d
        case .string(let s): return stringToNumber(s)
        case .array: return toNumber(primitive(v))
        case .object: return .nan
        }
    }

    static let whitespace: Set<Character> = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{A0}", "\u{FEFF}", "\u{2028}", "\u{2029}"]

    static func trimmed(_ s: String) -> Substring {
        var t = Substring(s)
        while let f = t.first, whitespace.contains(f) { t = t.dropFirst() }
        while let l = t.last, whitespace.contains(l) { t = t.dropLast() }
        return t
    }

    /// `Number("…")`: whitespace-trimmed decimal, `0x`/`0o`/`0b` integers,
    /// `Infinity`; the empty string is 0; anything else NaN.
    static func stringToNumber(_ s: String) -> Double {
        let t = trimmed(s)
        if t.isEmpty { return 0 }
        for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] where t.hasPrefix(prefix) {
            let digits = t.dropFirst(2)
            guard !digits.isEmpty, let v = UInt64(digits, radix: radix) else { return .nan }
            return Double(v)
        }
        switch t {
        case "Infinity", "+Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        guard t.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }), let d = Double(t) else { return .nan }
        return d
    }

    /// `ToString` (`String(v)`; arrays join their elements, `null` inside an array is empty).
    static func string(_ v: JSON) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let n): return String(n)
        case .double(let d): return numberString(d)
        case .string(let s): return s
        case .array(let a): return a.map { $0 == .null ? "" : string($0) }.joined(separator: ",")
        case .object: return "[object Object]"
        }
    }

    static func numberString(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == d.rounded(), abs(d) < 1e21 { return String(format0(d)) }
        return "\(d)"
    }

    /// An integral double below 1e21 in plain digits, as JavaScript prints it
    /// (exact up to 2^64; beyond, Swift's shortest form).
    private static func format0(_ d: Double) -> String {
        if abs(d) < 18_000_000_000_000_000_000 { return (d < 0 ? "-" : "") + String(UInt64(abs(d))) }
        return "\(d)"
    }

    /// Strict equality (`===`): same type and value; arrays and objects are
    /// never equal (JavaScript compares them by identity).
    static func strictEquals(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double): return toNumber(a) == toNumber(b)
        default: return false
        }
    }

    /// Loose equality (`==`), ECMAScript's abstract equality comparison.
    static func looseEquals(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.array, .array), (.object, .object), (.array, .object), (.object, .array): return false
        case (.bool, _): return looseEquals(number(toNumber(a)), b)
        case (_, .bool): return looseEquals(a, number(toNumber(b)))
        case (.array, _), (.object, _): return looseEquals(primitive(a), b)
        case (_, .array), (_, .object): return looseEquals(a, primitive(b))
        case (.string(let x), .string(let y)): return x == y
        default: return toNumber(a) == toNumber(b)  // number-number, number-string
        }
    }

    /// `a < b` (or `a <= b`) with JavaScript's rules: two strings compare by
    /// UTF-16 code units, anything else as numbers (NaN compares false).
    static func less(_ a: JSON, _ b: JSON, orEqual: Bool) -> Bool {
        let pa = primitive(a), pb = primitive(b)
        if case .string(let x) = pa, case .string(let y) = pb {
            let c = compareUTF16(x, y)
            return orEqual ? c <= 0 : c < 0
        }
        let x = toNumber(pa), y = toNumber(pb)
        if x.isNaN || y.isNaN { return false }
        return orEqual ? x <= y : x < y
    }

    static func compareUTF16(_ x: String, _ y: String) -> Int {
        var i = x.utf16.makeIterator(), j = y.utf16.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let p?, let q?): if p != q { return p < q ? -1 : 1 }
            }
        }
    }

    /// A result as JSON: NaN and the infinities become `null`, as `JSON.stringify` writes them.
    static func sanitized(_ v: JSON) -> JSON {
        switch v {
        case .double(let d) where d.isNaN || d.isInfinite: return .null
        case .array(let a): return .array(a.map(sanitized))
        case .object(let o):
            var out = JSONObject()
            for m in o { out[m.key] = sanitized(m.value) }
            return .object(out)
        default: return v
        }
    }
}

