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
    /// Any JSON number (integer or fraction) in the range.
    case number(min: Double?, max: Double?)
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
    /// An object with rules across its properties (`Rule`).
    case objectWithRules([Property], [Rule])
    /// A value that follows at least one of these schemas.
    case anyOf([Schema])
    /// A string of the inner schema but these values.
    case except(Schema, [String])
    /// The first schema where the engine option `webhook_allow_http` is on (plain
    /// http and SMTP without TLS allowed), else the second.
    case byAllowHTTP(Schema, Schema)

    /// Whether the document being rendered is for an engine with `webhook_allow_http`.
    @TaskLocal public static var httpAllowed = false

    /// An outbound URL (webhook endpoints, SMS gateways) as `WebhookURL` checks it.
    public static let outboundURL = Schema.byAllowHTTP(
        .string(max: WebhookURL.maxCharacters, min: 1, pattern: WebhookURL.pattern(allowHTTP: true)),
        .string(max: WebhookURL.maxCharacters, min: 1, pattern: WebhookURL.pattern(allowHTTP: false)))

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
        case .number(let min, let max):
            var o: JSONObject = ["type": .string("number")]
            if let min { o["minimum"] = .double(min) }
            if let max { o["maximum"] = .double(max) }
            return .object(o)
        case .boolean:
            return .object(["type": .string("boolean")])
        case .object(let props):
            return Schema.objectWithRules(props, []).json(request: request)
        case .objectWithRules(let props, let rules):
            var o: JSONObject = ["type": .string("object"), "additionalProperties": .bool(false)]
            var p = JSONObject()
            for prop in props { p[prop.name] = prop.schemaJSON(request: request) }
            o["properties"] = .object(p)
            let required = props.filter(\.required).map { JSON.string($0.name) }
            if !required.isEmpty { o["required"] = .array(required) }
            if !rules.isEmpty { o["allOf"] = .array(rules.map { $0.json(props, request: request) }) }
            return .object(o)
        case .map(let value):
            return .object(["type": .string("object"), "additionalProperties": value.json(request: request)])
        case .anyObject:
            return .object(["type": .string("object"), "additionalProperties": Schema.ref(Schema.jsonValueName).json])
        case .anyValue:
            return Schema.ref(Schema.jsonValueName).json
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
        case .anyOf(let schemas):
            return .object(["anyOf": .array(schemas.map { $0.json(request: request) })])
        case .except(let inner, let values):
            guard case .object(var o) = inner.json(request: request) else { return inner.json(request: request) }
            o["not"] = .object(["enum": .array(values.map { .string($0) })])
            return .object(o)
        case .byAllowHTTP(let allowed, let refused):
            return (Schema.httpAllowed ? allowed : refused).json(request: request)
        case .described(let text, let inner):
            guard case .object(var o) = inner.json(request: request) else { return inner.json(request: request) }
            if o["$ref"] != nil { return .object(["allOf": .array([.object(o)]), "description": .string(text)]) }
            o["description"] = .string(text)
            return .object(o)
        }
    }

    /// The component every free-form value refers to (`anyValue`, the members of
    /// `anyObject`): any JSON, with integers inside int64 as the engine's parser
    /// takes them (a longer integer is malformed JSON to it; fractions and
    /// exponents are doubles).
    public static let jsonValueName = "JSONValue"
    static var jsonValueComponent: JSON {
        let me = Schema.ref(jsonValueName).json
        return .object([
            "description": .string("Any JSON value; an integer must fit in a signed 64-bit integer."),
            "anyOf": .array([
                .object(["type": .array([.string("null"), .string("boolean"), .string("string")])]),
                .object(["type": .string("number"), "not": .object(["type": .string("integer")])]),
                .object(["type": .string("integer"), "minimum": .int(Int64.min), "maximum": .int(Int64.max)]),
                .object(["type": .string("array"), "items": me]),
                .object(["type": .string("object"), "additionalProperties": me]),
            ]),
        ])
    }

    /// Whether `null` is a value of its own here (free-form data), not "absent" or
    /// "clear" as request readers take it for other fields.
    public var nullIsData: Bool {
        switch self {
        case .anyValue: true
        case .described(_, let s): s.nullIsData
        default: false
        }
    }

    var isNullable: Bool {
        switch self {
        case .nullable, .anyValue: true
        case .described(_, let s): s.isNullable
        case .byAllowHTTP(let a, let b): a.isNullable && b.isNullable
        default: false
        }
    }

    /// The JSON type a query-string value converts to (`string`, `integer`,
    /// `boolean`, `array`), looking through descriptions and nullability.
    public var queryType: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .array: "array"
        case .nullable(let s), .described(_, let s), .byAllowHTTP(let s, _), .except(let s, _): s.queryType
        case .object, .objectWithRules, .map, .anyObject, .ref: "object"
        case .anyOf: "any"
        case .anyValue: "any"
        }
    }
}

/// A rule across the properties of an object that one property's schema cannot
/// say, rendered as JSON Schema (`allOf` on the object). A property that does not
/// take `null` as a value counts as absent when it is `null`, as request readers
/// take it.
public enum Rule: Sendable {
    /// Exactly one of these properties is given.
    case exactlyOne([String])
    /// At least one of these properties is given.
    case atLeastOne([String])
    /// When `field` meets `condition`, `require` must be given, `forbid` must not
    /// be (or be null), and the properties in `restrict` follow their schemas.
    case when(String, Condition, require: [String] = [], forbid: [String] = [], restrict: [Property] = [])

    public enum Condition: Sendable {
        case equals(String)
        case given
        case absent
    }

    func json(_ props: [Property], request: Bool) -> JSON {
        func takesNull(_ name: String) -> Bool { props.first { $0.name == name }?.schema.nullIsData ?? false }
        func given(_ name: String) -> JSON {
            var o: JSONObject = ["required": .array([.string(name)])]
            if !takesNull(name) { o["properties"] = .object([name: .object(["not": .object(["type": .string("null")])])]) }
            return .object(o)
        }
        switch self {
        case .exactlyOne(let names):
            return .object(["oneOf": .array(names.map(given))])
        case .atLeastOne(let names):
            return .object(["anyOf": .array(names.map(given))])
        case .when(let field, let value, let require, let forbid, let restrict):
            let condition: JSON = switch value {
            case .equals(let v): .object(["required": .array([.string(field)]), "properties": .object([field: .object(["const": .string(v)])])])
            case .given: given(field)
            case .absent: .object(["not": given(field)])
            }
            var then = JSONObject()
            var properties = JSONObject()
            if !require.isEmpty { then["required"] = .array(require.map { .string($0) }) }
            for name in require where !takesNull(name) { properties[name] = .object(["not": .object(["type": .string("null")])]) }
            for name in forbid { properties[name] = .object(["type": .string("null")]) }
            for p in restrict { properties[p.name] = p.schema.json(request: request) }
            if !properties.isEmpty { then["properties"] = .object(properties) }
            return .object(["if": condition, "then": .object(then)])
        }
    }

    /// The rule in words, for descriptions.
    public var text: String {
        switch self {
        case .exactlyOne(let names): return "exactly one of " + names.joined(separator: ", ")
        case .atLeastOne(let names): return "at least one of " + names.joined(separator: ", ")
        case .when(let field, let value, let require, let forbid, let restrict):
            var parts: [String] = []
            if !require.isEmpty { parts.append("requires " + require.joined(separator: ", ")) }
            if !forbid.isEmpty { parts.append("forbids " + forbid.joined(separator: ", ")) }
            for p in restrict {
                if case .string(_, _, let values?, _, _) = p.schema { parts.append("takes \(p.name) " + values.joined(separator: " or ")) }
                else { parts.append("limits \(p.name)") }
            }
            let subject = switch value {
            case .equals(let v): "\(field) \(v)"
            case .given: field
            case .absent: "no \(field)"
            }
            return subject + " " + parts.joined(separator: " and ")
        }
    }
}

/// One property of an object schema.
public struct Property: Sendable {
    public let name: String
    public let schema: Schema
    public let required: Bool
    public let doc: String?
    /// An optional request property accepts `null` (read as absent, or in an
    /// update as "clear it") unless this is false: a field that can be left out
    /// but never cleared (`orders.update`'s `line_items`).
    public let nullable: Bool

    public init(_ name: String, _ schema: Schema, required: Bool = false, doc: String? = nil, nullable: Bool = true) {
        self.name = name
        self.schema = schema
        self.required = required
        self.doc = doc
        self.nullable = nullable
    }

    var schemaJSON: JSON { schemaJSON(request: false) }

    func schemaJSON(request: Bool) -> JSON {
        var s = schema
        if request && !required && nullable, !s.isNullable { s = .nullable(s) }
        return (doc.map { Schema.described($0, s) } ?? s).json(request: request)
    }
}

/// Shorthands for catalogue declarations.
func req(_ name: String, _ schema: Schema, _ doc: String? = nil) -> Property { Property(name, schema, required: true, doc: doc) }
func opt(_ name: String, _ schema: Schema, _ doc: String? = nil) -> Property { Property(name, schema, required: false, doc: doc) }
/// An optional property that may be left out but not given as `null`.
func optNotNull(_ name: String, _ schema: Schema, _ doc: String? = nil) -> Property { Property(name, schema, required: false, doc: doc, nullable: false) }
