/// Mustache templates (mustache.github.io, the spec's core): `{{name}}`
/// (escaped), `{{{name}}}` and `{{& name}}` (as is), sections
/// `{{#name}}…{{/name}}` (a list repeats, an object or other truthy value
/// renders once with it on top of the context stack), inverted sections
/// `{{^name}}…{{/name}}`, comments `{{! … }}`, dotted names
/// (`order.customer.email`), the implicit iterator `{{.}}`, and standalone
/// tag lines (a line holding only a section, close or comment tag leaves no
/// blank line). Partials, delimiter changes and lambdas are refused: a
/// template is data a tenant admin saves, checked against the shape of what
/// it will see (`check`), so a misspelled variable is an error at save time.
///
/// Our own, not swift-mustache: that package imports Foundation (about 64 MB
/// of libraries, ICU included, for a 17 MB engine), and its parsed tokens are
/// internal, so the save-time check would need a walk of its own anyway
/// (docs/decisions.md §21).
struct MustacheTemplate: Sendable, Equatable {
    struct Name: Sendable, Equatable {
        var text: String
        /// Empty for `.`, the implicit iterator.
        var parts: [String]
    }

    indirect enum Node: Sendable, Equatable {
        case text(String)
        case variable(Name, escaped: Bool, line: Int, column: Int)
        case section(Name, [Node], inverted: Bool, line: Int, column: Int)
    }

    let source: String
    let nodes: [Node]

    static let maxLength = 65_536

    /// How a rendered value is escaped for where it lands.
    enum Escape: Sendable {
        case none, html, formURL, jsonString

        func apply(_ s: String) -> String {
            switch self {
            case .none: return s
            case .html:
                var out = ""
                out.reserveCapacity(s.utf8.count)
                for c in s.unicodeScalars {
                    switch c {
                    case "&": out += "&amp;"
                    case "<": out += "&lt;"
                    case ">": out += "&gt;"
                    case "\"": out += "&quot;"
                    case "'": out += "&#39;"
                    default: out.unicodeScalars.append(c)
                    }
                }
                return out
            case .formURL:
                var out = ""
                for b in s.utf8 {
                    switch b {
                    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                         UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "*"):
                        out.unicodeScalars.append(Unicode.Scalar(b))
                    case UInt8(ascii: " "): out += "+"
                    default:
                        let hex = Array("0123456789ABCDEF".utf8)
                        out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
                    }
                }
                return out
            case .jsonString:
                let quoted = JSON.string(s).text
                return String(quoted.dropFirst().dropLast())
            }
        }
    }

    // MARK: parsing

    private enum Token {
        case text(String)
        case tag(kind: Character, name: String, line: Int, column: Int)  // kind: "v", "{", "&", "#", "^", "/", "!"
    }

    /// Parses `source`; errors name `field`, the line and the column.
    init(_ source: String, field: String) throws(OrderbaseError) {
        guard !source.isLonger(than: Self.maxLength) else {
            throw OrderbaseError(.limitExceeded, "\(field) is longer than \(Self.maxLength) characters", field: field)
        }
        self.source = source
        var tokens = try Self.tokenize(source, field: field)
        Self.stripStandaloneLines(&tokens)
        var index = 0
        nodes = try Self.build(tokens, &index, closing: nil, field: field)
    }

    private static func tokenize(_ source: String, field: String) throws(OrderbaseError) -> [Token] {
        let b = Array(source.utf8)
        var tokens: [Token] = []
        var i = 0, textStart = 0, line = 1, lineStart = 0
        func fail(_ message: String, _ l: Int, _ c: Int) -> OrderbaseError {
            OrderbaseError.invalid("\(field): line \(l), column \(c): \(message)", field: field)
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "\n") { line += 1; lineStart = i + 1; i += 1; continue }
            guard b[i] == UInt8(ascii: "{"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "{") else { i += 1; continue }
            let tagLine = line, tagColumn = String(decoding: b[lineStart..<i], as: UTF8.self).count + 1
            if i > textStart { tokens.append(.text(String(decoding: b[textStart..<i], as: UTF8.self))) }
            var j = i + 2
            var kind: Character = "v"
            if j < b.count, let s = Unicode.Scalar(UInt32(b[j])), "{&#^/!>=".unicodeScalars.contains(s) {
                kind = Character(s)
                j += 1
            }
            if kind == ">" { throw fail("partials ({{>…}}) are not supported", tagLine, tagColumn) }
            if kind == "=" { throw fail("delimiter changes ({{=…=}}) are not supported", tagLine, tagColumn) }
            let closer: [UInt8] = kind == "{" ? Array("}}}".utf8) : Array("}}".utf8)
            var end = j
            while end + closer.count <= b.count, Array(b[end..<end + closer.count]) != closer { end += 1 }
            guard end + closer.count <= b.count else { throw fail("unclosed tag (no \(String(decoding: closer, as: UTF8.self)))", tagLine, tagColumn) }
            let inner = String(decoding: b[j..<end], as: UTF8.self)
            for k in i..<end where b[k] == UInt8(ascii: "\n") { line += 1; lineStart = k + 1 }
            i = end + closer.count
            textStart = i
            if kind == "!" { tokens.append(.tag(kind: "!", name: "", line: tagLine, column: tagColumn)); continue }
            let name = String(JS.trimmed(inner))
            guard name == "." || isName(name) else {
                throw fail(name.isEmpty ? "empty tag" : "\"\(name)\" is not a variable name (letters, digits, _ and -, dotted)", tagLine, tagColumn)
            }
            tokens.append(.tag(kind: kind, name: name, line: tagLine, column: tagColumn))
        }
        if textStart < b.count { tokens.append(.text(String(decoding: b[textStart...], as: UTF8.self))) }
        return tokens
    }

    static func isName(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { p in
            !p.isEmpty && p.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
            }
        }
    }

    /// A section, inverted, close or comment tag alone on its line (bar
    /// spaces and tabs) takes the line with it.
    private static func stripStandaloneLines(_ tokens: inout [Token]) {
        func isBlank<S: Sequence<Character>>(_ s: S) -> Bool { s.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
        var cutHead: [Int: Int] = [:]  // token index -> characters to drop from its start
        var cutTail: [Int: Int] = [:]  // token index -> characters to keep
        for (n, t) in tokens.enumerated() {
            guard case .tag(let kind, _, _, _) = t, "#^/!".contains(kind) else { continue }
            // The line before the tag: text after the last newline, or the template's start.
            var keep: (Int, Int)?
            if n == 0 {
                keep = nil
            } else if case .text(let s) = tokens[n - 1] {
                let chars = Array(s)
                if let nl = chars.lastIndex(of: "\n") {
                    guard isBlank(chars[(nl + 1)...]) else { continue }
                    keep = (n - 1, nl + 1)
                } else {
                    guard n == 1, isBlank(chars) else { continue }
                    keep = (n - 1, 0)
                }
            } else {
                continue  // another tag on the same line
            }
            // The rest of the line after it: through the newline, or the template's end.
            var drop: (Int, Int)?
            if n == tokens.count - 1 {
                drop = nil
            } else if case .text(let s) = tokens[n + 1] {
                let chars = Array(s)
                if let nl = chars.firstIndex(of: "\n") {
                    guard isBlank(chars[..<nl]) else { continue }
                    drop = (n + 1, nl + 1)
                } else {
                    guard n + 1 == tokens.count - 1, isBlank(chars) else { continue }
                    drop = (n + 1, chars.count)
                }
            } else {
                continue
            }
            if let keep { cutTail[keep.0] = keep.1 }
            if let drop { cutHead[drop.0] = drop.1 }
        }
        for (n, t) in tokens.enumerated() {
            guard case .text(let s) = t, cutHead[n] != nil || cutTail[n] != nil else { continue }
            let chars = Array(s)
            let from = cutHead[n] ?? 0
            let to = max(from, cutTail[n] ?? chars.count)
            tokens[n] = .text(String(chars[from..<to]))
        }
    }

    private static func build(_ tokens: [Token], _ i: inout Int, closing: (String, Int, Int)?, field: String) throws(OrderbaseError) -> [Node] {
        var out: [Node] = []
        while i < tokens.count {
            let t = tokens[i]
            i += 1
            switch t {
            case .text(let s):
                if !s.isEmpty { out.append(.text(s)) }
            case .tag(let kind, let name, let line, let column):
                let n = Name(text: name, parts: name == "." ? [] : name.split(separator: ".").map(String.init))
                switch kind {
                case "!":
                    continue
                case "#", "^":
                    let body = try build(tokens, &i, closing: (name, line, column), field: field)
                    out.append(.section(n, body, inverted: kind == "^", line: line, column: column))
                case "/":
                    guard let closing else {
                        throw OrderbaseError.invalid("\(field): line \(line), column \(column): {{/\(name)}} closes no section", field: field)
                    }
                    guard closing.0 == name else {
                        throw OrderbaseError.invalid("\(field): line \(line), column \(column): {{/\(name)}} closes {{#\(closing.0)}} (line \(closing.1), column \(closing.2))", field: field)
                    }
                    return out
                default:
                    out.append(.variable(n, escaped: kind == "v", line: line, column: column))
                }
            }
        }
        if let closing {
            throw OrderbaseError.invalid("\(field): line \(closing.1), column \(closing.2): {{#\(closing.0)}} is never closed", field: field)
        }
        return out
    }

    // MARK: rendering

    /// What one rendering may make (docs/notifications.md, "Limits"): nested
    /// sections over lists multiply (10 lines nested 8 deep is 10^8 passes),
    /// so output and work are both bounded; exceeding either is
    /// `limit_exceeded` with `details.budget`.
    struct RenderBudget {
        let maxSteps: Int
        let maxOutputBytes: Int
        var steps = 0
    }

    /// The template with `data`'s values; `escape` applies to `{{name}}` only.
    /// `budgets` bounds the work and the output (engine options `template_max_steps`, `template_max_output_bytes`).
    func render(_ data: JSON, escape: Escape, budgets: Budgets = Budgets()) throws(OrderbaseError) -> String {
        var out = ""
        var stack = [data]
        var budget = RenderBudget(maxSteps: budgets.templateSteps, maxOutputBytes: budgets.templateOutputBytes)
        try Self.render(nodes, &stack, escape, &out, &budget)
        return out
    }

    private static func render(_ nodes: [Node], _ stack: inout [JSON], _ escape: Escape, _ out: inout String,
                               _ budget: inout RenderBudget) throws(OrderbaseError) {
        for node in nodes {
            budget.steps += 1
            if budget.steps > budget.maxSteps {
                throw Budgets.exceeded("template_steps", limit: budget.maxSteps, "the template took more than \(budget.maxSteps) steps to render")
            }
            switch node {
            case .text(let s):
                out += s
            case .variable(let name, let escaped, _, _):
                let s = text(lookup(name, stack))
                out += escaped ? escape.apply(s) : s
            case .section(let name, let body, let inverted, _, _):
                let v = lookup(name, stack)
                if inverted {
                    if !truthy(v) { try render(body, &stack, escape, &out, &budget) }
                    continue
                }
                guard truthy(v) else { continue }
                if case .array(let items) = v {
                    for item in items {
                        stack.append(item)
                        try render(body, &stack, escape, &out, &budget)
                        stack.removeLast()
                    }
                } else {
                    stack.append(v)
                    try render(body, &stack, escape, &out, &budget)
                    stack.removeLast()
                }
            }
            if out.utf8.count > budget.maxOutputBytes {
                throw Budgets.exceeded("template_output_bytes", limit: budget.maxOutputBytes,
                                       "the template renders to more than \(budget.maxOutputBytes) bytes")
            }
        }
    }

    /// The first name part is looked up from the innermost context out; the
    /// rest only within what it found.
    private static func lookup(_ name: Name, _ stack: [JSON]) -> JSON {
        guard let first = name.parts.first else { return stack.last ?? .null }
        var found: JSON?
        for c in stack.reversed() {
            if case .object(let o) = c, let v = o[first] { found = v; break }
        }
        guard var cur = found else { return .null }
        for p in name.parts.dropFirst() {
            switch cur {
            case .object(let o): cur = o[p] ?? .null
            case .array(let a): cur = Int(p).flatMap { $0 >= 0 && $0 < a.count ? a[$0] : nil } ?? .null
            default: return .null
            }
        }
        return cur
    }

    /// False, null, "" and [] are false; everything else (0 included) is true.
    static func truthy(_ v: JSON) -> Bool {
        switch v {
        case .null, .bool(false): return false
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        default: return true
        }
    }

    static func text(_ v: JSON) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double: return v.text
        case .string(let s): return s
        case .array, .object: return v.text
        }
    }

    // MARK: worst case

    /// The most rendering this template can take for an order at the engine's
    /// limits, known before any order: a section over a list repeats its body
    /// once per element, at most `listLimit(list name)` times (line items
    /// `max_line_items`, shipping lines and discounts 50, a line's tax lines 10
    /// and properties 50), so nested sections multiply. `steps` counts nodes
    /// rendered, as `render` does; `bytes` the literal text written (a
    /// variable's value adds to that, bounded when rendered). A section over a
    /// value that is not a known list counts once.
    func worstCase(_ shape: DataShape.Kind, listLimit: (String) -> Int) -> (steps: Double, bytes: Double) {
        Self.worstCase(nodes, [shape], listLimit)
    }

    private static func worstCase(_ nodes: [Node], _ stack: [DataShape.Kind], _ listLimit: (String) -> Int) -> (steps: Double, bytes: Double) {
        var steps = 0.0, bytes = 0.0
        for node in nodes {
            steps += 1
            switch node {
            case .text(let t):
                bytes += Double(t.utf8.count)
            case .variable:
                continue
            case .section(let name, let body, let inverted, let line, let column):
                let kind = (try? resolve(name, stack, field: "", line: line, column: column)) ?? .any
                if !inverted, case .array(let element) = kind {
                    let inner = worstCase(body, stack + [element], listLimit)
                    let n = Double(listLimit(name.parts.last ?? ""))
                    steps += n * inner.steps
                    bytes += n * inner.bytes
                } else {
                    let inner = worstCase(body, inverted ? stack : stack + [kind], listLimit)
                    steps += inner.steps
                    bytes += inner.bytes
                }
            }
        }
        return (steps, bytes)
    }

    /// Refuses, as `limit_exceeded` naming the budget, a template whose worst
    /// case for an order at `limits` exceeds the rendering budgets.
    func checkWorstCase(_ shape: DataShape.Kind, limits: OrderLimits, budgets: Budgets, field: String) throws(OrderbaseError) {
        let worst = worstCase(shape) { list in
            switch list {
            case "line_items": limits.maxLineItems
            case "shipping_lines": limits.maxShippingLines
            case "discounts": limits.maxDiscounts
            case "tax_lines": limits.maxTaxLines
            case "properties": limits.maxProperties
            default: 50
            }
        }
        func refuse(_ budget: String, _ limit: Int, _ worstCase: Double, _ what: String) -> OrderbaseError {
            OrderbaseError(.limitExceeded, "\(field): for an order at the engine's limits (\(limits.maxLineItems) line items) this template could take \(what) \(JS.numberString(worstCase.rounded())), over the \(budget) budget of \(limit); nest fewer sections over lists",
                           field: field, details: .object(["budget": .string(budget), "limit": .int(Int64(limit)), "worst_case": .double(worstCase)]))
        }
        if worst.steps > Double(budgets.templateSteps) { throw refuse("template_steps", budgets.templateSteps, worst.steps, "steps") }
        if worst.bytes > Double(budgets.templateOutputBytes) {
            throw refuse("template_output_bytes", budgets.templateOutputBytes, worst.bytes, "bytes of text")
        }
    }

    // MARK: checking

    /// Every name resolves in `shape` (an unknown one is an error naming the
    /// field, line, column and the closest known name); returns the names read.
    @discardableResult
    func check(_ shape: DataShape.Kind, field: String) throws(OrderbaseError) -> [String] {
        var names: [String] = []
        try Self.check(nodes, [shape], field: field, &names)
        return names
    }

    private static func check(_ nodes: [Node], _ stack: [DataShape.Kind], field: String, _ names: inout [String]) throws(OrderbaseError) {
        for node in nodes {
            switch node {
            case .text:
                continue
            case .variable(let name, _, let line, let column):
                _ = try resolve(name, stack, field: field, line: line, column: column)
                names.append(name.text)
            case .section(let name, let body, let inverted, let line, let column):
                let kind = try resolve(name, stack, field: field, line: line, column: column)
                names.append(name.text)
                if inverted {
                    try check(body, stack, field: field, &names)
                } else if case .array(let element) = kind {
                    try check(body, stack + [element], field: field, &names)
                } else {
                    try check(body, stack + [kind], field: field, &names)
                }
            }
        }
    }

    private static func resolve(_ name: Name, _ stack: [DataShape.Kind], field: String, line: Int, column: Int) throws(OrderbaseError) -> DataShape.Kind {
        guard let first = name.parts.first else { return stack.last ?? .any }
        var known: [String] = []
        for scope in stack.reversed() {
            guard case .object(let fields, let open) = scope else { continue }
            if let _ = fields[first] {
                switch DataShape.resolve(name.parts, from: scope, noun: "variable") {
                case .success(let k): return k
                case .failure(let e):
                    throw OrderbaseError(.invalidArgument, "\(field): line \(line), column \(column): \(e.message)",
                                         field: field, details: .object(["variable": .string(name.text), "line": .int(Int64(line)), "column": .int(Int64(column))]))
                }
            }
            if open { return .any }
            known += fields.keys
        }
        let near = DataShape.closest(first, known).map { " (did you mean \(([$0] + name.parts.dropFirst()).joined(separator: "."))?)" } ?? ""
        throw OrderbaseError(.invalidArgument, "\(field): line \(line), column \(column): unknown variable \(name.text)\(near)",
                             field: field, details: .object(["variable": .string(name.text), "line": .int(Int64(line)), "column": .int(Int64(column))]))
    }
}
