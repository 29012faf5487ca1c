import Testing
@testable import Orderbase

@Suite("Priority")
struct PriorityTests {
    @Test("priority: normal by default, set on create and while open, filters orders.list, refused when not one of the four")
    func priority() throws {
        let fx = try Fixture()
        let a = try fx.createOrder()
        #expect(a["priority"] == .string("normal"))
        let b = try fx.createOrder(#""priority":"urgent""#)["id"]!.stringValue!
        let c = try fx.createOrder(#""priority":"low""#)["id"]!.stringValue!
        let raised = try fx.call({ $0.orders.updateOrder }, #"{"id":"\#(c)","priority":"high","actor":{"type":"user","id":"ann"}}"#)
        #expect(raised["priority"] == .string("high"))
        let audit = try fx.call({ $0.audit.orderAudit }, #"{"id":"\#(c)"}"#)["data"]!.array
        #expect(audit.last?["changes"]?.text.contains(#""field":"priority""#) == true)
        func ids(_ p: String) throws -> [String] { try fx.call({ $0.orders.listOrders }, #"{"priority":"\#(p)"}"#)["data"]!.array.map { $0["id"]!.stringValue! } }
        #expect(try ids("urgent") == [b])
        #expect(try ids("high") == [c])
        #expect(try ids("low") == [])
        #expect(try ids("normal") == [a["id"]!.stringValue!])
        let before = fx.counters
        #expect(fx.error({ $0.orders.createOrder }, #"{"line_items":[{"title":"x","quantity":1,"unit_price":1}],"priority":"asap"}"#)?.field == "priority")
        #expect(fx.error({ $0.orders.listOrders }, #"{"priority":"Urgent"}"#)?.field == "priority")
        _ = try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(b)"}"#)
        #expect(fx.error({ $0.orders.updateOrder }, #"{"id":"\#(b)","priority":"low"}"#)?.code == .invalidState)
        #expect(fx.counters.nextNumber == before.nextNumber)
        #expect(try fx.integrityProblems().isEmpty)
    }
}
