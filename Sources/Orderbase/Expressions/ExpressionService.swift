/// `expressions.validate` and `expressions.evaluate`: let a UI try an
/// expression (text or JSON-Logic) against an order before it is saved in a
/// workflow, an automation or a report.
extension ExpressionService {
    /// Reads the required `expression` field without compiling it.
    static func rawExpression(_ f: inout Fields) throws(OrderbaseError) -> JSON {
        // An explicit null is JSON-Logic's literal null (it evaluates to null), not a missing expression.
        if f.isNull("expression") { _ = f.raw("expression"); return .null }
        guard let raw = f.raw("expression") else { throw OrderbaseError.invalid("expression is required", field: "expression") }
        return raw
    }

    /// Compiles an expression: a string is the text form, anything else
    /// JSON-Logic. With `check`, it is checked against the order's shape;
    /// returns the field paths it reads.
    static func compile(_ raw: JSON, check: Bool, shape: DataShape = .guardData) throws(OrderbaseError) -> (Expression, [String]) {
        let json: JSON
        if case .string(let text) = raw {
            guard !text.isLonger(than: 16_384) else { throw OrderbaseError(.limitExceeded, "expression text is longer than 16384 characters", field: "expression") }
            json = try ExpressionText.parse(text)
        } else {
            json = raw
        }
        let e = try Expression(json)
        return (e, check ? try shape.check(e) : [])
    }

    static func writeForms(_ e: Expression, _ w: inout JSONWriter) {
        w.key("json"); w.value(e.json)
        w.key("text")
        if let t = try? ExpressionText.format(e.json) { w.string(t) } else { w.null() }
    }

    /// The context expressions of this tenant evaluate in: now, its time zone,
    /// and the currency of the order judged.
    func evaluationContext(currency: String?) throws(OrderbaseError) -> EvaluationContext {
        EvaluationContext(nowMilliseconds: clock.nowMilliseconds(),
                          timeZone: try TimeZoneRules.named(settings.timeZone, field: "settings.time_zone"), currency: currency,
                          budgets: budgets)
    }

    // MARK: expressions.validate

    /// `{"expression"}` → `{"valid": true, "json", "text", "fields"}`, or
    /// `{"valid": false, "error": {...}}` naming the place (line and column for
    /// text) and the problem (syntax, unknown operator or field, types).
    public func validateExpression(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let raw = try Self.rawExpression(&f)
        try f.finish()
        let result: Result<(Expression, [String]), OrderbaseError>
        do { result = .success(try Self.compile(raw, check: true, shape: try core.guardShape())) } catch { result = .failure(error) }
        var w = JSONWriter()
        w.beginObject()
        switch result {
        case .success(let (e, fields)):
            w.key("valid"); w.bool(true)
            Self.writeForms(e, &w)
            w.key("fields"); w.beginArray(); for p in fields { w.string(p) }; w.endArray()
        case .failure(let error):
            w.key("valid"); w.bool(false)
            w.key("error"); error.write(&w)
        }
        w.endObject()
        return w.bytes
    }

    // MARK: expressions.evaluate

    /// `{"expression", "order_id" | "data"}` → `{"result", "json", "text"}`.
    /// With `order_id` the data is `{"order": <the order>, "actor": <the request's actor>}`.
    public func evaluateExpression(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let raw = try Self.rawExpression(&f)
        let orderID = try f.string("order_id", maxLength: 64, allowEmpty: false)
        // `data` may be any JSON, null included (null is valid data: a `var` of it is null).
        let dataIsNull = f.isNull("data")
        let given: JSON? = f.raw("data") ?? (dataIsNull ? .null : nil)
        try f.finish()
        // Against free-form data only the syntax and operators are checked.
        let (e, _) = try Self.compile(raw, check: given == nil, shape: try core.guardShape())
        let data: JSON
        var currency: String?
        switch (orderID, given) {
        case (let id?, nil):
            let order = try JSON.parse(try orders.loadRecord(id, snapshot: nil))
            data = .object(["order": order, "actor": ctx.actor.json])
            currency = Variable(.string("currency")).lookup(order, default: .null).stringValue
        case (nil, let d?):
            data = d
            currency = Variable(.string("order.currency")).lookup(d, default: .null).stringValue
        default:
            throw OrderbaseError.invalid("give exactly one of order_id or data", field: orderID == nil ? "order_id" : "data")
        }
        let result = try e.evaluate(data, context: try evaluationContext(currency: currency))
        var w = JSONWriter()
        w.beginObject()
        w.key("result"); w.value(result)
        Self.writeForms(e, &w)
        w.endObject()
        return w.bytes
    }
}
