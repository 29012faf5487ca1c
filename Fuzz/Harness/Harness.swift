// The fuzz harnesses (issue 13): each takes arbitrary bytes and drives one
// part of the engine that reads caller input. A harness may find only a
// trap, a sanitizer report, a leak, a hang or a broken property below (a
// round trip that does not come back, a refused call that changed the
// tenant) — every refusal is an answer, not a finding.
//
// Built two ways (docs/fuzzing.md):
//   - with -DFUZZING and -sanitize=fuzzer,address: libFuzzer's driver runs
//     the harness ORDERBASE_FUZZ_TARGET names;
//   - plainly: `orderbase-fuzz <target> FILE…` replays inputs (a finding, the
//     seed corpus) through the same code, with no fuzzer.
import Foundation
@testable import Orderbase
@testable import OrderbaseAPI

enum Harness {
    static let targets: [String: @Sendable ([UInt8]) -> Void] = [
        "json": json, "expression": expression, "mustache": mustache, "workflow": workflow, "call": call, "rest": rest,
    ]

    /// Small budgets, so a run spends its time on many inputs rather than one big evaluation.
    static let budgets: Budgets = {
        var b = Budgets()
        b.expressionSteps = 20_000
        b.expressionBytes = 64 << 10
        b.templateSteps = 20_000
        b.templateOutputBytes = 64 << 10
        return b
    }()

    static func check(_ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { fatalError("property broken: \(what())") }
    }

    /// The JSON parser and the field readers: what parses prints back to the
    /// same value, and reading it as an order, options or settings never traps.
    static func json(_ bytes: [UInt8]) {
        guard let v = try? JSON.parse(bytes) else { return }
        let again = try? JSON.parse(v.bytes)
        check(again == v, "JSON \(v.text) did not survive printing and parsing")
        _ = try? Order.decode(bytes)
        _ = try? EngineOptions.parse(v)
        _ = try? WebhookEndpoint.decode(bytes)
        _ = try? NotificationTemplate.decode(bytes)
        if var f = try? Fields(v) {
            var t = NotificationTemplate.blank
            _ = try? NotificationTemplate.read(&f, onto: &t, isCreate: true)
        }
    }

    static let data: JSON = {
        let order = (try? JSON.parse(Order.sample.render().bytes)) ?? .null
        return .object(["order": order, "actor": .object(["type": .string("user"), "roles": .array([.string("manager")])])])
    }()

    /// Expressions in both forms: text that parses prints back to text that
    /// parses to the same JSON-Logic; anything that compiles is checked
    /// against the order's shape and evaluated within the budgets.
    static func expression(_ bytes: [UInt8]) {
        var logic: JSON?
        if let text = String(validating: bytes, as: UTF8.self), let parsed = try? ExpressionText.parse(text) {
            logic = parsed
            if let printed = try? ExpressionText.format(parsed) {
                let back = try? ExpressionText.parse(printed)
                check(back == parsed, "\(text) → \(parsed.text) → \(printed) → \(back?.text ?? "error")")
            }
        } else if let v = try? JSON.parse(bytes) {
            logic = v
        }
        guard let logic, let e = try? Expression(logic) else { return }
        _ = try? DataShape.guardData.check(e)
        let ctx = EvaluationContext(nowMilliseconds: 1_795_000_000_000, budgets: budgets)
        _ = try? e.evaluate(data, context: ctx)
        _ = try? e.evaluate(.null, context: ctx)
    }

    static let notificationData: JSON = {
        let order = (try? JSON.parse(Order.sample.render().bytes)) ?? .null
        return .object(NotificationData.context(order: order, event: .object(["type": .string("order.created")]), shop: TenantSettings()))
    }()

    /// Mustache templates: parsed, checked against what templates see, and
    /// rendered within the budgets with every escape.
    static func mustache(_ bytes: [UInt8]) {
        guard let s = String(validating: bytes, as: UTF8.self), let t = try? MustacheTemplate(s, field: "text") else { return }
        _ = try? t.check(NotificationData.shape, field: "text")
        for escape in [MustacheTemplate.Escape.none, .html, .jsonString, .formURL] {
            _ = try? t.render(notificationData, escape: escape, budgets: budgets)
        }
    }

    /// Workflow definitions as `workflows.create` reads them.
    static func workflow(_ bytes: [UInt8]) {
        guard let v = try? JSON.parse(bytes), var f = try? Fields(v) else { return }
        _ = try? Workflow.read(&f, stored: false)
    }

    static let methodsByName = Dictionary(uniqueKeysWithValues: Catalogue.methods.map { ($0.name, $0) })

    /// Every catalogue method, as `orderbase_call` runs it (`Catalogue.call`
    /// from the request's bytes). An input is `<method>\n<request>` (the seed
    /// corpus's form), or else its first byte picks the method and the rest is
    /// the request. A refused call changes nothing: no event, no audit entry.
    static func call(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let methods = Catalogue.methods
        var m = methods[Int(first) % methods.count]
        var request = Array(bytes.dropFirst())
        if let nl = bytes.firstIndex(of: 0x0A), let name = String(validating: bytes[..<nl], as: UTF8.self), let named = methodsByName[name] {
            m = named
            request = Array(bytes[(nl + 1)...])
        }
        let before = fixture.core.currentCounters
        let refused: Bool
        do {
            _ = try request.withUnsafeBytes { (b) throws(OrderbaseError) -> [UInt8] in
                m.isEngineLevel ? try Catalogue.call(fixture.engine, m.name, b) : try Catalogue.call(fixture.tenant, m.name, b)
            }
            refused = false
        } catch {
            refused = true
        }
        if refused && !m.isEngineLevel {
            let after = fixture.core.currentCounters
            check(after.eventSeq == before.eventSeq && after.auditSeq == before.auditSeq,
                  "\(m.name) was refused but logged events or audit entries")
        }
    }

    final class Fixture: @unchecked Sendable {
        let engine: Engine
        let tenant: Tenant
        var core: TenantCore { try! tenant.core() }
        init() {
            let dir = NSTemporaryDirectory() + "orderbase-fuzz-\(getpid())"
            var options = EngineOptions()
            options.background = false
            options.durability = .relaxed
            options.budgets = Harness.budgets
            engine = try! Engine(root: dir, options: options)
            _ = try? engine.createTenant("shop", settings: nil)
            tenant = try! engine.openTenant("shop")
            _ = try? tenant.core().orders.createOrder(try! JSON.parse(#"{"line_items":[{"title":"Mug","sku":"A1","quantity":2,"unit_price":500}]}"#))
        }
    }
    static let fixture = Fixture()
}

#if FUZZING
let selected: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["ORDERBASE_FUZZ_TARGET"] ?? ""
    guard let h = Harness.targets[name] else {
        fatalError("ORDERBASE_FUZZ_TARGET must be one of \(Harness.targets.keys.sorted().joined(separator: ", "))")
    }
    return h
}()

// SwiftPM links an executable's entry point as `<module>_main`; libFuzzer's
// driver takes over from there (its own `main` is not linked).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// What libFuzzer calls with each input (its driver also links against the name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_cdecl("OrderbaseFuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var values = argv
    return LLVMFuzzerRunDriver(&count, &values, fuzzOne)
}
#else
@main
struct Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let h = Harness.targets[name] else {
            FileHandle.standardError.write(Data("usage: orderbase-fuzz <\(Harness.targets.keys.sorted().joined(separator: "|"))> FILE|DIR…\n".utf8))
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            var isDir: ObjCBool = false
            let files = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for f in files {
                guard let d = FileManager.default.contents(atPath: f) else { continue }
                h(Array(d))
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed, no finding")
    }
}
#endif
