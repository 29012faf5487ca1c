// codec-bench — how should an order be stored? Measures, on the same orders:
//   the engine's JSON writer (render) and parser (decode), which store the API JSON as is,
//   against Foundation's JSONEncoder/JSONDecoder on a Codable mirror of the order.
// With the API JSON stored, orders.get and orders.list return stored bytes with no codec
// at all; any other stored form (a binary codec included) must be decoded and rendered
// to JSON on every read. docs/decisions.md records the figures.
//
//   swift run -c release codec-bench
import Foundation
import Orderbase

struct Line: Codable { var id: String?; var sku: String?; var title: String; var quantity: Int64; var unit_price: Int64
    var discounts: [Disc]; var tax_lines: [Tax]; var properties: [String: String] }
struct Disc: Codable { var code: String?; var amount: Int64 }
struct Tax: Codable { var name: String; var rate: String; var amount: Int64 }
struct Ship: Codable { var title: String; var price: Int64; var tax_lines: [Tax] }
struct Cust: Codable { var id: String?; var email: String?; var name: String? }
struct Addr: Codable { var name: String?; var line1: String?; var city: String?; var postal_code: String?; var country: String? }
struct COrder: Codable {
    var id: String; var number: String; var version: Int64; var status: String; var financial_status: String
    var fulfillment_status: String; var channel: String; var currency: String; var customer: Cust?
    var shipping_address: Addr?; var line_items: [Line]; var shipping_lines: [Ship]; var discounts: [Disc]
    var subtotal: Int64; var total_discount: Int64; var total_tax: Int64; var total_shipping: Int64; var total: Int64
    var note: String?; var created_at: String; var updated_at: String; var placed_at: String
}

func measure(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<5 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { try body() }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(n) / 1000)
    }
    return samples.sorted()[2]  // median of 5 batches, µs per call
}

let dir = NSTemporaryDirectory() + "codec-bench-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: dir) }
let engine = try Engine(root: dir, options: EngineOptions.parse(try JSON.parse(#"{"durability":"relaxed"}"#)))
try engine.createTenant("b", settings: nil)
let core = try engine.openTenant("b").core()

func request(lines: Int) -> String {
    let items = (0..<lines).map { i in
        #"{"sku":"SKU\#(i)","title":"White hanging heart t-light holder \#(i)","quantity":\#(i + 1),"unit_price":255,"discounts":[{"code":"SPRING","amount":10}],"tax_lines":[{"name":"VAT","rate":"0.20"}]}"#
    }.joined(separator: ",")
    return #"{"currency":"GBP","customer":{"id":"17850","email":"ann@example.com","name":"Ann Lee"},"shipping_address":{"name":"Ann Lee","line1":"1 High St","city":"London","postal_code":"N1 1AA","country":"GB"},"line_items":[\#(items)],"shipping_lines":[{"title":"Standard","price":495}],"note":"Leave at the door"}"#
}

print("| order | bytes | engine render | JSONEncoder | ratio | engine decode | JSONDecoder | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for lines in [1, 25] {
    let stored = try core.orders.createOrder(try JSON.parse(request(lines: lines)))
    let order = try Order(json: stored)
    let mirror = try JSONDecoder().decode(COrder.self, from: Data(stored))
    let encoder = JSONEncoder()
    let n = lines == 1 ? 20_000 : 2_000
    var sink = 0
    let render = measure(n) { sink &+= order.json.count }
    let foundationEncode = try measure(n) { sink &+= try encoder.encode(mirror).count }
    let decode = try measure(n) { sink &+= try Order(json: stored).lineItemCount }
    let data = Data(stored)
    let foundationDecode = try measure(n) { sink &+= try JSONDecoder().decode(COrder.self, from: data).line_items.count }
    print(String(format: "| %d line%@ | %d | %.1f µs | %.1f µs | %.1f× | %.1f µs | %.1f µs | %.1f× |",
                 lines, lines == 1 ? "" : "s", stored.count, render, foundationEncode, foundationEncode / render,
                 decode, foundationDecode, foundationDecode / decode))
    if sink == 42 { print("") }
}
engine.close()
