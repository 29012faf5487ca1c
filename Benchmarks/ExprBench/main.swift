// expr-bench — what a workflow guard costs. Compiles the issue's typical guard
// once, then evaluates it against real orders (a one-line order and a
// 24-line invoice from the online-retail data set's shape) many times, next to
// a baseline measured in the same run: the same test hand-written in Swift over
// the same parsed JSON (what a guard compiled to native code could do at best).
// Also times compiling, to show it belongs once per workflow version.
//
//   swift run -c release expr-bench
import Foundation
import Orderbase

let guardText = #"order.total > 500000 and order.channel == "marketplace" and some(order.line_items, item.sku starts_with "GIFT")"#

func order(lines: Int) -> JSON {
    var items: [JSON] = []
    for n in 0..<lines {
        items.append(.object(["id": .string("li_\(n)"), "sku": .string(n == lines - 1 ? "GIFT-\(n)" : "85123A"),
                              "title": .string("White hanging heart t-light holder"), "quantity": .int(6), "unit_price": .int(255 * 1000),
                              "discounts": .array([]), "tax_lines": .array([]), "properties": .object([:])]))
    }
    return .object(["order": .object(["id": .string("ord_1"), "total": .int(Int64(lines) * 1_530_000), "channel": .string("marketplace"),
                                      "status": .string("confirmed"), "line_items": .array(items)]),
                    "actor": .object(["type": .string("user"), "roles": .array([.string("manager")])])])
}

/// The same test written by hand.
func baseline(_ data: JSON) -> Bool {
    guard case .object(let root)? = Optional(data), case .object(let o)? = root["order"] else { return false }
    guard case .int(let total)? = o["total"], total > 500000 else { return false }
    guard o["channel"] == .string("marketplace") else { return false }
    guard case .array(let items)? = o["line_items"] else { return false }
    for i in items { if case .string(let s)? = i["sku"], s.lowercased().hasPrefix("gift") { return true } }
    return false
}

/// Median nanoseconds per call over 9 batches of `n` calls.
func median(_ n: Int, _ body: () throws -> Bool) rethrows -> Double {
    var samples: [Double] = []
    var sink = 0
    for _ in 0..<9 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { if try body() { sink &+= 1 } }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(n))
    }
    precondition(sink != 1, "never")
    return samples.sorted()[samples.count / 2]
}

let compiled = try Expression(try ExpressionText.parse(guardText))
func nodes(_ j: JSON) -> Int {
    switch j {
    case .object(let o): return 1 + o.reduce(0) { $0 + nodes($1.value) }
    case .array(let a): return a.reduce(0) { $0 + nodes($1) }
    default: return 1
    }
}
print("Orderbase expression evaluation vs the same test hand-written in Swift, same run")
print("guard: \(guardText)")
print("       \(nodes(compiled.json)) JSON-Logic nodes\n")
print("| data | expression | hand-written | ratio |")
print("|---|---:|---:|---:|")
let ctx = EvaluationContext(nowMilliseconds: 0)
for (name, data) in [("1-line order", order(lines: 1)), ("24-line invoice (gift last)", order(lines: 24))] {
    let agrees = try compiled.test(data, context: ctx) == baseline(data)
    precondition(agrees)
    let e = try median(200_000) { try compiled.test(data, context: ctx) }
    let b = median(200_000) { baseline(data) }
    print("| \(name) | \(String(format: "%.2f", e / 1000)) µs | \(String(format: "%.2f", b / 1000)) µs | \(String(format: "%.1f", e / b))× |")
}

// The workflow extensions: money with its currency check, a calendar part in the tenant's zone.
let shopText = #"money_gt(order.total, 500000, "GBP") and weekday(order.placed_at) <= 5"#
let shop = try Expression(try ExpressionText.parse(shopText))
let london = try TimeZoneRules.named("Europe/London")
let shopCtx = EvaluationContext(nowMilliseconds: 0, timeZone: london, currency: "GBP")
let placed = Timestamp.parse("2026-07-03T15:30:00Z")!
let shopData: JSON = .object(["order": .object(["total": .int(600_000), "currency": .string("GBP"),
                                                "placed_at": .string(Timestamp.format(placed))])])
func shopBaseline(_ data: JSON) -> Bool {
    guard case .object(let root) = data, case .object(let o)? = root["order"], o["currency"] == .string("GBP"),
          case .int(let total)? = o["total"], total > 500000, case .string(let t)? = o["placed_at"], let ms = Timestamp.parse(t) else { return false }
    return london.local(ms).weekday <= 5
}
let shopAgrees = try shop.test(shopData, context: shopCtx) == shopBaseline(shopData)
precondition(shopAgrees)
let se = try median(200_000) { try shop.test(shopData, context: shopCtx) }
let sb = median(200_000) { shopBaseline(shopData) }
print("| \(shopText) | \(String(format: "%.2f", se / 1000)) µs | \(String(format: "%.2f", sb / 1000)) µs | \(String(format: "%.1f", se / sb))× |")

let compile = median(20_000) { (try? Expression(try ExpressionText.parse(guardText))) != nil }
let compileJSON = median(20_000) { (try? Expression(compiled.json)) != nil }
print("\ncompile from text: \(String(format: "%.2f", compile / 1000)) µs; from JSON-Logic: \(String(format: "%.2f", compileJSON / 1000)) µs (once per workflow version)")
print("target: a typical guard (5-10 nodes) ≤ 2 µs median")
