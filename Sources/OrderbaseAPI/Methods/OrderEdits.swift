import Orderbase

extension Catalogue {
    static let orderEditID = req("id", .string(max: 64), "The order edit (oe_…).")
    static let orderEditPreview = Schema.object([
        req("edit", .ref("OrderEdit")), req("order", .ref("Order"), "The order as the staged actions would leave it (new lines show placeholder ids)."),
        req("total_before", .int(0...Int64.max)), req("total_after", .int(0...Int64.max)),
        req("balance", .int(Int64.min...Int64.max), "total_after − captured: positive is due from the customer, negative is owed back."),
        req("balance_due", .int(0...Int64.max)), req("refund_owed", .int(0...Int64.max)),
        req("stock", .list(.object([req("line_item_id", .string()), req("sku", .nullable(.string())), req("quantity_before", .int(0...Int64.max)),
                                    req("quantity_after", .int(0...Int64.max)), req("delta", .int(Int64.min...Int64.max))])),
            "Each line whose units change: committed stock follows when the order has fulfillment orders."),
    ])

    /// Order edits (docs/order-edits.md).
    static let orderEditMethods: [Method] = [
        Method("order_edits.begin", .write, [Route("POST", "/v1/order_edits")],
               "Begin a change set over an open order: stage actions, preview, then commit or discard.",
               request: [req("order_id", .string(max: 64, min: 1), "The order (ord_…)."), opt("note", .string(max: 1000, min: 1), "Why (the order's audit entry carries it).")],
               response: .ref("OrderEdit"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.begin(r) }),
        Method("order_edits.stage", .write, [Route("POST", "/v1/order_edits/{id}/actions")],
               "Stage actions on an open edit (each tried against the order as it is now): add a line, change a quantity (0 removes), price or line discount, add or remove a shipping line, change an address.",
               request: [orderEditID, req("actions", .list(Schemas.editActionInput, max: 100, min: 1), "At most 100 staged in all.")],
               response: .ref("OrderEdit"),
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.stage(r) }),
        Method("order_edits.preview", .read, [Route("GET", "/v1/order_edits/{id}/preview")],
               "The order as the staged actions would leave it: new totals, the balance due or refund owed, and each line's unit change. Writes nothing.",
               request: [orderEditID], response: .ref("OrderEditPreview"),
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.preview(r) }),
        Method("order_edits.commit", .write, [Route("POST", "/v1/order_edits/{id}/commit")],
               "Apply the staged actions in one write: the order, its committed stock and fulfillment orders, its sales ledger line, one audit entry.",
               request: [orderEditID,
                         opt("expected_version", .int(1...Int64.max), "The order's version (default: its version when the edit began); else version_conflict."),
                         opt("notify_customer", .boolean, "Tell templates on order_edit.committed to reach the customer (event.data.notify_customer).")],
               response: .object([req("edit", .ref("OrderEdit")), req("order", .ref("Order"))]),
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.commit(r) }),
        Method("order_edits.discard", .write, [Route("POST", "/v1/order_edits/{id}/discard")], "Drop an open edit: nothing of it is applied.",
               request: [orderEditID, opt("note", .string(max: 1000, min: 1))], response: .ref("OrderEdit"),
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.discard(r) }),
        Method("order_edits.get", .read, [Route("GET", "/v1/order_edits/{id}")], "An order edit.", request: [orderEditID], response: .ref("OrderEdit"),
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.get(r) }),
        Method("order_edits.list", .read, [Route("GET", "/v1/order_edits")], "Order edits, newest first: an order's, or all.",
               request: [opt("order_id", .string(max: 64, min: 1), "Only the order's edits."),
                         opt("status", .oneOf(ValueLists.orderEditStatuses), "Only this status."),
                         opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("OrderEdit")),
               .tenant { t, r throws(OrderbaseError) in try t.orderEdits.list(r) }),
    ]
}
