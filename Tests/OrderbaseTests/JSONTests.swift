import Testing
@testable import Orderbase

@Suite("JSON")
struct JSONTests {
    @Test("valid documents parse to exact values", arguments: [
        (#"{"a":1,"b":[true,false,null],"c":"x"}"#, JSON.object(["a": .int(1), "b": .array([.bool(true), .bool(false), .null]), "c": .string("x")])),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        // Whole numbers are canonical integers, as the writer prints them (found by the JSON fuzzer:
        // -0.0 printed as 0 and came back as another value).
        ("1.5e3", .int(1500)), ("-0.0", .int(0)), ("2.0", .int(2)), ("0.5", .double(0.5)), ("1e15", .double(1e15)),
        (#""\u00e9\ud83d\ude00\n""#, .string("é😀\n")),
        (" [ ] ", .array([])),
    ])
    func parses(text: String, expected: JSON) throws {
        let v = try JSON.parse(text)
        #expect(v == expected)
        #expect(try JSON.parse(v.bytes) == v, "printing and parsing \(text) gives it back")
    }

    @Test("malformed documents are invalid_argument with a position", arguments: [
        "{", "[1,]", #"{"a":1,}"#, #"{"a":1,"a":2}"#, "01", "1.", "-", "tru", #""\ud800""#, #""\udc00x""#,
        "\"tab\there\"", "9223372036854775808", "{} {}", "[1e400]", #"{'a':1}"#, "", "nul",
    ])
    func rejects(text: String) {
        #expect {
            _ = try JSON.parse(text)
        } throws: { e in
            guard let e = e as? OrderbaseError else { return false }
            return e.code == .invalidArgument && e.message.contains("line") && e.message.contains("column")
        }
    }

    @Test("invalid UTF-8 inside a string is rejected, not repaired")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x28, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22]] {
            #expect(throws: OrderbaseError.self) { _ = try JSON.parse(bytes) }
        }
    }

    @Test("nesting deeper than the limit is refused")
    func depth() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: OrderbaseError.self) { _ = try JSON.parse(deep) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSON.parse(ok)) != nil)
    }

    @Test("the error names the line and column of the fault")
    func position() {
        do {
            _ = try JSON.parse("{\n  \"a\": tru\n}")
            Issue.record("parsed")
        } catch {
            #expect(error.message.contains("line 2, column 8"))
        }
    }

    @Test("writing then parsing gives the same value, with control characters escaped")
    func roundTrip() throws {
        let v = JSON.object(["s": .string("quote \" backslash \\ nl \n ctl \u{01} é"), "n": .int(-42), "d": .double(0.25),
                             "a": .array([.null, .bool(true)]), "o": .object([:])])
        let text = v.text
        #expect(!text.contains("\u{01}"))
        #expect(try JSON.parse(text) == v)
        #expect(text.hasPrefix(#"{"a":"#), "keys are sorted: canonical form")
    }
}

@Suite("Time and ids")
struct TimeTests {
    @Test("RFC 3339 round trip with milliseconds")
    func rfc3339() {
        for ms: Int64 in [0, 1_795_000_000_123, 951_782_400_000 /* 2000-02-29 */, -1] {
            #expect(Timestamp.parse(Timestamp.format(ms)) == ms)
        }
        #expect(Timestamp.format(1_795_000_000_123) == "2026-11-18T11:06:40.123Z")
        #expect(Timestamp.parse("2026-11-25T10:00:00+01:00") == Timestamp.parse("2026-11-25T09:00:00Z"))
        #expect(Timestamp.parse("2026-11-25T10:00:00.5Z") == Timestamp.parse("2026-11-25T10:00:00.500Z"))
        for bad in ["2026-02-30T00:00:00Z", "2026-11-25 10:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:00:00", "yesterday"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("ULID encoding: known vectors at the edges")
    func ulidVectors() {
        #expect(IDGenerator.encode(time: 0, hi: 0, lo: 0) == String(repeating: "0", count: 26))
        #expect(IDGenerator.encode(time: 0, hi: 0, lo: 1) == String(repeating: "0", count: 25) + "1")
        #expect(IDGenerator.encode(time: (1 << 48) - 1, hi: 0xFFFF, lo: UInt64.max) == "7" + String(repeating: "Z", count: 25))
        // The bit just above the low 64 (digit 13 straddles the boundary).
        #expect(IDGenerator.encode(time: 0, hi: 1, lo: 0) == String(repeating: "0", count: 13) + "G" + String(repeating: "0", count: 12))
        // With a prefix (ASCII or not), the digits follow it unchanged.
        #expect(IDGenerator.encode("mov_", time: 0, hi: 0, lo: 1) == "mov_" + String(repeating: "0", count: 25) + "1")
        #expect(IDGenerator.encode("é_", time: (1 << 48) - 1, hi: 0xFFFF, lo: UInt64.max) == "é_7" + String(repeating: "Z", count: 25))
    }

    @Test("ids are prefixed, 26 base32 characters, and strictly increasing within a millisecond")
    func ids() {
        let g = IDGenerator()
        var last = ""
        for _ in 0..<1000 {
            let id = g.make("ord_", at: 1_795_000_000_000)
            #expect(id.count == 30 && id.hasPrefix("ord_"))
            #expect(id > last)
            last = id
        }
        let later = g.make("ord_", at: 1_795_000_000_001)
        #expect(later > last)
        #expect(IDGenerator.lowerBound("ord_", ms: 1_795_000_000_001) <= later)
        #expect(IDGenerator.lowerBound("ord_", ms: 1_795_000_000_001) > last)
    }
}

@Suite("JSON objects")
struct JSONObjectTests {
    @Test("duplicate keys are found in narrow and wide objects, and a wide object parses in linear time")
    func wideObjects() throws {
        let narrow = "{" + (0..<10).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k3\":1}"
        #expect(throws: OrderbaseError.self) { _ = try JSON.parse(narrow) }
        let wideDup = "{" + (0..<100).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k50\":1}"
        #expect(throws: OrderbaseError.self) { _ = try JSON.parse(wideDup) }
        // 100k distinct keys: quadratic duplicate checking would take minutes.
        let huge = "{" + (0..<100_000).map { "\"k\($0)\":0" }.joined(separator: ",") + "}"
        let v = try JSON.parse(huge)
        if case .object(let o) = v { #expect(o.count == 100_000) } else { Issue.record("not an object") }
    }

    @Test("object equality ignores member order; subscripts set and remove")
    func equality() throws {
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) == JSON.parse(#"{"b":2,"a":1}"#))
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) != JSON.parse(#"{"a":1,"b":3}"#))
        var o: JSONObject = ["a": .int(1)]
        o["b"] = .int(2)
        o["a"] = nil
        #expect(o == ["b": .int(2)])
        #expect(o.keys == ["b"])
    }
}
