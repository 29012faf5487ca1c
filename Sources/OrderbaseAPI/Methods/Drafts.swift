import Orderbase

extension Catalogue {
    static let templateID = req("id", .string(max: 64), "The template (otpl_…).")
    static let draftID = req("id", .string(max: 64), "The draft (draft_…).")
    /// What a partial order may hold: orders.create's fields but idempotency_key and placed_at, each optional.
    static let partialOrderFields: [Property] = [
        opt("currency", Schemas.currency), opt("channel", .oneOf(OrderStatus.channels)),
        opt("source", .object([req("name", .string(max: 255, min: 1)), opt("external_id", Schemas.name255)])),
        opt("financial_status", .oneOf(OrderStatus.financial)), opt("fulfillment_status", .oneOf(OrderStatus.fulfillment)),
        opt("workflow", Schemas.key),
    ] + Schemas.orderEditableOnCreate.map { Property($0.name, $0.schema, required: false, doc: $0.doc) }
    static let partialOrder = Schema.described("A partial order: any fields orders.create takes but idempotency_key and placed_at.",
                                               .object(partialOrderFields))
    /// A draft update's fields: the same, each nullable (null removes it from the draft).
    static let partialOrderPatch = Schema.described("The fields to set; null removes one.",
                                                    .object(partialOrderFields.map { Property($0.name, .nullable($0.schema), required: false, doc: $0.doc) }))

    /// Order templates and draft orders (docs/drafts.md).
    static let draftMethods: [Method] = [
        Method("order_templates.create", .write, [Route("POST", "/v1/order_templates")], "Save a partial order to start orders from.",
               request: Schemas.orderTemplateCreate, response: .ref("OrderTemplate"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.drafts.createTemplate(r) }),
        Method("order_templates.get", .read, [Route("GET", "/v1/order_templates/{id}")], "An order template.",
               request: [templateID], response: .ref("OrderTemplate"),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.getTemplate(r) }),
        Method("order_templates.list", .read, [Route("GET", "/v1/order_templates")], "Order templates, newest first.",
               request: [opt("limit", .int(1...250), "Page size (default 50)."), opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("OrderTemplate")),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.listTemplates(r) }),
        Method("order_templates.update", .write, [Route("PATCH", "/v1/order_templates/{id}")], "Change a template's name, description or order (replaced whole).",
               request: [templateID] + Schemas.orderTemplateUpdate, response: .ref("OrderTemplate"),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.updateTemplate(r) }),
        Method("order_templates.delete", .write, [Route("DELETE", "/v1/order_templates/{id}")], "Delete a template (orders made from it stay).",
               request: [templateID], response: .ref("OrderTemplate"),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.deleteTemplate(r) }),
        Method("orders.create_from_template", .write, [Route("POST", "/v1/orders/from_template")],
               "Create an order from a template, with overrides (each field replaces the template's; custom_fields merge).",
               request: [req("template_id", .string(max: 64, min: 1), "The template (otpl_…)."), opt("overrides", partialOrder, "Fields that replace the template's."),
                         opt(idempotencyKeyField, .string(max: 255, min: 1), "As orders.create's.")],
               response: .ref("Order"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.drafts.createFromTemplate(r) }),
        Method("draft_orders.create", .write, [Route("POST", "/v1/draft_orders")],
               "Start a draft order (no number, no stock committed, no customer told), optionally from a template.",
               request: Schemas.draftOrderCreate + [opt("template_id", .string(max: 64, min: 1), "Start from this template's fields (order's fields win).")],
               response: .ref("DraftOrder"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.drafts.createDraft(r) }),
        Method("draft_orders.get", .read, [Route("GET", "/v1/draft_orders/{id}")], "A draft order, with the totals it would have.",
               request: [draftID], response: .ref("DraftOrder"),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.getDraft(r) }),
        Method("draft_orders.list", .read, [Route("GET", "/v1/draft_orders")], "Draft orders, newest first.",
               request: [opt("status", .oneOf(ValueLists.draftStatuses), "Only open or only placed drafts."),
                         opt("limit", .int(1...250), "Page size (default 50)."), opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("DraftOrder")),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.listDrafts(r) }),
        Method("draft_orders.update", .write, [Route("PATCH", "/v1/draft_orders/{id}")],
               "Set fields of a draft's order (null removes one; custom_fields merge key by key).",
               request: [draftID, req("order", partialOrderPatch, "The fields to set."), expectedVersion], response: .ref("DraftOrder"),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.updateDraft(r) }),
        Method("draft_orders.delete", .write, [Route("DELETE", "/v1/draft_orders/{id}")], "Discard an open draft.",
               request: [draftID, expectedVersion], response: .ref("DraftOrder"),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.deleteDraft(r) }),
        Method("draft_orders.place", .write, [Route("POST", "/v1/draft_orders/{id}/place")],
               "Place a draft: orders.create runs with it (number, workflow, stock, events); placing twice answers the same order.",
               request: [draftID, expectedVersion],
               response: .object([req("draft", .ref("DraftOrder")), req("order", .ref("Order"))]),
               .tenant { t, r throws(OrderbaseError) in try t.drafts.placeDraft(r) }),
    ]
}
