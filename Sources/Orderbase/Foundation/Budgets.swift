/// What one evaluation of caller-supplied logic may spend (docs/limits.md):
/// an expression (a guard, a condition, an approval tier's `when`,
/// `expressions.evaluate`) and a template rendering. Engine options set them
/// (`expression_max_steps`, `expression_max_bytes`, `template_max_steps`,
/// `template_max_output_bytes`); exceeding one is `limit_exceeded` with
/// `details.budget` naming it and `details.limit` its value, never a trap.
public struct Budgets: Sendable, Equatable {
    /// Nodes evaluated by one expression.
    public var expressionSteps = 1_000_000
    /// Bytes of values one expression produces (strings from `cat`, 16 per
    /// element of lists from `map`, `filter` and `merge`), kept or not.
    public var expressionBytes = 1 << 20
    /// Nodes visited by one rendering (a section over a list counts once per item).
    public var templateSteps = 1_000_000
    /// Bytes one rendering writes.
    public var templateOutputBytes = 1 << 20

    public init() {}

    /// Reads the engine options that set them (ranges in docs/limits.md).
    static func read(_ f: inout Fields) throws(OrderbaseError) -> Budgets {
        var b = Budgets()
        if let v = try f.int("expression_max_steps", in: 1_000...100_000_000) { b.expressionSteps = Int(v) }
        if let v = try f.int("expression_max_bytes", in: 1_024...(256 << 20)) { b.expressionBytes = Int(v) }
        if let v = try f.int("template_max_steps", in: 1_000...100_000_000) { b.templateSteps = Int(v) }
        if let v = try f.int("template_max_output_bytes", in: 1_024...(64 << 20)) { b.templateOutputBytes = Int(v) }
        return b
    }

    /// The refusal when `budget` (its `details.budget` name) runs out.
    static func exceeded(_ budget: String, limit: Int, _ message: String) -> OrderbaseError {
        OrderbaseError(.limitExceeded, message, details: .object(["budget": .string(budget), "limit": .int(Int64(limit))]))
    }
}
