import Orderbase

extension Catalogue {
    static let transactionID = req("id", .string(max: 64), "The transaction (txn_…).")
    static let paymentsIdempotency = opt("idempotency_key", .string(max: 255, min: 1),
                                         "A repeat with the same request answers the transactions of the first, as they are now (REST: Idempotency-Key).")
    static let paymentsAnswer = Schema.object([req("transactions", .list(.ref("Transaction"))), req("order", .ref("Order"))])
    static let paymentSummary = Schema.described("The sums of an order's transactions (docs/payments.md).", .object([
        req("authorized", .int(-1_000_000_000_000_000...1_000_000_000_000_000), "Open authorizations: what captures may still take."),
        req("captured", .int(-1_000_000_000_000_000...1_000_000_000_000_000), "Successful captures and sales."),
        req("refunded", .int(-1_000_000_000_000_000...1_000_000_000_000_000), "Successful refunds."),
        req("voided", .int(-1_000_000_000_000_000...1_000_000_000_000_000), "Successful voids."),
        req("pending", .int(-1_000_000_000_000_000...1_000_000_000_000_000), "Pending captures and sales."),
        req("refund_pending", .int(-1_000_000_000_000_000...1_000_000_000_000_000), "Pending refunds."),
        req("net", .int(-2_000_000_000_000_000...2_000_000_000_000_000), "captured − refunded."),
        req("outstanding", .int(0...2_000_000_000_000_000), "What the customer still owes: total − captured, at least 0."),
        req("refundable", .int(-2_000_000_000_000_000...2_000_000_000_000_000), "What refunds may still give back: captured − refunded − refund_pending."),
        req("transactions", .int(0...Int64.max), "Transactions recorded (any status)."),
    ]))
    static let transactionAnswer = Schema.object(Schemas.transaction + [
        opt("capturable", .int(0...1_000_000_000_000_000), "Authorizations: what captures may still take from it."),
        opt("refundable", .int(0...1_000_000_000_000_000), "Captures and sales: what refunds may still give back from it."),
    ])

    static let errorCodeRules: [Rule] = [.when("status", .absent, forbid: ["error_code"]), .when("status", .equals("success"), forbid: ["error_code"]),
                                          .when("status", .equals("pending"), forbid: ["error_code"])]
    /// One of `orders.create`'s `transactions`.
    static let inlineTransaction = Schema.objectWithRules([
        req("kind", .oneOf(["authorization", "sale"]), "An authorization or a sale (the order is new: nothing to capture, void or refund yet)."),
        req("amount", .int(1...1_000_000_000_000_000), "Minor units of the order's currency."),
        opt("status", .oneOf(ValueLists.transactionStatuses), "Default success."),
        opt("gateway", .string(max: 64, min: 1, pattern: ValueLists.gatewayPattern)),
        opt("gateway_id", .string(max: 255, min: 1)),
        opt("error_code", .string(max: 64, min: 1), "With status failure only."),
        opt("message", .string(max: 1000, min: 1)),
        opt("processed_at", .timestamp),
    ], errorCodeRules)

    /// What refunds.calculate and refunds.create read of a refund.
    static let refundRequest: [Property] = [
        req("order_id", .string(max: 64), "The order (ord_…)."),
        opt("return_id", .string(max: 64, min: 1),
            "The return (ret_…) whose units it refunds: line_items must be its lines (default: its units that came back, not yet refunded)."),
        opt("line_items", .list(.object([req("line_item_id", .string(max: 64, min: 1)), req("quantity", .int(1...1_000_000))]), max: 500, min: 1),
            "Units to refund, per line (a line named twice counts once, its quantities added)."),
        opt("shipping", .objectWithRules([opt("full", .boolean, "true: all the shipping left to refund."),
                                          opt("amount", .int(1...1_000_000_000_000_000), "This much of it (with its tax).")],
                                         [.exactlyOne(["full", "amount"])]), "Shipping to give back."),
        opt("restocking_fee_percent", .string(max: 12, min: 1, pattern: #"^(100(\.0{1,6})?|[0-9]{1,2}(\.[0-9]{1,6})?)$"#),
            "Kept: this percent of the lines after discounts (a decimal string, \"0\" to \"100\")."),
        opt("return_shipping_fee", .int(0...1_000_000_000_000_000), "Kept: the return's shipping."),
    ]
    static let refundRules: [Rule] = [.atLeastOne(["line_items", "shipping", "return_id"])]
    static let refundLine = Schema.object([req("line_item_id", .string()), req("quantity", .int(0...Int64.max)), req("subtotal", .int(Int64.min...Int64.max)),
                                           req("discount", .int(Int64.min...Int64.max)), req("tax", .int(Int64.min...Int64.max)), req("total", .int(Int64.min...Int64.max)),
                                           req("cost", .int(Int64.min...Int64.max))])
    static let refundCalculation = Schema.object(Schemas.refund + [
        req("currency", .string(max: 3)),
        req("maximum_refundable", .int(0...Int64.max), "What the order's captures and sales can still give back."),
        req("transactions", .list(.object([req("parent_id", .string()), req("gateway", .string()), req("amount", .int(1...Int64.max))])),
            "The refund transactions refunds.create would make without given ones: captures and sales newest first, up to maximum_refundable."),
    ])

    /// The payments ledger (docs/payments.md).
    static let paymentMethods: [Method] = [
        Method("transactions.create", .write, [Route("POST", "/v1/transactions")],
               "Record a payment transaction your gateway made (authorization, capture, sale, void or refund); the order's payments and financial_status follow.",
               request: Schemas.transactionCreate + [paymentsIdempotency],
               rules: [.when("kind", .equals("authorization"), require: ["amount"], forbid: ["parent_id"]),
                       .when("kind", .equals("sale"), require: ["amount"], forbid: ["parent_id"]),
                       .when("kind", .equals("capture"), require: ["amount", "parent_id"]),
                       .when("kind", .equals("refund"), require: ["amount", "parent_id"]),
                       .when("kind", .equals("void"), require: ["parent_id"], forbid: ["amount"])] + errorCodeRules,
               response: .ref("Transaction"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.payments.createTransaction(r) }),
        Method("transactions.get", .read, [Route("GET", "/v1/transactions/{id}")], "A transaction, with what is left of it to capture or refund.",
               request: [transactionID], response: .ref("Transaction"),
               .tenant { t, r throws(OrderbaseError) in try t.payments.getTransaction(r) }),
        Method("transactions.list", .read, [Route("GET", "/v1/transactions")], "Transactions, newest first: an order's, or all.",
               request: [opt("order_id", .string(max: 64, min: 1), "Only the order's transactions."),
                         opt("kind", .oneOf(ValueLists.transactionKinds), "Only this kind."),
                         opt("status", .oneOf(ValueLists.transactionStatuses), "Only this status."),
                         opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("Transaction")),
               .tenant { t, r throws(OrderbaseError) in try t.payments.listTransactions(r) }),
        Method("transactions.update", .write, [Route("PATCH", "/v1/transactions/{id}")],
               "Settle a pending transaction as success or failure (what the gateway finally answered).",
               request: [transactionID, req("status", .oneOf(["success", "failure"]), "What the gateway answered."),
                         opt("gateway_id", .string(max: 255, min: 1), "The gateway's id of it."),
                         opt("processed_at", .timestamp, "When the gateway made it.")]
                   + Schemas.transactionUpdate + [expectedVersionOf("transaction")],
               rules: [.when("status", .equals("success"), forbid: ["error_code"])],
               response: .ref("Transaction"),
               .tenant { t, r throws(OrderbaseError) in try t.payments.updateTransaction(r) }),
        Method("payments.capture", .write, [Route("POST", "/v1/orders/{order_id}/capture")],
               "Capture through the payment handler: from an authorization (the oldest with money left unless parent_id names one); amount defaults to all it has left within what the order owes.",
               request: [req("order_id", .string(max: 64), "The order (ord_…)."),
                         opt("amount", .int(1...1_000_000_000_000_000), "Minor units (default: all the authorization has left, within what the order owes)."),
                         opt("parent_id", .string(max: 64, min: 1), "The authorization to capture from."), paymentsIdempotency],
               response: paymentsAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.payments.capture(r) }),
        Method("payments.refund", .write, [Route("POST", "/v1/orders/{order_id}/refund")],
               "Refund through the payment handler: from one capture or sale (parent_id), or from them newest first, one refund each.",
               request: [req("order_id", .string(max: 64), "The order (ord_…)."),
                         req("amount", .int(1...1_000_000_000_000_000), "Minor units."),
                         opt("parent_id", .string(max: 64, min: 1), "The capture or sale to refund."),
                         opt("message", .string(max: 1000, min: 1), "Why, for people (kept on each refund)."), paymentsIdempotency],
               response: paymentsAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.payments.refund(r) }),
        Method("payments.void", .write, [Route("POST", "/v1/orders/{order_id}/void")],
               "Void through the payment handler what is left of an authorization (every one with money left unless parent_id names one).",
               request: [req("order_id", .string(max: 64), "The order (ord_…)."),
                         opt("parent_id", .string(max: 64, min: 1), "The authorization to void."), paymentsIdempotency],
               response: paymentsAnswer,
               .tenant { t, r throws(OrderbaseError) in try t.payments.void(r) }),
        Method("refunds.calculate", .read, [Route("POST", "/v1/orders/{order_id}/refunds/calculate")],
               "Work out a refund for units and shipping, less fees: each line's share of discounts and tax, the most refundable, the transactions it would make. Writes nothing.",
               request: refundRequest, rules: refundRules, response: .ref("RefundCalculation"),
               .tenant { t, r throws(OrderbaseError) in try t.payments.calculateRefund(r) }),
        Method("refunds.create", .write, [Route("POST", "/v1/refunds")],
               "Refund units and shipping: recorded with the refund transactions given (what your gateway did), or made through the payment handler.",
               request: refundRequest + [
                   opt("note", .string(max: 1000, min: 1), "Why, for people."),
                   opt("transactions", .list(.objectWithRules([
                       req("parent_id", .string(max: 64, min: 1), "The capture or sale refunded."),
                       req("amount", .int(1...1_000_000_000_000_000)),
                       opt("status", .oneOf(ValueLists.transactionStatuses)), opt("gateway_id", .string(max: 255, min: 1)),
                       opt("error_code", .string(max: 64, min: 1)), opt("message", .string(max: 1000, min: 1)),
                   ], errorCodeRules), max: 20, min: 1), "The refunds your gateway made, adding up to the refund's total."),
                   opt("idempotency_key", .string(max: 255, min: 1), "A repeat with the same request answers the first refund as it is now (REST: Idempotency-Key)."),
               ], rules: refundRules,
               response: .object([req("refund", .ref("Refund")), req("transactions", .list(.ref("Transaction"))), req("order", .ref("Order"))]), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.payments.createRefund(r) }),
        Method("sales.list", .read, [Route("GET", "/v1/sales")],
               "The sales ledger's lines, oldest first: dated in [from, to), or an order's.",
               request: [opt("from", .timestamp, "Lines dated at or after this."), opt("to", .timestamp, "Lines dated before this."),
                         opt("order_id", .string(max: 64, min: 1), "Only the order's lines."),
                         opt("limit", .int(1...1000), "Page size (default 100)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("SalesLine")),
               .tenant { t, r throws(OrderbaseError) in try t.payments.listSales(r) }),
        Method("sales.summary", .read, [Route("GET", "/v1/sales/summary")],
               "Per currency, the sums of the sales ledger's lines dated in [from, to) (at most 366 days): gross sales, discounts, returns, net sales, shipping, taxes, fees, total sales, cost, gross margin.",
               request: [req("from", .timestamp), req("to", .timestamp, "After from, at most 366 days on.")],
               response: .object([req("from", .timestamp), req("to", .timestamp), req("currencies", .list(.object([
                   req("currency", .string(max: 3)), req("gross_sales", .int(Int64.min...Int64.max)), req("discounts", .int(Int64.min...Int64.max)),
                   req("returns", .int(Int64.min...Int64.max)), req("net_sales", .int(Int64.min...Int64.max)), req("shipping", .int(Int64.min...Int64.max)),
                   req("taxes", .int(Int64.min...Int64.max)), req("fees", .int(Int64.min...Int64.max)), req("total_sales", .int(Int64.min...Int64.max)),
                   req("cost", .int(Int64.min...Int64.max)), req("gross_margin", .int(Int64.min...Int64.max)),
                   req("orders", .int(0...Int64.max), "Sales (orders placed) among the lines."), req("lines", .int(0...Int64.max))])))]),
               .tenant { t, r throws(OrderbaseError) in try t.payments.salesSummary(r) }),
        Method("refunds.get", .read, [Route("GET", "/v1/refunds/{id}")], "A refund.",
               request: [req("id", .string(max: 64), "The refund (rfd_…).")], response: .ref("Refund"),
               .tenant { t, r throws(OrderbaseError) in try t.payments.getRefund(r) }),
        Method("refunds.list", .read, [Route("GET", "/v1/refunds")], "Refunds, newest first: an order's, or all.",
               request: [opt("order_id", .string(max: 64, min: 1), "Only the order's refunds."),
                         opt("status", .oneOf(ValueLists.refundStatuses), "Only this status."),
                         opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("Refund")),
               .tenant { t, r throws(OrderbaseError) in try t.payments.listRefunds(r) }),
    ]
}
