/// Custom field types, validations and values (docs/custom-fields.md).
extension CustomFieldDefinition {
    static let owners = ["order", "line_item"]
    static let scalarTypes = ["text", "multiline_text", "integer", "decimal", "money", "boolean", "date", "datetime",
                              "email", "url", "phone", "choice", "json"]
    /// The scalar types a list may hold (`list.text`, …): all but free text blocks and JSON.
    static let listableTypes = ["text", "integer", "decimal", "money", "boolean", "date", "datetime", "email", "url", "phone", "choice"]
    static let types = scalarTypes + listableTypes.map { "list." + $0 }
    static let validationStatuses = ["all_valid", "in_progress", "some_invalid"]
    /// Definitions per owner.
    static let maxPerOwner = 100
    static let maxListItems = 100
    static let maxJSONBytes = 16_384

    var isList: Bool { type.hasPrefix("list.") }
    /// The type of one value (of one item, for a list).
    var itemType: String { isList ? String(type.dropFirst(5)) : type }

    /// The rules `type` allows, each naming the types it applies to (docs/custom-fields.md, "Validations").
    static func rulesAllowed(for type: String) -> Set<String> {
        let item = type.hasPrefix("list.") ? String(type.dropFirst(5)) : type
        var r: Set<String> = ["required"]
        switch item {
        case "integer", "decimal", "money", "date", "datetime": r.formUnion(["min", "max"])
        case "text", "multiline_text", "email", "url": r.formUnion(["min_length", "max_length", "pattern"])
        case "choice": r.insert("choices")
        default: break
        }
        if item == "url" { r.insert("allowed_domains") }
        if type.hasPrefix("list.") { r.formUnion(["min_items", "max_items"]) }
        return r
    }

    /// Checks the validations against the type (at create and update): each rule applies to it, bounds are of its kind.
    func checkRules() throws(OrderbaseError) {
        let allowed = Self.rulesAllowed(for: type)
        for rule in validations.given where !allowed.contains(rule) {
            throw OrderbaseError.invalid("validations.\(rule) does not apply to a \(type) field", field: "validations.\(rule)")
        }
        if itemType == "choice" && validations.choices == nil {
            throw OrderbaseError.invalid("a choice field needs validations.choices", field: "validations.choices")
        }
        for (name, bound) in [("min", validations.min), ("max", validations.max)] {
            guard let bound else { continue }
            let probe = CustomFieldDefinition(id: "", owner: owner, key: key, name: "", type: itemType)
            do { _ = try probe.value(bound, at: "validations.\(name)") } catch {
                throw OrderbaseError.invalid("validations.\(name) must be a value of the field's type (\(itemType)): \(error.message)", field: "validations.\(name)")
            }
        }
        if let lo = validations.min, let hi = validations.max, Self.compare(lo, hi, itemType) == .some(false) {
            throw OrderbaseError.invalid("validations.min is more than validations.max", field: "validations.min")
        }
        if let lo = validations.minLength, let hi = validations.maxLength, lo > hi {
            throw OrderbaseError.invalid("validations.min_length is more than validations.max_length", field: "validations.min_length")
        }
        if let lo = validations.minItems, let hi = validations.maxItems, lo > hi {
            throw OrderbaseError.invalid("validations.min_items is more than validations.max_items", field: "validations.min_items")
        }
    }

    /// Whether `a ≤ b` for two valid values of `type` (nil: not comparable).
    static func compare(_ a: JSON, _ b: JSON, _ type: String) -> Bool? {
        switch (type, a, b) {
        case ("integer", .int(let x), .int(let y)): return x <= y
        case ("decimal", _, _): guard let x = a.number, let y = b.number else { return nil }; return x <= y
        case ("money", _, _): guard let x = a["amount"]?.intValue, let y = b["amount"]?.intValue else { return nil }; return x <= y
        case ("date", .string(let x), .string(let y)): return x <= y
        case ("datetime", .string(let x), .string(let y)): return (Timestamp.parse(x) ?? 0) <= (Timestamp.parse(y) ?? 0)
        default: return nil
        }
    }

    // MARK: values

    /// Checks a value against the type and the rules; answers its stored form.
    /// An error names the value's place (`custom_fields.gift_message`) and the rule (`details.rule`).
    func check(_ v: JSON, at path: String) throws(OrderbaseError) -> JSON {
        guard isList else { return try checkItem(v, at: path) }
        guard case .array(let items) = v else { throw Self.broken(path, "type", "\(path) must be a list of \(itemType), got \(v.typeName)") }
        if items.count > Self.maxListItems { throw Self.broken(path, "max_items", "\(path) has more than \(Self.maxListItems) items", limit: .int(Int64(Self.maxListItems))) }
        if let n = validations.minItems, items.count < n { throw Self.broken(path, "min_items", "\(path) needs at least \(n) items", limit: .int(n)) }
        if let n = validations.maxItems, items.count > n { throw Self.broken(path, "max_items", "\(path) has more than \(n) items", limit: .int(n)) }
        var out: [JSON] = []
        for (i, item) in items.enumerated() { out.append(try checkItem(item, at: "\(path)[\(i)]")) }
        return .array(out)
    }

    private func checkItem(_ v: JSON, at path: String) throws(OrderbaseError) -> JSON {
        let stored = try value(v, at: path)
        let r = validations
        if let lo = r.min, Self.compare(lo, stored, itemType) == false {
            throw Self.broken(path, "min", "\(path) is less than the minimum \(lo.text)", limit: lo)
        }
        if let hi = r.max, Self.compare(stored, hi, itemType) == false {
            throw Self.broken(path, "max", "\(path) is more than the maximum \(hi.text)", limit: hi)
        }
        if case .string(let s) = stored {
            let n = Int64(s.unicodeScalars.count)
            if let lo = r.minLength, n < lo { throw Self.broken(path, "min_length", "\(path) is shorter than \(lo) characters", limit: .int(lo)) }
            if let hi = r.maxLength, n > hi { throw Self.broken(path, "max_length", "\(path) is longer than \(hi) characters", limit: .int(hi)) }
            if let p = r.compiledPattern, !p.matches(s) {
                throw Self.broken(path, "pattern", "\(path) does not match the pattern \(p.source)", limit: .string(p.source))
            }
            if let choices = r.choices, !choices.contains(s) {
                throw Self.broken(path, "choices", "\(path) must be one of \(choices.joined(separator: ", "))", limit: .array(choices.map { .string($0) }))
            }
            if let domains = r.allowedDomains, let host = Self.host(s)?.lowercased(),
               !domains.contains(where: { host == $0 || host.hasSuffix("." + $0) }) {
                throw Self.broken(path, "allowed_domains", "\(path) is not on an allowed domain (\(domains.joined(separator: ", ")))",
                                  limit: .array(domains.map { .string($0) }))
            }
        }
        return stored
    }

    /// The stored form of one value of `itemType`, or `invalid_argument` (rule `type`).
    func value(_ v: JSON, at path: String) throws(OrderbaseError) -> JSON {
        func bad(_ what: String) -> OrderbaseError { Self.broken(path, "type", "\(path) must be \(what), got \(v == .null ? "null" : v.text.prefix(60).description)") }
        switch itemType {
        case "text", "multiline_text":
            guard case .string(let s) = v else { throw bad("a string") }
            let cap = itemType == "text" ? 255 : 5000
            if s.isLonger(than: cap) { throw Self.broken(path, "max_length", "\(path) is longer than \(cap) characters", limit: .int(Int64(cap))) }
            if itemType == "text", s.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) { throw bad("one line of text") }
            return v
        case "integer":
            switch v {
            case .int: return v
            case .double(let d) where d == d.rounded() && abs(d) <= 9_007_199_254_740_992: return .int(Int64(d))
            default: throw bad("an integer")
            }
        case "decimal":
            switch v {
            case .int, .double: return v
            default: throw bad("a number")
            }
        case "money":
            guard case .object(let o) = v, o.count == 2, let amount = o["amount"]?.intValue, abs(amount) <= Money.max,
                  let currency = o["currency"]?.stringValue, Currency.exponent(currency) != nil else {
                throw bad(#"{"amount": minor units, "currency": an ISO 4217 code}"#)
            }
            return .object(["amount": .int(amount), "currency": .string(currency)])
        case "boolean":
            guard case .bool = v else { throw bad("true or false") }
            return v
        case "date":
            guard case .string(let s) = v, Self.isDate(s) else { throw bad("a date (YYYY-MM-DD)") }
            return v
        case "datetime":
            guard case .string(let s) = v, let ms = Timestamp.parse(s) else { throw bad("a date and time (RFC 3339)") }
            return .string(Timestamp.format(ms))
        case "email":
            guard case .string(let s) = v, Self.isEmail(s) else { throw bad("an email address") }
            return v
        case "url":
            guard case .string(let s) = v, !s.isLonger(than: 2048), Self.host(s) != nil else { throw bad("an http or https URL with a host") }
            return v
        case "phone":
            guard case .string(let s) = v, let e164 = Self.e164(s) else { throw bad("a phone number in international form (+44 20 7946 0000)") }
            return .string(e164)
        case "choice":
            guard case .string = v else { throw bad("a string") }
            return v
        case "json":
            let size = v.bytes.count
            if size > Self.maxJSONBytes { throw Self.broken(path, "max_length", "\(path) is \(size) bytes; the limit is \(Self.maxJSONBytes)", limit: .int(Int64(Self.maxJSONBytes))) }
            return v
        default:
            throw OrderbaseError(.corruption, "custom field \(id) has unknown type \(type)")
        }
    }

    static func broken(_ path: String, _ rule: String, _ message: String, limit: JSON? = nil) -> OrderbaseError {
        var details: JSONObject = ["rule": .string(rule)]
        if let limit { details["limit"] = limit }
        return OrderbaseError(.invalidArgument, message, field: path, details: .object(details))
    }

    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45 else { return false }
        func num(_ r: Range<Int>) -> Int? { var n = 0; for i in r { guard (48...57).contains(b[i]) else { return nil }; n = n * 10 + Int(b[i] - 48) }; return n }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return d <= days
    }

    static func isEmail(_ s: String) -> Bool {
        guard !s.isLonger(than: 254) else { return false }
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].unicodeScalars.count <= 64, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return !s.unicodeScalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
    }

    /// The host of an http(s) URL, or nil.
    static func host(_ s: String) -> String? {
        let lower = s.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lower.hasPrefix($0) }) else { return nil }
        guard !s.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else { return nil }
        var rest = s.dropFirst(scheme.count)
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if let colon = rest.lastIndex(of: ":"), !rest.hasPrefix("[") { rest = rest[..<colon] }
        return rest.isEmpty ? nil : String(rest)
    }

    /// `+` and 7–15 digits (E.164), from a number written with spaces, dots, hyphens or parentheses.
    static func e164(_ s: String) -> String? {
        guard s.hasPrefix("+"), !s.isLonger(than: 32) else { return nil }
        var digits = ""
        for c in s.unicodeScalars.dropFirst() {
            if (48...57).contains(c.value) { digits.unicodeScalars.append(c) } else if !" .-()".unicodeScalars.contains(c) { return nil }
        }
        guard (7...15).contains(digits.count), !digits.hasPrefix("0") else { return nil }
        return "+" + digits
    }

    /// The index text of a stored value (`I order custom_fields "<owner.key>=<text>" id`), nil for types not indexed.
    func indexTexts(_ v: JSON) -> [String] {
        let values: [JSON] = isList ? v.arrayValue : [v]
        var out: [String] = []
        for item in values {
            let text: String
            switch (itemType, item) {
            case ("multiline_text", _), ("json", _): return []
            case (_, .string(let s)): text = s
            case ("money", _): text = "\(item["amount"]?.intValue ?? 0) \(item["currency"]?.stringValue ?? "")"
            default: text = item.text
            }
            out.append(text)
        }
        return out
    }
}

extension JSON {
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    var arrayValue: [JSON] { if case .array(let a) = self { return a } else { return [] } }
    var objectKeys: [String] { if case .object(let o) = self { return o.keys } else { return [] } }
}

/// A custom field's validations: each optional; `given` lists those set.
struct CustomFieldRules: Equatable, Sendable {
    var required = false
    var min: JSON?, max: JSON?
    var minLength: Int64?, maxLength: Int64?
    /// Compiled when set (a definition is decoded once into the registry), not on every value checked.
    var pattern: String? { didSet { compiledPattern = pattern.flatMap { try? SafeRegex($0, field: "validations.pattern") } } }
    private(set) var compiledPattern: SafeRegex?
    var choices: [String]?
    var allowedDomains: [String]?
    var minItems: Int64?, maxItems: Int64?

    static func == (a: CustomFieldRules, b: CustomFieldRules) -> Bool { a.json == b.json }

    var given: [String] {
        var g: [String] = []
        if required { g.append("required") }
        if min != nil { g.append("min") }
        if max != nil { g.append("max") }
        if minLength != nil { g.append("min_length") }
        if maxLength != nil { g.append("max_length") }
        if pattern != nil { g.append("pattern") }
        if choices != nil { g.append("choices") }
        if allowedDomains != nil { g.append("allowed_domains") }
        if minItems != nil { g.append("min_items") }
        if maxItems != nil { g.append("max_items") }
        return g
    }

    var json: JSON {
        var o = JSONObject()
        o["required"] = .bool(required)
        if let min { o["min"] = min }
        if let max { o["max"] = max }
        if let minLength { o["min_length"] = .int(minLength) }
        if let maxLength { o["max_length"] = .int(maxLength) }
        if let pattern { o["pattern"] = .string(pattern) }
        if let choices { o["choices"] = .array(choices.map { .string($0) }) }
        if let allowedDomains { o["allowed_domains"] = .array(allowedDomains.map { .string($0) }) }
        if let minItems { o["min_items"] = .int(minItems) }
        if let maxItems { o["max_items"] = .int(maxItems) }
        return .object(o)
    }

    func write(_ w: inout JSONWriter) { w.value(json) }

    /// Reads a request's `validations` (strict: types and limits; the rules' fit to the field's type is `checkRules`).
    static func read(_ f: inout Fields) throws(OrderbaseError) -> CustomFieldRules {
        var r = CustomFieldRules()
        r.required = try f.bool("required") ?? false
        for name in ["min", "max"] {
            if let v = f.raw(name), v != .null {
                switch v {
                case .int, .double, .string, .object: break
                default: throw OrderbaseError.invalid("\(f.fieldPath(name)) must be a number, a date, a date-time or a money object", field: f.fieldPath(name))
                }
                if name == "min" { r.min = v } else { r.max = v }
            }
        }
        r.minLength = try f.int("min_length", in: 0...65_535)
        r.maxLength = try f.int("max_length", in: 0...65_535)
        if let p = try f.string("pattern", maxLength: SafeRegex.maxPatternLength, allowEmpty: false) {
            _ = try SafeRegex(p, field: f.fieldPath("pattern"))
            r.pattern = p
        }
        if let c = try f.array("choices", maxCount: 250) {
            var seen: Set<String> = []
            r.choices = []
            for (i, item) in c.enumerated() {
                guard case .string(let s) = item, !s.isEmpty, !s.isLonger(than: 255) else {
                    throw OrderbaseError.invalid("\(f.fieldPath("choices"))[\(i)] must be a string of 1 to 255 characters", field: "\(f.fieldPath("choices"))[\(i)]")
                }
                guard seen.insert(s).inserted else { throw OrderbaseError.invalid("\(f.fieldPath("choices")) lists \(s) twice", field: f.fieldPath("choices")) }
                r.choices!.append(s)
            }
            if r.choices!.isEmpty { throw OrderbaseError.invalid("\(f.fieldPath("choices")) must list at least one choice", field: f.fieldPath("choices")) }
        }
        if let d = try f.array("allowed_domains", maxCount: 100) {
            r.allowedDomains = []
            for (i, item) in d.enumerated() {
                guard case .string(let s) = item, !s.isEmpty, !s.isLonger(than: 253),
                      s.unicodeScalars.allSatisfy({ ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".") }),
                      !s.hasPrefix("."), !s.hasSuffix(".") else {
                    throw OrderbaseError.invalid("\(f.fieldPath("allowed_domains"))[\(i)] must be a domain name (example.com)", field: "\(f.fieldPath("allowed_domains"))[\(i)]")
                }
                r.allowedDomains!.append(s.lowercased())
            }
        }
        r.minItems = try f.int("min_items", in: 0...Int64(CustomFieldDefinition.maxListItems))
        r.maxItems = try f.int("max_items", in: 0...Int64(CustomFieldDefinition.maxListItems))
        return r
    }

    /// Decodes stored validations (as written; no limits).
    static func decode(_ f: inout Fields) throws(OrderbaseError) -> CustomFieldRules {
        var r = CustomFieldRules()
        r.required = try f.bool("required") ?? false
        r.min = f.raw("min")
        r.max = f.raw("max")
        r.minLength = try f.int("min_length", in: 0...Int64.max)
        r.maxLength = try f.int("max_length", in: 0...Int64.max)
        r.pattern = try f.string("pattern", maxLength: Int.max)
        r.choices = try f.array("choices", maxCount: Int.max)?.compactMap(\.stringValue)
        r.allowedDomains = try f.array("allowed_domains", maxCount: Int.max)?.compactMap(\.stringValue)
        r.minItems = try f.int("min_items", in: 0...Int64.max)
        r.maxItems = try f.int("max_items", in: 0...Int64.max)
        return r
    }
}
