/// The readable text form of expressions, which compiles to (and prints from)
/// the JSON-Logic form:
///
/// ```
/// order.total > 500000 and order.channel == "marketplace"
///     and some(order.line_items, item.sku starts_with "GIFT")
/// ```
///
/// Precedence, loosest first: `or`; `and`; `not`; comparisons (`==` `!=` `===`
/// `!==` `<` `<=` `>` `>=` `in` `starts_with` `ends_with` `contains` `before`
/// `after`; `a < b < c` is JSON-Logic's "between"); `+ -`; `* / %`; unary `-`
/// `!` `!!`. Paths (`order.line_items.0.sku`) read data (`var`); every other
/// operator is a call (`max(a, b)`, `if(c, a, b)`, `days(3)`). Inside the
/// second argument of `some`, `all`, `none`, `map` and `filter`, `item` is the
/// element (`item.sku`); inside `reduce`, `current` and `accumulator`.
/// docs/expressions.md is the reference.
public enum ExpressionText {
    // MARK: parsing

    /// The JSON-Logic form of `text`; errors name line and column.
    public static func parse(_ text: String) throws(OrderbaseError) -> JSON {
        var p = Parser(Array(text.utf8))
        let v = try p.expression(scope: .top)
        p.skipSpace()
        if p.i < p.b.count { throw p.fail("unexpected \(p.describeHere())") }
        return ungroup(v)
    }

    enum Scope { case top, item, reduce }

    static let comparisons: [(String, String)] = [
        ("===", "==="), ("!==", "!=="), ("==", "=="), ("!=", "!="), ("<=", "<="), (">=", ">="), ("<", "<"), (">", ">"),
    ]
    static let wordComparisons: [String: String] = [
        "in": "in", "starts_with": "ob.starts_with", "ends_with": "ob.ends_with", "contains": "ob.contains",
        "before": "ob.before", "after": "ob.after",
    ]
    static let keywords: Set<String> = Set(["and", "or", "not", "true", "false", "null"]).union(wordComparisons.keys)
    /// Call names for Orderbase's extensions.
    static let extensionCalls: [String: String] = [
        "now": "ob.now", "days": "ob.days", "hours": "ob.hours", "minutes": "ob.minutes", "add": "ob.add",
        "starts_with": "ob.starts_with", "ends_with": "ob.ends_with", "contains": "ob.contains",
        "before": "ob.before", "after": "ob.after", "changed": "ob.changed", "previous": "ob.previous",
        "weekday": "ob.weekday", "hour": "ob.hour", "day": "ob.day", "month": "ob.month", "year": "ob.year",
        "local_date": "ob.local_date",
        "money_gt": "ob.money_gt", "money_ge": "ob.money_ge", "money_lt": "ob.money_lt", "money_le": "ob.money_le",
        "money_eq": "ob.money_eq", "coalesce": "??",
    ]
    static let iterators: Set<String> = ["some", "all", "none", "map", "filter"]

    struct Parser {
        let b: [UInt8]
        var i = 0
        /// Nesting so far: deep input must fail cleanly, not overflow the stack.
        /// It counts the grammar's levels (a parenthesized group is two, a unary
        /// operator one), so it may reach three times the JSON-Logic nesting the
        /// compiler then checks: whatever the printer writes parses back (found by
        /// the expression fuzzer: `-(-2)` under 60 minus signs did not).
        var depth = 0
        static let maxDepth = 3 * Expression.maxDepth
        init(_ b: [UInt8]) { self.b = b }

        mutating func enter() throws(OrderbaseError) {
            depth += 1
            if depth > Self.maxDepth { throw fail("the expression nests deeper than \(Expression.maxDepth)") }
        }

        func position(_ at: Int) -> (Int, Int) {
            var line = 1, col = 1, k = 0
            while k < min(at, b.count) {
                if b[k] == 0x0A { line += 1; col = 1 } else if b[k] & 0xC0 != 0x80 { col += 1 }
                k += 1
            }
            return (line, col)
        }

        func fail(_ what: String, at: Int? = nil) -> OrderbaseError {
            let (line, col) = position(at ?? i)
            return OrderbaseError(.invalidArgument, "expression error at line \(line), column \(col): \(what)", field: "expression",
                                  details: .object(["line": .int(Int64(line)), "column": .int(Int64(col)), "offset": .int(Int64(at ?? i))]))
        }

        func describeHere() -> String {
            guard i < b.count else { return "end of expression" }
            var j = i
            while j < b.count, j - i < 12, b[j] != 0x20, b[j] != 0x0A { j += 1 }
            return "\"\(String(decoding: b[i..<max(j, i + 1)], as: UTF8.self))\""
        }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
        }

        static func isIdentStart(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F }
        static func isIdent(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }

        /// The identifier at the cursor, without consuming it.
        func peekWord() -> String? {
            guard i < b.count, Self.isIdentStart(b[i]) else { return nil }
            var j = i
            while j < b.count, Self.isIdent(b[j]) { j += 1 }
            return String(decoding: b[i..<j], as: UTF8.self)
        }

        mutating func word(_ w: String) -> Bool {
            skipSpace()
            guard peekWord() == w else { return false }
            i += w.utf8.count
            return true
        }

        mutating func symbol(_ s: String) -> Bool {
            skipSpace()
            let u = Array(s.utf8)
            guard i + u.count <= b.count, Array(b[i..<(i + u.count)]) == u else { return false }
            // Callers try longer symbols first (`<=` before `<`, `!!` before `!`).
            i += u.count
            return true
        }

        mutating func expect(_ s: String) throws(OrderbaseError) {
            if !symbol(s) { throw fail("expected \(s), found \(describeHere())") }
        }

        mutating func expression(scope: Scope) throws(OrderbaseError) -> JSON { try chain("or", scope: scope) { (p: inout Parser) throws(OrderbaseError) in try p.chain("and", scope: scope) { (q: inout Parser) throws(OrderbaseError) in try q.negation(scope: scope) } } }

        /// `a op b op c` → {"op": [a, b, c]}.
        mutating func chain(_ op: String, scope: Scope, _ next: (inout Parser) throws(OrderbaseError) -> JSON) throws(OrderbaseError) -> JSON {
            var items = [try next(&self)]
            while word(op) { items.append(try next(&self)) }
            return items.count == 1 ? items[0] : .object([op: .array(items)])
        }

        mutating func negation(scope: Scope) throws(OrderbaseError) -> JSON {
            try enter()
            defer { depth -= 1 }
            if word("not") { return .object(["!": .array([try negation(scope: scope)])]) }
            return try comparison(scope: scope)
        }

        mutating func comparison(scope: Scope) throws(OrderbaseError) -> JSON {
            let first = try sum(scope: scope)
            skipSpace()
            for (text, op) in ExpressionText.comparisons where symbol(text) {
                let second = try sum(scope: scope)
                if op == "<" || op == "<=" {
                    // JSON-Logic's "between" repeats one operator: `a < b < c`, `a <= b <= c`.
                    let save = i
                    if symbol(text), !(i < b.count && b[i] == UInt8(ascii: "=")) {
                        return .object([op: .array([first, second, try sum(scope: scope)])])
                    }
                    i = save
                }
                return .object([op: .array([first, second])])
            }
            if let w = peekWord(), let op = ExpressionText.wordComparisons[w] {
                i += w.utf8.count
                return .object([op: .array([first, try sum(scope: scope)])])
            }
            return first
        }

        mutating func sum(scope: Scope) throws(OrderbaseError) -> JSON {
            var left = try product(scope: scope)
            // Whether `left` is a sum this loop built: only such a chain flattens (`1 + 2 + 3`). An operand
            // that is itself a sum, parenthesized (`(1 + 2) + 3`) or a unary plus (`+a + b`), stays whole.
            var chained = false
            while true {
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "+") {
                    i += 1
                    let right = try product(scope: scope)
                    if chained, case .object(let o) = left, case .array(let a)? = o["+"] { left = .object(["+": .array(a + [right])]) }
                    else { left = .object(["+": .array([left, right])]) }
                    chained = true
                } else if i < b.count, b[i] == UInt8(ascii: "-") {
                    i += 1
                    left = .object(["-": .array([left, try product(scope: scope)])])
                    chained = false
                } else {
                    return left
                }
            }
        }

        mutating func product(scope: Scope) throws(OrderbaseError) -> JSON {
            var left = try unary(scope: scope)
            while true {
                skipSpace()
                guard i < b.count, let op = ["*": "*", "/": "/", "%": "%"][String(UnicodeScalar(b[i]))] else { return left }
                i += 1
                let right = try unary(scope: scope)
                if op == "*", case .object(let o) = left, o.count == 1, case .array(let a)? = o["*"] {
                    left = .object(["*": .array(a + [right])])
                } else {
                    left = .object([op: .array([left, right])])
                }
            }
        }

        mutating func unary(scope: Scope) throws(OrderbaseError) -> JSON {
            try enter()
            defer { depth -= 1 }
            skipSpace()
            if symbol("!!") { return .object(["!!": .array([try unary(scope: scope)])]) }
            if i < b.count, b[i] == UInt8(ascii: "+") {
                i += 1
                return .object(["+": .array([try unary(scope: scope)])])
            }
            if i + 1 < b.count, b[i] == UInt8(ascii: "!"), b[i + 1] != UInt8(ascii: "=") {
                i += 1
                return .object(["!": .array([try unary(scope: scope)])])
            }
            if i < b.count, b[i] == UInt8(ascii: "-") {
                let start = i
                i += 1
                if i < b.count, (0x30...0x39).contains(b[i]) {  // a negative literal
                    i = start
                    return try number()
                }
                return .object(["-": .array([try unary(scope: scope)])])
            }
            return try primary(scope: scope)
        }

        mutating func number() throws(OrderbaseError) -> JSON {
            let start = i
            if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
            while i < b.count, (0x30...0x39).contains(b[i]) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e")
                || b[i] == UInt8(ascii: "E") || ((b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) && (b[i - 1] == UInt8(ascii: "e") || b[i - 1] == UInt8(ascii: "E"))) {
                i += 1
            }
            do { return try JSON.parse(Array(b[start..<i])) } catch { throw fail("\"\(String(decoding: b[start..<i], as: UTF8.self))\" is not a number", at: start) }
        }

        mutating func primary(scope: Scope) throws(OrderbaseError) -> JSON {
            skipSpace()
            guard i < b.count else { throw fail("expected a value, found the end of the expression") }
            let c = b[i]
            if c == UInt8(ascii: "(") {
                i += 1
                let v = try expression(scope: scope)
                try expect(")")
                // Marked so an outer chain keeps it whole; `parse` removes the mark.
                return .object(["(": v])
            }
            if c == UInt8(ascii: "[") {
                i += 1
                var items: [JSON] = []
                if !symbol("]") {
                    repeat { items.append(try expression(scope: scope)) } while symbol(",")
                    try expect("]")
                }
                return .array(items)
            }
            if c == UInt8(ascii: "\"") {
                let start = i
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\") { i += 1 }
                    i += 1
                }
                guard i < b.count else { throw fail("unterminated string", at: start) }
                i += 1
                do { return try JSON.parse(Array(b[start..<i])) } catch { throw fail("invalid string: \(error.message)", at: start) }
            }
            if (0x30...0x39).contains(c) { return try number() }
            guard let w = peekWord() else { throw fail("unexpected \(describeHere())") }
            let start = i
            i += w.utf8.count
            switch w {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default: break
            }
            if ExpressionText.keywords.contains(w) && ExpressionText.wordComparisons[w] == nil {
                throw fail("\"\(w)\" cannot start a value", at: start)
            }
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "(") {
                i += 1
                return try call(w, scope: scope, at: start)
            }
            return try path(root: w, scope: scope, at: start)
        }

        mutating func call(_ name: String, scope: Scope, at start: Int) throws(OrderbaseError) -> JSON {
            let op: String
            if name == "var" || Op(rawValue: name) != nil, !name.hasPrefix("ob") { op = name }
            else if let ext = ExpressionText.extensionCalls[name] { op = ext }
            else { throw fail("unknown function \(name)()", at: start) }
            var args: [JSON] = []
            if !symbol(")") {
                var n = 0
                repeat {
                    let inner: Scope = (ExpressionText.iterators.contains(op) && n == 1) ? .item : (op == "reduce" && n == 1) ? .reduce : scope
                    args.append(try expression(scope: inner))
                    n += 1
                } while symbol(",")
                try expect(")")
            }
            if op == "preserve" {
                guard args.count == 1 else { throw fail("preserve() takes one value", at: start) }
                return .object([op: args[0]])
            }
            // `var("path")` is `{"var": "path"}`, the form a path prints from (found by the expression fuzzer).
            if op == "var", args.count == 1, case .string = args[0] { return .object([op: args[0]]) }
            return .object([op: .array(args)])
        }

        mutating func path(root: String, scope: Scope, at start: Int) throws(OrderbaseError) -> JSON {
            var parts: [String] = []
            switch scope {
            case .item:
                if root != "item" { throw fail("inside this function, data is read through item (item.\(root)…)", at: start) }
            case .reduce:
                guard root == "current" || root == "accumulator" else {
                    throw fail("inside reduce(), data is read through current and accumulator", at: start)
                }
                parts.append(root)
            case .top:
                parts.append(root)
            }
            while i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                let segStart = i
                while i < b.count, Self.isIdent(b[i]) { i += 1 }
                if i == segStart { throw fail("expected a field name after \".\"") }
                parts.append(String(decoding: b[segStart..<i], as: UTF8.self))
            }
            return .object(["var": .string(parts.joined(separator: "."))])
        }
    }

    /// Removes the parse-time grouping markers (`{"(": x}`) once a chain is built.
    static func ungroup(_ v: JSON) -> JSON {
        switch v {
        case .object(let o) where o.count == 1 && o.members[0].key == "(": return ungroup(o.members[0].value)
        case .object(let o):
            var out = JSONObject()
            for m in o { out[m.key] = ungroup(m.value) }
            return .object(out)
        case .array(let a): return .array(a.map(ungroup))
        default: return v
        }
    }
}

// MARK: printing

extension ExpressionText {
    /// The text form of a JSON-Logic expression. `parse(format(x))` gives `x`
    /// back for everything the text form writes; a few JSON-only spellings come
    /// back in their text-form equivalent (`?:` as `if`, `{"!": x}` as
    /// `{"!": [x]}`, a one-argument `and`/`or` as its argument). An object
    /// literal other than `{}` and a one-argument `*` have no text form.
    public static func format(_ json: JSON) throws(OrderbaseError) -> String {
        _ = try Expression(json)  // valid JSON-Logic first
        return try Printer().print(json, scope: .top).text
    }

    static let infixWords: [String: String] = Dictionary(uniqueKeysWithValues: wordComparisons.map { ($0.value, $0.key) })
    static let callNames: [String: String] = Dictionary(uniqueKeysWithValues: extensionCalls.filter { wordComparisons[$0.key] == nil }.map { ($0.value, $0.key) })

    struct Printer {
        // Precedence: or 1, and 2, not 3, comparison 4, + - 5, * / % 6, unary 7, atoms 8.
        func print(_ v: JSON, scope: Scope) throws(OrderbaseError) -> (text: String, prec: Int) {
            switch v {
            case .null, .bool, .int, .double, .string:
                return (v.text, 8)
            case .array(let a):
                var parts: [String] = []
                for x in a { parts.append(try print(x, scope: scope).text) }
                return ("[" + parts.joined(separator: ", ") + "]", 8)
            case .object(let o) where o.isEmpty:
                throw OrderbaseError.invalid("an object literal has no text form", field: "expression")
            case .object(let o):
                let op = o.members[0].key
                let raw = o.members[0].value
                if op == "preserve" {
                    // Data, not logic: printable while it holds no object (the text has no object literals).
                    guard !Self.holdsObject(raw) else { throw OrderbaseError.invalid("preserve of an object has no text form", field: "expression") }
                    return ("preserve(" + (try print(raw, scope: scope)).text + ")", 8)
                }
                if case .object(let inner) = raw, inner.count == 1, let o = Op(rawValue: op), Op.spreads.contains(o) {
                    throw OrderbaseError.invalid("{\"\(op)\": {…}} (a dynamic argument list) has no text form", field: "expression")
                }
                let args: [JSON]
                if case .array(let a) = raw { args = a } else { args = [raw] }
                return try operation(op, args, scope: scope)
            }
        }

        static func holdsObject(_ v: JSON) -> Bool {
            switch v {
            case .object: true
            case .array(let a): a.contains(where: holdsObject)
            default: false
            }
        }

        func wrap(_ x: (text: String, prec: Int), above: Int) -> String { x.prec > above ? x.text : "(" + x.text + ")" }

        func list(_ args: [JSON], scope: Scope, scopeOf: (Int) -> Scope = { _ in .top }) throws(OrderbaseError) -> String {
            var parts: [String] = []
            for (n, a) in args.enumerated() { parts.append(try print(a, scope: scopeOf(n) == .top ? scope : scopeOf(n)).text) }
            return parts.joined(separator: ", ")
        }

        func operation(_ op: String, _ args: [JSON], scope: Scope) throws(OrderbaseError) -> (text: String, prec: Int) {
            // A missing argument is null, as JSON-Logic reads it (`{"!": []}` is `not null`): never an index past the end.
            func arg(_ n: Int) throws(OrderbaseError) -> (text: String, prec: Int) {
                n < args.count ? try print(args[n], scope: scope) : ("null", 8)
            }
            switch op {
            case "var":
                if args.count == 1, case .string(let path) = args[0], let text = Self.pathText(path, scope: scope) { return (text, 8) }
                if args.isEmpty { return (scope == .item ? "item" : "var(\"\")", 8) }
                return ("var(" + (try list(args, scope: .top)) + ")", 8)
            case "and", "or":
                if args.isEmpty { return ("null", 8) }
                if args.count == 1 { return try arg(0) }
                let prec = op == "or" ? 1 : 2
                var parts: [String] = []
                for n in args.indices { parts.append(wrap(try arg(n), above: prec)) }
                return (parts.joined(separator: " \(op) "), prec)
            case "!":
                return ("not " + wrap(try arg(0), above: 2), 3)
            case "!!":
                return ("!!" + wrap(try arg(0), above: 6), 7)
            case "==", "===", "!=", "!==", ">", ">=":
                // A longer chain has no text form: `a == b == c` reads as `(a == b) == c`.
                if args.count == 2 { return (wrap(try arg(0), above: 4) + " \(op) " + wrap(try arg(1), above: 4), 4) }
            case "<", "<=" where args.count <= 3:
                let parts = try args.indices.map { (n: Int) throws(OrderbaseError) in wrap(try arg(n), above: 4) }
                return (parts.joined(separator: " \(op) "), 4)
            case "+":
                if args.count == 1 { return ("+" + wrap(try arg(0), above: 6), 7) }
                if args.count >= 2 {
                    var parts: [String] = []
                    for n in args.indices { parts.append(wrap(try arg(n), above: 5)) }
                    return (parts.joined(separator: " + "), 5)
                }
            case "-":
                if args.count == 1 {
                    let x = try arg(0)
                    // `-5` would read back as the literal -5: keep the operator visible.
                    if case .int = args[0] { return ("-(" + x.text + ")", 7) }
                    if case .double = args[0] { return ("-(" + x.text + ")", 7) }
                    return ("-" + wrap(x, above: 6), 7)
                }
                if args.count == 2 { return (wrap(try arg(0), above: 4) + " - " + wrap(try arg(1), above: 5), 5) }
            case "*":
                if args.count >= 2 {
                    var parts: [String] = []
                    for n in args.indices { parts.append(wrap(try arg(n), above: 6)) }
                    return (parts.joined(separator: " * "), 6)
                }
            case "/", "%":
                if args.count == 2 { return (wrap(try arg(0), above: 5) + " \(op) " + wrap(try arg(1), above: 6), 6) }
            case "?:":
                return ("if(" + (try list(args, scope: scope)) + ")", 8)
            case "some", "all", "none", "map", "filter":
                return ("\(op)(" + (try list(args, scope: scope) { $0 == 1 ? .item : .top }) + ")", 8)
            case "reduce":
                return ("reduce(" + (try list(args, scope: scope) { $0 == 1 ? .reduce : .top }) + ")", 8)
            default:
                if let word = ExpressionText.infixWords[op], args.count == 2 {
                    return (wrap(try arg(0), above: 4) + " \(word) " + wrap(try arg(1), above: 4), 4)
                }
                if let name = ExpressionText.callNames[op] { return ("\(name)(" + (try list(args, scope: scope)) + ")", 8) }
                if !op.hasPrefix("ob."), op.utf8.allSatisfy(Parser.isIdent) { return ("\(op)(" + (try list(args, scope: scope)) + ")", 8) }
            }
            throw OrderbaseError.invalid("{\"\(op)\": …} with \(args.count) arguments has no text form", field: "expression")
        }

        /// `order.total` (top), `item.sku` (inside some/all/…), `current.x` (inside reduce),
        /// or nil when the path needs `var("…")`.
        static func pathText(_ path: String, scope: Scope) -> String? {
            if path.isEmpty { return scope == .item ? "item" : nil }
            let parts = path.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Parser.isIdent) }) else { return nil }
            let root = String(parts[0])
            switch scope {
            case .item: return "item." + path
            case .reduce: return root == "current" || root == "accumulator" ? path : nil
            case .top:
                guard let f = root.utf8.first, Parser.isIdentStart(f), !ExpressionText.keywords.contains(root) else { return nil }
                return path
            }
        }
    }
}
