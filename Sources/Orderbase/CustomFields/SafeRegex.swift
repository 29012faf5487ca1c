/// The regular expressions of custom field validations (docs/custom-fields.md,
/// "Patterns"): a Thompson NFA run as a Pike VM, so matching takes time
/// linear in the text for any pattern — there is no backtracking, hence no
/// catastrophic backtracking on hostile input (`(a+)+$` against "aaaa…!" costs
/// what `a+$` costs). Swift's `Regex` backtracks, so it is not used here.
///
/// The pattern matches the **whole** value, as HTML's `pattern` attribute does.
/// Syntax: literals; `.` (any character but a line break); `[...]` and `[^...]`
/// with ranges; `\d \D \w \W \s \S` (ASCII digits, word characters and white
/// space), `\n \t \r` and `\` before any punctuation; groups `(...)` and
/// `(?:...)`; `|`; `* + ?` and `{n}`, `{n,}`, `{n,m}` (n, m ≤ 100); `^` and `$`.
/// No backreferences or lookaround (they cannot run in linear time). Characters
/// are Unicode scalars. A pattern is at most 1,000 characters and compiles to at
/// most 5,000 instructions; past either it is refused.
struct SafeRegex: Sendable {
    let source: String
    private let program: [Inst]

    static let maxPatternLength = 1000
    static let maxInstructions = 5000
    static let maxRepeat = 100

    enum Inst: Sendable {
        case char(CharSet)
        case split(Int, Int)
        case jump(Int)
        case atStart, atEnd
        case match
    }

    /// A set of scalars: ranges, classes, negated or not.
    struct CharSet: Sendable {
        var ranges: [ClosedRange<UInt32>] = []
        var classes: [Class] = []
        var negated = false
        enum Class: Sendable { case digit, word, space, notDigit, notWord, notSpace, anyButNewline }

        func contains(_ c: UInt32) -> Bool {
            var hit = ranges.contains { $0.contains(c) }
            if !hit {
                for k in classes where Self.test(k, c) { hit = true; break }
            }
            return hit != negated
        }

        static func test(_ k: Class, _ c: UInt32) -> Bool {
            let digit = (48...57).contains(c)
            let word = digit || (65...90).contains(c) || (97...122).contains(c) || c == 95
            let space = c == 32 || (9...13).contains(c)
            switch k {
            case .digit: return digit
            case .word: return word
            case .space: return space
            case .notDigit: return !digit
            case .notWord: return !word
            case .notSpace: return !space
            case .anyButNewline: return c != 10 && c != 13
            }
        }
    }

    private indirect enum Node {
        case set(CharSet)
        case concat([Node])
        case alt([Node])
        case `repeat`(Node, min: Int, max: Int?)
        case start, end
    }

    /// Compiles `pattern`, or `invalid_argument` on `field` saying what is wrong and where.
    init(_ pattern: String, field: String) throws(OrderbaseError) {
        if pattern.unicodeScalars.count > Self.maxPatternLength {
            throw OrderbaseError.invalid("\(field) is longer than \(Self.maxPatternLength) characters", field: field)
        }
        var p = Parser(chars: Array(pattern.unicodeScalars), field: field)
        let node = try p.alternation()
        if p.pos < p.chars.count { throw p.fail("unbalanced )") }
        var prog: [Inst] = []
        try Self.emit(node, &prog, field: field)
        prog.append(.match)
        source = pattern
        program = prog
    }

    private static func emit(_ n: Node, _ prog: inout [Inst], field: String) throws(OrderbaseError) {
        if prog.count > maxInstructions {
            throw OrderbaseError.invalid("\(field) is too complex (more than \(maxInstructions) steps once its repetitions are expanded)", field: field)
        }
        switch n {
        case .set(let s): prog.append(.char(s))
        case .start: prog.append(.atStart)
        case .end: prog.append(.atEnd)
        case .concat(let parts): for x in parts { try emit(x, &prog, field: field) }
        case .alt(let options):
            // split L1, next; L1: a; jmp end; next: split L2, … ; last option plain.
            var jumps: [Int] = []
            for (i, o) in options.enumerated() {
                if i < options.count - 1 {
                    let split = prog.count
                    prog.append(.split(0, 0))
                    try emit(o, &prog, field: field)
                    jumps.append(prog.count)
                    prog.append(.jump(0))
                    prog[split] = .split(split + 1, prog.count)
                } else {
                    try emit(o, &prog, field: field)
                }
            }
            for j in jumps { prog[j] = .jump(prog.count) }
        case .repeat(let x, let min, let max):
            for _ in 0..<min { try emit(x, &prog, field: field) }
            if let max {
                // Optional copies: split take, skip — nested so each is tried in turn.
                var skips: [Int] = []
                for _ in min..<max {
                    skips.append(prog.count)
                    prog.append(.split(0, 0))
                    try emit(x, &prog, field: field)
                }
                for s in skips { prog[s] = .split(s + 1, prog.count) }
            } else {
                let loop = prog.count
                prog.append(.split(0, 0))
                try emit(x, &prog, field: field)
                prog.append(.jump(loop))
                prog[loop] = .split(loop + 1, prog.count)
            }
        }
        if prog.count > maxInstructions {
            throw OrderbaseError.invalid("\(field) is too complex (more than \(maxInstructions) steps once its repetitions are expanded)", field: field)
        }
    }

    /// Whether the pattern matches the whole of `text`. Time O(|text| × |program|).
    func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var current: [Int] = [], next: [Int] = []
        var mark = [Int](repeating: -1, count: program.count)
        var generation = 0
        // Follows jumps, splits and assertions from `pc` at position `at`, adding the char and match steps reached.
        func add(_ pc: Int, _ at: Int, _ list: inout [Int]) {
            var stack = [pc]
            while let p = stack.popLast() {
                if mark[p] == generation { continue }
                mark[p] = generation
                switch program[p] {
                case .jump(let t): stack.append(t)
                case .split(let a, let b): stack.append(b); stack.append(a)
                case .atStart: if at == 0 { stack.append(p + 1) }
                case .atEnd: if at == input.count { stack.append(p + 1) }
                case .char, .match: list.append(p)
                }
            }
        }
        add(0, 0, &current)
        for (i, c) in input.enumerated() {
            generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                if case .char(let set) = program[pc], set.contains(c.value) { add(pc + 1, i + 1, &next) }
            }
            if next.isEmpty { return false }
            swap(&current, &next)
        }
        return current.contains { if case .match = program[$0] { return true } else { return false } }
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        let field: String
        var pos = 0

        func fail(_ what: String) -> OrderbaseError {
            OrderbaseError.invalid("\(field) is not a valid pattern: \(what) at character \(pos + 1)", field: field)
        }

        var atEnd: Bool { pos >= chars.count }
        func peek(_ c: Character) -> Bool { !atEnd && Character(chars[pos]) == c }

        mutating func alternation() throws(OrderbaseError) -> Node {
            var options = [try concatenation()]
            while peek("|") { pos += 1; options.append(try concatenation()) }
            return options.count == 1 ? options[0] : .alt(options)
        }

        mutating func concatenation() throws(OrderbaseError) -> Node {
            var parts: [Node] = []
            while !atEnd && !peek("|") && !peek(")") {
                var atom = try self.atom()
                while !atEnd {
                    var lo = 0, hi: Int? = nil
                    if peek("*") { pos += 1 } else if peek("+") { pos += 1; lo = 1 } else if peek("?") { pos += 1; hi = 1 }
                    else if peek("{"), let (a, b) = try bounds() { lo = a; hi = b } else { break }
                    if peek("?") || peek("+") { throw fail("lazy and possessive quantifiers are not supported") }
                    if case .start = atom { throw fail("nothing to repeat") }
                    if case .end = atom { throw fail("nothing to repeat") }
                    atom = .repeat(atom, min: lo, max: hi)
                }
                parts.append(atom)
            }
            return parts.count == 1 ? parts[0] : .concat(parts)
        }

        /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when `{` is not a quantifier.
        mutating func bounds() throws(OrderbaseError) -> (Int, Int?)? {
            let start = pos
            pos += 1
            func number(_ p: inout Parser) -> Int? {
                var n = 0, digits = 0
                while !p.atEnd, (48...57).contains(p.chars[p.pos].value), digits < 4 {
                    n = n * 10 + Int(p.chars[p.pos].value - 48)
                    digits += 1
                    p.pos += 1
                }
                return digits == 0 ? nil : n
            }
            guard let lo = number(&self) else { pos = start; return nil }
            var hi: Int? = lo
            if peek(",") { pos += 1; hi = number(&self) }
            guard peek("}") else { pos = start; return nil }
            pos += 1
            if lo > SafeRegex.maxRepeat || (hi ?? 0) > SafeRegex.maxRepeat { throw fail("a repetition count is more than \(SafeRegex.maxRepeat)") }
            if let hi, hi < lo { throw fail("{\(lo),\(hi)} counts down") }
            return (lo, hi)
        }

        mutating func atom() throws(OrderbaseError) -> Node {
            let c = chars[pos]
            pos += 1
            switch c {
            case "(":
                if peek("?") {
                    guard pos + 1 < chars.count, chars[pos + 1] == ":" else { throw fail("lookaround and named groups are not supported") }
                    pos += 2
                }
                let inner = try alternation()
                guard peek(")") else { throw fail("unclosed (") }
                pos += 1
                return inner
            case "[": return .set(try charClass())
            case ".": return .set(CharSet(classes: [.anyButNewline]))
            case "^": return .start
            case "$": return .end
            case "\\": return .set(try escape(inClass: false))
            case "*", "+", "?", "{": pos -= 1; throw fail("nothing to repeat")
            case ")": pos -= 1; throw fail("unbalanced )")
            default: return .set(CharSet(ranges: [c.value...c.value]))
            }
        }

        mutating func escape(inClass: Bool) throws(OrderbaseError) -> CharSet {
            guard !atEnd else { throw fail("a pattern cannot end with \\") }
            let c = chars[pos]
            pos += 1
            switch c {
            case "d": return CharSet(classes: [.digit])
            case "D": return CharSet(classes: [.notDigit])
            case "w": return CharSet(classes: [.word])
            case "W": return CharSet(classes: [.notWord])
            case "s": return CharSet(classes: [.space])
            case "S": return CharSet(classes: [.notSpace])
            case "n": return CharSet(ranges: [10...10])
            case "t": return CharSet(ranges: [9...9])
            case "r": return CharSet(ranges: [13...13])
            default:
                if c.properties.isAlphabetic || c.properties.numericType != nil {
                    throw fail("\\\(c) is not supported (backreferences and other escapes cannot run in linear time or are not defined)")
                }
                return CharSet(ranges: [c.value...c.value])
            }
        }

        mutating func charClass() throws(OrderbaseError) -> CharSet {
            var set = CharSet()
            if peek("^") { set.negated = true; pos += 1 }
            var first = true
            while true {
                guard !atEnd else { throw fail("unclosed [") }
                if peek("]") && !first { pos += 1; return set }
                first = false
                let lo: UInt32
                if peek("\\") {
                    pos += 1
                    let e = try escape(inClass: true)
                    if !e.classes.isEmpty { set.classes += e.classes; continue }
                    lo = e.ranges[0].lowerBound
                } else {
                    lo = chars[pos].value
                    pos += 1
                }
                if peek("-"), pos + 1 < chars.count, chars[pos + 1] != "]" {
                    pos += 1
                    let hi: UInt32
                    if peek("\\") {
                        pos += 1
                        let e = try escape(inClass: true)
                        guard e.classes.isEmpty else { throw fail("a range cannot end in a class") }
                        hi = e.ranges[0].lowerBound
                    } else {
                        hi = chars[pos].value
                        pos += 1
                    }
                    guard lo <= hi else { throw fail("range out of order") }
                    set.ranges.append(lo...hi)
                } else {
                    set.ranges.append(lo...lo)
                }
            }
        }
    }
}
