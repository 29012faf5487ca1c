import Orderbase

/// The OpenAPI 3.1 document of the REST API, rendered from the catalogue
/// (never written by hand): one operation per route, its parameters and body
/// from the method's request schema, its answers from the response schema and
/// the error object.
public enum OpenAPI {
    /// Error statuses every operation may answer (docs/rest.md, "Errors").
    static let errorStatuses: [(Int, String)] = [
        (400, "Malformed JSON, a body that is not an object, unknown or mistyped query parameters or headers."),
        (401, "Missing, malformed, unknown or revoked API key."),
        (403, "The key's scope or kind does not allow this method."),
        (404, "No such route, or no such resource for this key's tenant."),
        (405, "The path exists with other methods (see Allow)."),
        (409, "version_conflict (expected_version), invalid_transition, invalid_state, already_exists, busy."),
        (412, "If-Match does not name the order's current version."),
        (413, "The body is larger than max_request_bytes."),
        (415, "A body whose Content-Type is not application/json."),
        (422, "The request is well-formed JSON but invalid: a field's type, range or value, an unknown field, an idempotency key reused with another request."),
        (429, "Rate limit of the key exceeded; see Retry-After."),
        (500, "io_error, corruption or internal."),
        (503, "The server is shutting down."),
    ]

    /// The document for an engine with or without `webhook_allow_http` (which
    /// changes what URLs and SMTP security settings are accepted).
    public static func document(allowHTTP: Bool) -> JSON {
        Schema.$httpAllowed.withValue(allowHTTP) { document }
    }

    /// The document for an engine with default options.
    public static var document: JSON {
        var paths = JSONObject()
        var byPath: [String: JSONObject] = [:]
        var order: [String] = []
        for m in Catalogue.methods {
            for (n, r) in m.routes.enumerated() {
                if byPath[r.path] == nil { order.append(r.path); byPath[r.path] = JSONObject() }
                byPath[r.path]![r.httpMethod.lowercased()] = operation(m, r, index: n)
            }
        }
        for p in order { paths[p] = .object(byPath[p]!) }
        paths["/healthz"] = .object(["get": .object([
            "operationId": .string("healthz"), "summary": .string("Liveness: answers while the server accepts requests."),
            "tags": .array([.string("server")]), "security": .array([]),
            "responses": .object(["200": jsonResponse("Healthy.", Schema.object([req("status", .oneOf(["ok"])),
                                                                           req("version", .string())]).json)]),
        ])])
        paths["/metrics"] = .object(["get": .object([
            "operationId": .string("metrics"),
            "summary": .string("Prometheus text format: requests and latency histograms per route, open tenants."),
            "tags": .array([.string("server")]), "security": .array([]),
            "responses": .object(["200": .object([
                "description": .string("Metrics."),
                "content": .object(["text/plain; version=0.0.4": .object(["schema": .object(["type": .string("string")])])]),
            ])]),
        ])])
        paths["/v1/openapi.json"] = .object(["get": .object([
            "operationId": .string("openapi"), "summary": .string("This document."),
            "tags": .array([.string("server")]), "security": .array([]),
            "responses": .object(["200": jsonResponse("The OpenAPI document.", .object(["type": .string("object")]))]),
        ])])

        var schemas = JSONObject()
        for c in Schemas.components { schemas[c.name] = c.schema.json(request: c.name.hasSuffix("Input") || c.name == "Actor") }
        schemas[Schema.jsonValueName] = Schema.jsonValueComponent
        var responses = JSONObject()
        responses["Error"] = jsonResponse("An error (docs/errors.md).", Schema.ref("Error").json)

        return .object([
            "openapi": .string("3.1.0"),
            "jsonSchemaDialect": .string("https://spec.openapis.org/oas/3.1/dialect/base"),
            "info": .object([
                "title": .string("Orderbase REST API"),
                "version": .string(OrderbaseVersion.string),
                "description": .string("Every route is one method of the Orderbase catalogue (the same methods as orderbase_call in C). Authenticate with `Authorization: Bearer <API key>`; see docs/rest.md."),
            ]),
            "security": .array([.object(["bearer": .array([])])]),
            "paths": .object(paths),
            "components": .object([
                "schemas": .object(schemas),
                "responses": .object(responses),
                "securitySchemes": .object(["bearer": .object([
                    "type": .string("http"), "scheme": .string("bearer"),
                    "description": .string("An API key from `orderbase keys create` or api_keys.create."),
                ])]),
            ]),
        ])
    }

    static func jsonResponse(_ description: String, _ schema: JSON, headers: JSONObject? = nil) -> JSON {
        var o: JSONObject = ["description": .string(description),
                             "content": .object(["application/json": .object(["schema": schema])])]
        if let headers { o["headers"] = .object(headers) }
        return .object(o)
    }

    static func header(_ description: String, _ schema: Schema, required: Bool = false) -> JSON {
        .object(["in": .string("header"), "description": .string(description), "required": .bool(required), "schema": schema.json])
    }

    /// The JSON body of a route: the request's fields but those in its path and
    /// `idempotency_key` (over REST the Idempotency-Key header carries it). A rule
    /// "exactly one of" that a path parameter answers leaves the others out.
    static func body(_ m: Method, _ r: Route) -> ([Property], [Rule]) {
        var dropped = Set(r.parameters)
        if m.takesIdempotencyKey { dropped.insert(Catalogue.idempotencyKeyField) }
        var rules: [Rule] = []
        for rule in m.rules {
            if case .exactlyOne(let names) = rule, names.contains(where: r.parameters.contains) {
                dropped.formUnion(names)
            } else {
                rules.append(rule)
            }
        }
        return ((m.request + Catalogue.commonFields).filter { !dropped.contains($0.name) }, rules)
    }

    static func operation(_ m: Method, _ r: Route, index: Int) -> JSON {
        let pathParams = r.parameters
        var params: [JSON] = []
        for name in pathParams {
            let p = m.request.first { $0.name == name }
            params.append(.object(["name": .string(name), "in": .string("path"), "required": .bool(true),
                                   "schema": (p?.schema ?? .string(max: 64)).json]))
        }
        // GET and DELETE carry the rest of the request in the query string.
        if !r.hasBody {
            for p in m.queryFields {
                var q: JSONObject = ["name": .string(p.name), "in": .string("query"), "required": .bool(p.required),
                                     "schema": p.schemaJSON]
                if p.schema.queryType == "array" { q["style"] = .string("form"); q["explode"] = .bool(true) }
                params.append(.object(q))
            }
        }
        // Header values are HTTP field content (RFC 9110 §5.5): tab, visible ASCII, space and obs-text;
        // the HTTP parser answers 400 to anything else.
        var idParam = header("Echoed when it is printable ASCII of at most 255 bytes, else replaced by a generated one; recorded as the request_id of changes.",
                             .string(pattern: "^[\\t\\x20-\\x7E\\x80-\\xFF]*$"))
        if case .object(var o) = idParam { o["name"] = .string("X-Request-Id"); idParam = .object(o) }
        params.append(idParam)
        if m.takesIdempotencyKey {
            if case .object(var o) = header("Maps to idempotency_key: 1 to 255 characters of printable ASCII, not starting or ending with a space.",
                                            .string(max: 255, min: 1, pattern: "^[!-~]([ -~]*[!-~])?$")) {
                o["name"] = .string("Idempotency-Key"); params.append(.object(o))
            }
        }
        if m.takesExpectedVersion {
            if case .object(var o) = header("The order's version as an entity tag (\"3\"), from ETag, or *; maps to expected_version and answers 412 on mismatch.",
                                            .string(max: 21, min: 1, pattern: "^(\\*|\"[1-9][0-9]{0,17}\"|[1-9][0-9]{0,17})$")) {
                o["name"] = .string("If-Match"); params.append(.object(o))
            }
        }

        var op: JSONObject = [
            "operationId": .string(index == 0 ? m.name : "\(m.name).by_\(pathParams.last ?? "\(index)")"),
            "summary": .string(m.summary),
            "description": .string("Catalogue method `\(m.name)` (scope \(m.scope.rawValue))."),
            "tags": .array([.string(String(m.name.split(separator: ".")[0]))]),
            "parameters": .array(params),
        ]
        if r.hasBody {
            let (bodyProps, rules) = body(m, r)
            // The rules in words beside the allOf that states them.
            if !rules.isEmpty {
                op["description"] = .string("Catalogue method `\(m.name)` (scope \(m.scope.rawValue)). Across fields: "
                                            + rules.map(\.text).joined(separator: "; ") + ".")
            }
            op["requestBody"] = .object([
                // An empty body cannot meet a required field, nor exactly one of several, nor a field
                // required when another is absent (routing_rules.update: rules or commit_at).
                "required": .bool(bodyProps.contains(where: \.required) || rules.contains {
                    switch $0 {
                    case .exactlyOne, .atLeastOne: true
                    case .when(_, .absent, let require, _, _): !require.isEmpty
                    default: false
                    }
                }),
                "content": .object(["application/json": .object(["schema": Schema.objectWithRules(bodyProps, rules).json(request: true)])]),
            ])
        }
        var responses = JSONObject()
        var headers: JSONObject = ["X-Request-Id": .object(["schema": Schema.string().json])]
        if m.returnsOrder { headers["ETag"] = .object(["description": .string("The order's version, quoted."), "schema": Schema.string().json]) }
        responses[String(m.successStatus)] = jsonResponse(m.successStatus == 201 ? "Created." : "OK.", m.response.json, headers: headers)
        for (status, why) in errorStatuses {
            responses[String(status)] = .object(["$ref": .string("#/components/responses/Error"), "description": .string(why)])
        }
        op["responses"] = .object(responses)
        return .object(op)
    }
}
