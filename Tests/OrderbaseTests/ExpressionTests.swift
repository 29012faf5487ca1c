import Testing
@testable import Orderbase

/// JSON-Logic as the JSON Logic community's specification defines it (the
/// operator pages of jsonlogic.com and the community's accepted proposals: the
/// JSON data model with `val`, `exists` and `??`; error handling with `throw`,
/// `try` and NaN as an error; `preserve`, `length`), written case by case from
/// the text: (logic, data, expected). An expected `error:T` is an error whose
/// `details.error.type` is T.
let jsonLogicCases: [(String, String, String)] = [
    // Truthiness, as !! reports it: 0, "", [], {}, null, false are falsy; "0", [0], {"a": 0} truthy.
    (#"{"!!": [0]}"#, "null", "false"), (#"{"!!": [""]}"#, "null", "false"), (#"{"!!": [[]]}"#, "null", "false"),
    (#"{"!!": [null]}"#, "null", "false"), (#"{"!!": ["0"]}"#, "null", "true"), (#"{"!!": [[0]]}"#, "null", "true"),
    (#"{"!!": [{}]}"#, "null", "false"), (#"{"!!": {"val": "o"}}"#, #"{"o":{"a":0}}"#, "true"), (#"{"!!": [-1]}"#, "null", "true"),
    (#"{"!": [[]]}"#, "null", "true"), (#"{"!": true}"#, "null", "false"), (#"{"!": [false]}"#, "null", "true"),
    (#"{"if": [{}, "yes", "no"]}"#, "null", #""no""#),
    // Equality: strings (and null) as they are, anything else as numbers; a list or an object is NaN.
    (#"{"==": [1, 1]}"#, "null", "true"), (#"{"==": [1, "1"]}"#, "null", "true"), (#"{"==": [0, false]}"#, "null", "true"),
    (#"{"==": ["", 0]}"#, "null", "true"), (#"{"==": [null, 0]}"#, "null", "true"), (#"{"==": [null, null]}"#, "null", "true"),
    (#"{"==": [null, ""]}"#, "null", "false"), (#"{"==": [1.0, 1]}"#, "null", "true"), (#"{"==": ["a", "b"]}"#, "null", "false"),
    (#"{"==": [[1,2], "1,2"]}"#, "null", "error:NaN"), (#"{"==": [1, "A"]}"#, "null", "error:NaN"), (#"{"==": [{}, 1]}"#, "null", "error:NaN"),
    (#"{"===": [1, "1"]}"#, "null", "false"), (#"{"===": [1, 1.0]}"#, "null", "true"), (#"{"!=": [1, "1"]}"#, "null", "false"),
    (#"{"!==": [1, "1"]}"#, "null", "true"), (#"{"==": [true, "1"]}"#, "null", "true"), (#"{"===": [[1], 5]}"#, "null", "false"),
    // Comparisons chain over neighbouring pairs and stop at the first that fails.
    (#"{">": [2, 1]}"#, "null", "true"), (#"{">=": [1, 1]}"#, "null", "true"), (#"{"<": [1, 2]}"#, "null", "true"),
    (#"{"<=": [2, 1]}"#, "null", "false"), (#"{"<": [1, 2, 3]}"#, "null", "true"), (#"{"<": [1, 1, 3]}"#, "null", "false"),
    (#"{"<=": [1, 1, 3]}"#, "null", "true"), (#"{">": [3, 2, 1]}"#, "null", "true"), (#"{"==": [3, 3, 3]}"#, "null", "true"),
    (#"{"!=": [3, 2, 3]}"#, "null", "true"), (#"{"<": [3, 2, {"throw": "not lazy"}]}"#, "null", "false"),
    (#"{"<": ["11", "2"]}"#, "null", "true"), (#"{"<": ["11", 2]}"#, "null", "false"), (#"{">": ["a", 1]}"#, "null", "error:NaN"),
    (#"{"<": [null, 1]}"#, "null", "true"), (#"{"<": [[1], 5]}"#, "null", "error:NaN"),
    // if: chains, else, nothing left; only the branch taken is evaluated.
    (#"{"if": [true, "yes", "no"]}"#, "null", #""yes""#), (#"{"if": [false, "yes", "no"]}"#, "null", #""no""#),
    (#"{"if": [false, 1, false, 2, 3]}"#, "null", "3"), (#"{"if": [false, 1, true, 2, 3]}"#, "null", "2"),
    (#"{"if": [false, 1]}"#, "null", "null"), (#"{"if": []}"#, "null", "null"), (#"{"?:": [[], "a", "b"]}"#, "null", #""b""#),
    (#"{"if": [true, "a", {"throw": "not lazy"}]}"#, "null", #""a""#),
    // and / or return a value, not a boolean, and stop early.
    (#"{"or": [false, 0, "a"]}"#, "null", #""a""#), (#"{"or": [false, 0]}"#, "null", "0"), (#"{"and": [1, "x", 3]}"#, "null", "3"),
    (#"{"and": [1, "", 3]}"#, "null", #""""#), (#"{"and": []}"#, "null", "null"), (#"{"and": [0, {"throw": "not lazy"}]}"#, "null", "0"),
    // Arithmetic: Number() of each operand (null 0, true 1, "" 0); a list, an object or a non-number string is NaN.
    (#"{"+": [1, 2, 3]}"#, "null", "6"), (#"{"+": ["3.5", 1]}"#, "null", "4.5"), (#"{"+": ["3abc", 1]}"#, "null", "error:NaN"),
    (#"{"+": "3.14"}"#, "null", "3.14"), (#"{"+": []}"#, "null", "0"), (#"{"+": ["abc", 1]}"#, "null", "error:NaN"),
    (#"{"+": [1, "2", "", true, false, null]}"#, "null", "4"), (#"{"+": [[1], 1]}"#, "null", "error:NaN"),
    (#"{"*": [2, "3"]}"#, "null", "6"), (#"{"*": ["2"]}"#, "null", "2"), (#"{"*": []}"#, "null", "1"), (#"{"-": [5, 2]}"#, "null", "3"),
    (#"{"-": [2]}"#, "null", "-2"), (#"{"-": ["5", "2"]}"#, "null", "3"), (#"{"-": [10, 2, 3]}"#, "null", "5"),
    (#"{"-": ["5x", 2]}"#, "null", "error:NaN"),
    (#"{"/": [6, 4]}"#, "null", "1.5"), (#"{"/": [8, 2, 2]}"#, "null", "2"), (#"{"/": [2]}"#, "null", "0.5"),
    (#"{"/": [1, 0]}"#, "null", "error:NaN"), (#"{"/": [0, 0]}"#, "null", "error:NaN"), (#"{"/": [0]}"#, "null", "error:NaN"),
    (#"{"%": [7, 3]}"#, "null", "1"), (#"{"%": [-7, 3]}"#, "null", "-1"), (#"{"%": [8, 6, 3]}"#, "null", "2"),
    (#"{"%": [1, 0]}"#, "null", "error:NaN"),
    (#"{"max": [1, 3, 2]}"#, "null", "3"), (#"{"min": [1, 0, 2]}"#, "null", "0"), (#"{"min": [1, "0", 2]}"#, "null", "error:Invalid Arguments"),
    (#"{"max": [1, null]}"#, "null", "error:Invalid Arguments"), (#"{"-": [null, true]}"#, "null", "-1"),
    // An operator as the only argument gives the argument list.
    (#"{"+": {"val": "xs"}}"#, #"{"xs":[1,2,3]}"#, "6"), (#"{"max": {"merge": [[1, 2], 5]}}"#, "null", "5"),
    (#"{"cat": {"merge": [["a "], ["b", "!"]]}}"#, "null", #""a b!""#), (#"{"-": {"preserve": []}}"#, "null", "error:Invalid Arguments"),
    // val: one key (dots are part of it), a path of keys and indexes, the data itself, scopes up.
    (#"{"val": "a"}"#, #"{"a":1}"#, "1"), (#"{"val": "a.b"}"#, #"{"a.b":2,"a":{"b":3}}"#, "2"), (#"{"val": ["a", "b"]}"#, #"{"a":{"b":3}}"#, "3"),
    (#"{"val": ["xs", 1]}"#, #"{"xs":[5,6]}"#, "6"), (#"{"val": []}"#, #"{"x":1}"#, #"{"x":1}"#), (#"{"val": ""}"#, #"{"":7}"#, "7"),
    (#"{"val": ["a", "b"]}"#, #"{"a":null}"#, "null"), (#"{"val": "nope"}"#, "{}", "null"),
    (#"{"map": [[1, 2, 3], {"+": [{"val": []}, {"val": [[1], "index"]}]}]}"#, "null", "[1,3,5]"),
    (#"{"map": [{"val": "xs"}, {"+": [{"val": []}, {"val": [[2], "k"]}]}]}"#, #"{"xs":[1,2],"k":10}"#, "[11,12]"),
    (#"{"map": [["x"], {"map": [[1], {"val": [[-4], "k"]}]}]}"#, #"{"k":"outer"}"#, #"[["outer"]]"#),
    // var: dotted paths, array indexes, defaults, the whole data, computed names (legacy, kept).
    (#"{"var": "a"}"#, #"{"a":1}"#, "1"), (#"{"var": "a.b.c"}"#, #"{"a":{"b":{"c":"deep"}}}"#, #""deep""#),
    (#"{"var": ["z", 26]}"#, #"{"a":1}"#, "26"), (#"{"var": 1}"#, #"["a","b"]"#, #""b""#), (#"{"var": "1"}"#, #"["a","b"]"#, #""b""#),
    (#"{"var": ""}"#, "5", "5"), (#"{"var": []}"#, #"{"x":1}"#, #"{"x":1}"#), (#"{"var": "a.0.b"}"#, #"{"a":[{"b":7}]}"#, "7"),
    (#"{"var": ["a", "d"]}"#, #"{"a":null}"#, "null"), (#"{"var": ["a.b", "d"]}"#, #"{"a":null}"#, #""d""#),
    (#"{"var": {"cat": ["a", "b"]}}"#, #"{"ab":3}"#, "3"), (#"{"var": "a.x"}"#, #"{"a":[1]}"#, "null"),
    // missing and missing_some (legacy, kept).
    (#"{"missing": ["a", "b"]}"#, #"{"a":1}"#, #"["b"]"#), (#"{"missing": "a"}"#, #"{"a":""}"#, #"["a"]"#),
    (#"{"missing": [["a", "b"]]}"#, #"{"b":0}"#, #"["a"]"#), (#"{"missing_some": [1, ["a", "b"]]}"#, #"{"a":1}"#, "[]"),
    (#"{"missing_some": [2, ["a", "b", "c"]]}"#, #"{"a":1}"#, #"["b","c"]"#),
    (#"{"if": [{"missing": "x"}, "no x", "x"]}"#, "{}", #""no x""#),
    // Arrays.
    (#"{"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}"#, #"{"xs":[1,2,3]}"#, "[2,4,6]"),
    (#"{"filter": [{"var": "xs"}, {"%": [{"var": ""}, 2]}]}"#, #"{"xs":[1,2,3,4,5]}"#, "[1,3,5]"),
    (#"{"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}"#, #"{"xs":[1,2,3]}"#, "6"),
    (#"{"reduce": [{"var": "nope"}, {"+": [1, 1]}, 9]}"#, "{}", "9"),
    (#"{"all": [[1, 2, 3], {">": [{"var": ""}, 0]}]}"#, "null", "true"), (#"{"all": [[], {">": [{"var": ""}, 0]}]}"#, "null", "false"),
    (#"{"some": [{"var": "pies"}, {"==": [{"var": "filling"}, "apple"]}]}"#, #"{"pies":[{"filling":"pumpkin"},{"filling":"apple"}]}"#, "true"),
    (#"{"none": [[-3, -2], {">": [{"var": ""}, 0]}]}"#, "null", "true"), (#"{"some": [[], true]}"#, "null", "false"),
    (#"{"none": [[], true]}"#, "null", "true"), (#"{"map": [5, 1]}"#, "null", "[]"),
    (#"{"merge": [[1, 2], [3], 4, [[5]]]}"#, "null", "[1,2,3,4,[5]]"), (#"{"merge": []}"#, "null", "[]"),
    (#"{"in": ["Spring", "Springfield"]}"#, "null", "true"), (#"{"in": ["Ring", ["Gold", "Ring"]]}"#, "null", "true"),
    (#"{"in": [1, ["1", 2]]}"#, "null", "false"), (#"{"in": ["x", null]}"#, "null", "false"),
    // Strings, length.
    (#"{"cat": ["I love", " pie"]}"#, "null", #""I love pie""#), (#"{"cat": ["a", 1, null, true, [1, 2]]}"#, "null", #""a1true1,2""#),
    (#"{"cat": [1.5, 2.0]}"#, "null", #""1.52""#), (#"{"substr": ["jsonlogic", 4]}"#, "null", #""logic""#),
    (#"{"substr": ["jsonlogic", -5]}"#, "null", #""logic""#), (#"{"substr": ["jsonlogic", 1, 3]}"#, "null", #""son""#),
    (#"{"substr": ["jsonlogic", 4, -2]}"#, "null", #""log""#), (#"{"substr": ["abc", 5]}"#, "null", #""""#),
    (#"{"length": {"val": "xs"}}"#, #"{"xs":[1,2,3]}"#, "3"), (#"{"length": "hello"}"#, "null", "5"),
    (#"{"length": {"val": "nope"}}"#, "{}", "error:Invalid Arguments"), (#"{"length": 5}"#, "null", "error:Invalid Arguments"),
    // Literals, arrays of expressions, preserve, log.
    (#"[1, {"var": "a"}, "x"]"#, #"{"a":2}"#, #"[1,2,"x"]"#), (#""plain""#, "null", #""plain""#), ("{}", "null", "{}"),
    (#"{"preserve": {"+": [1, 2]}}"#, "null", #"{"+":[1,2]}"#), (#"{"preserve": [1, 2]}"#, "null", "[1,2]"),
    (#"{"log": "apple"}"#, "null", #""apple""#),
    // Errors: throw raises, try takes the first argument that raises nothing; a fallback reads the error.
    (#"{"throw": "Oops"}"#, "null", "error:Oops"), (#"{"throw": {"val": "e"}}"#, #"{"e":{"type":"Custom"}}"#, "error:Custom"),
    (#"{"try": [{"throw": "Oops"}, 1]}"#, "null", "1"), (#"{"try": [{"/": [0, 0]}, {"/": [1, 0]}, 2]}"#, "null", "2"),
    (#"{"try": [{"throw": "A"}, {"throw": "B"}]}"#, "null", "error:B"), (#"{"try": [{"throw": "A"}, {"val": "type"}]}"#, "null", #""A""#),
    (#"{"try": [{"map": [[1], {"/": [0, 0]}]}, {"val": "type"}]}"#, "null", #""NaN""#),
    (#"{"try": [{"throw": "A"}, {"val": [[2], "fallback"]}]}"#, #"{"fallback":"F"}"#, #""F""#),
    (#"{"map": [[1, 2], {"try": [{"/": [0, 0]}]}]}"#, "null", "error:NaN"),
    // The JSON Logic community's `??` (the first argument that is not null) and
    // `exists` (whether the path is in the data, even holding null).
    (#"{"??": [null, 1]}"#, "null", "1"), (#"{"??": [1, 2]}"#, "null", "1"), (#"{"??": [null, null]}"#, "null", "null"),
    (#"{"??": []}"#, "null", "null"), (#"{"??": [false, 1]}"#, "null", "false"), (#"{"??": [0, 1]}"#, "null", "0"),
    (#"{"??": ["", "x"]}"#, "null", #""""#), (#"{"??": [{"var": "a"}, "d"]}"#, "{}", #""d""#),
    (#"{"??": [{"var": "a"}, {"var": "b"}, 3]}"#, #"{"b":2}"#, "2"), (#"{"??": [null, {"var": "x"}]}"#, "null", "null"),
    (#"{"exists": "a"}"#, #"{"a":null}"#, "true"), (#"{"exists": "b"}"#, #"{"a":1}"#, "false"),
    (#"{"exists": ["a", "b"]}"#, #"{"a":{"b":0}}"#, "true"), (#"{"exists": ["a", "c"]}"#, #"{"a":{"b":0}}"#, "false"),
    (#"{"exists": ["a", "b"]}"#, #"{"a":5}"#, "false"), (#"{"exists": "a"}"#, "null", "false"),
    (#"{"exists": ["a.b"]}"#, #"{"a.b":1}"#, "true"), (#"{"exists": ["a.b"]}"#, #"{"a":{"b":1}}"#, "false"),
    // Orderbase's extensions.
    (#"{"ob.starts_with": ["GIFT-card", "gift"]}"#, "null", "true"), (#"{"ob.ends_with": ["Mug", "UG"]}"#, "null", "true"),
    (#"{"ob.contains": ["Heart Holder", "HOLD"]}"#, "null", "true"), (#"{"ob.contains": [5, "5"]}"#, "null", "false"),
    (#"{"ob.days": [2]}"#, "null", "172800000"), (#"{"ob.now": []}"#, "null", #""2026-11-26T10:00:00.000Z""#),
    (#"{"ob.before": ["2026-01-01T00:00:00Z", {"ob.now": []}]}"#, "null", "true"),
    (#"{"ob.after": [{"ob.add": [{"ob.now": []}, {"ob.days": 1}]}, "2026-11-27T09:59:59.999Z"]}"#, "null", "true"),
    (#"{"ob.add": ["2026-11-26T10:00:00Z", {"-": [{"ob.hours": 1}]}]}"#, "null", #""2026-11-26T09:00:00.000Z""#),
    (#"{"ob.before": ["not a time", 5]}"#, "null", "false"),
    // Epoch milliseconds outside years 0000-9999 are not times (near Int64's ends they trapped in ob.add and ob.local_date).
    (#"{"ob.add": [9223372036854775807, 1000]}"#, "null", "null"), (#"{"ob.add": [-9223372036854775807, -100000000000000]}"#, "null", "null"),
    (#"{"ob.local_date": [-9223372036854775807]}"#, "null", "null"), (#"{"ob.year": [9223372036854775807]}"#, "null", "null"),
    (#"{"ob.add": ["9999-12-31T23:59:59Z", 100000]}"#, "null", "null"), (#"{"ob.year": [0]}"#, "null", "1970"),
]

@Suite("Expressions (JSON-Logic)")
struct ExpressionTests {
    static let now = Timestamp.parse("2026-11-26T10:00:00.000Z")!

    @Test("every documented JSON-Logic case evaluates as the specification says")
    func specification() throws {
        for (logic, data, expected) in jsonLogicCases {
            let got: Result<JSON, OrderbaseError>
            do {
                let e = try Expression(try JSON.parse(logic))
                got = .success(try e.evaluate(try JSON.parse(data), context: EvaluationContext(nowMilliseconds: Self.now)))
            } catch { got = .failure(error) }
            if expected.hasPrefix("error:") {
                let type = String(expected.dropFirst(6))
                guard case .failure(let e) = got else { Issue.record("\(logic) with \(data): got \(got), expected the error \(type)"); continue }
                #expect(e.code == .invalidArgument && e.details?["error"]?["type"] == .string(type), "\(logic) with \(data): got \(e)")
            } else {
                guard case .success(let v) = got else { Issue.record("\(logic) with \(data): got \(got), expected \(expected)"); continue }
                #expect(v == (try JSON.parse(expected)), "\(logic) with \(data): got \(v.text), expected \(expected)")
            }
        }
    }

    @Test("a typical guard: total over a threshold, marketplace channel, a gift line")
    func guardExample() throws {
        let g = try Expression(try JSON.parse("""
            {"and": [{">": [{"var": "order.total"}, 500000]}, {"==": [{"var": "order.channel"}, "marketplace"]},
                     {"some": [{"var": "order.line_items"}, {"ob.starts_with": [{"var": "sku"}, "GIFT"]}]}]}
            """))
        let order = try JSON.parse(#"{"order":{"total":600000,"channel":"marketplace","line_items":[{"sku":"A"},{"sku":"gift-1"}]}}"#)
        #expect(try g.test(order))
        let small = try JSON.parse(#"{"order":{"total":100,"channel":"marketplace","line_items":[{"sku":"GIFT"}]}}"#)
        #expect(try !g.test(small))
    }

    @Test("malformed expressions are refused with the offending place")
    func refused() {
        func error(_ s: String) -> OrderbaseError? {
            do { _ = try Expression(try JSON.parse(s)); return nil } catch { return error }
        }
        #expect(error(#"{"frobnicate": [1]}"#)?.details?["operator"] == .string("frobnicate"))
        #expect(error(#"{"and": [{"nope": 1}]}"#)?.field == "and[0]")
        #expect(error(#"{"a": 1, "b": 2}"#)?.code == .invalidArgument)
        #expect(error(#"{"==": [1]}"#)?.message.contains("takes 2 or more arguments") == true)
        #expect(error(#"{"==": [1]}"#)?.details?["error"]?["type"] == .string("Invalid Arguments"))
        #expect(error(#"{"and": true}"#)?.details?["error"]?["type"] == .string("Invalid Arguments"))
        #expect(error(#"{"frobnicate": [1]}"#)?.details?["error"]?["type"] == .string("Unknown Operator"))
        #expect(error(#"{"a": 1, "b": 2}"#)?.details?["error"]?["type"] == .string("Unknown Operator"))
        #expect(error(#"{"substr": ["a"]}"#) != nil)
        var deep = "1"
        for _ in 0..<100 { deep = #"{"!": [\#(deep)]}"# }
        #expect(error(deep)?.message.contains("deeper") == true)
    }

    @Test("evaluation is bounded: a runaway expression stops with limit_exceeded")
    func bounded() throws {
        // 1000 × 1000 nested maps: a million steps.
        let e = try Expression(try JSON.parse(#"{"map": [{"var": "xs"}, {"map": [{"var": "xs"}, 1]}]}"#))
        let xs = JSON.object(["xs": .array(Array(repeating: .object(["xs": .array(Array(repeating: .int(1), count: 1000))]), count: 1001))])
        #expect(throws: OrderbaseError.self) { try e.evaluate(xs) }
    }
}

@Suite("Expressions (text form)")
struct ExpressionTextTests {
    /// (text, the JSON-Logic it means), both ways.
    static let pairs: [(String, String)] = [
        (#"order.total > 500000 and order.channel == "marketplace" and some(order.line_items, item.sku starts_with "GIFT")"#,
         #"{"and":[{">":[{"var":"order.total"},500000]},{"==":[{"var":"order.channel"},"marketplace"]},{"some":[{"var":"order.line_items"},{"ob.starts_with":[{"var":"sku"},"GIFT"]}]}]}"#),
        ("a or b and not c", #"{"or":[{"var":"a"},{"and":[{"var":"b"},{"!":[{"var":"c"}]}]}]}"#),
        ("(a or b) and c", #"{"and":[{"or":[{"var":"a"},{"var":"b"}]},{"var":"c"}]}"#),
        ("a and (b and c)", #"{"and":[{"var":"a"},{"and":[{"var":"b"},{"var":"c"}]}]}"#),
        ("1 + 2 + 3", #"{"+":[1,2,3]}"#), ("(1 + 2) + 3", #"{"+":[{"+":[1,2]},3]}"#),
        // Found by the expression fuzzer: a unary plus first in a sum was flattened into it, so it did not print back.
        ("+a + b", #"{"+":[{"+":[{"var":"a"}]},{"var":"b"}]}"#), (#"var("in") * 2"#, #"{"*":[{"var":"in"},2]}"#), ("a + +b + c", #"{"+":[{"var":"a"},{"+":[{"var":"b"}]},{"var":"c"}]}"#),
        ("1 + 2 * 3", #"{"+":[1,{"*":[2,3]}]}"#), ("(1 + 2) * 3", #"{"*":[{"+":[1,2]},3]}"#),
        ("a - b - c", #"{"-":[{"-":[{"var":"a"},{"var":"b"}]},{"var":"c"}]}"#), ("a - (b - c)", #"{"-":[{"var":"a"},{"-":[{"var":"b"},{"var":"c"}]}]}"#),
        ("-x", #"{"-":[{"var":"x"}]}"#), ("-5", "-5"), ("-(5)", #"{"-":[5]}"#), ("+x", #"{"+":[{"var":"x"}]}"#),
        ("1 < x < 10", #"{"<":[1,{"var":"x"},10]}"#), ("1 <= x <= 10", #"{"<=":[1,{"var":"x"},10]}"#), ("!!x", #"{"!!":[{"var":"x"}]}"#),
        (#""GB" in ["GB", "IE"]"#, #"{"in":["GB",["GB","IE"]]}"#),
        (#"if(x > 1, "big", x > 0, "small", "none")"#, #"{"if":[{">":[{"var":"x"},1]},"big",{">":[{"var":"x"},0]},"small","none"]}"#),
        ("max(a, b, 3)", #"{"max":[{"var":"a"},{"var":"b"},3]}"#), (##"cat("#", order.number)"##, ##"{"cat":["#",{"var":"order.number"}]}"##),
        (#"var("weird key", 0)"#, #"{"var":["weird key",0]}"#), ("order.line_items.0.sku", #"{"var":"order.line_items.0.sku"}"#),
        ("reduce(order.line_items, accumulator + current.quantity, 0)",
         #"{"reduce":[{"var":"order.line_items"},{"+":[{"var":"accumulator"},{"var":"current.quantity"}]},0]}"#),
        ("map(xs, item * 2)", #"{"map":[{"var":"xs"},{"*":[{"var":""},2]}]}"#),
        ("all(order.line_items, some(item.tax_lines, item.rate == \"0.2\"))",
         #"{"all":[{"var":"order.line_items"},{"some":[{"var":"tax_lines"},{"==":[{"var":"rate"},"0.2"]}]}]}"#),
        ("order.placed_at before add(now(), -days(3))", #"{"ob.before":[{"var":"order.placed_at"},{"ob.add":[{"ob.now":[]},{"-":[{"ob.days":[3]}]}]}]}"#),
        (#"order.customer.email ends_with "@example.com""#, #"{"ob.ends_with":[{"var":"order.customer.email"},"@example.com"]}"#),
        ("missing(\"a\", \"b\")", #"{"missing":["a","b"]}"#),
        ("coalesce(order.po_number, order.number, \"none\")", #"{"??":[{"var":"order.po_number"},{"var":"order.number"},"none"]}"#),
        ("exists(\"order\", \"po_number\")", #"{"exists":["order","po_number"]}"#), ("x === null", #"{"===":[{"var":"x"},null]}"#),
        ("a % 2 == 1", #"{"==":[{"%":[{"var":"a"},2]},1]}"#), ("[]", "[]"), ("true", "true"), (#""é\n""#, #""é\n""#),
    ]

    @Test("the text form compiles to JSON-Logic and prints back to the same text")
    func roundTrip() throws {
        for (text, json) in Self.pairs {
            let parsed = try ExpressionText.parse(text)
            #expect(parsed == (try JSON.parse(json)), "\(text) parsed to \(parsed.text)")
            let printed = try ExpressionText.format(parsed)
            #expect(printed == text, "\(json) printed as \(printed)")
        }
    }

    @Test("JSON-only spellings print as their text equivalent and mean the same")
    func jsonOnly() throws {
        for (json, text) in [(#"{"?:":[true,1,2]}"#, "if(true, 1, 2)"), (#"{"!":true}"#, "not true"), (#"{"and":[{"var":"a"}]}"#, "a"),
                             (#"{"var":"and"}"#, #"var("and")"#), (#"{"var":"a b"}"#, #"var("a b")"#), (#"{"var":""}"#, #"var("")"#)] {
            let j = try JSON.parse(json)
            let t = try ExpressionText.format(j)
            #expect(t == text)
            let data = try JSON.parse(#"{"a":1,"and":2,"a b":3}"#)
            #expect(try Expression(try ExpressionText.parse(t)).evaluate(data) == (try Expression(j).evaluate(data)))
        }
        #expect(throws: OrderbaseError.self) { try ExpressionText.format(try JSON.parse(#"{"merge":[{"a":1}]}"#)) }
    }

    @Test("syntax errors name line and column")
    func errors() {
        func err(_ s: String) -> (Int64?, Int64?, String) {
            do { _ = try ExpressionText.parse(s); return (nil, nil, "") } catch {
                return (error.details?["line"]?.intValue, error.details?["column"]?.intValue, error.message)
            }
        }
        #expect(err("order.total >").0 == 1)
        let e = err("order.total > 5 and\n  order.channel === = 3")
        #expect(e.0 == 2 && e.1 == 21, "\(e)")
        #expect(err("frob(1)").2.contains("unknown function frob()"))
        #expect(err("some(order.line_items, sku == \"x\")").2.contains("item"))
        #expect(err("(a or b").2.contains("expected )"))
        #expect(err(#""open"#).2.contains("unterminated string"))
        #expect(err("a b").2.contains("unexpected"))
        #expect(err("and x").2.contains("cannot start a value"))
        #expect(err("1.2.3").0 == 1)
        #expect(err("1 < x <= 10").2.contains("unexpected"))  // "between" repeats one operator
    }
}

@Suite("Expressions (checking against the order)")
struct ExpressionCheckTests {
    func check(_ text: String) throws -> [String] {
        try DataShape.guardData.check(try Expression(try ExpressionText.parse(text)))
    }

    func error(_ text: String) -> String? {
        do { _ = try check(text); return nil } catch { return (error as? OrderbaseError)?.message }
    }

    @Test("fields of the order, its lines and the actor are known; the paths read are listed")
    func known() throws {
        #expect(try check(#"order.total > 500000 and some(order.line_items, item.sku starts_with "GIFT") and "manager" in actor.roles"#)
            == ["order.total", "order.line_items", "actor.roles"])
        #expect(try check("order.shipping_address.country == \"GB\" and order.metadata.anything == 1") == ["order.shipping_address.country", "order.metadata.anything"])
        #expect(try check("all(order.line_items, item.properties.gift == \"yes\" and item.tax_lines.0.rate == \"0.2\")").count == 1)
        #expect(try check("reduce(order.line_items, accumulator + current.quantity, 0) > 10").count == 1)
        #expect(try check(#"changed("status") and previous("status") == "pending""#).isEmpty)
    }

    @Test("a misspelled field is an error at save time, with the closest name")
    func misspelled() {
        #expect(error("order.totl > 5")?.contains("unknown field order.totl (did you mean order.total?)") == true)
        #expect(error("some(order.line_items, item.skuu == \"x\")")?.contains("did you mean sku?") == true)
        #expect(error("ordr.total > 1")?.contains("did you mean order?") == true)
        #expect(error("order.line_items.sku == \"x\"")?.contains("is a list") == true)
        #expect(error(#"changed("stats")"#)?.contains("unknown field order.stats") == true)
    }

    @Test("comparing a field with a literal of the wrong type is an error")
    func types() {
        #expect(error(#"order.total > "lots""#)?.contains("is a number") == true)
        #expect(error("order.created_at > 5")?.contains("is a timestamp") == true)
        #expect(error("order.channel == 3")?.contains("is a string") == true)
        #expect(error(#"order.total > "5""#) == nil)  // JSON-Logic coerces numeric strings
    }

    @Test("changed() and previous() compare the order with the one before an update")
    func changes() throws {
        let e = try Expression(try ExpressionText.parse(#"changed("status") and previous("status") == "pending""#))
        #expect(try e.test(try JSON.parse(#"{"order":{"status":"confirmed"},"previous":{"status":"pending"}}"#)))
        #expect(try !e.test(try JSON.parse(#"{"order":{"status":"pending"},"previous":{"status":"pending"}}"#)))
        #expect(try !e.test(try JSON.parse(#"{"order":{"status":"pending"}}"#)))
    }
}

@Suite("expressions.validate and expressions.evaluate")
struct ExpressionMethodTests {
    @Test("validate answers both forms and the fields read, or where and why an expression is wrong")
    func validate() throws {
        let fx = try Fixture()
        let ok = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"order.total>500000 and order.channel==\"phone\""}"#)
        #expect(ok["valid"] == .bool(true) && ok["text"] == .string(#"order.total > 500000 and order.channel == "phone""#))
        #expect(ok["fields"] == .array([.string("order.total"), .string("order.channel")]))
        #expect(ok["json"]?["and"] != nil)
        let fromJSON = try fx.call({ $0.expressions.validateExpression }, #"{"expression":{">":[{"var":"order.total"},1]}}"#)
        #expect(fromJSON["text"] == .string("order.total > 1"))
        let bad = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"order.total >\n  and x"}"#)
        #expect(bad["valid"] == .bool(false) && bad["error"]?["details"]?["line"] == .int(2))
        let typo = try fx.call({ $0.expressions.validateExpression }, #"{"expression":"order.totl > 1"}"#)
        #expect(typo["error"]?["message"]?.stringValue?.contains("did you mean order.total?") == true)
        #expect(fx.error({ $0.expressions.validateExpression }, "{}")?.field == "expression")
        #expect(fx.error({ $0.expressions.validateExpression }, #"{"expression":"x","extra":1}"#)?.field == "extra")
    }

    @Test("evaluate against an order (with the request's actor and roles) or against given data")
    func evaluate() throws {
        let fx = try Fixture()
        let order = try fx.call({ $0.orders.createOrder }, #"{"channel":"phone","line_items":[{"sku":"GIFT-1","title":"x","quantity":2,"unit_price":300000}]}"#)
        let id = order["id"]!.stringValue!
        let r = try fx.call({ $0.expressions.evaluateExpression }, """
            {"expression":"order.total > 500000 and some(order.line_items, item.sku starts_with \\"gift\\") and \\"manager\\" in actor.roles",
             "order_id":"\(id)","actor":{"type":"user","id":"ann","roles":["manager"]}}
            """)
        #expect(r["result"] == .bool(true))
        let noRole = try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":"\"manager\" in actor.roles","order_id":"\#(id)"}"#)
        #expect(noRole["result"] == .bool(false))
        let free = try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":{"+":[{"var":"a"},1]},"data":{"a":41}}"#)
        #expect(free["result"] == .int(42) && free["text"] == .string("a + 1"))
        #expect(fx.error({ $0.expressions.evaluateExpression }, #"{"expression":"1","order_id":"\#(id)","data":{}}"#)?.code == .invalidArgument)
        #expect(fx.error({ $0.expressions.evaluateExpression }, #"{"expression":"1"}"#)?.code == .invalidArgument)
        // null is valid data (issue 13): a var of it is null, and ?? supplies a default.
        #expect(try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":{"var":"a"},"data":null}"#)["result"] == .null)
        #expect(try fx.call({ $0.expressions.evaluateExpression }, #"{"expression":"coalesce(a, 5)","data":null}"#)["result"] == .int(5))
        #expect(fx.error({ $0.expressions.evaluateExpression }, #"{"expression":"1","order_id":"\#(id)","data":null}"#)?.code == .invalidArgument)
        #expect(fx.error({ $0.expressions.evaluateExpression }, #"{"expression":"order.total","order_id":"ord_nope"}"#)?.code == .notFound)
        #expect(fx.error({ $0.expressions.evaluateExpression }, #"{"expression":"order.totl","order_id":"\#(id)"}"#)?.code == .invalidArgument)
    }
}

@Suite("Expressions (hostile text)")
struct ExpressionHostileTests {
    @Test("whatever the printer writes parses back, down to the deepest nesting an expression may have")
    func deepestPrintsBack() throws {
        for inner in [JSON.int(-2), .object(["var": .string("x")]), .object(["+": .array([.int(1), .int(2)])])] {
            var e = inner
            for n in 0..<(Expression.maxDepth - 2) { e = .object([n % 2 == 0 ? "-" : "!": .array([e])]) }
            let text = try ExpressionText.format(e)
            #expect(try ExpressionText.parse(text) == e, "\(text)")
        }
    }

    @Test("deep nesting in the text form fails cleanly instead of exhausting the stack")
    func deep() {
        for text in [String(repeating: "(", count: 20_000) + "1" + String(repeating: ")", count: 20_000),
                     String(repeating: "not ", count: 20_000) + "x", String(repeating: "-", count: 20_000) + "x",
                     String(repeating: "[", count: 20_000), String(repeating: "max(", count: 20_000)] {
            #expect(throws: OrderbaseError.self) { try ExpressionText.parse(text) }
        }
    }
}
