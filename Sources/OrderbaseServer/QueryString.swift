import Orderbase
import OrderbaseAPI

/// Typed query parameters: `?status=pending&limit=50&types=order.*&types=x`
/// becomes `{"status":"pending","limit":50,"types":["order.*","x"]}`, each
/// value converted by the type its request schema declares. Unknown, repeated
/// (unless an array) or mistyped parameters are a 400.
enum QueryString {
    static func parse(_ query: String, fields: [Property]) throws -> JSONObject {
        var out = JSONObject()
        guard !query.isEmpty else { return out }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decode(kv[0], plusIsSpace: true),
                  let value = PercentDecoding.decode(kv.count > 1 ? kv[1] : "", plusIsSpace: true) else {
                throw HTTPFailure.invalid("the query string is not valid percent-encoded UTF-8")
            }
            guard let field = fields.first(where: { $0.name == name }) else {
                let known = fields.map(\.name)
                throw HTTPFailure(400, OrderbaseError(
                    .invalidArgument, known.isEmpty ? "this route takes no query parameters (got \(name))" : "unknown query parameter \(name)",
                    field: name, details: .object(["allowed": .array(known.map { .string($0) })])))
            }
            let type = field.schema.queryType
            if type == "array" {
                if case .array(let a)? = out[name] { out[name] = .array(a + [.string(value)]) } else { out[name] = .array([.string(value)]) }
                continue
            }
            if out[name] != nil { throw HTTPFailure.invalid("query parameter \(name) is given more than once", field: name) }
            switch type {
            case "integer":
                guard let v = integer(value) else {
                    throw HTTPFailure.invalid("query parameter \(name) must be an integer, got \"\(value)\"", field: name)
                }
                out[name] = .int(v)
            case "boolean":
                guard value == "true" || value == "false" else {
                    throw HTTPFailure.invalid("query parameter \(name) must be true or false, got \"\(value)\"", field: name)
                }
                out[name] = .bool(value == "true")
            case "string":
                out[name] = .string(value)
            default:
                throw HTTPFailure.invalid("\(name) cannot be given in the query string", field: name)
            }
        }
        return out
    }

    /// A decimal integer that fits in Int64 (no sign but `-`, no spaces).
    static func integer(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        let digits = u.first == UInt8(ascii: "-") ? u.dropFirst() : u[...]
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(s)
    }
}
