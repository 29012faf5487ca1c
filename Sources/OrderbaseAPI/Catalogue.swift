import Orderbase

/// Who may call a method over REST (API keys carry one scope; admin ⊃ write ⊃ read).
public typealias Scope = APIKey.Scope

/// One REST route of a method. Path parameters (`{id}`) are request fields.
public struct Route: Sendable {
    public let httpMethod: String
    public let path: String
    /// The `{name}` segments of the path, in order.
    public let parameters: [String]

    public init(_ httpMethod: String, _ path: String) {
        self.httpMethod = httpMethod
        self.path = path
        parameters = path.split(separator: "/").compactMap { s in
            s.hasPrefix("{") && s.hasSuffix("}") ? String(s.dropFirst().dropLast()) : nil
        }
    }

    /// POST and PATCH take a JSON body; GET and DELETE take query parameters.
    public var hasBody: Bool { httpMethod == "POST" || httpMethod == "PATCH" }
}

/// Which API keys may call a method over REST.
public enum Access: Sendable {
    /// Tenant-level: a key of the tenant with at least the method's scope.
    case tenant
    /// Engine-level, any valid key (methods.list).
    case anyKey
    /// Engine-level, operator keys only (creating, listing and deleting tenants).
    case operatorOnly
    /// Engine-level about one tenant, named by `field`: operator keys for any
    /// tenant; a tenant's own admin keys for itself only (`field` is filled in
    /// when absent; another tenant answers 404, so its existence does not leak).
    case ownTenant(field: String)
}

/// One method of the catalogue: the single source of truth for the C ABI
/// (`orderbase_call`), the REST routes, the OpenAPI document and the
/// bindings' wrappers.
public struct Method: Sendable {
    public enum Target: Sendable {
        case engine(@Sendable (Engine, JSON) throws(OrderbaseError) -> [UInt8])
        case tenant(@Sendable (TenantCore, JSON) throws(OrderbaseError) -> [UInt8])
    }

    public let name: String
    public let scope: Scope
    public let routes: [Route]
    public let summary: String
    /// The request object's own properties (`actor` and `request_id`, which
    /// every request may carry, are added by `requestSchema`).
    public let request: [Property]
    public let response: Schema
    /// 201 for methods that create a resource, else 200.
    public let successStatus: Int
    public let access: Access
    /// Walks a whole tenant (audit.verify, integrity.check): seconds on a big one.
    public let scansEverything: Bool
    public let target: Target
    /// Request fields some route of the method carries in its path.
    public let pathParameters: Set<String>
    /// The fields a GET or DELETE route takes as query parameters: the request's
    /// own fields but those in paths (`actor` and `request_id` come from the key
    /// and X-Request-Id).
    public let queryFields: [Property]

    init(_ name: String, _ scope: Scope, _ routes: [Route], _ summary: String, request: [Property] = [],
         response: Schema, status: Int = 200, access: Access = .tenant, scansEverything: Bool = false, _ target: Target) {
        self.name = name
        self.scope = scope
        self.routes = routes
        self.summary = summary
        self.request = request
        self.response = response
        self.successStatus = status
        self.access = access
        self.scansEverything = scansEverything
        self.target = target
        let inPaths = Set(routes.flatMap(\.parameters))
        pathParameters = inPaths
        queryFields = request.filter { !inPaths.contains($0.name) }
    }

    public var isEngineLevel: Bool {
        if case .engine = target { return true }
        return false
    }

    /// The primary route (methods.list shows it).
    public var route: Route { routes[0] }

    /// Takes `idempotency_key` (the REST `Idempotency-Key` header maps to it).
    public var takesIdempotencyKey: Bool { request.contains { $0.name == "idempotency_key" } }
    /// Takes `expected_version` (the REST `If-Match` header maps to it).
    public var takesExpectedVersion: Bool { request.contains { $0.name == "expected_version" } }
    /// Answers an order (REST sets `ETag` to its version).
    public var returnsOrder: Bool {
        if case .ref("Order") = response { return true }
        return false
    }

    /// The whole request object, common fields included.
    public var requestSchema: Schema { .object(request + Catalogue.commonFields) }
}

public enum Catalogue {
    /// Fields every request may carry (docs/methods.md, "Every request").
    static let commonFields: [Property] = [
        opt("actor", .ref("Actor"), "Who is acting; recorded in audit entries and events. Default {\"type\":\"api\"} (REST: the key's id)."),
        opt("request_id", .string(max: 255), "Recorded with the change (REST: X-Request-Id)."),
    ]

    static let expectedVersion = opt("expected_version", .int(1...Int64.max),
                                     "Fails with version_conflict unless the order is at this version (REST: If-Match).")
    static func expectedVersionOf(_ what: String) -> Property {
        opt("expected_version", .int(1...Int64.max), "Fails with version_conflict unless the \(what) is at this version (REST: If-Match).")
    }
    static let orderID = req("id", .string(max: 64), "The order's id (ord_…).")
    static let limit100 = opt("limit", .int(1...1000), "Page size (default 100).")

    public static let methods: [Method] = [
        Method("methods.list", .read, [Route("GET", "/v1/methods")],
               "List every method of the catalogue with its scope and REST routes.",
               response: Schemas.page(.object([
                   req("name", .string()), req("level", .oneOf(["engine", "tenant"])), req("scope", .oneOf(ValueLists.apiKeyScopes)),
                   req("http_method", .string()), req("path", .string()),
                   req("routes", .list(.object([req("http_method", .string()), req("path", .string())]))),
                   req("summary", .string()),
               ])), access: .anyKey,
               .engine { _, r throws(OrderbaseError) in try listMethods(r) }),

        // MARK: tenants and keys
        Method("tenants.create", .admin, [Route("POST", "/v1/tenants")], "Create a tenant with its settings.",
               request: [req("id", Schemas.tenantID), opt("settings", .ref("TenantSettingsInput"))],
               response: .ref("Tenant"), status: 201, access: .operatorOnly,
               .engine { e, r throws(OrderbaseError) in try e.createTenant(r) }),
        Method("tenants.list", .admin, [Route("GET", "/v1/tenants")], "List tenant ids, sorted.",
               request: [limit100, opt("starting_after", .string(max: 64), "The last id of the previous page.")],
               response: Schemas.page(.object([req("id", Schemas.tenantID)])), access: .operatorOnly,
               .engine { e, r throws(OrderbaseError) in try e.listTenants(r) }),
        Method("tenants.get", .admin, [Route("GET", "/v1/tenants/{id}")], "A tenant and its settings.",
               request: [req("id", .string(max: 64))], response: .ref("Tenant"), access: .ownTenant(field: "id"),
               .engine { e, r throws(OrderbaseError) in try e.getTenant(r) }),
        Method("tenants.delete", .admin, [Route("DELETE", "/v1/tenants/{id}")],
               "Delete a tenant and all its data (busy while it is open).",
               request: [req("id", .string(max: 64))],
               response: .object([req("id", Schemas.tenantID), req("deleted", .boolean)]), access: .operatorOnly,
               .engine { e, r throws(OrderbaseError) in try e.deleteTenant(r) }),
        Method("api_keys.create", .admin, [Route("POST", "/v1/api_keys")],
               "Create an API key for the REST server; the answer holds its secret, shown only this once.",
               request: [opt("tenant", .string(max: 63), "The tenant the key is bound to; absent: an operator key (scope admin)."),
                         req("scope", .oneOf(ValueLists.apiKeyScopes)), opt("name", Schemas.name255)],
               response: .described("The key, with its secret.", .object(Schemas.apiKey + [req("secret", .string())])),
               status: 201, access: .ownTenant(field: "tenant"),
               .engine { e, r throws(OrderbaseError) in try e.createAPIKey(r) }),
        Method("api_keys.list", .admin, [Route("GET", "/v1/api_keys")], "A tenant's API keys (or the operator keys), oldest first.",
               request: [opt("tenant", .string(max: 63)), opt("include_revoked", .boolean), limit100,
                         opt("starting_after", .string(max: 64))],
               response: Schemas.page(.ref("APIKey")), access: .ownTenant(field: "tenant"),
               .engine { e, r throws(OrderbaseError) in try e.listAPIKeys(r) }),
        Method("api_keys.revoke", .admin, [Route("POST", "/v1/api_keys/{id}/revoke")],
               "Revoke an API key; it stops authenticating at once.",
               request: [opt("tenant", .string(max: 63)), req("id", .string(max: 64))],
               response: .ref("APIKey"), access: .ownTenant(field: "tenant"),
               .engine { e, r throws(OrderbaseError) in try e.revokeAPIKey(r) }),

        // MARK: orders
        Method("orders.create", .write, [Route("POST", "/v1/orders")],
               "Create an order; totals are computed by the engine.",
               request: [
                   opt("idempotency_key", .string(max: 255, min: 1), "A repeat with the same request returns the first answer (REST: Idempotency-Key)."),
                   opt("currency", Schemas.currency, "Default: the tenant's default_currency."),
                   opt("channel", .oneOf(OrderStatus.channels)),
                   opt("source", .object([req("name", .string(max: 255, min: 1)), opt("external_id", Schemas.name255)])),
                   opt("financial_status", .oneOf(OrderStatus.financial)),
                   opt("fulfillment_status", .oneOf(OrderStatus.fulfillment)),
                   opt("placed_at", .timestamp, "Default: now."),
                   opt("workflow", Schemas.key, "The workflow to follow (its latest version); default: the first whose applies_to matches, else the default workflow."),
               ] + Schemas.orderEditableOnCreate,
               response: .ref("Order"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.createOrder(r) }),
        Method("orders.get", .read, [Route("GET", "/v1/orders/{id}"), Route("GET", "/v1/orders/by-number/{number}")],
               "An order by id or by number (exactly one).",
               request: [opt("id", .string(max: 64)), opt("number", .string(max: 64))],
               response: .ref("Order"),
               .tenant { t, r throws(OrderbaseError) in try t.getOrder(r) }),
        Method("orders.list", .read, [Route("GET", "/v1/orders")], "Orders, filtered and cursor-paginated.",
               request: Schemas.orderFilters + [
                   opt("created_after", .timestamp), opt("created_before", .timestamp),
                   opt("updated_after", .timestamp), opt("updated_before", .timestamp),
                   opt("sort", .oneOf(ValueLists.orderSorts)),
                   opt("limit", .int(1...250), "Page size (default 20)."),
                   opt("starting_after", .string(max: 64, min: 1), "The last order id of the previous page."),
               ],
               response: Schemas.page(.ref("Order")),
               .tenant { t, r throws(OrderbaseError) in try t.listOrders(r) }),
        Method("orders.update", .write, [Route("PATCH", "/v1/orders/{id}")],
               "Edit customer, addresses, note, metadata, lines, shipping lines or discounts; null clears.",
               request: [
                   orderID, expectedVersion,
               ] + Schemas.orderEdits,
               response: .ref("Order"),
               .tenant { t, r throws(OrderbaseError) in try t.updateOrder(r) }),
        Method("orders.transition", .write, [Route("POST", "/v1/orders/{id}/transition")],
               "Move an order to another state of its workflow (guards, required reason and fields checked; may ask for approval instead).",
               request: [orderID, req("to", Schemas.status), opt("reason", .string(max: 500)), expectedVersion],
               response: .ref("Order"),
               .tenant { t, r throws(OrderbaseError) in try t.transitionOrder(r) }),
        Method("orders.transitions", .read, [Route("GET", "/v1/orders/{id}/transitions")],
               "Every other state of the order's workflow: whether it may go there now, whether that needs approval, and why not.",
               request: [orderID],
               response: .object([req("id", .string()), req("status", Schemas.status), req("version", .int(1...Int64.max)),
                                  req("workflow", .object([req("key", Schemas.key), req("version", .int(1...Int64.max))])),
                                  req("transitions", .list(.object([req("to", Schemas.status), opt("transition", Schemas.key),
                                                                    req("allowed", .boolean), req("approval_required", .boolean),
                                                                    opt("reason", .string()), opt("code", .string())])))]),
               .tenant { t, r throws(OrderbaseError) in try t.orderTransitions(r) }),
        Method("orders.cancel", .write, [Route("POST", "/v1/orders/{id}/cancel")],
               "Cancel an open order: the transition to its workflow's cancelled state.",
               request: [orderID, opt("reason", .string(max: 500)), expectedVersion],
               response: .ref("Order"),
               .tenant { t, r throws(OrderbaseError) in try t.cancelOrder(r) }),
        Method("orders.hold", .write, [Route("POST", "/v1/orders/{id}/holds")],
               "Put a hold on an open order: its status cannot change until every hold is released.",
               request: [orderID, req("reason", .oneOf(Hold.reasons)), opt("note", .string(max: 1000)), expectedVersion],
               response: .ref("Order"),
               .tenant { t, r throws(OrderbaseError) in try t.holdOrder(r) }),
        Method("orders.release_hold", .write, [Route("POST", "/v1/orders/{id}/holds/{hold_id}/release")],
               "Release one hold of an order.",
               request: [orderID, req("hold_id", .string(max: 64)), opt("note", .string(max: 1000)), expectedVersion],
               response: .ref("Order"),
               .tenant { t, r throws(OrderbaseError) in try t.releaseHold(r) }),
        Method("orders.audit", .read, [Route("GET", "/v1/orders/{id}/audit")], "The order's audit entries, oldest first.",
               request: [orderID, limit100, opt("starting_after", .int(0...Int64.max), "The last seq of the previous page.")],
               response: Schemas.page(.ref("AuditEntry")),
               .tenant { t, r throws(OrderbaseError) in try t.orderAudit(r) }),
        Method("audit.list", .admin, [Route("GET", "/v1/audit")],
               "The tenant's audit entries, oldest first: every one, or one record's (subject_type and subject_id together).",
               request: [opt("subject_type", .oneOf(RecordKind.audited.map(\.name)), "The kind of record (order, workflow, webhook_endpoint, …)."),
                         opt("subject_id", .string(max: 255, min: 1), "The record's id (a workflow's key)."),
                         limit100, opt("starting_after", .int(0...Int64.max), "The last seq of the previous page.")],
               response: Schemas.page(.ref("AuditEntry")),
               .tenant { t, r throws(OrderbaseError) in try t.listAudit(r) }),
        Method("consumers.list", .read, [Route("GET", "/v1/consumers")],
               "The consumers of the tenant's event log (webhooks, notifications, host subscriptions): cursor and lag; and the scheduler's timers.",
               response: .object([
                   req("data", .list(.object([
                       req("name", .string()), req("kind", .oneOf(ValueLists.consumerKinds)),
                       req("active", .described("Whether it has anything to consume here (endpoints, templates; subscriptions always).", .boolean)),
                       req("cursor", .described("The last event sequence it acknowledged.", .int(0...Int64.max))),
                       req("lag", .described("Events logged after its cursor.", .int(0...Int64.max))),
                   ]))),
                   req("has_more", .boolean), req("last_sequence", .int(0...Int64.max)),
                   req("timers", .object([req("pending", .int(0...Int64.max)), req("next_due_at", .nullable(.timestamp))])),
               ]),
               .tenant { t, r throws(OrderbaseError) in try t.listConsumers(r) }),
        Method("audit.verify", .read, [Route("GET", "/v1/audit/verify")],
               "Walk the tenant's audit hash chain and report the first broken link.",
               response: .object([req("ok", .boolean), req("entries_checked", .int(0...Int64.max)), req("head", .string()),
                                  opt("broken_at", .int(0...Int64.max)), opt("reason", .string())]),
               scansEverything: true, .tenant { t, r throws(OrderbaseError) in try t.verifyAudit(r) }),
        Method("integrity.check", .admin, [Route("GET", "/v1/integrity")],
               "Check that records, indexes, numbers, the event log and the audit chain agree.",
               request: [opt("max_problems", .int(1...1000))],
               response: .object([req("ok", .boolean), req("orders", .int(0...Int64.max)), req("events", .int(0...Int64.max)),
                                  req("audit_entries", .int(0...Int64.max)), req("problems", .list(.string()))]),
               scansEverything: true, .tenant { t, r throws(OrderbaseError) in try t.checkIntegrity(r) }),
        Method("expressions.validate", .read, [Route("POST", "/v1/expressions/validate")],
               "Check an expression (text or JSON-Logic) against the order's fields; answers both forms and the fields it reads.",
               request: [req("expression", .described("Text form (a string) or JSON-Logic (anything else); docs/expressions.md.", .anyValue))],
               response: .object([req("valid", .boolean), opt("json", .anyValue), opt("text", .nullable(.string())),
                                  opt("fields", .list(.string())), opt("error", .object(Schemas.errorFields))]),
               .tenant { t, r throws(OrderbaseError) in try t.validateExpression(r) }),
        Method("expressions.evaluate", .read, [Route("POST", "/v1/expressions/evaluate")],
               "Evaluate an expression against an order (order_id) or given data.",
               request: [req("expression", .described("Text form (a string) or JSON-Logic (anything else).", .anyValue)),
                         opt("order_id", .string(max: 64, min: 1), "Evaluate against {\"order\": <this order>, \"actor\": <the request's actor>}."),
                         opt("data", .described("Any JSON to evaluate against, instead of an order (fields are not checked).", .anyValue))],
               response: .object([req("result", .anyValue), req("json", .anyValue), req("text", .nullable(.string()))]),
               .tenant { t, r throws(OrderbaseError) in try t.evaluateExpression(r) }),

        // MARK: workflows and approvals
        Method("workflows.create", .admin, [Route("POST", "/v1/workflows")],
               "Define a workflow (version 1): states, transitions with guards, reasons, required fields and approvals, and which orders use it.",
               request: Schemas.workflowDefinition, response: .ref("Workflow"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.createWorkflow(r) }),
        Method("workflows.get", .read, [Route("GET", "/v1/workflows/{key}")], "A workflow: its latest version, or the one asked for.",
               request: [req("key", .string(max: 64)), opt("version", .int(1...Int64.max))], response: .ref("Workflow"),
               .tenant { t, r throws(OrderbaseError) in try t.getWorkflow(r) }),
        Method("workflows.list", .read, [Route("GET", "/v1/workflows")], "The latest version of every workflow, the default included, by key.",
               request: [opt("include_archived", .boolean)], response: Schemas.page(.ref("Workflow")),
               .tenant { t, r throws(OrderbaseError) in try t.listWorkflows(r) }),
        Method("workflows.update", .admin, [Route("POST", "/v1/workflows/{key}/versions")],
               "Replace a workflow's definition: a new version. Orders keep the version they started on until migrated.",
               request: [expectedVersionOf("workflow")] + Schemas.workflowDefinition, response: .ref("Workflow"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.updateWorkflow(r) }),
        Method("workflows.archive", .admin, [Route("POST", "/v1/workflows/{key}/archive")],
               "Stop assigning a workflow to new orders; orders on it keep following it.",
               request: [req("key", .string(max: 64))], response: .ref("Workflow"),
               .tenant { t, r throws(OrderbaseError) in try t.archiveWorkflow(r) }),
        Method("workflows.validate", .read, [Route("POST", "/v1/workflows/validate")],
               "Check a definition without saving it: every problem with its field.",
               request: Schemas.workflowDefinition,
               response: .object([req("valid", .boolean), req("errors", .list(.object([req("field", .string()), req("message", .string())])))]),
               .tenant { t, r throws(OrderbaseError) in try t.validateWorkflow(r) }),
        Method("workflows.migrate", .admin, [Route("POST", "/v1/workflows/{key}/migrate")],
               "Move orders from older versions of a workflow to a newer one, mapping their states (audited per order).",
               request: [req("key", .string(max: 64)), opt("from_version", .int(1...Int64.max), "Only orders on this version (default: every older one)."),
                         opt("to_version", .int(1...Int64.max), "Default: the latest."),
                         opt("mapping", .map(Schemas.key), "Old state → new state; unmapped states keep their key."),
                         opt("limit", .int(1...1000), "Orders per call (default 500)."),
                         opt("starting_after", .string(max: 64, min: 1), "next_starting_after of the previous call."),
                         opt("dry_run", .boolean, "Say what would move, moving nothing.")],
               response: .object([req("key", Schemas.key), req("to_version", .int(1...Int64.max)), req("dry_run", .boolean),
                                  req("migrated", .int(0...Int64.max)), req("order_ids", .list(.string())),
                                  req("skipped", .list(.object([req("id", .string()), req("reason", .string())]))),
                                  req("has_more", .boolean), req("next_starting_after", .nullable(.string()))]),
               .tenant { t, r throws(OrderbaseError) in try t.migrateWorkflow(r) }),
        Method("workflows.simulate", .read, [Route("POST", "/v1/workflows/simulate")],
               "What orders.transition would do for this order, target and actor now: transition, approval_required or refused. Writes nothing.",
               request: [req("order_id", .string(max: 64)), req("to", .string(max: 64, min: 1)), opt("reason", .string(max: 500))],
               response: .object([req("order_id", .string()), req("from", .string()), req("to", .string()),
                                  req("workflow", .object([req("key", Schemas.key), req("version", .int(1...Int64.max))])),
                                  req("outcome", .oneOf(ValueLists.simulationOutcomes)),
                                  opt("transition", Schemas.key), opt("event", .string()), opt("order", .ref("Order")),
                                  opt("approval", .object([req("tiers", .list(.object([req("name", .nullable(.string())), req("approvers", .int(1...20)),
                                                                                        req("roles", .list(.string()))]))),
                                                           req("allow_requester", .boolean), req("expires_after_seconds", .nullable(.int(60...31_536_000)))])),
                                  opt("error", .object(Schemas.errorFields))]),
               .tenant { t, r throws(OrderbaseError) in try t.simulateWorkflow(r) }),
        Method("approvals.list", .read, [Route("GET", "/v1/approvals")], "Approval requests, newest first.",
               request: [opt("status", .oneOf(ValueLists.approvalStatuses)),
                         opt("order_id", .string(max: 64, min: 1)), opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("ApprovalRequest")),
               .tenant { t, r throws(OrderbaseError) in try t.listApprovals(r) }),
        Method("approvals.get", .read, [Route("GET", "/v1/approvals/{id}")], "An approval request (past its expiry it reads as expired).",
               request: [req("id", .string(max: 64))], response: .ref("ApprovalRequest"),
               .tenant { t, r throws(OrderbaseError) in try t.getApproval(r) }),
        Method("approvals.approve", .write, [Route("POST", "/v1/approvals/{id}/approve")],
               "Approve as the request's actor (actor.id and a role of the current tier); the last approval needed performs the transition.",
               request: [req("id", .string(max: 64)), opt("note", .string(max: 1000))], response: .ref("ApprovalRequest"),
               .tenant { t, r throws(OrderbaseError) in try t.approveApproval(r) }),
        Method("approvals.reject", .write, [Route("POST", "/v1/approvals/{id}/reject")],
               "Reject as an actor who could approve; the order stays where it is.",
               request: [req("id", .string(max: 64)), opt("note", .string(max: 1000))], response: .ref("ApprovalRequest"),
               .tenant { t, r throws(OrderbaseError) in try t.rejectApproval(r) }),
        Method("approvals.cancel", .write, [Route("POST", "/v1/approvals/{id}/cancel")],
               "Withdraw a pending approval request.",
               request: [req("id", .string(max: 64)), opt("note", .string(max: 1000))], response: .ref("ApprovalRequest"),
               .tenant { t, r throws(OrderbaseError) in try t.cancelApproval(r) }),

        // MARK: webhooks
        Method("webhooks.create", .admin, [Route("POST", "/v1/webhooks")],
               "Add a webhook endpoint; the answer holds its signing secret, shown only this once.",
               request: [req("url", .string(max: 2048, min: 1), "https (http only with the engine option webhook_allow_http); no credentials."),
                         opt("event_types", Schemas.eventTypes, "Types and wildcards (order.*, *); default [\"*\"]."),
                         opt("description", .string(max: 500)), opt("enabled", .boolean),
                         opt("payload", .oneOf(ValueLists.webhookPayloads), "full: the order after the change (default); changes: only the changed fields.")],
               response: .ref("WebhookEndpoint"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.createWebhook(r) }),
        Method("webhooks.get", .read, [Route("GET", "/v1/webhooks/{id}")], "A webhook endpoint (without secret values).",
               request: [req("id", .string(max: 64))], response: .ref("WebhookEndpoint"),
               .tenant { t, r throws(OrderbaseError) in try t.getWebhook(r) }),
        Method("webhooks.list", .read, [Route("GET", "/v1/webhooks")], "Every webhook endpoint of the tenant.",
               response: Schemas.page(.ref("WebhookEndpoint")),
               .tenant { t, r throws(OrderbaseError) in try t.listWebhooks(r) }),
        Method("webhooks.update", .admin, [Route("PATCH", "/v1/webhooks/{id}")],
               "Change an endpoint's url, event types, description, payload or enabled (enabling clears disabled_reason).",
               request: [req("id", .string(max: 64)), opt("url", .string(max: 2048, min: 1)), opt("event_types", Schemas.eventTypes),
                         opt("description", .nullable(.string(max: 500))), opt("enabled", .boolean), opt("payload", .oneOf(ValueLists.webhookPayloads))],
               response: .ref("WebhookEndpoint"),
               .tenant { t, r throws(OrderbaseError) in try t.updateWebhook(r) }),
        Method("webhooks.delete", .admin, [Route("DELETE", "/v1/webhooks/{id}")], "Remove an endpoint; its pending deliveries end as failed.",
               request: [req("id", .string(max: 64))], response: .object([req("id", .string()), req("deleted", .boolean)]),
               .tenant { t, r throws(OrderbaseError) in try t.deleteWebhook(r) }),
        Method("webhooks.rotate_secret", .admin, [Route("POST", "/v1/webhooks/{id}/rotate_secret")],
               "A new signing secret (shown once); the old ones keep signing beside it for grace_seconds.",
               request: [req("id", .string(max: 64)), opt("grace_seconds", .int(0...604_800), "Default 86400.")],
               response: .ref("WebhookEndpoint"),
               .tenant { t, r throws(OrderbaseError) in try t.rotateWebhookSecret(r) }),
        Method("webhooks.test", .admin, [Route("POST", "/v1/webhooks/{id}/test")],
               "Send a signed webhook.test message now and answer how it went (records no delivery).",
               request: [req("id", .string(max: 64))],
               response: .object([req("message_id", .string()), req("succeeded", .boolean), req("status_code", .nullable(.int(0...999))),
                                  req("latency_ms", .int(0...Int64.max)), req("error", .nullable(.string())), req("response", .nullable(.string()))]),
               .tenant { t, r throws(OrderbaseError) in try t.testWebhook(r) }),
        Method("webhooks.replay", .admin, [Route("POST", "/v1/webhooks/{id}/replay")],
               "Queue the endpoint's events from a sequence on again (at most 1000 per call), with their original webhook-ids.",
               request: [req("id", .string(max: 64)), req("from_sequence", .int(1...Int64.max)), opt("to_sequence", .int(1...Int64.max))],
               response: .object([req("queued", .int(0...Int64.max)), req("last_sequence", .nullable(.int(0...Int64.max))), req("has_more", .boolean)]),
               .tenant { t, r throws(OrderbaseError) in try t.replayWebhook(r) }),
        Method("deliveries.list", .read, [Route("GET", "/v1/webhook_deliveries")], "Webhook deliveries with their attempts, newest first.",
               request: [opt("endpoint_id", .string(max: 64, min: 1)), opt("status", .oneOf(ValueLists.webhookDeliveryStatuses)),
                         opt("limit", .int(1...250), "Page size (default 50)."), opt("starting_after", .string(max: 64, min: 1))],
               response: Schemas.page(.ref("WebhookDelivery")),
               .tenant { t, r throws(OrderbaseError) in try t.listDeliveries(r) }),
        Method("deliveries.get", .read, [Route("GET", "/v1/webhook_deliveries/{id}")], "One delivery: every attempt's status code, latency and error, and the next attempt.",
               request: [req("id", .string(max: 64))], response: .ref("WebhookDelivery"),
               .tenant { t, r throws(OrderbaseError) in try t.getDelivery(r) }),
        Method("deliveries.retry", .write, [Route("POST", "/v1/webhook_deliveries/{id}/retry")],
               "Try a delivery now: a pending one moves to now; a failed one gets a new delivery of the same message.",
               request: [req("id", .string(max: 64))], response: .ref("WebhookDelivery"),
               .tenant { t, r throws(OrderbaseError) in try t.retryDelivery(r) }),
        // MARK: notifications
        Method("notification_channels.create", .admin, [Route("POST", "/v1/notification_channels")],
               "Add a channel: email over SMTP, SMS through an HTTP gateway, or a callback into the host.",
               request: [req("name", .string(max: 255, min: 1)), req("type", .oneOf(ValueLists.notificationChannelTypes)), opt("enabled", .boolean),
                         opt("email", Schemas.emailInput(create: true), "Required for type email."),
                         opt("sms", Schemas.smsInput(create: true), "Required for type sms.")],
               response: .ref("NotificationChannel"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.createNotificationChannel(r) }),
        Method("notification_channels.get", .admin, [Route("GET", "/v1/notification_channels/{id}")], "A channel (credentials as password_set / auth_header_set).",
               request: [req("id", .string(max: 64))], response: .ref("NotificationChannel"),
               .tenant { t, r throws(OrderbaseError) in try t.getNotificationChannel(r) }),
        Method("notification_channels.list", .admin, [Route("GET", "/v1/notification_channels")], "Every notification channel of the tenant.",
               response: Schemas.page(.ref("NotificationChannel")),
               .tenant { t, r throws(OrderbaseError) in try t.listNotificationChannels(r) }),
        Method("notification_channels.update", .admin, [Route("PATCH", "/v1/notification_channels/{id}")],
               "Change a channel's name, enabled, or settings; given fields change, credentials stay unless replaced or set to null.",
               request: [req("id", .string(max: 64)), opt("name", .string(max: 255, min: 1)), opt("enabled", .boolean),
                         opt("email", Schemas.emailInput(create: false)), opt("sms", Schemas.smsInput(create: false))],
               response: .ref("NotificationChannel"),
               .tenant { t, r throws(OrderbaseError) in try t.updateNotificationChannel(r) }),
        Method("notification_channels.delete", .admin, [Route("DELETE", "/v1/notification_channels/{id}")],
               "Remove a channel no template uses (else invalid_state, details.templates).",
               request: [req("id", .string(max: 64))], response: .object([req("id", .string()), req("deleted", .boolean)]),
               .tenant { t, r throws(OrderbaseError) in try t.deleteNotificationChannel(r) }),
        Method("notification_templates.create", .admin, [Route("POST", "/v1/notification_templates")],
               "Add a template: Mustache parts checked against their variables now, recipients, a condition.",
               request: [req("name", .string(max: 255, min: 1)), req("channel_id", .string(max: 64, min: 1)),
                         req("recipients", .list(Schemas.recipient, max: 20, min: 1))] + Schemas.templateInput,
               response: .ref("NotificationTemplate"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.createNotificationTemplate(r) }),
        Method("notification_templates.get", .read, [Route("GET", "/v1/notification_templates/{id}")], "A notification template.",
               request: [req("id", .string(max: 64))], response: .ref("NotificationTemplate"),
               .tenant { t, r throws(OrderbaseError) in try t.getNotificationTemplate(r) }),
        Method("notification_templates.list", .read, [Route("GET", "/v1/notification_templates")], "Templates, optionally those an event type or a channel uses.",
               request: [opt("event_type", .string(max: 128, min: 1)), opt("channel_id", .string(max: 64, min: 1))],
               response: Schemas.page(.ref("NotificationTemplate")),
               .tenant { t, r throws(OrderbaseError) in try t.listNotificationTemplates(r) }),
        Method("notification_templates.update", .admin, [Route("PATCH", "/v1/notification_templates/{id}")],
               "Change a template; null clears a part or the condition. Checked as on create.",
               request: [req("id", .string(max: 64)), opt("name", .string(max: 255, min: 1)), opt("channel_id", .string(max: 64, min: 1)),
                         opt("recipients", .list(Schemas.recipient, max: 20, min: 1))] + Schemas.templateInput,
               response: .ref("NotificationTemplate"),
               .tenant { t, r throws(OrderbaseError) in try t.updateNotificationTemplate(r) }),
        Method("notification_templates.delete", .admin, [Route("DELETE", "/v1/notification_templates/{id}")],
               "Remove a template; its pending notifications end as failed.",
               request: [req("id", .string(max: 64))],
               response: .object([req("id", .string()), req("deleted", .boolean), req("pending_failed", .int(0...Int64.max))]),
               .tenant { t, r throws(OrderbaseError) in try t.deleteNotificationTemplate(r) }),
        Method("notification_templates.render", .read,
               [Route("POST", "/v1/notification_templates/{id}/render"), Route("POST", "/v1/notification_templates/render")],
               "Preview: what a saved template (id) or a draft (template) would send for an order now. Writes nothing.",
               request: [opt("id", .string(max: 64, min: 1)),
                         opt("template", .described("A draft: the fields of notification_templates.create.", .anyObject)),
                         req("order_id", .string(max: 64)), opt("event_type", .string(max: 128, min: 1), "The event.type templates see; default manual.")],
               response: .object([req("condition", .described("Whether the condition holds for the order.", .boolean)),
                                  req("notifications", .list(.ref("Notification")))]),
               .tenant { t, r throws(OrderbaseError) in try t.renderNotificationTemplate(r) }),
        Method("notifications.list", .read, [Route("GET", "/v1/notifications")], "The notification log (who, what, when, status), newest first.",
               request: [opt("template_id", .string(max: 64, min: 1)), opt("order_id", .string(max: 64, min: 1)),
                         opt("status", .oneOf(ValueLists.notificationStatuses)),
                         opt("limit", .int(1...250), "Page size (default 50)."), opt("starting_after", .string(max: 64, min: 1))],
               response: Schemas.page(.ref("Notification")),
               .tenant { t, r throws(OrderbaseError) in try t.listNotifications(r) }),
        Method("notifications.get", .read, [Route("GET", "/v1/notifications/{id}")], "One notification with its rendered parts and attempts.",
               request: [req("id", .string(max: 64))], response: .ref("Notification"),
               .tenant { t, r throws(OrderbaseError) in try t.getNotification(r) }),
        Method("notifications.send", .write, [Route("POST", "/v1/notifications")],
               "Send a template for an order now, to its recipients or to the addresses in to (the condition is not consulted).",
               request: [req("template_id", .string(max: 64)), req("order_id", .string(max: 64)),
                         opt("to", .list(.string(max: 320, min: 1), max: 20, min: 1))],
               response: Schemas.page(.ref("Notification")), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.sendNotification(r) }),
        Method("notifications.retry", .write, [Route("POST", "/v1/notifications/{id}/retry")],
               "Try again: a pending notification now; a failed one as a new notification with the same content.",
               request: [req("id", .string(max: 64))], response: .ref("Notification"),
               .tenant { t, r throws(OrderbaseError) in try t.retryNotification(r) }),
        Method("events.list", .read, [Route("GET", "/v1/events")], "The tenant's event log by sequence.",
               request: [opt("after_sequence", .int(0...Int64.max)), limit100,
                         opt("types", .list(.string(max: 128, min: 1), max: 100), "Exact types or wildcards (order.*, *).")],
               response: Schemas.page(.ref("Event"), [req("last_sequence", .int(0...Int64.max), "Pass as the next after_sequence.")]),
               .tenant { t, r throws(OrderbaseError) in try t.listEvents(r) }),
    ]

    private static let byName: [String: Method] = Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0) })

    public static func method(_ name: String) -> Method? { byName[name] }

    static func listMethods(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        try Fields.request(request).0.finish()
        var w = JSONWriter()
        w.beginObject()
        w.key("data"); w.beginArray()
        for m in methods {
            w.beginObject()
            w.key("name"); w.string(m.name)
            w.key("level"); w.string(m.isEngineLevel ? "engine" : "tenant")
            w.key("scope"); w.string(m.scope.rawValue)
            w.key("http_method"); w.string(m.route.httpMethod)
            w.key("path"); w.string(m.route.path)
            w.key("routes"); w.beginArray()
            for r in m.routes {
                w.beginObject(); w.key("http_method"); w.string(r.httpMethod); w.key("path"); w.string(r.path); w.endObject()
            }
            w.endArray()
            w.key("summary"); w.string(m.summary)
            w.endObject()
        }
        w.endArray()
        w.key("has_more"); w.bool(false)
        w.endObject()
        return w.bytes
    }

    /// Parses a request body: absent means `{}`; over the engine's limit is `limit_exceeded`.
    public static func parseRequest(_ bytes: UnsafeRawBufferPointer?, limit: Int) throws(OrderbaseError) -> JSON {
        guard let bytes, bytes.count > 0 else { return .object([:]) }
        if bytes.count > limit {
            throw OrderbaseError(.limitExceeded, "request is \(bytes.count) bytes; max_request_bytes is \(limit)")
        }
        let json = try JSON.parse(bytes)
        guard case .object = json else { throw OrderbaseError.invalid("the request must be a JSON object, got \(json.typeName)") }
        return json
    }

    /// Calls a tenant-level method.
    public static func call(_ tenant: Tenant, _ name: String, _ request: UnsafeRawBufferPointer?) throws(OrderbaseError) -> [UInt8] {
        let core = try tenant.core()
        return try call(core, name, try parseRequest(request, limit: tenant.engine.options.maxRequestBytes))
    }

    /// Calls a tenant-level method with a parsed request.
    public static func call(_ core: TenantCore, _ name: String, _ request: JSON) throws(OrderbaseError) -> [UInt8] {
        guard let m = byName[name] else { throw OrderbaseError(.notFound, "no method \(name)", field: "method") }
        guard case .tenant(let body) = m.target else {
            throw OrderbaseError(.misuse, "\(name) is an engine-level method; call it with orderbase_engine_call", field: "method")
        }
        return try body(core, request)
    }

    /// Calls an engine-level method.
    public static func call(_ engine: Engine, _ name: String, _ request: UnsafeRawBufferPointer?) throws(OrderbaseError) -> [UInt8] {
        try call(engine, name, try parseRequest(request, limit: engine.options.maxRequestBytes))
    }

    /// Calls an engine-level method with a parsed request.
    public static func call(_ engine: Engine, _ name: String, _ request: JSON) throws(OrderbaseError) -> [UInt8] {
        guard let m = byName[name] else { throw OrderbaseError(.notFound, "no method \(name)", field: "method") }
        guard case .engine(let body) = m.target else {
            throw OrderbaseError(.misuse, "\(name) is a tenant-level method; call it with orderbase_call on a tenant", field: "method")
        }
        if engine.isClosed { throw OrderbaseError(.misuse, "engine is closed") }
        return try body(engine, request)
    }
}
