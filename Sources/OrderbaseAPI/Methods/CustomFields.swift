import Orderbase

extension Catalogue {
    static let customFieldID = req("id", .string(max: 80, min: 3), "The definition: <owner>.<key> (order.gift_message, line_item.engraving).")

    /// Custom field definitions and the checks of stored values (docs/custom-fields.md).
    static let customFieldMethods: [Method] = [
        Method("custom_fields.create", .admin, [Route("POST", "/v1/custom_fields")],
               "Define a custom field on orders or line items: its type and validations.",
               request: Schemas.customFieldCreate, response: .ref("CustomField"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.customFields.createDefinition(r) }),
        Method("custom_fields.get", .read, [Route("GET", "/v1/custom_fields/{id}")], "A custom field definition.",
               request: [customFieldID], response: .ref("CustomField"),
               .tenant { t, r throws(OrderbaseError) in try t.customFields.getDefinition(r) }),
        Method("custom_fields.list", .read, [Route("GET", "/v1/custom_fields")], "Every custom field definition, by id.",
               request: [opt("owner", .oneOf(ValueLists.customFieldOwners), "Only those of orders or of line items.")],
               response: Schemas.page(.ref("CustomField")),
               .tenant { t, r throws(OrderbaseError) in try t.customFields.listDefinitions(r) }),
        Method("custom_fields.update", .admin, [Route("PATCH", "/v1/custom_fields/{id}")],
               "Change a custom field's name, description or validations (new validations check stored values in the background).",
               request: [customFieldID] + Schemas.customFieldUpdate, response: .ref("CustomField"),
               .tenant { t, r throws(OrderbaseError) in try t.customFields.updateDefinition(r) }),
        Method("custom_fields.delete", .admin, [Route("DELETE", "/v1/custom_fields/{id}")],
               "Delete a custom field definition, keeping its stored values (default) or removing them from every order with a job.",
               request: [customFieldID, opt("values", .oneOf(["keep", "remove"]), "What happens to stored values (default keep).")],
               response: .object([req("deleted", .ref("CustomField")), req("job", .ref("Job"))]),
               .tenant { t, r throws(OrderbaseError) in try t.customFields.deleteDefinition(r) }),
        Method("custom_fields.check", .admin, [Route("POST", "/v1/custom_fields/{id}/check")],
               "Check every stored order against the definition's rules again, as a job (validation_status in_progress).",
               request: [customFieldID], response: .ref("CustomField"),
               .tenant { t, r throws(OrderbaseError) in try t.customFields.checkDefinition(r) }),
        Method("custom_fields.invalid_orders", .read, [Route("GET", "/v1/custom_fields/{id}/invalid_orders")],
               "The orders whose values broke the definition's rules when it was last checked.",
               request: [customFieldID, opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last order_id of the previous page.")],
               response: Schemas.page(.object([req("order_id", .string()), req("field", .nullable(.string())),
                                               req("rule", .nullable(.string())), req("message", .string())])),
               .tenant { t, r throws(OrderbaseError) in try t.customFields.invalidOrders(r) }),
    ]
}
