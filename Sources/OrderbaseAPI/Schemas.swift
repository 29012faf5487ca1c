import Orderbase

/// The named schemas of the OpenAPI document (`#/components/schemas/...`):
/// the shapes methods take and return. They mirror the readers and writers in
/// `Sources/Orderbase`; `SchemaConformanceTests` and the schemathesis run in
/// `make test` hold the two together.
enum Schemas {
    static let name255 = Schema.string(max: 255)
    static let currency = Schema.described("ISO 4217 code.", .oneOf(Currency.codes))
    static let country = Schema.described("ISO 3166-1 alpha-2 code.", .string(max: 2, min: 2, pattern: "^[A-Z]{2}$"))
    static let timeZone = Schema.described("IANA time zone (Europe/London) of the engine's zone database; calendar parts in expressions use it. Default UTC.",
                                           .oneOf(TimeZoneRules.knownNames))
    static let tenantID = Schema.string(max: 63, min: 1, pattern: "^[a-z0-9][a-z0-9_-]{0,62}$")
    static let decimalRate = Schema.described("A decimal string between 0 and 1 with at most 6 decimals.",
                                              .string(max: 12, min: 1, pattern: "^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$"))

    static let address: [Property] = [
        opt("name", name255), opt("company", name255), opt("line1", name255), opt("line2", name255),
        opt("city", name255), opt("region", name255), opt("postal_code", .string(max: 32)), opt("country", country),
        opt("phone", .string(max: 64)),
        opt("latitude", .number(min: -90, max: 90), "WGS 84 degrees (with longitude: both or neither), for routing by distance."),
        opt("longitude", .number(min: -180, max: 180), "WGS 84 degrees (with latitude)."),
    ]
    static let customerInput: [Property] = [
        opt("id", .string(max: 255, min: 1)), opt("email", .string(max: 254, pattern: "^[^@]+@.*[^@]$")),
        opt("name", name255), opt("phone", .string(max: 64)),
    ]
    static let customer: [Property] = [
        opt("id", .string(max: 255)), opt("email", .string(max: 254)), opt("name", name255), opt("phone", .string(max: 64)),
    ]
    static let discountInput: [Property] = [opt("code", name255), opt("description", name255), req("amount", .money)]
    static let taxLineInput: [Property] = [
        req("name", .string(max: 255, min: 1)), req("rate", decimalRate),
        opt("amount", .described("Supplied by an external tax service; computed from the rate when absent.", .money)),
    ]
    static let taxLine: [Property] = [req("name", name255), req("rate", .string(max: 12)), req("amount", .money)]
    static let lineItemInput: [Property] = [
        opt("id", .described("Only on orders.update: keeps an existing line item.", .string(max: 64))),
        opt("sku", name255), req("title", .string(max: 255, min: 1)), opt("variant_title", name255),
        req("quantity", .int(1...1_000_000)), req("unit_price", .money), opt("unit_cost", .money),
        opt("discounts", .list(.ref("DiscountInput"), max: 50)),
        opt("tax_lines", .list(.ref("TaxLineInput"), max: 10)),
        opt("properties", .map(.string(max: 1024))),
    ]
    static let lineItem: [Property] = [
        req("id", .string(max: 64)), opt("sku", name255), opt("title", name255), opt("variant_title", name255),
        req("quantity", .int(1...1_000_000)), req("unit_price", .money), opt("unit_cost", .money),
        req("discounts", .list(.ref("Discount"))), req("tax_lines", .list(.ref("TaxLine"))),
        req("properties", .map(.string(max: 1024))),
        opt("refunded_quantity", .int(1...1_000_000), "Units refunded so far (refunds.create; docs/refunds.md)."),
    ]
    static let shippingLineInput: [Property] = [
        req("title", .string(max: 255, min: 1)), opt("code", name255), req("price", .money),
        opt("tax_lines", .list(.ref("TaxLineInput"), max: 10)),
    ]
    static let shippingLine: [Property] = [
        req("title", name255), opt("code", name255), req("price", .money), req("tax_lines", .list(.ref("TaxLine"))),
    ]
    static let key = Schema.described("A lowercase letter, then up to 63 lowercase letters, digits or underscores.",
                                      .string(max: 64, min: 1, pattern: "^[a-z][a-z0-9_]{0,63}$"))
    static let status = Schema.described("A state of the order's workflow (the default workflow: \(OrderStatus.all.joined(separator: ", "))).", key)
    static let expression = Schema.described("An expression: text form (a string) or JSON-Logic (docs/expressions.md).", .anyValue)
    static let hold: [Property] = [
        req("id", .string(max: 64)), req("reason", .oneOf(Hold.reasons)), req("note", .nullable(.string(max: 1000))),
        req("placed_at", .timestamp), req("placed_by", .ref("Actor")),
    ]
    static let orderLink: [Property] = [
        req("relation", .oneOf(OrderLink.relations)), req("order_id", .string(max: 64)), req("number", .string(max: 64)), req("at", .timestamp),
    ]
    static let pendingApproval: [Property] = [
        req("id", .string(max: 64)), req("transition", key), req("to", key), req("requested_at", .timestamp),
        req("expires_at", .nullable(.timestamp)), req("approvals", .int(0...Int64.max)), req("required", .int(0...Int64.max)),
    ]
    /// A workflow definition as written (workflows.create / update / validate).
    static let workflowDefinition: [Property] = [
        req("key", .except(key, Array(Workflow.reservedKeys).sorted())), req("name", .string(max: 255, min: 1)), opt("description", .string(max: 2000)),
        opt("priority", .described("Higher is tried first when several workflows' applies_to match a new order.", .int(-1000...1000))),
        req("states", .list(.object([
            req("key", key), opt("label", name255), opt("category", .oneOf(ValueLists.workflowStateCategories)),
            opt("initial", .boolean), opt("final", .boolean),
        ]), max: 100)),
        opt("transitions", .list(.object([
            req("name", key),
            req("from", .described("A state key, a list of 1 to 100 state keys, or \"*\" (every non-final state but the target).",
                                   .anyOf([key, .list(key, max: 100, min: 1), .oneOf(["*"])]))),
            req("to", key), opt("guard", expression), opt("requires_reason", .boolean),
            opt("required_fields", .list(.string(max: 255, min: 1), max: 50)),
            opt("approval", .object([
                req("tiers", .list(approvalTierInput, max: 5, min: 1)),
                opt("allow_requester", .boolean), opt("expires_after_seconds", .int(60...31_536_000)),
            ])),
        ]), max: 500)),
        opt("applies_to", .object([opt("channels", .list(.oneOf(OrderStatus.channels), max: 4)), opt("condition", expression)])),
    ]
    static let workflow: [Property] = [
        req("key", key), req("name", name255), req("description", .nullable(.string())), req("version", .int(1...Int64.max)),
        req("archived", .boolean), req("priority", .int(-1000...1000)),
        req("states", .list(.object([req("key", key), req("label", name255), req("category", .oneOf(ValueLists.workflowStateCategories)),
                                     req("initial", .boolean), req("final", .boolean)]))),
        req("transitions", .list(.object([
            req("name", key), req("from", .anyValue), req("to", key), req("guard", .anyValue), req("guard_text", .nullable(.string())),
            req("requires_reason", .boolean), req("required_fields", .list(.string())),
            req("approval", .nullable(.object([
                req("tiers", .list(approvalTierDefinition)),
                req("allow_requester", .boolean), req("expires_after_seconds", .nullable(.int(60...31_536_000))),
            ]))),
        ]))),
        req("applies_to", .nullable(.object([req("channels", .nullable(.list(.oneOf(OrderStatus.channels)))),
                                             req("condition", .anyValue), req("condition_text", .nullable(.string()))]))),
        req("created_at", .timestamp), req("created_by", .ref("Actor")),
    ]
    static let eventTypes = Schema.list(.string(max: 128, min: 1, pattern: "^[a-z0-9_.*]+$"), max: 100, min: 1)
    static let attempt = Schema.object([req("at", .timestamp), req("status_code", .nullable(.int(0...999))), req("latency_ms", .int(0...Int64.max)),
                                        req("error", .nullable(.string())), req("response", .nullable(.string()))])
    /// A channel's settings as answers show them (credentials as `password_set` / `auth_header_set`).
    static let emailSettings = Schema.object([
        req("host", .string()), req("port", .int(1...65535)), req("security", .oneOf(ValueLists.emailSecurities)),
        req("username", .nullable(.string())), req("password_set", .boolean), req("from", .string()),
        req("from_name", .nullable(.string())), req("reply_to", .nullable(.string())),
    ])
    static let smsSettings = Schema.object([
        req("url", .string()), req("auth_header_set", .boolean), req("content_type", .oneOf(ValueLists.smsContentTypes)),
        req("body", .string()), req("from", .nullable(.string())),
    ])
    static func emailInput(create: Bool) -> Schema {
        let host = Schema.string(max: 253, min: 1, pattern: AddressPattern.host)
        let from = Schema.string(max: 254, min: 3, pattern: AddressPattern.email)
        let securities = Schema.byAllowHTTP(.oneOf(ValueLists.emailSecurities), .oneOf(ValueLists.emailSecurities.filter { $0 != "none" }))
        return .objectWithRules([
            create ? req("host", host) : opt("host", host),
            opt("port", .int(1...65535), "Default 587 (starttls), 465 (smtps), 25 (none)."),
            opt("security", securities, "starttls (default, required), smtps, or none (only with engine option webhook_allow_http)."),
            opt("username", .nullable(.string(max: 255, min: 1))), opt("password", .nullable(.string(max: 1024, min: 1)), "Stored; never shown again."),
            create ? req("from", from) : opt("from", from),
            opt("from_name", .nullable(.string(max: 255, min: 1, pattern: "^[^\\r\\n]*$"))),
            opt("reply_to", .nullable(.string(max: 254, pattern: AddressPattern.email))),
        ], create ? [.when("username", .given, require: ["password"])] : [])
    }
    static func smsInput(create: Bool) -> Schema {
        .object([
            create ? req("url", .outboundURL) : opt("url", .outboundURL),
            opt("auth_header", .nullable(.string(max: 4096, min: 1, pattern: "^[ -~]*$")), "The Authorization header's value (\"Basic …\"); stored, never shown again."),
            opt("content_type", .oneOf(ValueLists.smsContentTypes), "form (default) or json."),
            opt("body", .string(max: 8192, min: 1), "Mustache over to, from, body, notification_id, order_id; default To={{to}}&From={{from}}&Body={{body}}."),
            opt("from", .nullable(.string(max: 64, min: 1))),
        ])
    }
    /// A channel's settings belong to its type (create; an update is checked against the stored type).
    static let channelTypeRules: [Rule] = [
        .when("type", .equals("email"), require: ["email"], forbid: ["sms"]),
        .when("type", .equals("sms"), require: ["sms"], forbid: ["email"]),
        .when("type", .equals("callback"), forbid: ["email", "sms"]),
    ]
    static let recipient = Schema.objectWithRules([
        req("type", .oneOf(ValueLists.recipientTypes)),
        opt("address", .string(max: 320, min: 1), "staff: the fixed address."),
        opt("field", .string(max: 255, min: 1, pattern: RecipientField.pattern),
            "field: a text field of the order holding the address, like order.customer.email or order.metadata.gift_email."),
    ], [
        .when("type", .equals("staff"), require: ["address"], forbid: ["field"]),
        .when("type", .equals("field"), require: ["field"], forbid: ["address"]),
        .when("type", .equals("customer"), forbid: ["address", "field"]),
    ])
    static let actor: [Property] = [
        req("type", .oneOf(Actor.types)), opt("id", name255),
        opt("roles", .list(.string(max: 64, min: 1), max: 20), "Roles the host vouches for (manager, warehouse…); expressions read actor.roles."),
    ]
    static let fieldChange: [Property] = [
        req("field", .string()),
        req("before", .described("The field's JSON value before the change (null when absent).", .anyValue)),
        req("after", .described("The field's JSON value after the change (null when absent).", .anyValue)),
    ]
    static let subject: [Property] = [
        req("type", .described("The kind of record.", .oneOf(RecordKind.all.map(\.name)))),
        req("id", .described("The record's id (a workflow's key).", .string())),
    ]
    static let event: [Property] = [
        req("sequence", .int(1...Int64.max)), req("id", .string()), req("type", .string()), req("at", .timestamp),
        opt("subject", .described("What the event is about. Absent on events logged before release 0.2.0.", .ref("Subject"))),
        req("order_id", .described("The order's id when the subject is an order, else null.", .nullable(.string()))),
        req("actor", .ref("Actor")),
        req("cause", .object([req("request_id", .nullable(.string(max: 255)))])),
        req("reason", .nullable(.string())),
        opt("changes", .described("Absent on order.created, whose order is the whole after-state.", .list(.ref("FieldChange")))),
        req("order", .described("The order after the change; null when the subject is not an order.", .nullable(.ref("Order")))),
        opt("data", .described("For other subjects: the record after the change (before it, when deleted), secrets left out; "
                               + "webhook.endpoint_disabled: {endpoint_id, url, reason}; "
                               + "notification.failed, webhook_delivery.failed: the notification or delivery.", .anyObject)),
    ]
    static let auditEntry: [Property] = [
        req("seq", .int(1...Int64.max)), req("at", .timestamp),
        opt("subject", .described("What changed. Absent on entries written before release 0.2.0 (all about orders).", .ref("Subject"))),
        req("order_id", .described("The order's id when the subject is an order, else null.", .nullable(.string()))), req("actor", .ref("Actor")),
        req("action", .string()), req("changes", .list(.ref("FieldChange"))), req("reason", .nullable(.string())),
        req("request_id", .nullable(.string())), req("event_sequence", .int(1...Int64.max)),
        req("prev_hash", .string(max: 64, min: 64)), req("hash", .string(max: 64, min: 64)),
    ]
    static let settingsInput: [Property] = [
        opt("name", name255), opt("order_number_prefix", .string(max: 16)),
        opt("order_number_start", .int(0...1_000_000_000_000)), opt("default_currency", currency),
        opt("time_zone", timeZone),
    ]
    static let settings: [Property] = [
        opt("name", name255), req("order_number_prefix", .string(max: 16)),
        req("order_number_start", .int(0...1_000_000_000_000)), req("default_currency", currency),
        req("time_zone", timeZone), req("created_at", .timestamp),
    ]
    static let tenant: [Property] = [req("id", tenantID), req("settings", .ref("TenantSettings"))]
    static let apiKey: [Property] = [
        req("id", .string(max: 64)), req("tenant", .nullable(tenantID)), req("scope", .oneOf(ValueLists.apiKeyScopes)),
        req("name", .nullable(name255)), req("prefix", .described("The start of the secret, to recognise a key.", .string())),
        req("created_at", .timestamp), req("revoked_at", .nullable(.timestamp)),
    ]
    static let errorFields: [Property] = [
        req("code", .oneOf(ErrorCode.allCases.map(\.name) + HTTPOnlyErrors.all)),
        req("message", .string()),
        opt("field", .string()),
        opt("details", .anyObject),
    ]
    static let errorBody: [Property] = [req("error", .object(errorFields))]

    /// A routing rule as answered: its type, and for expression rules the expression in both forms.
    static let routingRule = Schema.object([req("type", .oneOf(ValueLists.routingRuleTypes)), opt("expression", .anyValue),
                                            opt("expression_text", .nullable(.string()))])
    /// A routing rule as given: `expression` only (and always) for expression rules.
    static let routingRuleInput = Schema.objectWithRules(
        [req("type", .oneOf(ValueLists.routingRuleTypes)),
         opt("expression", .described("Text form or JSON-Logic over order and location (docs/expressions.md).", .anyValue))],
        [.when("type", .equals("expression"), require: ["expression"])]
            + ValueLists.routingRuleTypes.filter { $0 != "expression" }.map { Rule.when("type", .equals($0), forbid: ["expression"]) })

    /// An approval tier as a workflow transition or the return policy takes it, as they answer it,
    /// and as a waiting approval shows it (with its approvals).
    static let approvalTierInput = Schema.object([
        opt("name", .string(max: 64)), opt("approvers", .int(1...20)), opt("roles", .list(.string(max: 64, min: 1), max: 20)),
        opt("when", expression),
    ])
    static let approvalTierDefinition = Schema.object([req("name", .nullable(.string())), req("approvers", .int(1...20)), req("roles", .list(.string())),
                                                       req("when", .anyValue), req("when_text", .nullable(.string()))])
    static let approvalTierState = Schema.object([
        req("name", .nullable(.string())), req("approvers", .int(1...20)), req("roles", .list(.string())),
        req("approvals", .list(.object([req("actor", .ref("Actor")), req("at", .timestamp), req("note", .nullable(.string()))]))),
        req("satisfied", .boolean),
    ])

    /// What each order edit action takes besides its type (docs/order-edits.md, "Actions").
    static let editActionMembers = ValueLists.editActionMembers
    /// An order edit action as staged and as answered.
    static let editActionInput: Schema = {
        let props: [Property] = [
            req("type", .oneOf(ValueLists.editActionTypes)),
            opt("line_item", .object(lineItemInput.filter { $0.name != "id" }), "add_line: the new line (its id is given at commit)."),
            opt("line_item_id", .string(max: 64, min: 1), "The line changed."),
            opt("quantity", .int(0...1_000_000), "set_quantity: the new quantity (0 removes the line); at least its fulfilled units."),
            opt("unit_price", .money, "set_price: the new unit price."),
            opt("amount", .money, "set_line_discount: the line's one discount from now on (0 removes its discounts)."),
            opt("shipping_line", .ref("ShippingLineInput"), "add_shipping_line: the line added."),
            opt("index", .int(0...999), "remove_shipping_line: its place in shipping_lines (0 first)."),
            opt("address", .nullable(.ref("Address")), "set_shipping_address, set_billing_address: the address (null clears it)."),
        ]
        let all = Set(editActionMembers.flatMap(\.members))
        let rules = editActionMembers.map { t in
            Rule.when("type", .equals(t.type), require: t.members, forbid: all.subtracting(t.members).sorted())
        }
        return .objectWithRules(props, rules)
    }()
    static let editAction = Schema.object([
        req("type", .oneOf(ValueLists.editActionTypes)), opt("line_item", .object(lineItem.filter { $0.name != "id" })),
        opt("line_item_id", .string()), opt("quantity", .int(0...1_000_000)), opt("unit_price", .money), opt("amount", .money),
        opt("shipping_line", .ref("ShippingLine")), opt("index", .int(0...999)), opt("address", .nullable(.ref("Address"))),
    ])

    /// An auto-archive rule as answered, and as given.
    static let archiveRule = Schema.object([req("name", .string()), req("age_from", .oneOf(ValueLists.archiveAgeFields)),
                                            req("after_days", .int(0...3650)), req("condition", .anyValue),
                                            req("condition_text", .nullable(.string()))])
    static let archiveRuleInput = Schema.object([
        req("name", .string(max: 100, min: 1), "Unique among the rules; the archive's audit reason names it."),
        opt("age_from", .oneOf(ValueLists.archiveAgeFields), "The timestamp the age counts from (default closed_at: only closed orders)."),
        opt("after_days", .int(0...3650), "How old that timestamp must be, in days (default 0)."),
        opt("condition", .described("An expression over order (text or JSON-Logic; docs/expressions.md); absent or null: always.", .anyValue)),
    ])

    /// Every named schema, in document order.
    static let components: [(name: String, schema: Schema)] = [
        ("Order", .object(order)),
        ("LineItem", .object(lineItem)),
        ("LineItemInput", .object(lineItemInput)),
        ("ShippingLine", .object(shippingLine)),
        ("ShippingLineInput", .object(shippingLineInput)),
        ("Discount", .object(discountInput)),
        ("DiscountInput", .object(discountInput)),
        ("TaxLine", .object(taxLine)),
        ("TaxLineInput", .object(taxLineInput)),
        ("Address", .object(address)),
        ("AddressInput", .objectWithRules(address, [.when("latitude", .given, require: ["longitude"]),
                                                    .when("longitude", .given, require: ["latitude"])])),
        ("Customer", .object(customer)),
        ("CustomerInput", .object(customerInput)),
        ("Actor", .object(actor)),
        ("Hold", .object(hold)),
        ("PendingApproval", .object(pendingApproval)),
        ("OrderLink", .object(orderLink)),
        ("Workflow", .object(workflow)),
        ("ApprovalRequest", .object(approvalRequest)),
        ("WebhookEndpoint", .object(webhookEndpoint)),
        ("WebhookDelivery", .object(webhookDelivery)),
        ("NotificationChannel", .object(notificationChannel)),
        ("NotificationTemplate", .object(notificationTemplate)),
        ("Notification", .object(notification)),
        ("Location", .object(location)),
        ("InventoryItem", .object(inventoryItem)),
        ("InventoryLevel", .object(inventoryLevel)),
        ("InventoryMovement", .object(inventoryMovement)),
        ("FulfillmentOrder", .object(fulfillmentOrder)),
        ("Shipment", .object(shipment)),
        ("RoutingRules", .object(routingRules)),
        ("Transfer", .object(transfer)),
        ("Tag", .object(tag)),
        ("Job", .object(job)),
        ("CustomField", .object(customField)),
        ("Note", .object(orderNote)),
        ("ArchiveRules", .object(archiveRules)),
        ("OrderTemplate", .object(orderTemplate)),
        ("DraftOrder", .object(draftOrder)),
        ("SLAPolicy", .object(slaPolicy)),
        ("Attachment", .object(attachment)),
        ("BusinessHours", .object(businessHours)),
        ("OpenInterval", Catalogue.openInterval),
        ("SLAEntry", Catalogue.slaEntry),
        ("Transaction", Catalogue.transactionAnswer),
        ("PaymentSummary", Catalogue.paymentSummary),
        ("Refund", .object(refund)),
        ("RefundLine", Catalogue.refundLine),
        ("RefundCalculation", Catalogue.refundCalculation),
        ("Return", .object(orderReturn)),
        ("OrderEdit", .object(orderEdit)),
        ("OrderEditPreview", Catalogue.orderEditPreview),
        ("ReturnLine", Catalogue.returnLine),
        ("ReturnReceipt", Catalogue.returnReceipt),
        ("ReturnPolicy", .object(returnPolicy)),
        ("SalesLine", .object(salesLine + [req("net_sales", .int(Int64.min...Int64.max)), req("total_sales", .int(Int64.min...Int64.max)),
                                           req("gross_margin", .int(Int64.min...Int64.max))])),
        ("CustomFieldValidations", .object(customFieldValidations)),
        ("FieldChange", .object(fieldChange)),
        ("Subject", .object(subject)),
        ("Event", .object(event)),
        ("AuditEntry", .object(auditEntry)),
        ("TenantSettings", .object(settings)),
        ("TenantSettingsInput", .object(settingsInput)),
        ("Tenant", .object(tenant)),
        ("APIKey", .object(apiKey)),
        ("Error", .object(errorBody)),
    ]

    /// A tag as a request sets it (docs/tags.md): 1–100 characters, no commas or control characters,
    /// not only white space (the engine trims it; `Tags.normalize`).
    static let tagInput = Schema.string(max: 100, min: 1, pattern: "^[^,\\u0000-\\u001F\\u007F-\\u009F]*[^,\\u0000-\\u001F\\u007F-\\u009F \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^,\\u0000-\\u001F\\u007F-\\u009F]*$")

    /// A custom field's validations (docs/custom-fields.md, "Validations"); which apply depends on the type.
    static let customFieldValidations: [Property] = [
        opt("required", .boolean, "A value must be given on create (and cannot be removed)."),
        opt("min", .anyValue, "The least value: a number (integer, decimal), {amount, currency} (money), a date or a date-time."),
        opt("max", .anyValue, "The greatest value, as min."),
        opt("min_length", .int(0...65_535), "Text: the fewest characters."),
        opt("max_length", .int(0...65_535), "Text: the most characters."),
        opt("pattern", .string(max: 1000, min: 1), "Text: a regular expression the whole value must match (linear-time engine; docs/custom-fields.md)."),
        opt("choices", .list(.string(max: 255, min: 1), max: 250, min: 1), "choice: the allowed values."),
        opt("allowed_domains", .list(.string(max: 253, min: 1), max: 100), "url: the hosts allowed (a domain and its subdomains)."),
        opt("min_items", .int(0...100), "Lists: the fewest items."),
        opt("max_items", .int(0...100), "Lists: the most items."),
    ]

    /// `{"data": [item], "has_more": bool}` plus any extra properties.
    static func page(_ item: Schema, _ extra: [Property] = []) -> Schema {
        .object([req("data", .list(item)), req("has_more", .boolean)] + extra)
    }
}

/// Error codes only the REST server produces (authentication, scopes, rate limits,
/// unknown routes); the engine's own codes are `ErrorCode`.
public enum HTTPOnlyErrors {
    public static let unauthorized = "unauthorized"
    public static let forbidden = "forbidden"
    public static let rateLimited = "rate_limited"
    public static let methodNotAllowed = "method_not_allowed"
    public static let unavailable = "unavailable"
    public static let all = [unauthorized, forbidden, rateLimited, methodNotAllowed, unavailable]
}
