/// Decides whether an order may move to a status. The single seam custom
/// workflows replace (issue: custom status workflows).
public protocol TransitionPolicy: Sendable {
    /// Statuses reachable from `order` now.
    func allowedTargets(from order: Order) -> [String]
}

extension TransitionPolicy {
    func check(_ order: Order, to target: String) throws(OrderbaseError) {
        let allowed = allowedTargets(from: order)
        guard allowed.contains(target) else {
            throw OrderbaseError(
                .invalidTransition,
                allowed.isEmpty
                    ? "order \(order.number) is \(order.status), a final status"
                    : "order \(order.number) cannot go from \(order.status) to \(target); allowed: \(allowed.joined(separator: ", "))",
                field: "to",
                details: .object(["from": .string(order.status), "to": .string(target),
                                  "allowed": .array(allowed.map { .string($0) })]))
        }
    }
}

/// pending → confirmed → processing → completed; on_hold from and back to any
/// open status; cancelled from any open status; completed and cancelled are final.
public struct DefaultLifecycle: TransitionPolicy {
    public init() {}
    public func allowedTargets(from order: Order) -> [String] {
        switch order.status {
        case "pending": return ["confirmed", "on_hold", "cancelled"]
        case "confirmed": return ["processing", "on_hold", "cancelled"]
        case "processing": return ["completed", "on_hold", "cancelled"]
        case "on_hold": return ["pending", "confirmed", "processing", "cancelled"]
        default: return []
        }
    }
}
