import Orderbase

extension Catalogue {
    /// The expression language (docs/expressions.md).
    static let expressionMethods: [Method] = [
        Method("expressions.validate", .read, [Route("POST", "/v1/expressions/validate")],
               "Check an expression (text or JSON-Logic) against the order's fields; answers both forms and the fields it reads.",
               request: [req("expression", .described("Text form (a string) or JSON-Logic (anything else); docs/expressions.md.", .anyValue))],
               response: .object([req("valid", .boolean), opt("json", .anyValue), opt("text", .nullable(.string())),
                                  opt("fields", .list(.string())), opt("error", .object(Schemas.errorFields))]),
               .tenant { t, r throws(OrderbaseError) in try t.expressions.validateExpression(r) }),
        Method("expressions.evaluate", .read, [Route("POST", "/v1/expressions/evaluate")],
               "Evaluate an expression against an order (order_id) or given data.",
               request: [req("expression", .described("Text form (a string) or JSON-Logic (anything else).", .anyValue)),
                         opt("order_id", .string(max: 64, min: 1), "Evaluate against {\"order\": <this order>, \"actor\": <the request's actor>}."),
                         opt("data", .described("Any JSON to evaluate against, instead of an order (fields are not checked); null is data.", .anyValue))],
               rules: [.exactlyOne(["order_id", "data"])],
               response: .object([req("result", .anyValue), req("json", .anyValue), req("text", .nullable(.string()))]),
               .tenant { t, r throws(OrderbaseError) in try t.expressions.evaluateExpression(r) }),

        // MARK: workflows and approvals
    ]
}
