import Orderbase

extension Catalogue {
    static let noteID = req("id", .string(max: 64), "The note (note_…).")

    /// Notes and messages on orders, and an order's timeline (docs/timeline.md).
    static let timelineMethods: [Method] = [
        Method("notes.create", .write, [Route("POST", "/v1/notes")],
               "Write a note (internal) or record a message (with the customer) on an order.",
               request: Schemas.orderNoteCreate,
               rules: [.when("kind", .equals("message"), require: ["direction", "channel"]),
                       .when("kind", .equals("note"), forbid: ["direction", "channel"]),
                       .when("kind", .absent, forbid: ["direction", "channel"])],
               response: .ref("Note"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.timeline.createNote(r) }),
        Method("notes.get", .read, [Route("GET", "/v1/notes/{id}")], "A note or message.",
               request: [noteID], response: .ref("Note"),
               .tenant { t, r throws(OrderbaseError) in try t.timeline.getNote(r) }),
        Method("notes.list", .read, [Route("GET", "/v1/notes")], "Notes and messages, newest first: an order's, those mentioning someone, both, or all.",
               request: [opt("order_id", .string(max: 64, min: 1), "Only the order's notes."),
                         opt("mention", .string(max: 64, min: 1), "Only notes mentioning this staff id."),
                         opt("kind", .oneOf(ValueLists.noteKinds), "Only notes or only messages."),
                         opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("Note")),
               .tenant { t, r throws(OrderbaseError) in try t.timeline.listNotes(r) }),
        Method("notes.update", .write, [Route("PATCH", "/v1/notes/{id}")],
               "Edit a note's body or mentions (the audit keeps the text before and after).",
               request: [noteID] + Schemas.orderNoteUpdate + [expectedVersion], response: .ref("Note"),
               .tenant { t, r throws(OrderbaseError) in try t.timeline.updateNote(r) }),
        Method("notes.delete", .write, [Route("DELETE", "/v1/notes/{id}")],
               "Delete a note (its audit entries stay, with the text it had).",
               request: [noteID, expectedVersion], response: .ref("Note"),
               .tenant { t, r throws(OrderbaseError) in try t.timeline.deleteNote(r) }),
        Method("orders.timeline", .read, [Route("GET", "/v1/orders/{id}/timeline")],
               "One chronological feed of an order: audit entries (its fulfillment orders', shipments', notes' and attachments' too), notes, messages, notifications and webhook deliveries.",
               request: [orderID, opt("types", .list(.oneOf(ValueLists.timelineTypes), max: ValueLists.timelineTypes.count), "Only these kinds of entry (default all)."),
                         opt("limit", .int(1...250), "Page size (default 50)."),
                         opt("starting_after", .string(max: 80, min: 1), "The id of the last entry of the previous page.")],
               response: Schemas.page(.object([req("type", .oneOf(ValueLists.timelineTypes)), req("at", .timestamp), req("id", .string()),
                                               opt("audit", .ref("AuditEntry")), opt("note", .ref("Note")), opt("notification", .ref("Notification")),
                                               opt("webhook_delivery", .ref("WebhookDelivery"))])),
               .tenant { t, r throws(OrderbaseError) in try t.timeline.orderTimeline(r) }),
    ]
}
