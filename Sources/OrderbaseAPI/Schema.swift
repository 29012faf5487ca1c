import Orderbase

/// A JSON Schema (2020-12, as OpenAPI 3.1 uses it) in a small Swift form, so
/// the catalogue declares each method's request and response once. The REST
/// layer reads the same declarations to type query parameters, and the
/// OpenAPI document is rendered from them (`OpenAPI.document`).
public indirect enum Schema: Sendable {
    /// `maxLength` counts characters as JSON Schema does (Unicode code points),
    /// and so does the engine (`String.isLonger(than:)`): both sides agree.
    case string(maxLength: Int?, minLength: Int, values: [String]?, format: String?, pattern: String?)
    case integer(min: Int64?, max: Int64?)
    case boolean
    case object([Property])
    /// An object whose values all follow one schema (`additionalProperties`).
    case map(Schema)
    /// Any JSON object (metadata).
    case anyObject
    /// Any JSON value.
    case anyValue
    case array(Schema, minItems: Int, maxItems: Int?)
    /// A named schema under `#/components/schemas/`.
    case ref(String)
    case nullable(Schema)
    /// Adds a description to the schema it wraps.
    case described(String, Schema)

    public static func string(max: Int? = nil, min: Int = 0, pattern: String? = nil) -> Schema {
        .string(maxLength: max, minLength: min, values: nil, format: nil, pattern: pattern)
    }
    public static func oneOf(_ values: [String]) -> Schema {
        .string(maxLength: nil, minLength: 0, values: values, format: nil, pattern: nil)
    }
    public static let timestamp = Schema.string(maxLength: 64, minLength: 0, values: nil, format: "date-time", pattern: nil)
    public static func int(_ range: ClosedRange<Int64>) -> Schema { .integer(min: range.lowerBound, max: range.upperBound) }
    public static let money = Schema.described("An amount in minor units of the order's currency.", .integer(min: 0, max: 1_000_000_000_000_000))
    public static func list(_ item: Schema, max: Int? = nil, min: Int = 0) -> Schema { .array(item, minItems: min, maxItems: max) }

    /// The JSON Schema object.
    public var json: JSON { json(request: false) }

    /// With `request`, optional properties also admit `null`: request readers
    /// take `null` as "absent" (and, in updates, "clear").
    public func json(request: Bool) -> JSON {
        switch self {
        case .string(let maxLength, let minLength, let values, let format, let pattern):
            var o: JSONObject = ["type": .string("string")]
            if let values { o["enum"] = .array(values.map { .string($0) }) }
            if let maxLength { o["maxLength"] = .int(Int64(maxLength)) }
            if minLength > 0 { o["minLength"] = .int(Int64(minLength)) }
            if let format { o["format"] = .string(format) }
            if let pattern { o["pattern"] = .string(pattern) }
            return .object(o)
        case .integer(let min, let max):
            var o: JSONObject = ["type": .string("integer")]
            if let min { o["minimum"] = .int(min) }
            if let max { o["maximum"] = .int(max) }
            return .object(o)
        case .boolean:
            return .object(["type": .string("boolean")])
        case .object(let props):
            var o: JSONObject = ["type": .string("object"), "additionalProperties": .bool(false)]
            var p = JSONObject()
            for prop in props { p[prop.name] = prop.schemaJSON(request: request) }
            o["properties"] = .object(p)
            let required = props.filter(\.required).map { JSON.string($0.name) }
            if !required.isEmpty { o["required"] = .array(required) }
            return .object(o)
        case .map(let value):
            return .object(["type": .string("object"), "additionalProperties": value.json(request: request)])
        case .anyObject:
            return .object(["type": .string("object")])
        case .anyValue:
            return .object([:])
        case .array(let item, let minItems, let maxItems):
            var o: JSONObject = ["type": .string("array"), "items": item.json(request: request)]
            if minItems > 0 { o["minItems"] = .int(Int64(minItems)) }
            if let maxItems { o["maxItems"] = .int(Int64(maxItems)) }
            return .object(o)
        case .ref(let name):
            return .object(["$ref": .string("#/components/schemas/\(name)")])
        case .nullable(let inner):
            // JSON Schema 2020-12: a type list, or anyOf for references.
            if case .object(var o) = inner.json(request: request), case .string(let t)? = o["type"] {
                o["type"] = .array([.string(t), .string("null")])
                if case .array(let values)? = o["enum"] { o["enum"] = .array(values + [.null]) }
                return .object(o)
            }
            return .object(["anyOf": .array([inner.json(request: request), .object(["type": .string("null")])])])
        case .described(let text, let inner):
            guard case .object(var o) = inner.json(request: request) else { return inner.json(request: request) }
            if o["$ref"] != nil { return .object(["allOf": .array([.object(o)]), "description": .string(text)]) }
            o["description"] = .string(text)
            return .object(o)
        }
    }

    var isNullable: Bool {
        switch self {
        case .nullable, .anyValue: true
        case .described(_, let s): s.isNullable
        default: false
        }
    }

    /// The JSON type a query-string value converts to (`string`, `integer`,
    /// `boolean`, `array`), looking through descriptions and nullability.
    public var queryType: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .array: "array"
        case .nullable(let s), .described(_, let s): s.queryType
        case .object, .map, .anyObject, .ref: "object"
        case .anyValue: "any"
        }
    }
}

/// One property of an object schema.
public struct Property: Sendable {
    public let name: String
    public let schema: Schema
    public let required: Bool
    public let doc: String?

    public init(_ name: String, _ schema: Schema, required: Bool = false, doc: String? = nil) {
        self.name = name
        self.schema = schema
        self.required = required
        self.doc = doc
    }

    var schemaJSON: JSON { schemaJSON(request: false) }

    func schemaJSON(request: Bool) -> JSON {
        var s = schema
        if request && !required, !s.isNullable { s = .nullable(s) }
        return (doc.map { Schema.described($0, s) } ?? s).json(request: request)
    }
}

/// Shorthands for catalogue declarations.
func req(_ name: String, _ schema: Schema, _ doc: String? = nil) -> Property { Property(name, schema, required: true, doc: doc) }
func opt(_ name: String, _ schema: Schema, _ doc: String? = nil) -> Property { Property(name, schema, required: false, doc: doc) }
