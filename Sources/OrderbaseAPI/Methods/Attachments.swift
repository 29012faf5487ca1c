import Orderbase

extension Catalogue {
    /// Attachments' records (docs/attachments.md); their bytes go in and out through the C ABI's upload
    /// functions and `orderbase_attachment_read`, and over REST as raw or multipart bodies (not JSON methods).
    static let attachmentMethods: [Method] = [
        Method("attachments.get", .read, [Route("GET", "/v1/attachments/{id}")], "An attachment's record (its bytes: GET /v1/attachments/{id}/content).",
               request: [req("id", .string(max: 64), "The attachment (att_…).")], response: .ref("Attachment"),
               .tenant { t, r throws(OrderbaseError) in try t.attachments.getAttachment(r) }),
        Method("attachments.list", .read, [Route("GET", "/v1/attachments")],
               "Attachments, newest first: of an order (its notes' included), of one owner, or of one owner type; none given: all of them.",
               request: [opt("order_id", .string(max: 64, min: 1), "Every attachment of this order."),
                         opt("owner_type", .oneOf(ValueLists.attachmentOwnerTypes), "With owner_id: one owner's attachments."),
                         opt("owner_id", .string(max: 64, min: 1), "The order's or the note's id."),
                         opt("limit", .int(1...250), "Page size (default 50)."), opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("Attachment")),
               .tenant { t, r throws(OrderbaseError) in try t.attachments.listAttachments(r) }),
        Method("attachments.delete", .write, [Route("DELETE", "/v1/attachments/{id}")],
               "Delete an attachment (its file goes at the next collection if no other attachment has the same bytes).",
               request: [req("id", .string(max: 64), "The attachment (att_…).")], response: .ref("Attachment"),
               .tenant { t, r throws(OrderbaseError) in try t.attachments.deleteAttachment(r) }),
        Method("attachments.collect", .admin, [Route("POST", "/v1/attachments/collect")],
               "Remove the stored files no attachment names now (older than min_age_minutes, default 10).",
               request: [opt("min_age_minutes", .int(0...10_080), "Leave files younger than this (an upload may be about to name them).")],
               response: .object([req("removed", .int(0...Int64.max)), req("bytes", .int(0...Int64.max)), req("kept_young", .int(0...Int64.max))]),
               .tenant { t, r throws(OrderbaseError) in try t.attachments.collect(r) }),
    ]
}
