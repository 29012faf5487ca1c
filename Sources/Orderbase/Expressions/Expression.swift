/// A compiled JSON-Logic expression (jsonlogic.com), with Orderbase's
/// extensions under the `ob.` prefix. Compile once (`Expression(json)`),
/// evaluate many times (`evaluate(data)`): operators are resolved and `var`
/// paths split at compile time, so evaluation walks a small tree.
///
/// Semantics follow the JSON Logic community's specification (the accepted
/// proposals: the JSON data model with `val`, `exists` and `??`; error
/// handling with `throw`, `try` and `NaN` as an error), which keeps
/// json-logic-js's operators and `var`/`missing`/`missing_some` as legacy
/// (docs/expressions.md, "Semantics").
public struct Expression: Sendable {
    public let json: JSON
    let root: Node

    public init(_ json: JSON) throws(OrderbaseError) {
        self.json = json
        var depth = 0
        root = try Self.compile(json, path: "", depth: &depth)
    }

    /// The value of the expression for `data`, with the infinities as `null`.
    /// An error the expression raises (`throw`, `NaN`, invalid arguments) is
    /// `invalid_argument` with `details.error` (`{"type": "NaN"}`).
    public func evaluate(_ data: JSON, context: EvaluationContext = EvaluationContext()) throws(OrderbaseError) -> JSON {
        var budget = EvaluationBudget(context.budgets)
        return JS.sanitized(try root.eval(data, .top, context, &budget))
    }

    /// Whether the expression's value is truthy for `data` (a guard's answer).
    public func test(_ data: JSON, context: EvaluationContext = EvaluationContext()) throws(OrderbaseError) -> Bool {
        var budget = EvaluationBudget(context.budgets)
        return JS.truthy(try root.eval(data, .top, context, &budget))
    }

    static let maxDepth = 64

    static func compile(_ json: JSON, path: String, depth: inout Int) throws(OrderbaseError) -> Node {
        depth += 1
        defer { depth -= 1 }
        if depth > maxDepth { throw OrderbaseError.invalid("the expression nests deeper than \(maxDepth)", field: path.isEmpty ? nil : path) }
        switch json {
        case .array(let items):
            var nodes: [Node] = []
            for (n, i) in items.enumerated() { nodes.append(try compile(i, path: "\(path)[\(n)]", depth: &depth)) }
            return .list(nodes)
        case .object(let o) where o.count == 1:
            let (name, raw) = (o.members[0].key, o.members[0].value)
            guard let op = Op(rawValue: name) else {
                throw OrderbaseError(.invalidArgument, "unknown operator \"\(name)\"", field: path.isEmpty ? nil : path,
                                     details: .object(["operator": .string(name), "error": LogicError.unknownOperator]))
            }
            let here = path.isEmpty ? name : "\(path).\(name)"
            if op == .preserve { return .literal(raw) }  // its argument is data, not logic
            let dynamic: Bool
            if case .object(let a) = raw, a.count == 1 { dynamic = true } else { dynamic = false }
            if Op.needsList.contains(op), !raw.isList {
                throw LogicError.invalidArguments("\(name) takes a list of arguments", field: here)
            }
            if dynamic, Op.spreads.contains(op) {
                // {"+": {"val": "prices"}}: the argument's value (a list) is the arguments.
                return .spread(op, try compile(raw, path: "\(here)[0]", depth: &depth))
            }
            let argsJSON: [JSON]
            if case .array(let a) = raw { argsJSON = a } else { argsJSON = [raw] }
            var args: [Node] = []
            for (n, a) in argsJSON.enumerated() { args.append(try compile(a, path: "\(here)[\(n)]", depth: &depth)) }
            if let (lo, hi) = op.arity, !(lo...hi).contains(args.count) {
                let range = lo == hi ? "\(lo)" : hi == Int.max ? "\(lo) or more" : "\(lo) to \(hi)"
                throw LogicError.invalidArguments("\(name) takes \(range) arguments, got \(args.count)", field: here)
            }
            if op == .variable, case .literal(let p)? = args.first {
                // The common case, a constant path: split it now.
                return .variable(Variable(p), args.count > 1 ? args[1] : nil)
            }
            return .op(op, args)
        case .object(let o) where o.isEmpty:
            return .literal(json)
        case .object:
            throw OrderbaseError(.invalidArgument, "an object in an expression must have exactly one key, the operator",
                                 field: path.isEmpty ? nil : path, details: .object(["error": LogicError.unknownOperator]))
        default:
            return .literal(json)
        }
    }
}

/// The errors an expression raises while it runs, as the community
/// specification names them (`{"type": "NaN"}`, `{"type": "Invalid
/// Arguments"}`, or what `throw` was given). They are `invalid_argument` with
/// the error under `details.error`; `try` catches them and nothing else (a
/// budget overrun is never caught).
enum LogicError {
    static let unknownOperator: JSON = .object(["type": .string("Unknown Operator")])
    static let invalidArgumentsType: JSON = .object(["type": .string("Invalid Arguments")])
    static let nan: OrderbaseError = raised(.object(["type": .string("NaN")]))

    static func raised(_ error: JSON) -> OrderbaseError {
        let type = error["type"]?.stringValue ?? String(decoding: error.bytes, as: UTF8.self)
        return OrderbaseError(.invalidArgument, "the expression raised an error: \(type)", field: "expression",
                              details: .object(["error": error]))
    }

    /// Wrong arguments: at compile time with the path, at run time (a dynamic
    /// argument list, a value of the wrong type) without.
    static func invalidArguments(_ message: String, field: String = "expression") -> OrderbaseError {
        OrderbaseError(.invalidArgument, message, field: field, details: .object(["error": invalidArgumentsType]))
    }

    /// The error value, if `e` is one an expression raised.
    static func caught(_ e: OrderbaseError) -> JSON? {
        guard e.code == .invalidArgument, let v = e.details?["error"] else { return nil }
        return v
    }
}

extension JSON {
    var isList: Bool { if case .array = self { true } else { false } }
}

/// What an expression can see besides its data: the engine's clock (for
/// `ob.now`), the tenant's time zone (for calendar parts) and the currency of
/// the order being judged (for the `ob.money_*` comparisons).
public struct EvaluationContext: Sendable {
    public var nowMilliseconds: Int64
    public var timeZone: TimeZoneRules
    public var currency: String?
    /// What the evaluation may spend (`expression_max_steps`, `expression_max_bytes`).
    public var budgets: Budgets
    public init(nowMilliseconds: Int64 = SystemClock().nowMilliseconds(), timeZone: TimeZoneRules = .utc, currency: String? = nil,
                budgets: Budgets = Budgets()) {
        self.nowMilliseconds = nowMilliseconds
        self.timeZone = timeZone
        self.currency = currency
        self.budgets = budgets
    }
}

enum Op: String, CaseIterable {
    case variable = "var", missing, missingSome = "missing_some"
    case `if`, ternary = "?:", eq = "==", strictEq = "===", ne = "!=", strictNe = "!==", not = "!", truthy = "!!", or, and
    case gt = ">", ge = ">=", lt = "<", le = "<=", max, min, plus = "+", minus = "-", times = "*", divide = "/", modulo = "%"
    case map, filter, reduce, all, none, some, merge, `in`, cat, substr, log
    // The JSON Logic community's specification (accepted proposals "Define JSON Logic on the
    // JSON Data Model" and "Error Handling"), and its core operators `preserve` and `length`.
    case coalesce = "??", exists, val, `throw`, `try`, preserve, length
    // Orderbase's extensions.
    case startsWith = "ob.starts_with", endsWith = "ob.ends_with", contains = "ob.contains"
    case now = "ob.now", days = "ob.days", hours = "ob.hours", minutes = "ob.minutes"
    case before = "ob.before", after = "ob.after", plusTime = "ob.add"
    case changed = "ob.changed", previous = "ob.previous"
    case weekday = "ob.weekday", hour = "ob.hour", day = "ob.day", month = "ob.month", year = "ob.year", localDate = "ob.local_date"
    case moneyGt = "ob.money_gt", moneyGe = "ob.money_ge", moneyLt = "ob.money_lt", moneyLe = "ob.money_le", moneyEq = "ob.money_eq"

    static let money: Set<Op> = [.moneyGt, .moneyGe, .moneyLt, .moneyLe, .moneyEq]
    static let comparisons: Set<Op> = [.eq, .strictEq, .ne, .strictNe, .gt, .ge, .lt, .le]
    /// Operators that decide what to evaluate: their arguments must be a list written out.
    static let needsList: Set<Op> = [.eq, .strictEq, .ne, .strictNe, .gt, .ge, .lt, .le, .if, .ternary, .and, .or, .map, .filter, .reduce, .all, .none, .some]
    /// Operators whose one argument, when it is an operator, gives the list of arguments.
    static let spreads: Set<Op> = [.plus, .minus, .times, .divide, .modulo, .max, .min, .cat, .val]

    /// Argument counts checked at compile time (nil: any). A dynamic argument
    /// list (`spreads`) is checked when it is evaluated.
    var arity: (Int, Int)? {
        switch self {
        case .variable: (0, 2)
        case .missingSome: (2, 2)
        case .not, .truthy: (0, 1)
        case .eq, .strictEq, .ne, .strictNe, .gt, .ge, .lt, .le: (2, Int.max)
        case .minus, .divide, .max, .min: (1, Int.max)
        case .modulo: (2, Int.max)
        case .map, .filter, .all, .none, .some: (2, 2)
        case .reduce: (2, 3)
        case .in: (2, 2)
        case .substr: (2, 3)
        case .throw, .length: (1, 1)
        case .try: (1, Int.max)
        case .startsWith, .endsWith, .contains, .before, .after, .plusTime: (2, 2)
        case .now: (0, 0)
        case .days, .hours, .minutes, .changed, .previous: (1, 1)
        case .weekday, .hour, .day, .month, .year, .localDate: (1, 1)
        case .moneyGt, .moneyGe, .moneyLt, .moneyLe, .moneyEq: (3, 3)
        default: nil
        }
    }
}

/// A `var` path split once: `order.line_items.0.sku` → ["order", "line_items", "0", "sku"].
struct Variable: Sendable {
    let whole: Bool
    let parts: [String]

    init(_ p: JSON) {
        switch p {
        case .null: (whole, parts) = (true, [])
        case .string(let s) where s.isEmpty: (whole, parts) = (true, [])
        default: (whole, parts) = (false, JS.string(p).split(separator: ".", omittingEmptySubsequences: false).map(String.init))
        }
    }

    /// json-logic-js: a missing step, or a null/undefined on the way, gives the default; a null leaf is null.
    func lookup(_ data: JSON, default d: JSON) -> JSON {
        if whole { return data }
        var cur = data
        for p in parts {
            guard let next = Self.step(cur, .string(p)) else { return d }
            cur = next
        }
        return cur
    }

    /// One step into a value: an object's member, a list's element or a
    /// string's UTF-16 unit by index, or the `length` of a list or string.
    static func step(_ v: JSON, _ key: JSON) -> JSON? {
        let name: String
        switch key {
        case .string(let s): name = s
        case .int(let n): name = String(n)
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: name = String(Int64(d))
        case .bool, .null, .double: name = JS.string(key)
        case .array, .object: return nil
        }
        switch v {
        case .object(let o):
            return o[name]
        case .array(let a):
            if name == "length" { return .int(Int64(a.count)) }
            guard let i = Int(name), i >= 0, i < a.count, String(i) == name else { return nil }
            return a[i]
        case .string(let s):
            if name == "length" { return .int(Int64(s.utf16.count)) }
            guard let i = Int(name), i >= 0, i < s.utf16.count, String(i) == name else { return nil }
            let u = s.utf16
            return .string(String(decoding: [u[u.index(u.startIndex, offsetBy: i)]], as: UTF16.self))
        default:
            return nil
        }
    }
}

/// The scopes above the data an operator runs on, which `val` reaches with
/// `[[n], …]`: inside an iterator, level 1 is the iteration (`{"index": i}`)
/// and level 2 the data the iterator was called on; inside a `try` fallback,
/// level 1 is `null` and level 2 the data of the `try`; and so on outwards.
indirect enum Above: Sendable {
    case top
    case iteration(index: Int, outer: JSON, parent: Above)
    case caught(outer: JSON, parent: Above)

    /// The value `levels` scopes up, or nil past the outermost.
    func climb(_ levels: Int) -> JSON? {
        var n = levels
        var s = self
        while true {
            switch s {
            case .top: return nil
            case .iteration(let i, let outer, let parent):
                if n == 1 { return .object(["index": .int(Int64(i))]) }
                if n == 2 { return outer }
                n -= 2
                s = parent
            case .caught(let outer, let parent):
                if n == 1 { return .null }
                if n == 2 { return outer }
                n -= 2
                s = parent
            }
        }
    }
}

indirect enum Node: Sendable {
    case literal(JSON)
    case list([Node])
    case variable(Variable, Node?)
    case op(Op, [Node])
    /// An operator whose argument list is the value of one expression.
    case spread(Op, Node)

    func eval(_ data: JSON, _ above: Above, _ ctx: EvaluationContext, _ budget: inout EvaluationBudget) throws(OrderbaseError) -> JSON {
        try budget.step()
        switch self {
        case .literal(let v): return v
        case .list(let items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for i in items { out.append(try i.eval(data, above, ctx, &budget)) }
            return .array(out)
        case .variable(let v, let d):
            return v.lookup(data, default: try d?.eval(data, above, ctx, &budget) ?? .null)
        case .op(let op, let args):
            return try Self.apply(op, args, data, above, ctx, &budget)
        case .spread(let op, let arg):
            let v = try arg.eval(data, above, ctx, &budget)
            let values: [JSON]
            if case .array(let a) = v { values = a } else { values = [v] }
            return try Self.compute(op, values, data, above, ctx)
        }
    }

    static func apply(_ op: Op, _ args: [Node], _ data: JSON, _ above: Above, _ ctx: EvaluationContext,
                      _ budget: inout EvaluationBudget) throws(OrderbaseError) -> JSON {
        // Operators that decide which arguments to evaluate.
        switch op {
        case .if, .ternary:
            var i = 0
            while i < args.count - 1 {
                if JS.truthy(try args[i].eval(data, above, ctx, &budget)) { return try args[i + 1].eval(data, above, ctx, &budget) }
                i += 2
            }
            return i == args.count - 1 ? try args[i].eval(data, above, ctx, &budget) : .null
        case .and, .or:
            var current = JSON.null
            for a in args {
                current = try a.eval(data, above, ctx, &budget)
                if JS.truthy(current) != (op == .and) { return current }
            }
            return current
        case .eq, .strictEq, .ne, .strictNe, .gt, .ge, .lt, .le:
            // A chain, each neighbouring pair in turn, stopping at the first that fails.
            var previous = try args[0].eval(data, above, ctx, &budget)
            for a in args.dropFirst() {
                let current = try a.eval(data, above, ctx, &budget)
                if !(try JS.compare(op, previous, current)) { return .bool(false) }
                previous = current
            }
            return .bool(true)
        case .filter, .map, .all, .none, .some:
            let scoped = try args[0].eval(data, above, ctx, &budget)
            guard case .array(let items) = scoped else { return op == .map || op == .filter ? .array([]) : .bool(op == .none) }
            switch op {
            case .map:
                var out: [JSON] = []
                for (n, i) in items.enumerated() { out.append(try args[1].eval(i, .iteration(index: n, outer: data, parent: above), ctx, &budget)) }
                try budget.produced(out.count * EvaluationBudget.bytesPerElement)
                return .array(out)
            case .all:
                if items.isEmpty { return .bool(false) }
                for (n, i) in items.enumerated() where !JS.truthy(try args[1].eval(i, .iteration(index: n, outer: data, parent: above), ctx, &budget)) {
                    return .bool(false)
                }
                return .bool(true)
            default:
                var out: [JSON] = []
                for (n, i) in items.enumerated() where JS.truthy(try args[1].eval(i, .iteration(index: n, outer: data, parent: above), ctx, &budget)) {
                    out.append(i)
                    if op == .some { return .bool(true) }
                    if op == .none { return .bool(false) }
                }
                return op == .filter ? .array(out) : .bool(op == .none)
            }
        case .coalesce:
            // The first argument that is not null, evaluated in turn (later ones are not evaluated).
            for a in args {
                let v = try a.eval(data, above, ctx, &budget)
                if v != .null { return v }
            }
            return .null
        case .reduce:
            let scoped = try args[0].eval(data, above, ctx, &budget)
            var acc = args.count > 2 ? try args[2].eval(data, above, ctx, &budget) : .null
            guard case .array(let items) = scoped else { return acc }
            for (n, i) in items.enumerated() {
                acc = try args[1].eval(.object(["current": i, "accumulator": acc]), .iteration(index: n, outer: data, parent: above), ctx, &budget)
            }
            return acc
        case .try:
            // The first argument that raises no error; each fallback sees the error before it as its data.
            var raised: OrderbaseError? = nil
            for a in args {
                do {
                    if let previous = raised {
                        return try a.eval(LogicError.caught(previous) ?? .null, .caught(outer: data, parent: above), ctx, &budget)
                    }
                    return try a.eval(data, above, ctx, &budget)
                } catch {
                    guard LogicError.caught(error) != nil else { throw error }
                    raised = error
                }
            }
            throw raised ?? LogicError.nan
        default:
            break
        }
        var v: [JSON] = []
        v.reserveCapacity(args.count)
        for a in args { v.append(try a.eval(data, above, ctx, &budget)) }
        switch op {
        case .merge, .cat:  // (map counts its list where it makes it, above)
            let out = try compute(op, v, data, above, ctx)
            switch out {
            case .array(let a): try budget.produced(a.count * EvaluationBudget.bytesPerElement)
            case .string(let s): try budget.produced(s.utf8.count)
            default: break
            }
            return out
        default:
            return try compute(op, v, data, above, ctx)
        }
    }

    /// The eager operators, on their evaluated arguments.
    static func compute(_ op: Op, _ v: [JSON], _ data: JSON, _ above: Above, _ ctx: EvaluationContext) throws(OrderbaseError) -> JSON {
        func arg(_ i: Int) -> JSON { i < v.count ? v[i] : .null }
        switch op {
        case .variable:
            return Variable(arg(0)).lookup(data, default: arg(1))
        case .val:
            // {"val": "a"} one key; {"val": ["a", 0]} a path; {"val": []} the data;
            // {"val": [[n], …]} starts n scopes up (docs/expressions.md).
            var cur = data
            var path = v[...]
            if v.count == 1, v[0] == .null { return data }
            if case .array(let a)? = path.first, a.count == 1 {
                let n = JS.toNumber(a[0])
                guard n.isFinite else { return .null }
                let levels = Int(Swift.min(abs(n.rounded(.towardZero)), 1e6))
                if levels > 0 {
                    guard let up = above.climb(levels) else { return .null }
                    cur = up
                }
                path = path.dropFirst()
            }
            for key in path {
                guard let next = Variable.step(cur, key) else { return .null }
                cur = next
            }
            return cur
        case .missing:
            let keys: [JSON]
            if case .array(let a)? = v.first { keys = a } else { keys = v }
            return .array(keys.filter { k in
                let x = Variable(k).lookup(data, default: .null)
                return x == .null || x == .string("")
            })
        case .exists:
            // The keys one by one (a key with a dot is one key); true when the last is present, even holding null.
            let keys: [JSON]
            if case .array(let a)? = v.first, v.count == 1 { keys = a } else { keys = v }
            var cur = data
            for k in keys {
                guard case .object(let o) = cur, let key = k.stringValue, let next = o[key] else { return .bool(false) }
                cur = next
            }
            return .bool(!keys.isEmpty || data != .null)
        case .missingSome:
            guard case .array(let keys) = arg(1) else { return .array([]) }
            let need = JS.toNumber(arg(0))
            let missing = keys.filter { k in
                let x = Variable(k).lookup(data, default: .null)
                return x == .null || x == .string("")
            }
            return Double(keys.count - missing.count) >= need ? .array([]) : .array(missing)
        case .not: return .bool(!JS.truthy(arg(0)))
        case .truthy: return .bool(JS.truthy(arg(0)))
        case .max, .min:
            // Numbers only (a string, boolean, null, list or object is invalid), at least one.
            guard !v.isEmpty else { throw LogicError.invalidArguments("\(op.rawValue) needs at least one number") }
            var r: Double = op == .max ? -.infinity : .infinity
            for x in v {
                switch x {
                case .int, .double: r = op == .max ? Swift.max(r, JS.toNumber(x)) : Swift.min(r, JS.toNumber(x))
                default: throw LogicError.invalidArguments("\(op.rawValue) takes numbers only")
                }
            }
            return JS.number(r)
        case .plus:
            var sum = 0.0
            for x in v { sum += try JS.operand(x) }
            return try finite(sum)
        case .times:
            var product = 1.0
            for x in v { product *= try JS.operand(x) }
            return try finite(product)
        case .minus:
            guard let first = v.first else { throw LogicError.invalidArguments("- needs at least one argument") }
            if v.count == 1 { return try finite(-(try JS.operand(first))) }
            var r = try JS.operand(first)
            for x in v.dropFirst() { r -= try JS.operand(x) }
            return try finite(r)
        case .divide:
            // Division by zero is the NaN error, as is a quotient that overflows; one argument is its reciprocal.
            guard !v.isEmpty else { throw LogicError.invalidArguments("/ needs at least one argument") }
            var r = v.count == 1 ? 1.0 : try JS.operand(v[0])
            for x in v.dropFirst(v.count == 1 ? 0 : 1) {
                let d = try JS.operand(x)
                if d == 0 { throw LogicError.nan }
                r /= d
            }
            if !r.isFinite { throw LogicError.nan }
            return JS.number(r)
        case .modulo:
            guard v.count >= 2 else { throw LogicError.invalidArguments("% needs at least two arguments") }
            var r = try JS.operand(v[0])
            for x in v.dropFirst() { r = r.truncatingRemainder(dividingBy: try JS.operand(x)) }
            return try finite(r)
        case .merge:
            var out: [JSON] = []
            for x in v { if case .array(let a) = x { out.append(contentsOf: a) } else { out.append(x) } }
            return .array(out)
        case .in:
            switch arg(1) {
            case .string(let s): return .bool(contains(s, JS.string(arg(0))))
            case .array(let a): return .bool(a.contains { JS.strictEquals($0, arg(0)) })
            default: return .bool(false)
            }
        case .cat:
            return .string(v.map { $0 == .null ? "" : JS.string($0) }.joined())
        case .length:
            switch arg(0) {
            case .string(let s): return .int(Int64(s.utf16.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            default: throw LogicError.invalidArguments("length takes a string, a list or an object")
            }
        case .throw:
            if case .object = arg(0) { throw LogicError.raised(arg(0)) }
            throw LogicError.raised(.object(["type": arg(0)]))
        case .substr:
            let u = Array(JS.string(arg(0)).utf16)
            let n = u.count
            var start = Int(clamping: Int64(JS.toNumber(arg(1)).clampedToInt))
            if start < 0 { start = Swift.max(n + start, 0) }
            start = Swift.min(start, n)
            var end = n
            if v.count > 2 {
                let len = Int(clamping: Int64(JS.toNumber(v[2]).clampedToInt))
                end = len < 0 ? Swift.max(start, n + len) : Swift.min(n, start + Swift.max(0, len))
            }
            return .string(String(decoding: u[start..<Swift.max(start, end)], as: UTF16.self))
        case .log:
            return arg(0)
        case .startsWith, .endsWith, .contains:
            guard case .string(let s) = arg(0), case .string(let p) = arg(1) else { return .bool(false) }
            if op != .contains, s.utf8.allSatisfy({ $0 < 0x80 }), p.utf8.allSatisfy({ $0 < 0x80 }) {
                // ASCII: compare folded bytes in place (no lowercased copies per list element).
                let a = s.utf8, b = p.utf8
                guard b.count <= a.count else { return .bool(false) }
                let part = op == .startsWith ? a.prefix(b.count) : a.suffix(b.count)
                return .bool(zip(part, b).allSatisfy { asciiLower($0) == asciiLower($1) })
            }
            let a = s.lowercased(), b = p.lowercased()
            return .bool(op == .startsWith ? a.hasPrefix(b) : op == .endsWith ? a.hasSuffix(b) : contains(a, b))
        case .now:
            return .string(Timestamp.format(ctx.nowMilliseconds))
        case .days, .hours, .minutes:
            let unit: Double = op == .days ? 86_400_000 : op == .hours ? 3_600_000 : 60_000
            return JS.number(JS.toNumber(arg(0)) * unit)
        case .before, .after:
            guard let a = instant(arg(0)), let b = instant(arg(1)) else { return .bool(false) }
            return .bool(op == .before ? a < b : a > b)
        case .changed, .previous:
            // On an update, `previous` is the order before it: changed("status") compares the two.
            let field = JS.string(arg(0))
            let before = Variable(.string("previous." + field)).lookup(data, default: .null)
            if op == .previous { return before }
            guard case .object(let o) = data, o["previous"] != nil else { return .bool(false) }
            return .bool(before != Variable(.string("order." + field)).lookup(data, default: .null))
        case .weekday, .hour, .day, .month, .year, .localDate:
            // Calendar parts in the tenant's time zone; null for a non-time.
            guard let t = instant(arg(0)) else { return .null }
            let l = ctx.timeZone.local(t)
            switch op {
            case .weekday: return .int(l.weekday)
            case .hour: return .int(l.hour)
            case .day: return .int(l.day)
            case .month: return .int(l.month)
            case .year: return .int(l.year)
            default:
                let ymd = Timestamp.format(Timestamp.daysFromCivil(l.year, l.month, l.day) * 86_400_000)
                return .string(String(ymd.prefix(10)))
            }
        case .moneyGt, .moneyGe, .moneyLt, .moneyLe, .moneyEq:
            // Amounts in minor units of the judged order's currency, against a
            // threshold in a named currency: comparing across currencies is an
            // error, never a silent false.
            let want = JS.string(arg(2))
            guard let have = ctx.currency else {
                throw OrderbaseError(.invalidArgument, "\(op.rawValue) needs an order to take the currency from", field: "expression")
            }
            guard have == want else {
                throw OrderbaseError(.invalidState, "\(op.rawValue) compares amounts in \(want); this order is in \(have)", field: "expression",
                                     details: .object(["expected_currency": .string(want), "currency": .string(have)]))
            }
            guard let a = minorUnits(arg(0)), let b = minorUnits(arg(1)) else { return .bool(false) }
            switch op {
            case .moneyGt: return .bool(a > b)
            case .moneyGe: return .bool(a >= b)
            case .moneyLt: return .bool(a < b)
            case .moneyLe: return .bool(a <= b)
            default: return .bool(a == b)
            }
        case .plusTime:
            guard let a = instant(arg(0)) else { return .null }
            let d = JS.toNumber(arg(1))
            guard d.isFinite, abs(d) < 1e15, let t = instant(.int(a + Int64(d))) else { return .null }
            return .string(Timestamp.format(t))
        default:
            return .null  // the lazy operators returned above
        }
    }

    /// An arithmetic result: NaN is the error; an infinity stays (a result prints it as null).
    static func finite(_ d: Double) throws(OrderbaseError) -> JSON {
        if d.isNaN { throw LogicError.nan }
        return JS.number(d)
    }

    @inline(__always) static func asciiLower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    /// The instants an RFC 3339 time can write: years 0000 to 9999, in epoch milliseconds.
    static let instants: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    /// A timestamp (RFC 3339 string) or epoch milliseconds, within `instants`
    /// (so calendar arithmetic on it cannot overflow: epoch milliseconds near
    /// Int64's ends trapped in `ob.add` and `ob.local_date`).
    static func instant(_ v: JSON) -> Int64? {
        switch v {
        case .string(let s): return Timestamp.parse(s).flatMap { instants.contains($0) ? $0 : nil }
        case .int(let n): return instants.contains(n) ? n : nil
        case .double(let d) where d.isFinite && abs(d) < 1e15 && instants.contains(Int64(d)): return Int64(d)
        default: return nil
        }
    }

    /// An integral amount in minor units (integral doubles count).
    static func minorUnits(_ v: JSON) -> Int64? {
        switch v {
        case .int(let n): return n
        case .double(let d) where d.isFinite && d.rounded() == d && abs(d) < 9e15: return Int64(d)
        default: return nil
        }
    }

    /// `String.prototype.indexOf(needle) !== -1`, by UTF-16 code units.
    static func contains(_ hay: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        let h = Array(hay.utf16), n = Array(needle.utf16)
        guard n.count <= h.count else { return false }
        for i in 0...(h.count - n.count) where h[i] == n[0] && Array(h[i..<(i + n.count)]) == n { return true }
        return false
    }
}

extension Double {
    /// JavaScript's ToIntegerOrInfinity, clamped into Int64 (NaN is 0).
    var clampedToInt: Double {
        if isNaN { return 0 }
        return Swift.max(-9.2e18, Swift.min(9.2e18, rounded(.towardZero)))
    }
}

/// What one evaluation may spend (docs/expressions.md, "Limits"): steps
/// (every node evaluated), and bytes of the values it produces (strings from
/// `cat`, lists from `map` and `merge`, counted as they are made, whether
/// kept or not). A step budget alone does not bound memory: a `reduce` that
/// doubles a string with `cat` at each of 31 steps would make gigabytes.
/// Exceeding either is `limit_exceeded` with `details.budget` naming it.
struct EvaluationBudget {
    /// What one element of a produced list counts for.
    static let bytesPerElement = 16
    let maxSteps: Int
    let maxBytes: Int
    var steps = 0
    var bytes = 0

    init(_ budgets: Budgets) {
        maxSteps = budgets.expressionSteps
        maxBytes = budgets.expressionBytes
    }

    mutating func step() throws(OrderbaseError) {
        steps += 1
        if steps > maxSteps {
            throw Budgets.exceeded("expression_steps", limit: maxSteps, "the expression took more than \(maxSteps) steps")
        }
    }

    mutating func produced(_ n: Int) throws(OrderbaseError) {
        bytes += n
        if bytes > maxBytes {
            throw Budgets.exceeded("expression_bytes", limit: maxBytes, "the expression produced more than \(maxBytes) bytes of values")
        }
    }
}
