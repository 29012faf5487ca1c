/// Checks an expression against the shape of the data it will see, at save
/// time: a misspelled field (`order.totl`) or a comparison of a number field
/// with a string literal is an error then, not a silent `null` at run time.
///
/// The shape of `order` is taken from the engine's own renderer (a fully
/// populated order rendered to JSON), so it cannot drift from what orders
/// really look like.
public struct DataShape: Sendable {
    indirect enum Kind: Sendable, Equatable {
        case number, string, boolean, timestamp, any
        case object([String: Kind], open: Bool)
        case array(Kind)
    }

    let root: Kind

    /// What guards and `expressions.evaluate` see: `order`, `previous` (the
    /// order before the change, on updates) and `actor` (`type`, `id`, `roles`).
    public static let guardData: DataShape = {
        let order = Self.kind(of: Order.sample.render().bytes)
        let actor = Kind.object(["type": .string, "id": .string, "roles": .array(.string)], open: false)
        return DataShape(root: .object(["order": order, "previous": order, "actor": actor], open: false))
    }()

    /// `self` with every order in it (an object with `custom_fields` and `line_items`) typed by the
    /// tenant's custom field definitions: `order.custom_fields` and each line's `custom_fields` become
    /// closed objects of the defined keys (no definitions of an owner: left open).
    func typed(by defs: [CustomFieldDefinition]) -> DataShape {
        if defs.isEmpty { return self }
        func fields(_ owner: String) -> Kind? {
            let mine = defs.filter { $0.owner == owner }
            if mine.isEmpty { return nil }
            return .object(Dictionary(mine.map { ($0.key, Self.kind(of: $0)) }, uniquingKeysWith: { a, _ in a }), open: false)
        }
        let order = fields("order"), line = fields("line_item")
        func walk(_ k: Kind) -> Kind {
            switch k {
            case .object(var f, let open):
                if f["custom_fields"] != nil, case .array(.object(var lf, let lopen))? = f["line_items"] {
                    if let order { f["custom_fields"] = order }
                    if let line { lf["custom_fields"] = line }
                    f["line_items"] = .array(.object(lf, open: lopen))
                    return .object(f, open: open)
                }
                return .object(f.mapValues(walk), open: open)
            case .array(let e): return .array(walk(e))
            default: return k
            }
        }
        return DataShape(root: walk(root))
    }

    /// What a custom field's value is to the checker.
    static func kind(of def: CustomFieldDefinition) -> Kind {
        let item: Kind
        switch def.itemType {
        case "integer", "decimal": item = .number
        case "boolean": item = .boolean
        case "datetime": item = .timestamp
        case "money": item = .object(["amount": .number, "currency": .string], open: false)
        case "json": item = .any
        default: item = .string
        }
        return def.isList ? .array(item) : item
    }

    /// Free-form objects whose keys are the caller's.
    static let openFields: Set<String> = ["metadata", "properties", "custom_fields"]

    static func kind(of bytes: [UInt8]) -> Kind {
        kind(of: (try? JSON.parse(bytes)) ?? .null, name: "")
    }

    static func kind(of v: JSON, name: String) -> Kind {
        switch v {
        case .int, .double: return .number
        case .bool: return .boolean
        case .string(let s): return name.hasSuffix("_at") && Timestamp.parse(s) != nil ? .timestamp : .string
        case .null: return name.hasSuffix("_at") ? .timestamp : .any
        case .array(let a): return .array(a.first.map { kind(of: $0, name: "") } ?? .any)
        case .object(let o):
            if openFields.contains(name) { return .object([:], open: true) }
            var fields: [String: Kind] = [:]
            for m in o { fields[m.key] = kind(of: m.value, name: m.key) }
            return .object(fields, open: false)
        }
    }

    /// The kind at a `var` path, or an error naming the first unknown step
    /// (with the closest known name): "unknown field order.totl", or with
    /// `noun` "variable" for a template.
    static func resolve(_ parts: [String], from start: Kind, noun: String = "field") -> Result<Kind, OrderbaseError> {
        var cur = start
        var walked: [String] = []
        for p in parts {
            switch cur {
            case .object(let fields, let open):
                if let next = fields[p] { cur = next } else if open { return .success(.any) } else {
                    let path = (walked + [p]).joined(separator: ".")
                    let near = Self.closest(p, Array(fields.keys)).map { " (did you mean \((walked + [$0]).joined(separator: "."))?)" } ?? ""
                    return .failure(OrderbaseError(.invalidArgument, "unknown \(noun) \(path)\(near)", field: "expression",
                                                   details: .object(["path": .string(path)])))
                }
            case .array(let element):
                if Int(p) != nil { cur = element } else if p == "length" { cur = .number } else {
                    return .failure(OrderbaseError(.invalidArgument, "\((walked + [p]).joined(separator: ".")): \(walked.joined(separator: ".")) is a list; use an index or some()/all()",
                                                   field: "expression"))
                }
            default:
                return .success(.any)
            }
            walked.append(p)
        }
        return .success(cur)
    }

    static func closest(_ word: String, _ candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word, $0)) }.filter { $0.1 <= max(2, word.count / 3) }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var row = Array(0...y.count)  // Levenshtein, one row at a time
        for i in 1...x.count {
            var prev = row[0]
            row[0] = i
            for j in 1...y.count {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[y.count]
    }

    /// Every field path the expression reads, checked; comparisons of a
    /// number or timestamp field with a literal of another type are refused.
    public func check(_ e: Expression) throws(OrderbaseError) -> [String] {
        var paths: [String] = []
        try walk(e.root, scope: root, &paths)
        return paths
    }

    private func walk(_ n: Node, scope: Kind, _ paths: inout [String]) throws(OrderbaseError) {
        switch n {
        case .literal:
            return
        case .list(let items):
            for i in items { try walk(i, scope: scope, &paths) }
        case .variable(let v, let d):
            if let d { try walk(d, scope: scope, &paths) }
            if !v.whole {
                if case .failure(let e) = Self.resolve(v.parts, from: scope) { throw e }
                if scope == root { paths.append(v.parts.joined(separator: ".")) }
            }
        case .spread(_, let arg):
            try walk(arg, scope: scope, &paths)
        case .op(let op, let args):
            switch op {
            case .try:
                // A fallback reads the error before it, not the order.
                try walk(args[0], scope: scope, &paths)
                for a in args.dropFirst() { try walk(a, scope: .any, &paths) }
            case .val:
                for a in args { try walk(a, scope: scope, &paths) }
                // A literal path read at this level is checked like a var path.
                var parts: [String] = []
                for a in args {
                    switch a {
                    case .literal(.string(let s)): parts.append(s)
                    case .literal(.int(let n)): parts.append(String(n))
                    default: return
                    }
                }
                guard !parts.isEmpty else { return }
                if case .failure(let e) = Self.resolve(parts, from: scope) { throw e }
                if scope == root { paths.append(parts.joined(separator: ".")) }
            case .some, .all, .none, .map, .filter:
                try walk(args[0], scope: scope, &paths)
                var element = Kind.any
                if case .variable(let v, _) = args[0], !v.whole, case .success(.array(let k)) = Self.resolve(v.parts, from: scope) { element = k }
                try walk(args[1], scope: element, &paths)
            case .reduce:
                try walk(args[0], scope: scope, &paths)
                if args.count > 2 { try walk(args[2], scope: scope, &paths) }
                var element = Kind.any
                if case .variable(let v, _) = args[0], !v.whole, case .success(.array(let k)) = Self.resolve(v.parts, from: scope) { element = k }
                try walk(args[1], scope: .object(["current": element, "accumulator": .any], open: false), &paths)
            case .changed, .previous:
                guard case .literal(.string(let f))? = args.first else { return }
                if case .failure(let e) = Self.resolve(["order"] + f.split(separator: ".").map(String.init), from: root) { throw e }
            case _ where Op.money.contains(op):
                for a in args { try walk(a, scope: scope, &paths) }
                guard case .literal(.string(let c)) = args[2], Currency.exponent(c) != nil else {
                    throw OrderbaseError.invalid("\(op.rawValue) takes the threshold's currency as a literal ISO 4217 code, like \"GBP\"", field: "expression")
                }
                if case .literal(let t) = args[1], Node.minorUnits(t) == nil {
                    throw OrderbaseError.invalid("\(op.rawValue): the threshold is a whole number of minor units (500000 for 5,000.00 \(c))", field: "expression")
                }
            default:
                for a in args { try walk(a, scope: scope, &paths) }
                if [.eq, .ne, .strictEq, .strictNe, .lt, .le, .gt, .ge].contains(op), args.count >= 2 {
                    try compareTypes(args, scope: scope)
                }
            }
        }
    }

    private func compareTypes(_ args: [Node], scope: Kind) throws(OrderbaseError) {
        for (a, b) in [(args[0], args[1]), (args[1], args[0])] {
            guard case .variable(let v, nil) = a, !v.whole, case .success(let k) = Self.resolve(v.parts, from: scope),
                  case .literal(let lit) = b else { continue }
            let path = v.parts.joined(separator: ".")
            switch (k, lit) {
            case (.number, .string(let s)) where JS.stringToNumber(s).isNaN:
                throw OrderbaseError.invalid("\(path) is a number; it is compared with the string \"\(s)\"", field: "expression")
            case (.timestamp, .int), (.timestamp, .double):
                throw OrderbaseError.invalid("\(path) is a timestamp; compare it with before/after and an RFC 3339 time, not a number", field: "expression")
            case (.string, .int), (.string, .double):
                throw OrderbaseError.invalid("\(path) is a string; it is compared with a number", field: "expression")
            default:
                continue
            }
        }
    }
}

extension Order {
    /// An order with every optional part present, rendered to learn its shape.
}
